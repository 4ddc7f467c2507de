"""XmR charts for every provider of a long table, one summary row each, for league tables.

:func:`xmr_by` charts each provider's series with :func:`rfd_lib.metrics.spc.xmr` (a period with
no row for a provider is a missing point) and returns one row per provider: the latest point,
mean, limits, count of special-cause points, icons and the summary in words. A provider with too
few values for limits gets a row that says so. :func:`summary_row` and :func:`summary_table`
build that table; :func:`rfd_lib.metrics.spc_disclosure.published_xmr_by` uses them for the
circulated charts, so both tables have the same columns.
"""

from __future__ import annotations

import pandas as pd

from rfd_lib.metrics.spc import TooFewValues, XmR, xmr
from rfd_lib.metrics.spc_words import period_unit


def xmr_by(
    table: pd.DataFrame,
    *,
    by: str = "provider_code",
    period: str = "quarter",
    value: str = "spells",
    **options,
) -> pd.DataFrame:
    """Return one row per ``by`` group (provider) summarising its XmR chart, for league tables.

    ``table`` is long: one row per provider and period. Periods are put in time order by sorting
    the labels (an ordered categorical keeps its own order); each provider is charted over every
    period of the table, so a period with no row for that provider is a missing point, not a zero.
    ``options`` go to :func:`xmr`. Columns: the ``by`` column, ``periods``, ``values`` (observed),
    ``latest_period``, ``latest_value``, ``mean``, ``mean_moving_range``, ``lower``, ``upper``,
    ``special_cause_points``, ``variation_icon``, ``assurance_icon``, ``note``, ``summary``.
    A provider with too few values for limits gets a row with no limits and says so in ``summary``.
    """
    missing = [column for column in (by, period, value) if column not in table.columns]
    if missing:
        raise ValueError(f"xmr_by: table has no column {', '.join(map(repr, missing))}")
    if table.duplicated([by, period]).any():
        raise ValueError(f"xmr_by: more than one row for a {by} and {period}: aggregate first")
    wide = table.pivot(index=period, columns=by, values=value).sort_index()
    unit = options.pop("unit", None) or period_unit(wide.index)
    rows = []
    for group, series in wide.items():
        row: dict[str, object] = {by: group, "periods": len(series), "values": int(series.notna().sum())}
        try:
            result = xmr(series, unit=unit, **options)
        except TooFewValues as error:
            rows.append({**row, "summary": f"No XmR chart: {error}."})
            continue
        rows.append({**row, **summary_row(result)})
    return summary_table(rows, by)


def summary_row(result: XmR) -> dict[str, object]:
    """Return the league-table columns of one chart (:func:`xmr_by`'s, from ``latest_period`` on)."""
    latest = result.latest
    return {
        "latest_period": latest["period"],
        "latest_value": latest["value"],
        "mean": result.mean,
        "mean_moving_range": result.mean_moving_range,
        "lower": result.lower,
        "upper": result.upper,
        "special_cause_points": int(result.points["special_cause"].sum()),
        "variation_icon": result.variation_icon,
        "assurance_icon": result.assurance_icon,
        "note": result.note,
        "summary": result.summary,
    }


def summary_table(rows: list[dict[str, object]], by: str) -> pd.DataFrame:
    """Return :func:`xmr_by`'s table from its rows (one per group, as :func:`summary_row` fills them)."""
    columns = [by, "periods", "values", "latest_period", "latest_value", "mean", "mean_moving_range", "lower"]
    columns += ["upper", "special_cause_points", "variation_icon", "assurance_icon", "note", "summary"]
    summary = pd.DataFrame(rows, columns=columns)
    summary["special_cause_points"] = summary["special_cause_points"].astype("Int64")
    for text in ("variation_icon", "assurance_icon", "note", "summary"):
        summary[text] = summary[text].astype("str")
    return summary
