"""rfd_lib: audit lumbar radiofrequency facet joint denervation against the national EBI guidance.

The public API:

* :func:`classify` — label spells exactly as the published ``2K_RFD_back`` SQL does on SQL Server,
  with the truth of each criterion and the reason a coded spell is not counted;
* :func:`load_rule` — the compiled rule, its criteria and provenance;
* :func:`read_extract` / :func:`load_extracts` — read, check and reconcile providers' extracts;
* :func:`audit_metrics` — every published figure of a quarterly audit;
* :func:`run_audit` — the whole audit from a parameter file: every report, HTML and PDF;
* the errors an analyst may see: :class:`RuleError`, :class:`ColumnError`, :class:`DataError`.

The layers, each a package that imports only from those below it (``make lint`` checks):
``pipeline`` → ``report`` → ``charts`` → ``metrics`` | ``spark`` → ``engine`` | ``extracts`` → the
base modules here (``errors``, ``config``, ``atomic``, ``yaml_model``, ``wording``, ``arrow_text``,
``lazy``, ``version``); ``synthetic`` is used by the pipeline and the tests only, and ``cli`` sits on
top. ``spark`` (the rule and the pre-filter on Spark DataFrames, by the engine on Arrow batches)
sits beside ``metrics``, neither importing the other, and needs the optional ``spark`` extra.
"""

from rfd_lib.errors import ColumnError, DataError, RfdAuditError, RuleError
from rfd_lib.lazy import lazy_names
from rfd_lib.version import __version__

# Loaded on first use: a report kernel imports rfd_lib's chart modules only and should not pay
# for the rule compiler or the extract reader it never calls.
_PUBLIC = {
    "Rule": "rfd_lib.engine.rule",
    "load_rule": "rfd_lib.engine.rule",
    "classify": "rfd_lib.engine.classification",
    "read_extract": "rfd_lib.extracts.reading",
    "load_extracts": "rfd_lib.extracts.reading",
    "audit_metrics": "rfd_lib.metrics.audit",
    "run_audit": "rfd_lib.pipeline.runner",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)

__all__ = [
    "ColumnError",
    "DataError",
    "RfdAuditError",
    "RuleError",
    "__version__",
    *sorted(_PUBLIC),
]
