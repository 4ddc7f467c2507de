"""Every figure of a quarterly audit, from classified spells to tables safe to publish.

:func:`audit_metrics` is the one call a notebook makes: it labels the spells the audit counts,
works out volumes, the waterfall (with the codes behind its steps, outside the national
definition), repeat intervals and the restricted-use checks for every provider and quarter,
protects them (:mod:`rfd_lib.metrics.publish`), and only then derives rates
and the peer funnel from the published counts. The SPC charts are the exception: their limits and
signals come from the true counts per provider and quarter (kept for them alone), and what they
show is protected by :mod:`rfd_lib.metrics.spc_disclosure`. The patient-level activity it starts
from is not kept in the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pandas as pd

from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.activity import diagnosis_restriction, label_activity
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.checks import restricted_use_checks
from rfd_lib.metrics.code_lists import CodeLists, load_code_lists
from rfd_lib.metrics.definition import PUBLISHED as CODES_COLUMNS
from rfd_lib.metrics.definition import codes_behind, published_codes
from rfd_lib.metrics.disclosure import CIRCULATION, Disclosure, protect
from rfd_lib.metrics.expectations import Expectations, load_expectations
from rfd_lib.metrics.extent import SpellExtent
from rfd_lib.metrics.funnel import FunnelResult, funnel
from rfd_lib.metrics.periods import rolling_total
from rfd_lib.metrics.publish import published_checks, published_volumes, published_waterfall
from rfd_lib.metrics.publish_intervals import published_intervals
from rfd_lib.metrics.rates import (
    CATCHMENT_POPULATION,
    QUARTER_YEARS,
    Denominator,
    rate_denominator,
    rates,
    true_count_range,
)
from rfd_lib.metrics.spc import XmR
from rfd_lib.metrics.spc_disclosure import published_xmr, published_xmr_by, total_xmr
from rfd_lib.metrics.volumes import audit_quarters, repeat_intervals, volumes, waterfall
from rfd_lib.wording import say
from rfd_lib.yaml_model import listed

if TYPE_CHECKING:  # unpickling an AuditMetrics needs no rule compiler
    from rfd_lib.engine.rule import Rule

# An overdispersion ratio is a spread between providers: one provider alone has none to measure.
MIN_PEERS_TO_ADJUST = 2


class AuditError(RfdAuditError, ValueError):
    """The audit cannot be worked out as asked (a quarter or provider not in the data)."""


@dataclass(frozen=True)
class AuditMetrics:
    """The published figures of one audit run (protected by ``policy`` unless it is internal).

    ``volumes``, ``waterfall``, ``checks`` and ``rates`` have a row per provider and quarter
    (and step or check); ``definition_codes`` has, for ``quarter``, the codes behind each step of
    the waterfall as :func:`rfd_lib.metrics.definition.published_codes` publishes them (the
    national definition's restrictions are context, not checks); ``volumes.counted_4q`` is the
    rolling total of counted RFDs over the
    quarter and the ``expectations.rolling_quarters - 1`` before it (``<NA>`` until that many
    quarters are in the data, or when one is suppressed, and then ``counted_4q_suppressed``; the
    name keeps the default's four).
    ``intervals`` has one row per provider and band over the same quarters to ``quarter``;
    ``funnel`` compares providers in ``quarter``; ``spc`` summarises each provider's counted RFDs
    over ``quarters`` (XmR, from the true counts, as :func:`published_xmr_by` publishes them).
    ``spc_true_counts`` holds the TRUE counted RFDs and facet joint injections per provider and
    quarter (``counted``, ``facet_injections``): the SPC charts' limits and signals are worked out
    from them; never show them or write them out (every SPC figure shown goes through
    :mod:`rfd_lib.metrics.spc_disclosure`). ``notes`` say what a reader must know about the
    data. ``funnel`` is None when no provider can be compared, and ``funnel_missing`` then says
    why. ``expectations`` are the settings the figures were worked out with. Rates (and the
    funnel) are per 100,000 people a year, annualised from the quarter, and ``rate_denominator``
    names the population they divide by: ``"adult_population"`` (19+) or
    ``"catchment_population"`` (all ages; see :mod:`rfd_lib.metrics.rates`).
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
    spc_true_counts: pd.DataFrame
    expectations: Expectations
    notes: list[str] = field(default_factory=list)
    funnel_missing: str | None = None
    rate_denominator: str = CATCHMENT_POPULATION
    definition_codes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({column: pd.Series(dtype="string") for column in CODES_COLUMNS})
    )

    @property
    def providers(self) -> list[str]:
        """Return the providers audited, in code order."""
        return sorted(self.volumes["provider_code"].unique())

    def counted_xmr(self, provider: str) -> XmR:
        """Return the XmR chart of ``provider``'s counted RFDs per quarter (true counts, published points)."""
        rows = self._spc_series("counted", provider)
        return published_xmr(
            rows["true"], rows["counted"], rows["counted_suppressed"], **self._spc_options("counted")
        )

    def facet_injection_xmr(self, provider: str) -> XmR:
        """Return the XmR chart of ``provider``'s facet joint injections per quarter (as ``counted_xmr``)."""
        rows = self._spc_series("facet_injections", provider)
        return published_xmr(
            rows["true"],
            rows["spells"],
            rows["spells_suppressed"],
            **self._spc_options("facet_joint_injections"),
        )

    def trend_xmr(self) -> XmR:
        """Return the XmR chart of all providers' counted RFDs per quarter: true totals, rounded once."""
        return total_xmr(
            _with_true(self.volumes, self.spc_true_counts, "counted"),
            value="counted",
            true="true",
            **self._spc_options("counted"),
        )

    def _spc_series(self, kind: str, provider: str) -> pd.DataFrame:
        published = self.volumes if kind == "counted" else self.facet_injections
        rows = _with_true(published, self.spc_true_counts, kind)
        rows = rows[rows["provider_code"] == provider]
        if rows.empty:
            raise AuditError(f"provider {provider} is not in the audit")
        return rows.set_index("quarter").sort_index()

    def _spc_options(self, trend: str) -> dict[str, object]:
        trends = self.expectations.trends
        return {
            "improvement": getattr(trends, trend),
            "screen_outliers": trends.screen_moving_range_outliers,
            "policy": self.policy,
        }


def audit_metrics(
    classified: pd.DataFrame,
    *,
    quarter: str | None = None,
    populations: pd.DataFrame | None = None,
    expectations: Expectations | None = None,
    code_lists: CodeLists | None = None,
    rule: Rule | str | os.PathLike[str] = "2K_RFD_back",
    policy: Disclosure = CIRCULATION,
    extent: SpellExtent | None = None,
) -> AuditMetrics:
    """Return the audit's published figures for ``classified`` spells (see :class:`AuditMetrics`).

    ``classified`` is what :func:`rfd_lib.classify` returns for an extract (``rfd-audit classify``
    writes it). ``quarter`` is the quarter audited (default: the last the extract covers); the
    quarters charted run from the extract's first to ``quarter``, each spell in the quarter of
    its ``expectations.period_date`` (the discharge date by default); spells without that date
    are counted in the notes. ``populations`` (provider_code, catchment_population and
    optionally adult_population) gives rates and the funnel; without it they are not assessable.
    ``extent`` is the whole extract's :class:`~rfd_lib.metrics.extent.SpellExtent` when
    ``classified`` holds only the spells the audit uses (a national extract read batch by batch,
    :func:`rfd_lib.pipeline.streaming.classify_extracts`): the providers, the quarters covered
    and the look-back start are then its, and every figure is what the whole extract gives.
    Raises :class:`AuditError` when no spell has the period date or ``quarter`` is not one the
    extract covers.
    """
    from rfd_lib.engine.rule import load_rule  # here, not above: unpickling an AuditMetrics needs no compiler

    compiled = load_rule(rule)
    expectations = expectations or load_expectations()
    expectations.check_against(compiled)
    code_lists = code_lists or load_code_lists()
    try:
        covered = (
            extent.quarters(expectations.period_date)
            if extent is not None
            else audit_quarters(classified, expectations.period_date)
        )
    except ValueError as error:
        raise AuditError(f"{error}: nothing to audit", hint="check the extract has dated spells") from None
    quarter = quarter or covered[-1]
    if quarter not in covered:
        raise AuditError(
            f"quarter {quarter} is not in the extract, which covers {covered[0]} to {covered[-1]}"
        )
    quarters = covered[: covered.index(quarter) + 1]
    activity = label_activity(
        classified,
        compiled,
        code_lists,
        expectations,
        data_start=None if extent is None else extent.first_admission,
    )
    providers = (
        extent.providers if extent is not None else sorted(classified["provider_code"].dropna().unique())
    )
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
    checks = published_checks(
        raw_checks,
        published,
        expectations,
        policy,
        waterfall=steps,
        diagnosis=diagnosis_restriction(compiled),
    )
    facet = checks[checks["kind"] == CheckKind.FACET_JOINT_INJECTION][
        ["provider_code", "quarter", "numerator", "numerator_suppressed"]
    ]
    facet = facet.rename(columns={"numerator": "spells", "numerator_suppressed": "spells_suppressed"})
    recent = quarters[-expectations.rolling_quarters :]
    notes = _notes(activity, quarters, covered, recent, expectations.period_date, policy)
    counted = published[["provider_code", "quarter", "counted", "counted_suppressed"]]
    # The true counts the SPC charts are worked out from (never shown: see AuditMetrics).
    facet_kind = raw_checks["kind"] == CheckKind.FACET_JOINT_INJECTION
    spc_true_counts = raw_volumes[["provider_code", "quarter", "counted"]].merge(
        raw_checks.loc[facet_kind, ["provider_code", "quarter", "numerator"]].rename(
            columns={"numerator": "facet_injections"}
        ),
        on=["provider_code", "quarter"],
        how="left",
    )
    denominator = CATCHMENT_POPULATION
    if populations is not None:
        # Published counts, so the interval allows for their rounding.
        rated = rates(counted, populations, count="counted", policy=policy)
        chosen = rate_denominator(populations, providers)
        denominator = chosen.column
        notes.append(_rate_note(chosen, policy))
        compared, note = _compare(rated, quarter, expectations)
        notes += [note] if note else []
        missing = note if compared is None else None
    else:
        rated = counted.assign(
            population=pd.NA,
            denominator=pd.NA,
            rate=pd.NA,
            rate_lower=pd.NA,
            rate_upper=pd.NA,
            rate_note=say("checks.notes.no_population_file"),
        )
        compared, missing = None, say("audit.notes.no_population_funnel")
        notes.append(say("audit.notes.no_population"))
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
        spc=published_xmr_by(
            _with_true(counted, spc_true_counts, "counted"),
            value="counted",
            true="true",
            policy=policy,
            improvement=expectations.trends.counted,
            screen_outliers=expectations.trends.screen_moving_range_outliers,
        ),
        facet_injections=facet.reset_index(drop=True),
        spc_true_counts=spc_true_counts,
        expectations=expectations,
        notes=notes,
        funnel_missing=missing,
        rate_denominator=denominator,
        definition_codes=published_codes(
            codes_behind(classified, compiled, expectations, quarter, providers), policy
        ),
    )


def _compare(
    rated: pd.DataFrame, quarter: str, expectations: Expectations
) -> tuple[FunnelResult | None, str | None]:
    """Return the funnel of the providers' rates in ``quarter`` (None if none can be compared) and a note.

    The funnel compares the rates the report shows: the published counts over the quarter's
    person-years (the rates' population × ¼), so its rates and limits are per 100,000 a year;
    its x axis is the population again. The note says why there is no funnel, or that too few
    providers to estimate overdispersion (a trust auditing itself) left the limits exact
    Poisson, not adjusted; None when all is as usual.
    """
    peers = rated[rated["quarter"] == quarter][["provider_code", "counted", "population"]]
    comparable = int(peers[["counted", "population"]].notna().all(axis=1).sum())
    if comparable == 0:
        return None, say("audit.notes.no_comparable_provider", quarter=quarter)
    note = None
    overdispersion = expectations.funnel_overdispersion
    if overdispersion != "none" and comparable < MIN_PEERS_TO_ADJUST:
        note = say(
            "audit.notes.one_comparable_provider",
            quarter=quarter,
            adjustment=overdispersion,
            providers=MIN_PEERS_TO_ADJUST,
        )
        overdispersion = "none"
    levels = expectations.funnel_levels
    years = peers.assign(person_years=peers["population"].astype("Float64") * QUARTER_YEARS)
    result = funnel(
        years, count="counted", population="person_years", overdispersion=overdispersion, levels=levels
    )
    # Scaling every population alike moves no provider: only the rates' unit is per year.
    people = result.providers["provider_code"].map(peers.set_index("provider_code")["population"])
    return replace(
        result,
        providers=result.providers.assign(population=people.astype("Int64")),
        curve=result.curve.assign(population=result.curve["population"] / QUARTER_YEARS),
    ), note


def _with_true(published: pd.DataFrame, true: pd.DataFrame, column: str) -> pd.DataFrame:
    """Return ``published`` (one row per provider and quarter) with the true ``column`` as ``true``."""
    keys = ["provider_code", "quarter"]
    return published.merge(true[[*keys, column]].rename(columns={column: "true"}), on=keys, how="left")


def _notes(
    activity: pd.DataFrame,
    quarters: list[str],
    covered: list[str],
    recent: list[str],
    period_date: str,
    policy: Disclosure,
) -> list[str]:
    """Return what a reader must know: the date that sets a quarter, spells in none, the windows used."""
    date = period_date.replace("_", " ")
    notes = [say("audit.notes.quarters", date=date, first=covered[0], last=covered[-1])]
    rfd = activity["kind"].eq("rfd")
    undated = _published_count(int((rfd & activity["quarter"].isna()).sum()), policy)
    if undated is not None:
        notes.append(say("audit.notes.no_date_yet", date=date, spells=undated))
    if (rfd & activity["quarter"].notna() & ~activity["quarter"].isin(quarters)).any():
        notes.append(say("audit.notes.after_the_quarter"))
    notes.append(say("audit.notes.repeat_intervals", first=recent[0], last=recent[-1]))
    return notes


def _published_count(count: int, policy: Disclosure) -> str | None:
    """Return ``count`` as a circulated note may say it (``"1–7"`` if small, rounded); None for 0."""
    if count == 0:
        return None
    protected = protect(pd.DataFrame({"spells": [count]}), ["spells"], policy=policy)
    if protected["spells_suppressed"].iat[0]:
        return f"1–{policy.threshold}"
    return f"{int(protected['spells'].iat[0]):,}"


def _rate_note(denominator: Denominator, policy: Disclosure) -> str:
    """Return what the rates are per (which population, per year) and what their interval allows for."""
    if denominator.adult:
        per = say("audit.notes.rates_per_adult")
    elif denominator.without_adult:
        without = listed(list(denominator.without_adult))
        per = say("audit.notes.rates_per_person_some_without_adults", providers=without)
    else:
        per = say("audit.notes.rates_per_person_no_adults")
    if policy.circulating:
        published = 10 * policy.rounding
        lowest, highest = (int(end[0]) for end in true_count_range([published], policy))
        interval = say(
            "audit.notes.rate_interval_rounded", published=published, lowest=lowest, highest=highest
        )
    else:
        interval = say("audit.notes.rate_interval_exact")
    return f"{per} {say('audit.notes.rates_annualised')} {interval}"
