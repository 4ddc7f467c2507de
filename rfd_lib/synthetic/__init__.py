"""Synthetic data, generated and seeded, never real patients: the demo, the tests and the benchmarks.

* :func:`example_spells` — one frame of spells in the rule's column names (``rfd-audit example``,
  the benchmarks);
* :func:`write_extracts` — the files an analyst would receive for a multi-provider audit (one SUS+
  CSV per provider, ``populations.csv``, ``manifest.json``); :func:`extract_frames` gives the same
  spells as frames and :func:`national_quarter` one large quarter for the speed benchmarks.

Only the pipeline (the demo run) and the tests use this layer; nothing in the audit depends on it.
"""

from rfd_lib.synthetic.example import example_spells
from rfd_lib.synthetic.extract_set import SyntheticSet, extract_frames, write_extracts
from rfd_lib.synthetic.sus_columns import national_quarter

__all__ = ["SyntheticSet", "example_spells", "extract_frames", "national_quarter", "write_extracts"]
