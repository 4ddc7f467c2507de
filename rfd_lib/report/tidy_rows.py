"""Every table the circulated reports draw from, as tidy rows: the schema and one function per table.

Each ``*_rows`` function turns one published table of :class:`~rfd_lib.metrics.audit.AuditMetrics`
into rows of one schema, the figures exactly as the reports print them (suppressed and rounded the
same way; a share as a fraction, 0.25 for 25 %); :func:`rfd_lib.report.table_files.tidy_tables`
gathers them, names each provider and :func:`~rfd_lib.report.table_files.write_tables` writes them
as the run's table files.

The schema (:data:`COLUMNS`), one row per provider × quarter × measure × statistic:

=================  ================================================================================
column             what it holds
=================  ================================================================================
``provider_code``  the provider's code (blank for a figure over all providers)
``provider_name``  its name from the populations file (its code when it has none)
``quarter``        the financial quarter (``2026/27 Q2``), or the quarters a figure adds up
                   (``2025/26 Q3 to 2026/27 Q2``)
``measure``        what is counted: ``rfd_coded``, ``counted``, a restriction of the national
                   definition (``restriction: <criterion>``), a check (``prior_block``), an
                   interval band, ``rate``, ``funnel``, a chart
``statistic``      which figure of it: ``count``; a check's ``numerator``, ``denominator``,
                   ``unassessed``, ``without side`` (repeats judged without a side),
                   ``share``, ``status``, ``thresholds``, ``basis`` and ``note``; the
                   waterfall's ``first failure`` (spells whose first failed restriction it
                   is); the definition's ``codes`` (the codes behind a step, as text); a rate's
                   ``rate``, ``lower`` and ``upper``; a chart's ``value`` (a point), ``range_low`` and
                   ``range_high`` (a band drawn instead), ``mean``, ``lower``, ``upper`` …
``label``          the words the reports use for it
``value``          the figure; empty where it is suppressed or not applicable
``suppressed``     ``True`` where the report prints ``*``: a count of 1 to 7, or one hidden so
                   that another cannot be worked out (see :mod:`rfd_lib.metrics.disclosure`)
``unit``           ``spells`` (a count of spells), ``patients`` (of patients), ``share`` (of the
                   denominator), ``ratio - 1``, ``people``, ``spells per quarter``, the rate's
                   unit, ``status`` or ``text``
=================  ================================================================================

Rows of one table and provider and quarter keep the reports' order (the waterfall's steps in the
rule's order). Tables: ``volumes`` (RFD-coded and counted spells, and counted over the last quarters),
``waterfall``, ``definition`` (the quarter's codes behind each step of the waterfall, one text row
per step, as the provider's report lists them: in circulation only codes behind 8 or more spells,
by name, without counts; see :mod:`rfd_lib.metrics.definition`), ``checks`` (every quarter),
``intervals``, ``rates``, ``funnel`` and ``spc`` (the XmR charts as circulated, the all-provider
trend among them: its points are the true totals rounded once, or a range where a total is
withheld).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from rfd_lib.metrics.audit import AuditMetrics
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.definition import code_lists_text, restriction_measure
from rfd_lib.metrics.disclosure import Disclosure
from rfd_lib.metrics.funnel import FunnelResult, level_label
from rfd_lib.metrics.spc import TooFewValues, XmR
from rfd_lib.metrics.status import Status
from rfd_lib.report.saved_audit import RATE_PER
from rfd_lib.wording import say

COLUMNS = [
    "provider_code",
    "provider_name",
    "quarter",
    "measure",
    "statistic",
    "label",
    "value",
    "suppressed",
    "unit",
]
SPELLS = "spells"
PATIENTS = "patients"
_KEYS = ["provider_code", "quarter"]


def volumes_rows(volumes: pd.DataFrame, quarters: Sequence[str], rolling: int) -> pd.DataFrame:
    """Return RFD-coded and counted spells per provider and quarter, over the last quarters, and overall."""
    table = volumes.sort_values(_KEYS, kind="stable")
    parts = [
        _rows(table, "rfd_coded", "count", say("charts.volume.coded_legend"), SPELLS, "rfd_coded"),
        _rows(table, "counted", "count", say("charts.volume.counted_legend"), SPELLS, "counted"),
    ]
    if "counted_4q" in table.columns:
        # A sum of published quarters, suppressed when one of them is.
        position = table["quarter"].map({quarter: n for n, quarter in enumerate(quarters)})
        whole = position.ge(rolling - 1).to_numpy()
        first = position.map(lambda n: quarters[max(n - rolling + 1, 0)])
        window = table.assign(quarter=first + " to " + table["quarter"])[whole]
        if "counted_4q_suppressed" not in window.columns:
            window = window.assign(counted_4q_suppressed=False)
        label = say("summary_page.league_table.last_quarters", quarters=rolling)
        parts.append(_rows(window, "counted", "count", label, SPELLS, "counted_4q"))
    # No total over providers here: the summary's trend chart publishes it (spc_rows), as the true
    # total rounded once; a second, differently made total beside it would only invite differencing.
    return _concat(parts)


def waterfall_rows(waterfall: pd.DataFrame, restrictions: Sequence[str] = ()) -> pd.DataFrame:
    """Return the waterfall in its steps' order: RFD-coded, each restriction's first failures, counted.

    Each reason's ``measure`` names its restriction (``restriction: <criterion>``): the published
    waterfall's ``measure`` column, or else ``restrictions``, the rule's restriction names in the
    steps' order.
    """
    table = waterfall.sort_values([*_KEYS, "step"], kind="stable")
    last = int(table["step"].max())
    ends = table["step"].map({0: "rfd_coded", last: "counted"})
    if "measure" in table.columns:
        measure = ends.fillna(table["measure"])
    else:
        names = {n + 1: restriction_measure(name) for n, name in enumerate(restrictions)}
        measure = ends.fillna(table["step"].map(names))
    statistic = np.where(table["step"].between(1, last - 1), "first failure", "count")
    return _frame(
        table,
        measure=measure,
        statistic=statistic,
        label=table["label"],
        value=table["spells"],
        suppressed=table["spells_suppressed"],
        unit=SPELLS,
    )


def definition_rows(codes: pd.DataFrame, waterfall: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return the codes behind each waterfall step, one text row per provider and step, as reports say them.

    ``codes`` is :attr:`AuditMetrics.definition_codes` (already protected: in circulation, names of
    codes behind 8 or more spells only, no counts); ``waterfall`` gives each step's label.
    """
    text = code_lists_text(codes, policy)
    if text.empty:
        return _concat([])
    labels = waterfall.drop_duplicates("step").set_index("step")["label"]
    columns = {column: say("definition.column", column=column) for column in text["column"].unique()}
    label = text["step"].map(labels).astype("string") + " " + text["column"].map(columns)
    return _frame(
        text, measure=text["measure"], statistic="codes", label=label, value=text["codes"], unit="text"
    )


def checks_rows(checks: pd.DataFrame) -> pd.DataFrame:
    """Return each check's numerator, denominator, unassessed, share, status, thresholds, basis and note."""
    table = checks.reset_index(drop=True)
    kind = table["kind"].astype("string")
    ratio = kind.isin([k.value for k in CheckKind if k.is_ratio]).to_numpy()
    pathway = kind.isin([CheckKind.PRIOR_BLOCK.value, CheckKind.REPEAT.value]).to_numpy()
    baseline = kind.eq(CheckKind.CHANGE_FROM_BASELINE.value).to_numpy()
    patients = kind.isin([k.value for k in CheckKind if k.counts_patients]).to_numpy()
    repeat = kind.eq(CheckKind.REPEAT.value).to_numpy()
    count_unit = np.where(patients, PATIENTS, SPELLS)
    denominator_unit = np.where(ratio, np.where(baseline, "spells per quarter", "people"), count_unit)
    status = table["status"].astype("string").fillna(Status.NOT_ASSESSABLE)
    common = dict(measure=table["check"], label=table["label"])
    parts = [
        _frame(
            table,
            statistic="numerator",
            value=table["numerator"],
            suppressed=table["numerator_suppressed"],
            unit=count_unit,
            **common,
        ),
        _frame(
            table,
            statistic="denominator",
            value=table["denominator"],
            suppressed=table["denominator_suppressed"],
            unit=denominator_unit,
            **common,
        ),
        _frame(
            table,
            statistic="unassessed",
            value=table["unassessed"],
            suppressed=table["unassessed_suppressed"],
            unit=SPELLS,
            **common,
        )[pathway],
        _frame(
            table,
            statistic="without side",
            value=table["without_side"],
            suppressed=table["without_side_suppressed"],
            unit=SPELLS,
            **common,
        )[repeat],
        _frame(
            table,
            statistic="share",
            value=table["share"],
            suppressed=False,
            unit=np.where(ratio, "ratio - 1", "share"),
            **common,
        ),
        _frame(table, statistic="status", value=status, suppressed=False, unit="status", **common),
        _frame(table, statistic="thresholds", value=table["thresholds"], unit="text", **common),
        _frame(table, statistic="basis", value=table["basis"], unit="text", **common),
        _frame(table, statistic="note", value=table["note"], suppressed=False, unit="text", **common),
    ]
    # Check by check, each one's figures in the order above (a report's table row, left to right).
    rows = pd.concat(parts, keys=range(len(parts)), names=["_figure", "_row"]).reset_index()
    rows = rows.sort_values(["_row", "_figure"], kind="stable")
    return rows.drop(columns=["_figure", "_row"]).reset_index(drop=True)


def intervals_rows(intervals: pd.DataFrame, quarters: Sequence[str]) -> pd.DataFrame:
    """Return each provider's counted RFDs in ``quarters`` by months since the patient's previous RFD."""
    window = f"{quarters[0]} to {quarters[-1]}" if len(quarters) > 1 else quarters[0]
    table = intervals.assign(quarter=window)
    return _frame(
        table,
        measure=table["band"],
        statistic="count",
        label=table["band"],
        value=table["spells"],
        suppressed=table["spells_suppressed"],
        unit=SPELLS,
    )


def rates_rows(rates: pd.DataFrame, per: str) -> pd.DataFrame:
    """Return each provider's rate per quarter, its interval, population and which population.

    ``per`` says what the rates are per (the wording file's ``shared.rate_per``).
    """
    table = rates.sort_values(_KEYS, kind="stable").reset_index(drop=True)
    unit = say("shared.rate_unit", per=per)
    label = say("summary_page.league_table.rate", per=per)
    parts = [
        _frame(table, measure="rate", statistic="rate", label=label, value=table["rate"], unit=unit),
        _frame(table, measure="rate", statistic="lower", label=label, value=table["rate_lower"], unit=unit),
        _frame(table, measure="rate", statistic="upper", label=label, value=table["rate_upper"], unit=unit),
        _frame(
            table,
            measure="rate",
            statistic="population",
            label=label,
            value=table["population"],
            unit="people",
        ),
        _frame(
            table,
            measure="rate",
            statistic="denominator",
            label=label,
            value=table["denominator"].map({code: say(key) for code, key in RATE_PER.items()}),
            unit="text",
        ),
        _frame(table, measure="rate", statistic="note", label=label, value=table["rate_note"], unit="text"),
    ]
    return _interleave(parts, len(table))


def funnel_rows(
    funnel: FunnelResult | None, quarter: str, providers: Sequence[str], unit: str
) -> pd.DataFrame:
    """Return the funnel plot of ``quarter``: each provider's rate, limits and position, and the peer rate.

    Rates are in ``unit``.
    """
    if funnel is None:
        return _concat([])
    label = say("summary_page.league_table.funnel")
    compared = funnel.providers.set_index("provider_code")
    rows: list[dict] = [_row("", quarter, "funnel", "peer rate", label, funnel.target, unit)]
    for code in providers:
        figures: list[tuple[str, object, str]] = []
        if code in compared.index:
            row = compared.loc[code]
            figures += [("count", row["count"], SPELLS), ("population", row["population"], "people")]
            figures += [("rate", row["rate"], unit)]
            for level in funnel.levels:
                suffix = level_label(level)
                figures += [(f"lower_{suffix}", row[f"lower_{suffix}"], unit)]
                figures += [(f"upper_{suffix}", row[f"upper_{suffix}"], unit)]
        figures.append(("position", funnel.position(code), "text"))
        rows += [_row(code, quarter, "funnel", stat, label, value, unit_) for stat, value, unit_ in figures]
    return _concat([pd.DataFrame(rows)])


def spc_rows(audit: AuditMetrics) -> pd.DataFrame:
    """Return the XmR charts the reports draw, as circulated.

    The charts: each provider's counted RFDs and facet joint injections, and all providers'
    counted RFDs (blank provider code).

    Every figure is the chart's published view (:mod:`rfd_lib.metrics.spc_disclosure`), never a
    true count. Per chart: its points per quarter (``value``: the published count, or blank and
    ``suppressed`` where the chart draws a band, with the band's ``range_low`` and ``range_high``;
    ``variation``: the point's signal), then over the whole span its ``mean`` and process limits
    (``lower``, ``upper``; blank where a chart does not publish them), ``summary_rounding`` (the
    mean and limits are rounded to the nearest this), variation icon and summary.
    """
    counted = say("provider_page.counted_chart.value_label")
    facet = say("provider_page.facet_injection_chart.value_label")
    charts: list[tuple[str, str, str, Callable[[], XmR]]] = []
    for code in audit.providers:
        charts.append((code, "counted", counted, lambda code=code: audit.counted_xmr(code)))
        charts.append(
            (code, "facet_joint_injections", facet, lambda code=code: audit.facet_injection_xmr(code))
        )
    charts.append(("", "counted", say("summary_page.trend_chart.value_label"), audit.trend_xmr))
    span = f"{audit.quarters[0]} to {audit.quarters[-1]}"
    rows: list[dict] = []
    for code, measure, label, chart in charts:
        try:
            result = chart()
        except TooFewValues as error:
            rows.append(_row(code, span, measure, "summary", label, f"No XmR chart: {error}.", "text"))
            continue
        points = result.points
        for point in points.itertuples():
            hidden = bool(getattr(point, "suppressed", False)) or pd.isna(point.value)
            value = None if hidden else point.value
            rows.append(
                _row(code, point.period, measure, "value", label, value, SPELLS) | {"suppressed": hidden}
            )
            if hidden and "range_low" in points.columns and pd.notna(point.range_low):
                for bound in ("range_low", "range_high"):
                    value = getattr(point, bound)
                    rows.append(_row(code, point.period, measure, bound, label, value, "text"))
            rows.append(_row(code, point.period, measure, "variation", label, point.variation, "text"))
        for figure in ("mean", "lower", "upper"):
            value = getattr(result, figure)
            value = None if pd.isna(value) else value
            rows.append(_row(code, span, measure, figure, label, value, "spells per quarter"))
        publication = result.publication
        if publication is not None and publication.summary_rounding is not None:
            rows.append(
                _row(code, span, measure, "summary_rounding", label, publication.summary_rounding, "text")
            )
        rows.append(_row(code, span, measure, "variation_icon", label, result.variation_icon, "text"))
        rows.append(_row(code, span, measure, "summary", label, result.summary, "text"))
    return _concat([pd.DataFrame(rows)])


# --- helpers ---------------------------------------------------------------------------------


def _row(code: str, quarter: str, measure: str, statistic: str, label: str, value: object, unit: str) -> dict:
    return {
        "provider_code": code,
        "quarter": quarter,
        "measure": measure,
        "statistic": statistic,
        "label": label,
        "value": value,
        "suppressed": False,
        "unit": unit,
    }


def _rows(
    table: pd.DataFrame, measure: str, statistic: str, label: str, unit: str, column: str
) -> pd.DataFrame:
    return _frame(
        table,
        measure=measure,
        statistic=statistic,
        label=label,
        value=table[column],
        suppressed=table[f"{column}_suppressed"],
        unit=unit,
    )


def _frame(table: pd.DataFrame, *, measure, statistic, label, value, unit, suppressed=False) -> pd.DataFrame:
    """Return tidy rows, one per row of ``table`` (its provider and quarter), the value as published."""
    n = len(table)
    flags = np.broadcast_to(np.asarray(suppressed, dtype=object), (n,)).astype(bool)
    values = (
        pd.Series(value, index=table.index) if np.ndim(value) else pd.Series([value] * n, index=table.index)
    )
    values = values.astype(object).where(values.notna().to_numpy() & ~flags, None)
    return pd.DataFrame(
        {
            "provider_code": table["provider_code"].astype(str).to_numpy(),
            "quarter": table["quarter"].astype(str).to_numpy(),
            "measure": np.broadcast_to(np.asarray(measure, dtype=object), (n,)),
            "statistic": np.broadcast_to(np.asarray(statistic, dtype=object), (n,)),
            "label": np.broadcast_to(np.asarray(label, dtype=object), (n,)),
            "value": values.to_numpy(dtype=object),
            "suppressed": flags,
            "unit": np.broadcast_to(np.asarray(unit, dtype=object), (n,)),
        }
    )


def _concat(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    frames = [part for part in parts if len(part)]
    if not frames:
        return pd.DataFrame(
            {column: pd.Series(dtype=object) for column in COLUMNS if column != "provider_name"}
        )
    return pd.concat(frames, ignore_index=True)


def _interleave(parts: Sequence[pd.DataFrame], rows: int) -> pd.DataFrame:
    """Return ``parts`` (each one row per input row) row by row: all of a row's figures together."""
    combined = pd.concat(parts, ignore_index=True)
    order = np.arange(len(combined)).reshape(len(parts), rows).T.ravel()
    return combined.iloc[order].reset_index(drop=True)
