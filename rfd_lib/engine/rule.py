"""Load a rule: locate its file, check it against its manifest, compile it, check the result."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from rfd_lib.engine.compiler import Criterion, compile_rule
from rfd_lib.engine.expressions import columns_of
from rfd_lib.engine.rule_file import RuleManifest, locate_rule, read_rule_text
from rfd_lib.errors import RuleError

OUTPUT_COLUMNS = ("ebi_category", "reason")


@dataclass(frozen=True)
class Rule:
    """A compiled rule: its category label, provenance and criteria in published order.

    The first ``scope_count`` criteria define the procedure (a spell meeting them is *coded* for
    this item); the others are the restrictions a coded spell must also meet to be counted.
    """

    name: str
    label: str
    path: Path
    manifest: RuleManifest
    criteria: tuple[Criterion, ...]
    scope_count: int

    @property
    def scope(self) -> tuple[Criterion, ...]:
        """Return the criteria that define the procedure."""
        return self.criteria[: self.scope_count]

    @property
    def restrictions(self) -> tuple[Criterion, ...]:
        """Return the criteria a coded spell must also meet to be counted."""
        return self.criteria[self.scope_count :]

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the spell columns the rule reads, in order of first use."""
        names: list[str] = []
        for criterion in self.criteria:
            names += [name for name in columns_of(criterion.expression) if name not in names]
        return tuple(names)


def load_rule(rule: Rule | str | os.PathLike[str] = "2K_RFD_back") -> Rule:
    """Return the compiled rule named ``rule`` (a packaged rule) or stored at path ``rule``.

    A :class:`Rule` already loaded is returned as it is, so a caller may pass one down instead
    of a name. Raises :class:`~rfd_lib.errors.RuleError`, naming the file and line, for anything
    the rule engine does not support; the result is cached until the file changes.
    """
    if isinstance(rule, Rule):
        return rule
    path = locate_rule(rule).resolve()
    return _load(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _load(path: Path, _mtime_ns: int) -> Rule:
    text = read_rule_text(path)
    criteria = tuple(compile_rule(text))
    when_count = sum(c.section == "WHEN" for c in criteria)
    scope_count = text.manifest.scope_criteria
    if scope_count > when_count:
        raise RuleError(
            f"{path}: the manifest's scope_criteria is {scope_count} "
            f"but the WHEN clause has {when_count} criteria"
        )
    names = [c.name for c in criteria]
    clashes = sorted({n for n in names if names.count(n) > 1} | set(names) & set(OUTPUT_COLUMNS))
    if clashes:
        raise RuleError(
            f"{path}: criterion name {clashes[0]!r} is used twice or clashes with an output column"
        )
    return Rule(text.name, text.label, path, text.manifest, criteria, scope_count)
