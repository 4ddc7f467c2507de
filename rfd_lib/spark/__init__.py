"""Spark: the audit's rule on Spark DataFrames (Databricks, or a local session), by the same engine.

Modules: ``runtime`` (pyspark imported on first use, with a one-line error where it is missing;
:func:`session`), ``classification`` (:func:`classify` through ``mapInArrow``, so each worker runs
the engine's :func:`~rfd_lib.engine.classification.classify_table` on Arrow batches and never
pandas; :func:`collect_arrow` and :func:`spark_errors`, which bring an error raised in a worker
back as rfd_lib's one-line error), ``prefiltering`` (:func:`prefilter`, the engine's pre-filter as a
Spark condition).

pyspark is an optional extra (``pip install "rfd-audit[spark]"``): nothing here imports it until a
function is called. May import: ``rfd_lib.engine`` and the base modules.
"""

from rfd_lib.lazy import lazy_names

_PUBLIC = {
    "session": ".runtime",
    "classify": ".classification",
    "collect_arrow": ".classification",
    "spark_errors": ".classification",
    "prefilter": ".prefiltering",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
