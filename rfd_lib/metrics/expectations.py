"""The guidance's restricted-use expectations as the audit checks them (``params/expectations.yaml``).

Two kinds of statement live there. The **restrictions** are the national definition's scope
(the guidance's *Coding* section): a spell outside them is not counted, and the report shows why
as context, never as red, amber or green. The **checks** are the expectations: each has its
thresholds and its basis, a sentence of the guidance (quoted word for word), a local policy or
data quality.

Loaded once and checked against the rule: a restriction the rule does not have, a restriction
whose codes cannot be listed (its SQL reads several columns and ``codes_from`` names none, or names
a column the spell schema lacks), a threshold the wrong way round, a basis without its quote (or
a quote where the basis is not the guidance) or an unknown key fails the load with the file and
key named (ehrQL's habit: a typo must fail loudly, never quietly check nothing). With the
guidance's text, :func:`load_expectations` also checks that every quote is in it, word for word.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from rfd_lib.config import EXPECTATIONS
from rfd_lib.engine.expressions import columns_of
from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.spell_schema import load_spell_schema
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.spc import Improvement
from rfd_lib.metrics.status import Status
from rfd_lib.yaml_model import listed, quoted, read_model

if TYPE_CHECKING:  # the rule compiler (sqlglot) is not needed to use a compiled rule
    from rfd_lib.engine.compiler import Criterion
    from rfd_lib.engine.rule import Rule


class ExpectationsError(RfdAuditError):
    """The expectations file cannot be used (unreadable, unknown key, threshold out of order)."""


class Basis(BaseModel):
    """Why the audit expects what a check measures: the guidance (quoted), a local policy or data quality.

    ``quote`` is the guidance's sentence, word for word: required when ``kind`` is ``guidance``,
    and refused otherwise (a local policy must not read as the guidance's).
    """

    model_config = ConfigDict(extra="forbid")
    kind: Literal["guidance", "local_policy", "data_quality"]
    quote: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _quoted_only_from_the_guidance(self) -> Basis:
        if self.kind == "guidance" and self.quote is None:
            raise ValueError(
                "a basis of kind guidance needs its quote: the guidance's sentence, word for word"
            )
        if self.kind != "guidance" and self.quote is not None:
            raise ValueError(f"a basis of kind {self.kind} has no quote: only the guidance is quoted")
        return self


class Check(BaseModel):
    """One kind of check as a report names it, its basis, and how its share is judged (green, amber or red).

    ``good`` says which way is better. ``label`` is what the checks table calls it; ``short``
    what the index calls it.
    """

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    short: str = Field(min_length=1)
    basis: Basis
    good: Literal["low", "high"]
    green: float = Field(ge=0)
    amber: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Check:
        if (self.good == "low" and self.amber < self.green) or (
            self.good == "high" and self.amber > self.green
        ):
            raise ValueError(
                f"amber ({self.amber}) is on the wrong side of green ({self.green}) for good: {self.good}"
            )
        return self

    def status(self, share: pd.Series) -> pd.Series:
        """Return 'green', 'amber' or 'red' per share, and 'not assessable' where it is missing."""
        value = share.astype("Float64")
        if self.good == "low":
            choice = np.where(
                value.le(self.green).fillna(False),
                Status.GREEN,
                np.where(value.le(self.amber).fillna(False), Status.AMBER, Status.RED),
            )
        else:
            choice = np.where(
                value.ge(self.green).fillna(False),
                Status.GREEN,
                np.where(value.ge(self.amber).fillna(False), Status.AMBER, Status.RED),
            )
        return pd.Series(
            np.where(value.isna(), Status.NOT_ASSESSABLE, choice), index=share.index, dtype="string"
        )


class Restriction(BaseModel):
    """A restriction of the rule as a report names it, and (its SQL reading several) the column it lists."""

    model_config = ConfigDict(extra="forbid")
    label: str
    codes_from: str | None = Field(None, min_length=1)


class Checks(BaseModel):
    """One :class:`Check` per :class:`~rfd_lib.metrics.check_kinds.CheckKind`, keyed by its name."""

    model_config = ConfigDict(extra="forbid")
    prior_block: Check
    repeat: Check
    therapeutic_block: Check
    facet_joint_injection: Check
    day_case: Check
    change_from_baseline: Check
    expected_rate: Check
    rfd_without_lumbar_site: Check
    rfd_diagnosis_outside_list: Check

    def of(self, kind: CheckKind | str) -> Check:
        """Return the settings of checks of ``kind``."""
        return getattr(self, CheckKind(kind).value)


class Trends(BaseModel):
    """The SPC charts: which way is an improvement on each (MDC's colours follow it), and the method.

    ``screen_moving_range_outliers`` drops moving ranges of 3.267 × mR-bar or more before the
    limits are set (NHSRplotthedots' default); false gives the MDC Excel tools' limits, which
    keep every moving range (see :mod:`rfd_lib.metrics.spc`).
    """

    model_config = ConfigDict(extra="forbid")
    counted: Improvement = "neither"
    facet_joint_injections: Improvement = "decrease"
    screen_moving_range_outliers: StrictBool = True


class TherapeuticBlock(BaseModel):
    """When medial branch blocks count as repeated: ``min_blocks`` block spells within ``window_months``."""

    model_config = ConfigDict(extra="forbid")
    window_months: int = Field(12, ge=1, le=120)
    min_blocks: int = Field(3, ge=2, le=20)


class Expectations(BaseModel):
    """The checks' settings; see ``params/expectations.yaml`` for what each one means."""

    model_config = ConfigDict(extra="forbid")
    period_date: Literal["discharge_date", "admission_date"] = "discharge_date"
    # Upper bounds: ten years is past any plausible policy, and a huge window overflows the dates.
    baseline_quarters: int = Field(4, ge=1, le=40)
    expected_rate_per_100000: float | None = Field(None, gt=0)
    funnel_overdispersion: Literal["none", "multiplicative", "additive"] = "additive"
    # Coverage levels of the funnel's limits; the widest decides who is outside.
    funnel_levels: tuple[float, ...] = Field((0.95, 0.998), min_length=1, max_length=3)
    # The "last N quarters" total of counted RFDs, and the quarters whose repeat RFDs are charted.
    rolling_quarters: int = Field(4, ge=1, le=40)
    trends: Trends = Trends()
    block_before_rfd_months: int = Field(6, ge=1, le=120)
    repeat_within_months: int = Field(16, ge=1, le=120)
    therapeutic_block: TherapeuticBlock = TherapeuticBlock()
    restrictions: dict[str, Restriction]
    checks: Checks

    @field_validator("funnel_levels")
    @classmethod
    def _levels(cls, levels: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0.5 <= level < 1 for level in levels) or list(levels) != sorted(set(levels)):
            raise ValueError(
                f"levels must rise, each from 0.5 to below 1, such as [0.95, 0.998], not {list(levels)}"
            )
        return levels

    def check_against(self, rule: Rule, path: Path | str = "expectations") -> None:
        """Raise ExpectationsError unless the restrictions are the rule's, each with a column behind it."""
        known = [criterion.name for criterion in rule.restrictions]
        unknown = [name for name in self.restrictions if name not in known]
        missing = [name for name in known if name not in self.restrictions]
        problems = [f"not in the rule: {quoted(name)}" for name in unknown]
        problems += [f"no label for: {quoted(name)}" for name in missing]
        if problems:
            raise ExpectationsError(
                f"{path}: restrictions do not match rule {rule.name}: {listed(problems, 3)}",
                hint="the keys are the rule's criteria as `rfd-audit rule` lists them",
            )
        for criterion in rule.restrictions:
            self.column_behind(criterion, path)

    def column_behind(self, criterion: Criterion, path: Path | str = "expectations") -> str:
        """Return the column whose codes a restriction's step lists: its SQL's one column, or ``codes_from``.

        The column comes from the compiled rule (the columns the criterion's SQL reads); where it
        reads several, ``restrictions.<criterion>.codes_from`` names one, which must be a column of
        the spell schema. Raises :class:`ExpectationsError` naming the file and key otherwise.
        """
        key = f"restrictions.{quoted(criterion.name)}"
        chosen = self.restrictions[criterion.name].codes_from
        if chosen is not None:
            if chosen not in load_spell_schema().columns:
                raise ExpectationsError(
                    f"{path}: {key}.codes_from: {quoted(chosen)} is not a column of the spell schema",
                    hint="name a column of params/spell_schema.yaml, such as one the restriction's SQL reads",
                )
            return chosen
        columns = columns_of(criterion.expression)
        if len(columns) != 1:
            raise ExpectationsError(
                f"{path}: {key}: its SQL reads {len(columns)} columns ({listed(columns, 3)}), "
                "so which one's codes to list must be said",
                hint="add `codes_from: <column>` under the restriction",
            )
        return columns[0]

    def check_quotes(self, guidance: str, path: Path | str = "expectations") -> None:
        """Raise ExpectationsError unless every check's guidance quote is in ``guidance``, word for word.

        Whitespace is normalised on both sides (a quote may be wrapped over lines); nothing else
        is: a curly quote, a comma or a word that differs is not the guidance's sentence.
        """
        text = _normalised(guidance)
        for name in Checks.model_fields:
            basis = getattr(self.checks, name).basis
            if basis.quote is not None and _normalised(basis.quote) not in text:
                raise ExpectationsError(
                    f"{path}: checks.{name}.basis.quote: not in the guidance, word for word: "
                    f"{quoted(basis.quote)}",
                    hint="copy the sentence from the guidance exactly, or make the basis local_policy",
                )


def _normalised(text: str) -> str:
    """Return ``text`` with every run of whitespace one space, and none at either end."""
    return re.sub(r"\s+", " ", text).strip()


def load_expectations(
    path: str | Path = EXPECTATIONS, rule: Rule | None = None, guidance: str | Path | None = None
) -> Expectations:
    """Return the expectations in ``path`` (default ``params/expectations.yaml``), checked.

    With ``rule``, the restrictions are also checked against that rule's. With ``guidance`` (the
    path of the guidance's text), every quote of a check's basis must be in it, word for word
    (rfd-audit ships the quotes, not the guidance: the tests check them against it). Raises
    :class:`ExpectationsError` naming the file and key.
    """
    path = Path(path)
    expectations = _load(path.resolve(), path.stat().st_mtime_ns if path.is_file() else 0)
    if rule is not None:
        expectations.check_against(rule, path)
    if guidance is not None:
        expectations.check_quotes(Path(guidance).read_text(encoding="utf-8"), path)
    return expectations


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int) -> Expectations:
    return read_model(path, Expectations, ExpectationsError, "the expectations")
