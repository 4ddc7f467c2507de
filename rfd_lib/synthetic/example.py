"""Synthetic spells in one frame, in the rule's own column names: ``example_spells``.

It makes a frame in the rule's own column names, shaped like a SUS+ extract:
``||``-prefixed episodes of comma-separated codes with optional blanks, X-padded and 5-character
ICD-10 codes, some lower case and dotted codes, NULLs, 999 and 7000+ ages, emergency and
private spells, cancer co-diagnoses and under-19s. It is the input of ``rfd-audit example`` and of
the benchmarks; the same seed always gives the same spells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.synthetic.draws import SEPARATORS, blank_out, draw, join, where

RFD_PROCEDURES = (["V485", "V487", "v485", "V48.5", "V485 "], [0.55, 0.30, 0.04, 0.06, 0.05])
OTHER_PROCEDURES = (
    ["W401", "W371", "H229", "A577", "A735", "V544", "T201", "K559", "Q074", "W821", "X481", "E481", "V481"],
    [0.12, 0.12, 0.12, 0.06, 0.06, 0.06, 0.1, 0.1, 0.1, 0.13, 0.01, 0.01, 0.01],
)
LUMBAR_SITES = (["Z675", "Z676", "Z677", "Z993", "z675"], [0.3, 0.3, 0.2, 0.15, 0.05])
OTHER_SITES = (["Z671", "Z672", "Z943", "Z942", "Y534", "Z941"], None)
BACK_DIAGNOSES = (["M545", "M5450", "M549", "M512", "M518", "M519", "m545", "M479"], None)
OTHER_DIAGNOSES = (["I10X", "J449", "E119", "K802", "N390", "R104", "S7200", "M170", "M511"], None)
CANCER_DIAGNOSES = (["C509", "C61X", "D051", "D374", "D410", "D489", "c509"], None)
ADMISSION_METHODS = (
    ["11", "12", "13", "21", "22", "2A", "81", " 21"],
    [0.6, 0.2, 0.05, 0.08, 0.03, 0.02, 0.015, 0.005],
)
ADMINISTRATIVE_CATEGORIES = (["01", "02", "02 ", "03"], [0.93, 0.04, 0.01, 0.02])
PROVIDERS = (["RAA", "RBB", "RCC", "RDD", "REE"], [0.35, 0.25, 0.2, 0.15, 0.05])


def example_spells(n: int = 20_000, *, seed: int = 2025, rfd_share: float = 0.02) -> pd.DataFrame:
    """Return ``n`` synthetic spells with the columns of the published rule plus ids.

    About ``rfd_share`` of them have an RFD primary procedure code (V48.5/V48.7 in assorted
    spellings). Columns: ``spell_id``, ``provider_code``, the eight columns the rule reads (codes
    as ``string[pyarrow]`` with ``<NA>``, ages as ``Int64``).
    """
    rng = np.random.default_rng(seed)
    rfd = rng.random(n) < rfd_share
    primary_procedure = where(rfd, draw(rng, RFD_PROCEDURES, n), draw(rng, OTHER_PROCEDURES, n))
    # Lumbar site codes also go with spinal injections, so they are commoner than RFD itself.
    lumbar = rng.random(n) < np.where(rfd, 0.9, 0.05)
    site = where(lumbar, draw(rng, LUMBAR_SITES, n), draw(rng, OTHER_SITES, n))
    extra_episode = _maybe(rng, join("||", draw(rng, OTHER_PROCEDURES, n)), 0.3)
    any_procedure = join("||", primary_procedure, draw(rng, SEPARATORS, n), site, extra_episode)

    back = rng.random(n) < np.where(rfd, 0.85, 0.02)
    primary_diagnosis = where(back, draw(rng, BACK_DIAGNOSES, n), draw(rng, OTHER_DIAGNOSES, n))
    cancer = _maybe(rng, join(draw(rng, SEPARATORS, n), draw(rng, CANCER_DIAGNOSES, n)), 0.04)
    any_diagnosis = join(
        "||", primary_diagnosis, cancer, draw(rng, SEPARATORS, n), draw(rng, OTHER_DIAGNOSES, n)
    )
    any_diagnosis = blank_out(rng, any_diagnosis, 0.02)

    age = rng.integers(19, 91, n)
    age = np.where(rng.random(n) < 0.03, rng.integers(5, 19, n), age)
    cds_age = np.where(rng.random(n) < 0.01, 999, age)
    cds_age = np.where(rng.random(n) < 0.005, rng.integers(7001, 7012, n), cds_age)
    sus_age = pd.array(age, dtype="Int64")
    sus_age[rng.random(n) < 0.05] = pd.NA

    return pd.DataFrame(
        {
            "spell_id": np.arange(1, n + 1, dtype=np.int64),
            "provider_code": _text(draw(rng, PROVIDERS, n)),
            "Primary_Spell_Procedure": _text(primary_procedure),
            "Any_Spell_Procedure": _text(any_procedure),
            "Primary_Spell_Diagnosis": _text(primary_diagnosis),
            "Any_Spell_Diagnosis": _text(any_diagnosis),
            "Age_At_Start_of_Spell_SUS": sus_age,
            "Der_Age_at_CDS_Activity_Date": pd.array(cds_age, dtype="Int64"),
            "Admission_Method": _text(draw(rng, ADMISSION_METHODS, n)),
            "Administrative_Category": _text(blank_out(rng, draw(rng, ADMINISTRATIVE_CATEGORIES, n), 0.005)),
        }
    )


def _maybe(rng: np.random.Generator, values: pa.Array, share: float) -> pa.Array:
    """Return ``values`` in about ``share`` of rows and an empty string elsewhere."""
    return pc.if_else(pa.array(rng.random(len(values)) < share), values, pa.scalar("", values.type))


def _text(values: pa.Array) -> pd.arrays.ArrowStringArray:
    """Return Arrow text as a pandas string column."""
    return pd.arrays.ArrowStringArray(values.cast(pa.large_string()))
