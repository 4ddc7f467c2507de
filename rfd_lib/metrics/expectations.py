"""The guidance's restricted-use expectations as the audit checks them (``params/expectations.yaml``).

Loaded once and checked against the rule: a restriction the rule does not have, a threshold the
wrong way round or an unknown key fails the load with the file and key named (ehrQL's habit: a
typo must fail loudly, never quietly check nothing).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from rfd_lib.config import EXPECTATIONS
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.spc import Improvement
from rfd_lib.metrics.status import Status
from rfd_lib.yaml_model import listed, quoted, read_model

if TYPE_CHECKING:  # the rule compiler (sqlglot) is not needed to use a compiled rule
    from rfd_lib.engine.rule import Rule


class ExpectationsError(RfdAuditError):
    """The expectations file cannot be used (unreadable, unknown key, threshold out of order)."""


class Basis(BaseModel):
    """What a check's expectation rests on: the guidance (quoted exactly), local policy or data quality."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["guidance", "local_policy", "data_quality"]
    quote: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _quoted_only_for_guidance(self) -> Basis:
        if self.kind == "guidance" and self.quote is None:
            raise ValueError("a basis of kind guidance needs the quote: the guidance's sentence, exactly")
        if self.kind != "guidance" and self.quote is not None:
            raise ValueError(f"only a basis of kind guidance has a quote, not one of kind {self.kind}")
        return self


class Check(BaseModel):
    """One kind of check as a report names it, and how its share is judged (green, amber or red).

    ``good`` says which way is better. ``label`` is what the checks table calls it (for the
    restriction check, the start of each restriction's label); ``short`` what the index calls it.
    """

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    short: str = Field(min_length=1)
    expected: str
    good: Literal["low", "high"]
    green: float = Field(ge=0)
    amber: float = Field(ge=0)
    # What the expectation rests on. Optional until every entry of the shipped file carries one.
    basis: Basis | None = None

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
    """A restriction of the rule as a report names it."""

    model_config = ConfigDict(extra="forbid")
    label: str


class Checks(BaseModel):
    """One :class:`Check` per :class:`~rfd_lib.metrics.check_kinds.CheckKind`, keyed by its name."""

    model_config = ConfigDict(extra="forbid")
    restriction: Check
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
        """Raise ExpectationsError unless the restrictions named are exactly the rule's restrictions."""
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


def load_expectations(path: str | Path = EXPECTATIONS, rule: Rule | None = None) -> Expectations:
    """Return the expectations in ``path`` (default ``params/expectations.yaml``), checked.

    With ``rule``, the restrictions are also checked against that rule's. Raises
    :class:`ExpectationsError` naming the file and key.
    """
    path = Path(path)
    expectations = _load(path.resolve(), path.stat().st_mtime_ns if path.is_file() else 0)
    if rule is not None:
        expectations.check_against(rule, path)
    return expectations


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int) -> Expectations:
    return read_model(path, Expectations, ExpectationsError, "the expectations")
