"""rfd_lib: audit lumbar radiofrequency facet joint denervation against the national EBI guidance.

The public API:

* :func:`classify` — label spells exactly as the published ``2K_RFD_back`` SQL does on SQL Server,
  with the truth of each criterion and the reason a coded spell is not counted;
* :func:`load_rule` — the compiled rule, its criteria and provenance;
* :func:`read_extract` / :func:`load_extracts` — read, check and reconcile providers' extracts;
* ``rfd_lib.audit_metrics.audit_metrics`` — every published figure of a quarterly audit;
* :func:`run_audit` — the whole audit from a parameter file: every report, HTML and PDF;
* the errors an analyst may see: :class:`RuleError`, :class:`ColumnError`, :class:`DataError`.
"""

from rfd_lib.classify import classify
from rfd_lib.errors import ColumnError, DataError, RfdAuditError, RuleError

__version__ = "0.1.0"

# Loaded on first use (PEP 562): a report kernel imports rfd_lib's chart modules only and should
# not pay for what it never calls. (classify and audit_metrics share their names with their
# modules, so they cannot be lazy: importing the module would shadow the function.)
_LAZY = {
    "Rule": "rfd_lib.rule",
    "load_rule": "rfd_lib.rule",
    "read_extract": "rfd_lib.extract",
    "load_extracts": "rfd_lib.extract",
    "run_audit": "rfd_lib.run",
}


def __getattr__(name: str) -> object:
    """Return a public name that is imported only when first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rfd_lib' has no attribute {name!r}")


__all__ = [
    "ColumnError",
    "DataError",
    "RfdAuditError",
    "Rule",
    "RuleError",
    "classify",
    "load_extracts",
    "load_rule",
    "read_extract",
    "run_audit",
]
