"""Errors an analyst may see, each a single line that says what is wrong and where.

Every error carries an optional ``hint``: what the analyst can do about it (the habit is
borrowed from ehrQL). ``str(error)`` is the one line shown by the command line.
"""

from __future__ import annotations


class RfdAuditError(Exception):
    """Base class: a problem with the analyst's input, not a bug in rfd_lib."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} HINT: {hint}" if hint else message)


class RuleError(RfdAuditError):
    """A rule file or its manifest cannot be loaded (raised at load time, never mid-classify)."""


class ColumnError(RfdAuditError):
    """The spells lack a column the rule needs, or a column clashes with an output column."""


class DataError(RfdAuditError):
    """A value cannot be evaluated the way SQL Server would (SQL Server would raise too)."""


class ExtractError(RfdAuditError):
    """An extract cannot be read: missing, empty, undecodable, or not a table rfd-audit knows."""


class ReconciliationError(RfdAuditError):
    """Rows read do not equal rows accepted plus rows quarantined: a row would be lost."""


class RunInterrupted(RfdAuditError):
    """A run was stopped (Ctrl-C or SIGTERM): what it made is whole, and its index says what it did not."""
