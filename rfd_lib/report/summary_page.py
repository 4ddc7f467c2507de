"""The content of the summary report notebook: one short call per section, every provider compared.

:class:`SummaryPage` compares every provider in the quarter audited (one provider's report is
:class:`~rfd_lib.report.pages.ProviderPage`). Each method returns a
:class:`~rfd_lib.charts.house_style.Chart` or a :class:`~rfd_lib.report.tables.Fragment` that a notebook
cell shows as it is, so the notebook holds narrative and calls, no logic. Every sentence, label
and column heading is a template in ``params/wording.yaml`` (:func:`rfd_lib.wording.say`); the
tables are built with column ids and headed from it at the end. Every chart and table with a
suppressed count carries the run's disclosure footnote.
"""

from __future__ import annotations

import pandas as pd

from rfd_lib.charts.funnel import funnel_chart
from rfd_lib.charts.house_style import Chart
from rfd_lib.charts.spc import spc_chart
from rfd_lib.metrics.spc import TooFewValues
from rfd_lib.metrics.status import Status
from rfd_lib.report.analyst import AnalystTools
from rfd_lib.report.pages import ProviderPage, funnel_labels, funnel_missing_reason
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
    status_classes,
    table,
)
from rfd_lib.wording import say

# Making Data Count's variation icons (rfd_lib.metrics.spc's variation_icon) → their words.
TREND_WORDS = {
    "common_cause": "summary_page.league_table.trend_value.common_cause",
    "improvement_high": "summary_page.league_table.trend_value.improvement_high",
    "improvement_low": "summary_page.league_table.trend_value.improvement_low",
    "concern_high": "summary_page.league_table.trend_value.concern_high",
    "concern_low": "summary_page.league_table.trend_value.concern_low",
    "neither_high": "summary_page.league_table.trend_value.neither_high",
    "neither_low": "summary_page.league_table.trend_value.neither_low",
}


class SummaryPage(AnalystTools):
    """The summary report's sections: every provider in the run's quarter (and :class:`AnalystTools`)."""

    def __init__(self, run: AuditRun) -> None:
        self.run, self.audit = run, run.audit
        self.footnote = self.audit.policy.footnote
        self._open_for_analysis()

    def headline(self) -> Fragment:
        """Return the headline boxes: providers, counted RFDs, providers outside the funnel, red checks."""
        latest = self.audit.volumes[self.audit.volumes["quarter"] == self.audit.quarter]
        outside = len(self.audit.funnel.outside) if self.audit.funnel is not None else 0
        checks = self.audit.checks[self.audit.checks["quarter"] == self.audit.quarter]
        reds = checks.loc[checks["status"].eq(Status.RED), "provider_code"].nunique()
        # A sum of published counts: unknown (not 0) when every one is suppressed.
        total = one_count(latest["counted"].sum(min_count=1), latest["counted_suppressed"].all())
        return headline(
            [
                (str(len(self.audit.providers)), say("summary_page.headline.providers")),
                (total, say("summary_page.headline.counted", quarter=self.audit.quarter)),
                (str(outside), say("summary_page.headline.outside")),
                (str(reds), say("summary_page.headline.red")),
            ]
        )

    def funnel_chart(self) -> Chart | Fragment:
        """Return the funnel plot of every provider's rate in the quarter (a note if there is none)."""
        if self.audit.funnel is None:
            return paragraphs([funnel_missing_reason(self.audit)], "note")
        return funnel_chart(self.audit.funnel, **funnel_labels(self.run))

    def league_table(self) -> Fragment:
        """Return one row per provider: counted RFDs, rate with its interval, funnel, trend, statuses."""
        quarter = self.audit.quarter
        volumes = self.audit.volumes[self.audit.volumes["quarter"] == quarter].set_index("provider_code")
        rates = self.audit.rates[self.audit.rates["quarter"] == quarter].set_index("provider_code")
        checks = self.audit.checks[self.audit.checks["quarter"] == quarter]
        # Every provider and both colours, even in a quarter with no red (or no amber) anywhere.
        tally = (
            checks.groupby("provider_code")["status"]
            .value_counts()
            .unstack(fill_value=0)
            .reindex(index=self.audit.providers, columns=[Status.RED, Status.AMBER], fill_value=0)
        )
        codes = pd.Index(self.audit.providers, name="provider_code")
        trend = self.audit.spc.set_index("provider_code").loc[codes, "variation_icon"]
        position = {code: ProviderPage(self.run, code).funnel_position() for code in codes}
        no_chart = say("summary_page.league_table.no_trend_chart")
        frame = pd.DataFrame(
            {
                "provider": [self._named(code) for code in codes],
                "counted": counts(
                    volumes.loc[codes, "counted"], volumes.loc[codes, "counted_suppressed"]
                ).array,
                "last_quarters": counts(
                    volumes.loc[codes, "counted_4q"], volumes.loc[codes].get("counted_4q_suppressed")
                ).array,
                "rate": decimal(rates.loc[codes, "rate"]).array,
                "interval": _interval(rates.loc[codes]).array,
                "funnel": [position[code] for code in codes],
                "trend": [_trend_words(icon, no_chart) for icon in trend],
                "red": tally[Status.RED].astype(str).to_numpy(),
                "amber": tally[Status.AMBER].astype(str).to_numpy(),
            }
        )
        classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
        classes[["counted", "last_quarters"]] = "count"
        classes[["rate", "interval", "red", "amber"]] = "number"
        headings = {
            "provider": "summary_page.league_table.provider",
            "counted": "summary_page.league_table.counted",
            "last_quarters": "summary_page.league_table.last_quarters",
            "rate": "summary_page.league_table.rate",
            "interval": "summary_page.league_table.interval",
            "funnel": "summary_page.league_table.funnel",
            "trend": "summary_page.league_table.trend",
            "red": "summary_page.league_table.red",
            "amber": "summary_page.league_table.amber",
        }
        # The rolling window is a parameter: its heading says how many quarters it adds up.
        values = {
            "last_quarters": {"quarters": self.audit.expectations.rolling_quarters},
            "rate": {"per": self.run.rate_per()},
        }
        frame, classes = headed(
            frame,
            classes,
            {column: (key, say(key, **values.get(column, {}))) for column, key in headings.items()},
        )
        note = say("summary_page.league_table.rate_note", per=self.run.rate_per(), quarter=quarter)
        if any_suppressed(volumes["counted_suppressed"]):
            note = f"{self.footnote} {note}"
        return table(frame, classes=classes, footnote=note)

    def check_matrix(self) -> Fragment:
        """Return every provider's status on every check this quarter, one row each, with a key."""
        checks = self.audit.checks[self.audit.checks["quarter"] == self.audit.quarter]
        order = list(dict.fromkeys(checks["check"]))
        key = {
            check: say("summary_page.check_matrix.check", number=n) for n, check in enumerate(order, start=1)
        }
        wide = checks.pivot(index="provider_code", columns="check", values="status").reindex(
            index=self.audit.providers, columns=order
        )
        wide = wide.fillna(Status.NOT_ASSESSABLE).astype("string")
        # Columns by id (the provider, then each check's name), headed at the end.
        frame = pd.DataFrame({"provider": [self._named(code) for code in wide.index]})
        classes = pd.DataFrame({"provider": [""] * len(frame)})
        for check in order:
            na = Status.NOT_ASSESSABLE
            frame[check] = wide[check].replace(na, na.badge).to_numpy()
            classes[check] = status_classes(wide[check]).to_numpy()
        headings = {
            "provider": ("summary_page.check_matrix.provider", say("summary_page.check_matrix.provider"))
        }
        headings |= {check: ("summary_page.check_matrix.check", key[check]) for check in order}
        frame, classes = headed(frame, classes, headings)
        return table(frame, classes=classes, footnote=say("summary_page.check_matrix.note"))

    def check_key(self) -> Fragment:
        """Return the check matrix's key: each check's column (C1 …), label, basis and thresholds."""
        checks = self.audit.checks[self.audit.checks["quarter"] == self.audit.quarter]
        order = list(dict.fromkeys(checks["check"]))
        key = {
            check: say("summary_page.check_matrix.check", number=n) for n, check in enumerate(order, start=1)
        }
        rows = checks.drop_duplicates("check").set_index("check").loc[order]
        frame = pd.DataFrame(
            {
                "column": [key[check] for check in order],
                "check": rows["label"].astype("string").array,
                "basis": rows["basis"].astype("string").fillna("–").array,
                "thresholds": rows["thresholds"].astype("string").fillna("–").array,
            }
        )
        headings = {
            "column": "summary_page.check_matrix.key_check",
            "check": "summary_page.check_matrix.key_label",
            "basis": "checks_table.basis",
            "thresholds": "checks_table.thresholds",
        }
        classes = pd.DataFrame("", index=frame.index, columns=frame.columns)
        frame, classes = headed(frame, classes, {c: (k, say(k)) for c, k in headings.items()})
        return table(frame, classes=classes)

    def definition_table(self) -> Fragment:
        """Return, per provider, the quarter's RFD-coded spells, those outside each restriction, and counted.

        Context, never red, amber or green: each spell not counted is under the first restriction
        it does not meet (the waterfall, as published); each provider's report lists the codes
        behind each step.
        """
        steps = self.audit.waterfall[self.audit.waterfall["quarter"] == self.audit.quarter]
        order = steps.drop_duplicates("step").sort_values("step")
        text = counts(steps["spells"], steps["spells_suppressed"])
        wide = (
            steps.assign(text=text.to_numpy())
            .pivot(index="provider_code", columns="step", values="text")
            .reindex(index=self.audit.providers, columns=order["step"])
            .fillna("–")
        )
        last = int(order["step"].max())
        frame = pd.DataFrame({"provider": [self._named(code) for code in wide.index]})
        headings = {
            "provider": ("definition.summary.provider", say("definition.summary.provider")),
        }
        for step, label in zip(order["step"], order["label"], strict=True):
            column = f"step_{step}"
            frame[column] = wide[step].to_numpy()
            if step == 0:
                headings[column] = ("definition.summary.coded", say("definition.summary.coded"))
            elif step == last:
                headings[column] = ("definition.summary.counted", say("definition.summary.counted"))
            else:
                # A restriction's own label (params/expectations.yaml), as the waterfall names it.
                headings[column] = (f"restrictions.{label}", str(label))
        classes = pd.DataFrame("count", index=frame.index, columns=frame.columns)
        classes["provider"] = ""
        frame, classes = headed(frame, classes, headings)
        note = say("definition.summary.note")
        if any_suppressed(steps["spells_suppressed"]):
            note = f"{self.footnote} {note}"
        return table(frame, classes=classes, footnote=note)

    def trend_chart(self) -> Chart | Fragment:
        """Return the XmR chart of all providers' counted RFDs per quarter: true totals, rounded once."""
        hidden = self.audit.volumes["counted_suppressed"]
        try:
            result = self.audit.trend_xmr()
        except TooFewValues:
            return paragraphs([say("summary_page.trend_chart.too_few")], "note")
        chart = spc_chart(
            result,
            title=say("summary_page.trend_chart.title"),
            value_label=say("summary_page.trend_chart.value_label"),
        )
        if hidden.any():
            chart.caption += " " + say("summary_page.trend_chart.totals_note", footnote=self.footnote)
        return chart

    def notes(self) -> Fragment:
        """Return what a reader must know about the data and the disclosure control."""
        extra = [self.audit.policy.banner or "", self.footnote or ""]
        return paragraphs([*self.audit.notes, *extra], "note")

    def _named(self, code: str) -> str:
        """Return a provider as a table cell names it: its name and code."""
        return say("shared.provider_with_code", name=self.run.provider_name(code), code=code)


def _trend_words(icon: object, no_chart: str) -> str:
    """Return a provider's variation icon (:mod:`rfd_lib.metrics.spc`, e.g. ``neither_high``) in words."""
    return no_chart if pd.isna(icon) else say(TREND_WORDS[str(icon)])


def _interval(rates: pd.DataFrame) -> pd.Series:
    """Return each rate's interval as text (``6.1–9.0``), ``–`` where there is no rate."""
    text = decimal(rates["rate_lower"]) + "–" + decimal(rates["rate_upper"])
    return text.mask(rates["rate"].isna(), "–")
