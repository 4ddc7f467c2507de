"""The statuses a check can have, defined once: metrics judge with them, reports show them.

A status is a ``str`` (a :class:`enum.StrEnum`), so tables hold plain text ("red") and compare
equal to it; what a report prints for each (badge text, CSS class, meaning) is said here too,
so the index, the tables and the page styles cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum

from rfd_lib.wording import say


class Status(StrEnum):
    """A check's status against its thresholds in ``params/expectations.yaml``."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    NOT_ASSESSABLE = "not assessable"

    @property
    def badge(self) -> str:
        """Return the short text of the status's badge ("n/a" for not assessable)."""
        return "n/a" if self is Status.NOT_ASSESSABLE else self.value

    @property
    def letter(self) -> str:
        """Return the status's compact badge text: R, A, G, or "n/a" (the index's many columns)."""
        return "n/a" if self is Status.NOT_ASSESSABLE else self.value[0].upper()

    @property
    def css_class(self) -> str:
        """Return the CSS class that colours the status's badge or cell."""
        return f"rag-{'na' if self is Status.NOT_ASSESSABLE else self.value}"

    @property
    def meaning(self) -> str:
        """Return what the status means, for a legend."""
        return say(MEANINGS[self])


MEANINGS = {
    Status.RED: "statuses.red",
    Status.AMBER: "statuses.amber",
    Status.GREEN: "statuses.green",
    Status.NOT_ASSESSABLE: "statuses.not_assessable",
}
