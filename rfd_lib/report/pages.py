"""The content of a provider's report notebook: one short call per section, all from published figures.

:class:`ProviderPage` is one provider's report for the quarter audited, with its peers for
context (the summary report's sections are :mod:`rfd_lib.report.summary_page`). Each method
returns a :class:`~rfd_lib.charts.house_style.Chart` or a :class:`~rfd_lib.report.tables.Fragment`
that a notebook cell shows as it is, so the notebook holds narrative and calls, no logic. Every
sentence, label and column heading is a template in ``params/wording.yaml``
(:func:`rfd_lib.wording.say`); tables are built with column ids and headed from it at the end
(:func:`~rfd_lib.report.tables.headed`). Every chart and table with a suppressed count carries the
run's disclosure footnote.
"""

from __future__ import annotations

import pandas as pd

from rfd_lib.charts.activity import interval_chart, volume_chart, waterfall_chart
from rfd_lib.charts.funnel import funnel_chart
from rfd_lib.charts.house_style import Chart, data_text
from rfd_lib.charts.spc import spc_chart
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.audit import AuditMetrics
from rfd_lib.metrics.changes import changes_in_words, counted_changes, previous_quarter, status_changes
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.definition import MOST_CODES, code_lists_text
from rfd_lib.metrics.spc import TooFewValues
from rfd_lib.metrics.status import Status
from rfd_lib.report.analyst import AnalystTools
from rfd_lib.report.saved_audit import AuditRun
from rfd_lib.report.tables import (
    Fragment,
    any_suppressed,
    counts,
    decimal,
    headed,
    headline,
    one_count,
    paragraphs,
    percent,
    signed_percent,
    status_classes,
    table,
)
from rfd_lib.wording import say

# The kinds whose share is a ratio minus one, shown signed; their denominator is not a count.
RATIO_CHECKS = [kind.value for kind in CheckKind if kind.is_ratio]


def provider_title(run: AuditRun, code: str) -> str:
    """Return the title of provider ``code``'s report: its name and code."""
    return say("provider_page.title", provider=run.provider_name(code), code=code)


class ProviderPage(AnalystTools):
    """One provider's report sections for the run's quarter (and an analyst's: :class:`AnalystTools`)."""

    def __init__(self, run: AuditRun, provider: str) -> None:
        if provider not in run.audit.providers:
            raise RfdAuditError(
                f"provider {provider} is not in the audit",
                hint=f"the audit has {_listed(run.audit.providers)}",
            )
        self.run, self.audit, self.code = run, run.audit, provider
        self.footnote = self.audit.policy.footnote
        self._open_for_analysis()

    @property
    def title(self) -> str:
        """Return the report's title: the provider's name and code."""
        return provider_title(self.run, self.code)

    def headline(self) -> Fragment:
        """Return the headline boxes: counted RFDs, rate, funnel position, trend, red checks."""
        volume = self._volumes().iloc[-1]
        rate = self.audit.rates
        rate = rate[(rate["provider_code"] == self.code) & (rate["quarter"] == self.audit.quarter)].iloc[0]
        reds = self._checks()["status"].eq(Status.RED).sum()
        return headline(
            [
                (
                    one_count(volume["counted"], volume["counted_suppressed"]),
                    say("provider_page.headline.counted", quarter=self.audit.quarter),
                ),
                (
                    decimal(pd.Series([rate["rate"]])).iat[0],
                    say("provider_page.headline.rate", per=self.run.rate_per(), quarter=self.audit.quarter),
                ),
                (self.funnel_position(), say("provider_page.headline.funnel")),
                (str(int(reds)), say("provider_page.headline.red_checks")),
            ]
        )

    def funnel_position(self) -> str:
        """Return where the provider sits on the funnel plot, in words."""
        if self.audit.funnel is None:
            return say("shared.funnel_not_compared")
        return self.audit.funnel.position(self.code)

    def comparison(self) -> str:
        """Return one sentence saying how the provider's rate compares with its peers'."""
        result = self.audit.funnel
        if result is None:
            return funnel_missing_reason(self.audit)
        if self.code in result.excluded:
            return say("provider_page.comparison.not_compared", reason=result.excluded[self.code])
        return say("provider_page.comparison.position", position=self.funnel_position())

    def summary(self) -> Fragment:
        """Return the report's opening sentences: volume, comparison, trend and breaches in words."""
        volume = self._volumes().iloc[-1]
        checks = self._checks()
        red = checks.loc[checks["status"].eq(Status.RED), "label"].tolist()
        trend = self.audit.spc.set_index("provider_code").loc[self.code, "summary"]
        texts = [
            say(
                "provider_page.summary.volume",
                quarter=self.audit.quarter,
                provider=self.run.provider_name(self.code),
                coded=one_count(volume["rfd_coded"], volume["rfd_coded_suppressed"]),
                counted=one_count(volume["counted"], volume["counted_suppressed"]),
            ),
            self.comparison(),
            say("provider_page.summary.trend", trend=trend),
            say("provider_page.summary.red_checks", checks="; ".join(red))
            if red
            else say("provider_page.summary.no_red_check"),
        ]
        return paragraphs(texts)

    def since_last_quarter(self) -> Fragment:
        """Return what changed since the previous quarter: counted RFDs, each check's status and share."""
        audit, quarter = self.audit, self.audit.quarter
        previous = previous_quarter(audit.quarters, quarter)
        if previous is None:
            return paragraphs([say("provider_page.since_last_quarter.first_quarter", quarter=quarter)])
        changes = status_changes(audit.checks, quarter, previous)
        return since_last_quarter(
            changes[changes["provider_code"] == self.code],
            counted_changes(audit.volumes, quarter, previous).set_index("provider_code").loc[self.code],
            quarter,
            previous,
        )

    def volume_chart(self) -> Chart:
        """Return the RFD-coded and counted spells per quarter."""
        return volume_chart(self.audit.volumes, self.code, footnote=self.footnote)

    def waterfall_chart(self) -> Chart:
        """Return the quarter's RFD-coded spells by the first restriction each failed."""
        return waterfall_chart(self.audit.waterfall, self.code, self.audit.quarter, footnote=self.footnote)

    def definition(self) -> Fragment:
        """Return *Outside the national definition*: the spells not counted and the codes behind each step.

        Context, never red, amber or green: per restriction of the national definition (in the
        rule's order), the quarter's RFD-coded spells whose first failed restriction it is, and
        the codes behind them (:mod:`rfd_lib.metrics.definition`), a question for the clinical
        coding team. In circulation only codes behind 8 or more spells are named, without counts.
        """
        audit, policy = self.audit, self.audit.policy
        steps = audit.waterfall[
            (audit.waterfall["provider_code"] == self.code) & (audit.waterfall["quarter"] == audit.quarter)
        ]
        reasons = steps[steps["step"].between(1, steps["step"].max() - 1)]
        provider = self.run.provider_name(self.code)
        outside = reasons["spells"].fillna(0).gt(0) | reasons["spells_suppressed"]
        if not outside.any():
            return paragraphs([say("definition.none_outside", quarter=audit.quarter, provider=provider)])
        codes = audit.definition_codes
        codes = codes[(codes["provider_code"] == self.code) & (codes["quarter"] == audit.quarter)]
        text = code_lists_text(codes, policy).set_index("step")
        reasons = reasons[outside.to_numpy()]
        columns = text["column"].reindex(reasons["step"]).fillna("")
        said = text["codes"].reindex(reasons["step"]).fillna(say("definition.no_codes"))
        frame = pd.DataFrame(
            {
                "step": reasons["label"].astype("string").array,
                "spells": counts(reasons["spells"], reasons["spells_suppressed"]).array,
                "codes": [
                    f"{codes_of} {say('definition.column', column=column)}" if column else codes_of
                    for codes_of, column in zip(said, columns, strict=True)
                ],
            }
        )
        classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
        classes["spells"] = "count"
        keys = {"step": "definition.step", "spells": "definition.spells", "codes": "definition.codes"}
        headings = {column: (key, say(key)) for column, key in keys.items()}
        frame, classes = headed(frame, classes, headings)
        notes = [say("definition.circulation_note", least=policy.threshold + 1, most=MOST_CODES)]
        if not policy.circulating:
            notes = []
        if any_suppressed(reasons["spells_suppressed"]):
            notes.append(self.footnote or "")
        intro = paragraphs([say("definition.intro", quarter=audit.quarter, provider=provider)])
        return Fragment(
            intro + table(frame, classes=classes, footnote=" ".join(n for n in notes if n) or None)
        )

    def funnel_chart(self) -> Chart | Fragment:
        """Return the peers' funnel plot with this provider ringed (a note if there is none)."""
        if self.audit.funnel is None:
            return paragraphs([funnel_missing_reason(self.audit)], "note")
        return funnel_chart(self.audit.funnel, highlight=self.code, **funnel_labels(self.run))

    def spc_chart(self) -> Chart | Fragment:
        """Return the XmR chart of the provider's counted RFDs per quarter (a note if too few)."""
        return self._xmr_chart(
            self.audit.counted_xmr,
            title=say("provider_page.counted_chart.title", provider=data_text(self.code)),
            value_label=say("provider_page.counted_chart.value_label"),
            too_few=say("provider_page.counted_chart.too_few", provider=self.code),
        )

    def facet_injection_chart(self) -> Chart | Fragment:
        """Return the XmR chart of the provider's lumbar facet joint injections per quarter."""
        return self._xmr_chart(
            self.audit.facet_injection_xmr,
            title=say("provider_page.facet_injection_chart.title", provider=data_text(self.code)),
            value_label=say("provider_page.facet_injection_chart.value_label"),
            too_few=say("provider_page.facet_injection_chart.too_few", provider=self.code),
        )

    def _xmr_chart(self, series, *, title: str, value_label: str, too_few: str) -> Chart | Fragment:
        try:
            result = series(self.code)
        except TooFewValues:
            return paragraphs([too_few], "note")
        return spc_chart(result, title=title, value_label=value_label)

    def interval_chart(self) -> Chart | Fragment:
        """Return the provider's repeat RFDs by months since the previous RFD (a note if too few)."""
        months = self.audit.expectations.repeat_within_months
        bands = self.audit.intervals[self.audit.intervals["provider_code"] == self.code]
        if len(bands) and bands["spells"].isna().all() and not bands["spells_suppressed"].any():
            # Too few to show: see rfd_lib.metrics.publish.published_intervals.
            return paragraphs([say("provider_page.interval_chart.not_shown", provider=self.code)], "note")
        return interval_chart(self.audit.intervals, self.code, policy_months=months, footnote=self.footnote)

    def checks_table(self) -> Fragment:
        """Return the quarter's restricted-use checks: basis, counts, share, status, thresholds and notes."""
        return checks_table(self._checks(), self.footnote)

    def notes(self) -> Fragment:
        """Return what a reader must know about the data and the disclosure control."""
        extra = [self.audit.policy.banner or "", self.footnote or ""]
        return paragraphs([*self.audit.notes, *extra], "note")

    def _volumes(self) -> pd.DataFrame:
        rows = self.audit.volumes[self.audit.volumes["provider_code"] == self.code]
        return rows.sort_values("quarter")

    def _checks(self) -> pd.DataFrame:
        checks = self.audit.checks
        return checks[(checks["provider_code"] == self.code) & (checks["quarter"] == self.audit.quarter)]


def checks_table(
    checks: pd.DataFrame,
    footnote: str | None,
    *,
    with_provider: bool = False,
    names: dict[str, str] | None = None,
) -> Fragment:
    """Return checks (published rows of :attr:`AuditMetrics.checks`) as a table with RAG cells.

    Each row says its basis (the guidance's sentence in quotation marks, a local policy or data
    quality) and, beside its status, the thresholds it was judged on.
    """
    ratio = checks["kind"].isin(RATIO_CHECKS)
    share = percent(checks["share"]).where(~ratio, signed_percent(checks["share"]))
    denominator = counts(checks["denominator"].round().astype("Int64"), checks["denominator_suppressed"])
    # A baseline mean or a population is not a count: show it as a number.
    denominator = denominator.where(~ratio, decimal(checks["denominator"]))
    frame = pd.DataFrame(
        {
            "check": checks["label"].astype("string").array,
            "basis": checks["basis"].astype("string").fillna("–").array,
            "spells": counts(checks["numerator"], checks["numerator_suppressed"]).array,
            "of": denominator.array,
            "share": share.array,
            "status": checks["status"].astype("string").fillna(Status.NOT_ASSESSABLE).array,
            "thresholds": checks["thresholds"].astype("string").fillna("–").array,
            "note": checks["note"].astype("string").fillna("").array,
        }
    )
    if with_provider:
        names = names or {}
        codes = checks["provider_code"].tolist()
        named = [say("shared.provider_with_code", name=names.get(code, code), code=code) for code in codes]
        frame.insert(0, "provider", named)
    classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
    classes["spells"] = "count"
    classes["of"] = pd.Series(["number" if r else "count" for r in ratio], index=frame.index)
    classes["share"] = "number"
    classes["status"] = status_classes(frame["status"]).to_numpy()
    headings = {
        "provider": "checks_table.provider",
        "check": "checks_table.check",
        "basis": "checks_table.basis",
        "spells": "checks_table.spells",
        "of": "checks_table.of",
        "share": "checks_table.share",
        "status": "checks_table.status",
        "thresholds": "checks_table.thresholds",
        "note": "checks_table.note",
    }
    printed = {column: (headings[column], say(headings[column])) for column in frame.columns}
    frame, classes = headed(frame, classes, printed)
    hidden = any_suppressed(checks["numerator_suppressed"], checks["denominator_suppressed"])
    return table(frame, classes=classes, footnote=footnote if hidden else None)


def since_last_quarter(changes: pd.DataFrame, counted: pd.Series, quarter: str, previous: str) -> Fragment:
    """Return one provider's changes since ``previous``: counted RFDs and its changes in words, then a table.

    ``changes`` are the provider's rows of :func:`~rfd_lib.metrics.changes.status_changes`;
    ``counted`` its row of :func:`~rfd_lib.metrics.changes.counted_changes` (published counts).
    """
    sentences = paragraphs(
        [
            say(
                "provider_page.since_last_quarter.counted",
                previous=one_count(counted["previous_counted"], counted["previous_counted_suppressed"]),
                previous_quarter=previous,
                counted=one_count(counted["counted"], counted["counted_suppressed"]),
                quarter=quarter,
            ),
            say(
                "provider_page.since_last_quarter.statuses",
                previous_quarter=previous,
                changes=changes_in_words(changes).iat[0] if len(changes) else say("changes.none"),
            ),
        ]
    )
    ratio = changes["kind"].isin(RATIO_CHECKS)
    shares = {
        column: percent(changes[column]).where(~ratio, signed_percent(changes[column]))
        for column in ("previous_share", "share")
    }
    frame = pd.DataFrame(
        {
            "check": changes["label"].astype("string").array,
            "previous_share": shares["previous_share"].array,
            "previous_status": changes["previous_status"].array,
            "share": shares["share"].array,
            "status": changes["status"].array,
            "change": changes["change"].array,
        }
    )
    classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
    classes[["previous_share", "share"]] = "number"
    for column in ("previous_status", "status"):
        classes[column] = status_classes(frame[column]).to_numpy()
        frame[column] = frame[column].replace(Status.NOT_ASSESSABLE, Status.NOT_ASSESSABLE.badge)
    keys = {
        "check": ("provider_page.since_last_quarter.check", None),
        "previous_share": ("provider_page.since_last_quarter.previous_share", previous),
        "previous_status": ("provider_page.since_last_quarter.previous_status", previous),
        "share": ("provider_page.since_last_quarter.share", quarter),
        "status": ("provider_page.since_last_quarter.status", quarter),
        "change": ("provider_page.since_last_quarter.change", None),
    }
    headings = {column: (key, say(key, quarter=of) if of else say(key)) for column, (key, of) in keys.items()}
    frame, classes = headed(frame, classes, headings)
    note = say("provider_page.since_last_quarter.note")
    return Fragment(sentences + table(frame, classes=classes, footnote=note))


def _listed(codes: list[str], limit: int = 10) -> str:
    """Return the first ``limit`` codes, each cut to fit a line, and how many more there are."""
    shown = ", ".join(data_text(code) for code in codes[:limit])
    return shown if len(codes) <= limit else f"{shown} and {len(codes) - limit:,} more"


def funnel_labels(run: AuditRun) -> dict[str, str]:
    """Return the funnel plot's period, rate unit and x axis: rates a year, per the rates' population."""
    return {
        "period_label": say("shared.rate_period", quarter=run.audit.quarter),
        "rate_unit": say("shared.rate_unit", per=run.rate_per()),
        "population_label": run.population_axis(),
    }


def funnel_missing_reason(audit: AuditMetrics) -> str:
    """Return why the audit has no funnel plot (runs saved before the reason was kept had no population)."""
    return audit.funnel_missing or say("audit.notes.no_population_funnel")
