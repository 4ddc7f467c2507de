"""rfd_lib: audit lumbar radiofrequency facet joint denervation against the national EBI guidance.

The public API:

* :func:`classify` — label spells exactly as the published ``2K_RFD_back`` SQL does on SQL Server,
  with the truth of each criterion and the reason a coded spell is not counted;
* :func:`load_rule` — the compiled rule, its criteria and provenance;
* the errors an analyst may see: :class:`RuleError`, :class:`ColumnError`, :class:`DataError`.
"""

from rfd_lib.classify import classify
from rfd_lib.errors import ColumnError, DataError, RfdAuditError, RuleError
from rfd_lib.rule import Rule, load_rule

__version__ = "0.1.0"

__all__ = ["ColumnError", "DataError", "RfdAuditError", "Rule", "RuleError", "classify", "load_rule"]
