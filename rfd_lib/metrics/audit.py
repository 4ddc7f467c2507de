"""Every figure of a quarterly audit, from classified spells to tables safe to publish.

:func:`audit_metrics` is the one call a notebook makes: it labels the spells the audit counts,
works out volumes, the waterfall, repeat intervals and the restricted-use checks for every
provider and quarter, protects them (:mod:`rfd_lib.metrics.publish`), and only then derives rates, the
peer funnel and the SPC summaries from the published counts. The patient-level activity it
starts from is not kept in the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.activity import label_activity
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.checks import restricted_use_checks
from rfd_lib.metrics.code_lists import CodeLists, load_code_lists
from rfd_lib.metrics.disclosure import CIRCULATION, Disclosure
from rfd_lib.metrics.expectations import Expectations, load_expectations
from rfd_lib.metrics.funnel import FunnelResult, funnel
from rfd_lib.metrics.periods import rolling_total
from rfd_lib.metrics.publish import (
    published_checks,
    published_intervals,
    published_volumes,
    published_waterfall,
)
from rfd_lib.metrics.rates import rates
from rfd_lib.metrics.spc import XmR, xmr, xmr_by
from rfd_lib.metrics.volumes import audit_quarters, repeat_intervals, volumes, waterfall

if TYPE_CHECKING:  # unpickling an AuditMetrics needs no rule compiler
    from rfd_lib.engine.rule import Rule

NO_POPULATION = "No population file was given, so rates cannot be compared."
# An overdispersion ratio is a spread between providers: one provider alone has none to measure.
MIN_PEERS_TO_ADJUST = 2


class AuditError(RfdAuditError, ValueError):
    """The audit cannot be worked out as asked (a quarter or provider not in the data)."""


@dataclass(frozen=True)
class AuditMetrics:
    """The published figures of one audit run (protected by ``policy`` unless it is internal).

    ``volumes``, ``waterfall``, ``checks`` and ``rates`` have a row per provider and quarter
    (and step or check); ``volumes.counted_4q`` is the rolling total of counted RFDs over the
    quarter and the ``expectations.rolling_quarters - 1`` before it (``<NA>`` until that many
    quarters are in the data, or when one is suppressed, and then ``counted_4q_suppressed``; the
    name keeps the default's four).
    ``intervals`` has one row per provider and band over the same quarters to ``quarter``;
    ``funnel`` compares providers in ``quarter``; ``spc`` summarises each provider's counted RFDs
    over ``quarters`` (XmR). ``notes`` say what a reader must know about the data. ``funnel`` is
    None when no provider can be compared, and ``funnel_missing`` then says why.
    ``expectations`` are the settings the figures were worked out with.
    """

    quarter: str
    quarters: list[str]
    policy: Disclosure
    volumes: pd.DataFrame
    waterfall: pd.DataFrame
    intervals: pd.DataFrame
    checks: pd.DataFrame
    rates: pd.DataFrame
    funnel: FunnelResult
    spc: pd.DataFrame
    facet_injections: pd.DataFrame
    expectations: Expectations
    notes: list[str] = field(default_factory=list)
    funnel_missing: str | None = None

    @property
    def providers(self) -> list[str]:
        """Return the providers audited, in code order."""
        return sorted(self.volumes["provider_code"].unique())

    def counted_xmr(self, provider: str) -> XmR:
        """Return the XmR chart of ``provider``'s counted RFDs per quarter (published counts)."""
        return _series_xmr(self.volumes, provider, "counted", self.expectations.trends.counted)

    def facet_injection_xmr(self, provider: str) -> XmR:
        """Return the XmR chart of ``provider``'s facet joint injections per quarter."""
        improvement = self.expectations.trends.facet_joint_injections
        return _series_xmr(self.facet_injections, provider, "spells", improvement)


def audit_metrics(
    classified: pd.DataFrame,
    *,
    quarter: str | None = None,
    populations: pd.DataFrame | None = None,
    expectations: Expectations | None = None,
    code_lists: CodeLists | None = None,
    rule: Rule | str | os.PathLike[str] = "2K_RFD_back",
    policy: Disclosure = CIRCULATION,
) -> AuditMetrics:
    """Return the audit's published figures for ``classified`` spells (see :class:`AuditMetrics`).

    ``classified`` is what :func:`rfd_lib.classify` returns for an extract (``rfd-audit classify``
    writes it). ``quarter`` is the quarter audited (default: the last the extract covers); the
    quarters charted run from the extract's first to ``quarter``. ``populations`` (provider_code,
    catchment_population) gives rates and the funnel; without it they are not assessable.
    Raises :class:`AuditError` when the spells have no admission date or ``quarter`` is not one
    the extract covers.
    """
    from rfd_lib.engine.rule import load_rule  # here, not above: unpickling an AuditMetrics needs no compiler

    compiled = load_rule(rule)
    expectations = expectations or load_expectations()
    expectations.check_against(compiled)
    code_lists = code_lists or load_code_lists()
    try:
        covered = audit_quarters(classified)
    except ValueError as error:
        raise AuditError(f"{error}: nothing to audit", hint="check the extract has dated spells") from None
    quarter = quarter or covered[-1]
    if quarter not in covered:
        raise AuditError(
            f"quarter {quarter} is not in the extract, which covers {covered[0]} to {covered[-1]}"
        )
    quarters = covered[: covered.index(quarter) + 1]
    activity = label_activity(classified, compiled, code_lists, expectations)
    providers = sorted(classified["provider_code"].dropna().unique())
    # The waterfall's steps in the rule's order: a spell is under the first restriction it fails.
    restrictions = [criterion.name for criterion in compiled.restrictions]
    labels = {name: expectations.restrictions[name].label for name in restrictions}

    raw_volumes = volumes(activity, quarters, providers)
    raw_waterfall = waterfall(activity, quarters, labels, providers)
    published = published_volumes(raw_volumes, policy, waterfall=raw_waterfall)
    steps = published_waterfall(raw_waterfall, published, policy, restrictions=restrictions)
    # A sum of published cells, so it reveals nothing they do not; a suppressed quarter leaves it <NA>.
    published["counted_4q"] = rolling_total(published, "counted", window=expectations.rolling_quarters)
    hidden = published.assign(hidden=published["counted_suppressed"].astype(int))
    published["counted_4q_suppressed"] = (
        rolling_total(hidden, "hidden", window=expectations.rolling_quarters).gt(0).fillna(False).astype(bool)
    )
    raw_checks = restricted_use_checks(activity, expectations, quarters, populations, providers)
    checks = published_checks(raw_checks, published, expectations, policy, waterfall=steps)
    facet = checks[checks["kind"] == CheckKind.FACET_JOINT_INJECTION][
        ["provider_code", "quarter", "numerator", "numerator_suppressed"]
    ]
    facet = facet.rename(columns={"numerator": "spells", "numerator_suppressed": "spells_suppressed"})
    recent = quarters[-expectations.rolling_quarters :]
    notes = _notes(activity, quarters, covered, recent)
    counted = published[["provider_code", "quarter", "counted", "counted_suppressed"]]
    if populations is not None:
        rated = rates(counted, populations, count="counted")
        compared, note = _compare(rated, quarter, expectations)
        notes += [note] if note else []
        missing = note if compared is None else None
    else:
        rated = counted.assign(
            population=pd.NA, rate=pd.NA, rate_lower=pd.NA, rate_upper=pd.NA, rate_note="no population file"
        )
        compared, missing = None, NO_POPULATION
        notes.append(
            "No population file was given: rates per 100,000 and the funnel plot are not assessable."
        )
    return AuditMetrics(
        quarter=quarter,
        quarters=quarters,
        policy=policy,
        volumes=published,
        waterfall=steps,
        intervals=published_intervals(
            repeat_intervals(activity, recent, providers),
            policy,
            checks=checks[checks["quarter"].isin(recent)],
            volumes=published[published["quarter"].isin(recent)],
        ),
        checks=checks,
        rates=rated,
        funnel=compared,
        spc=xmr_by(counted, value="counted", improvement=expectations.trends.counted),
        facet_injections=facet.reset_index(drop=True),
        expectations=expectations,
        notes=notes,
        funnel_missing=missing,
    )


def _compare(
    rated: pd.DataFrame, quarter: str, expectations: Expectations
) -> tuple[FunnelResult | None, str | None]:
    """Return the funnel of the providers' rates in ``quarter`` (None if none can be compared) and a note.

    The note says why there is no funnel, or that too few providers to estimate overdispersion
    (a trust auditing itself) left the limits exact Poisson, not adjusted; None when all is as usual.
    """
    peers = rated[rated["quarter"] == quarter][["provider_code", "counted", "population"]]
    comparable = int(peers[["counted", "population"]].notna().all(axis=1).sum())
    if comparable == 0:
        return None, (
            f"No provider has both a published count of counted RFDs and a population in {quarter}, "
            "so rates cannot be compared and there is no funnel plot."
        )
    note = None
    overdispersion = expectations.funnel_overdispersion
    if overdispersion != "none" and comparable < MIN_PEERS_TO_ADJUST:
        note = (
            f"Only one provider can be compared in {quarter}, so the funnel plot's peer rate is its "
            "own rate and its limits are exact Poisson limits, not adjusted for overdispersion "
            f"(the {overdispersion} adjustment needs at least {MIN_PEERS_TO_ADJUST} providers)."
        )
        overdispersion = "none"
    levels = expectations.funnel_levels
    return funnel(peers, count="counted", overdispersion=overdispersion, levels=levels), note


def _series_xmr(table: pd.DataFrame, provider: str, column: str, improvement: str) -> XmR:
    rows = table[table["provider_code"] == provider]
    if rows.empty:
        raise AuditError(f"provider {provider} is not in the audit")
    return xmr(rows.set_index("quarter")[column].astype("Float64"), improvement=improvement)


def _notes(activity: pd.DataFrame, quarters: list[str], covered: list[str], recent: list[str]) -> list[str]:
    """Return what a reader must know: spells outside the quarters charted, and the windows used."""
    notes = [f"Quarters are NHS financial quarters; the extract covers {covered[0]} to {covered[-1]}."]
    outside = activity["kind"].eq("rfd") & ~activity["quarter"].isin(quarters)
    if outside.any():
        notes.append(
            "Some RFD-coded spells fall outside the quarters charted (their quarter's date is missing, "
            "or after the quarter audited) and are not in these figures."
        )
    notes.append(f"Repeat intervals cover the counted RFDs of {recent[0]} to {recent[-1]}.")
    return notes
