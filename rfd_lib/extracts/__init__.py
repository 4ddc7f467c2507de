"""Reading providers' extracts into canonical spells, accounting for every row.

Modules: ``sources`` (CSV, Parquet, Excel, databases, folders), ``csv_source`` and ``csv_lines``
(delimited text, rows numbered by their file line), ``profiles`` and ``spell_schema`` (column
profiles and what each canonical column must hold), ``validate`` (types, quarantine reasons,
data-quality findings), ``episodes`` (HES episodes rolled up to spells), ``reading``
(:func:`read_extract`, :func:`load_extracts`; one batch read), ``scan`` (extracts of any size a
batch at a time: ``read_batch``, ``ScanTally``, ``ExtractScan``), ``duplicate_ids`` (repeated
identifiers across batches, spilled to disk when many), ``writing`` (the classified spells, quarantine and
findings files), ``safe_csv`` (CSV a spreadsheet opens safely), ``populations`` (the populations file).

May import: the base modules only. Never the engine: callers classify what they read.
"""

from rfd_lib.lazy import lazy_names

_PUBLIC = {
    "Extract": ".reading",
    "read_extract": ".reading",
    "load_extracts": ".reading",
    "write_classified": ".writing",
    "read_populations": ".populations",
    "check_populations": ".populations",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
