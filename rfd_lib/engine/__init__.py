"""The rule engine: the published SQL, kept verbatim, compiled and evaluated as SQL Server would.

Modules: ``rule_file`` (finding and reading a rule and its manifest), ``compiler`` (sqlglot's T-SQL
tree to :mod:`expressions`), ``expressions`` (the small expression tree), ``like`` (SQL LIKE to
regular expressions), ``sqlserver`` (SQL Server's comparison and conversion semantics),
``evaluator`` (vectorised three-valued evaluation on Arrow arrays), ``rule`` (the compiled
:class:`Rule`, cached), ``classification`` (:func:`classify`, the label of every spell, and
:func:`classify_table`, the same on an Arrow table or batch).

May import: the base modules only (``rfd_lib.errors``, ``rfd_lib.config``, ``rfd_lib.yaml_model``).
"""

from rfd_lib.lazy import lazy_names

_PUBLIC = {
    "Rule": ".rule",
    "load_rule": ".rule",
    "classify": ".classification",
    "classify_table": ".classification",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
