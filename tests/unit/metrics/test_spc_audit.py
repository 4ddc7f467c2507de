"""The audit's SPC charts: worked out from the true counts, shown as published (issue 12, item 2).

Most tests cut two providers (ZA1, ZB2) from the built-in synthetic set and keep, in each
quarter, as many of a provider's counted RFDs as the test's series says, so the audit's true
counts are known; the audit then runs as a notebook runs it, in circulation mode.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rfd_lib.config import EXPECTATIONS
from rfd_lib.engine.rule import load_rule
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.disclosure import INTERNAL
from rfd_lib.metrics.expectations import ExpectationsError, load_expectations
from rfd_lib.metrics.periods import financial_quarter
from rfd_lib.metrics.volumes import audit_quarters
from rfd_lib.report.pages import ProviderPage
from rfd_lib.report.saved_audit import AuditRun, provider_names
from rfd_lib.report.summary_page import SummaryPage

PROVIDERS = ("ZA1", "ZB2")


@pytest.fixture(scope="module")
def shaped(synthetic_set):
    """Return a function: {provider: counted RFDs per quarter} → (classified spells, populations)."""
    classified = synthetic_set.classified[synthetic_set.classified["provider_code"].isin(PROVIDERS)]
    populations = synthetic_set.populations[synthetic_set.populations["provider_code"].isin(PROVIDERS)]
    # The spells the audit counts (as rfd_lib.metrics.activity labels them): RFD-coded (in the rule's
    # scope) and counted (given a category), in the quarter of their discharge.
    scope = [criterion.name for criterion in load_rule().scope]
    spells = pd.DataFrame(
        {
            "provider_code": classified["provider_code"],
            "quarter": financial_quarter(classified["discharge_date"]),
            "counted": classified["ebi_category"].notna(),
        }
    )
    rfd = spells[classified[scope].fillna(False).all(axis=1)]
    quarters = audit_quarters(classified)

    def make(counts: dict[str, list[int]]) -> tuple[pd.DataFrame, pd.DataFrame]:
        drop = []
        for code, series in counts.items():
            mine = rfd[rfd["provider_code"] == code]
            drop += mine.index[~mine["counted"].to_numpy(dtype=bool)].tolist()  # coded but not counted
            for quarter, keep in zip(quarters, series, strict=True):
                counted = mine[(mine["quarter"] == quarter) & mine["counted"]]
                assert len(counted) >= keep, "the synthetic set has too few counted RFDs for this series"
                drop += counted.index[keep:].tolist()
        return classified.drop(index=drop), populations.reset_index(drop=True)

    return make


def audit_of(shaped, counts, **options):
    classified, populations = shaped(counts)
    return audit_metrics(classified, populations=populations, **options)


def run_of(audit, populations) -> AuditRun:
    return AuditRun(audit, "spc", provider_names(populations), (), "1 April 2027")


def counted(audit, code: str, column: str = "counted") -> list[object]:
    rows = audit.volumes[audit.volumes["provider_code"] == code].sort_values("quarter")
    return rows[column].tolist()


def test_a_trend_that_rounding_flattens_is_signalled_in_the_circulated_audit(shaped):
    audit = audit_of(shaped, {"ZA1": [11, 12, 13, 14, 16, 17, 18, 19]})
    assert counted(audit, "ZA1") == [10, 10, 15, 15, 15, 15, 20, 20]  # as the tables publish them
    result = audit.counted_xmr("ZA1")
    assert result.points["trend"].all()
    assert result.points["value"].tolist() == [10, 10, 15, 15, 15, 15, 20, 20]  # drawn as published
    row = audit.spc.set_index("provider_code").loc["ZA1"]
    assert row["special_cause_points"] == 8 and row["variation_icon"] == "neither_high"


def test_a_fall_into_suppressed_quarters_is_flagged_and_each_hidden_quarter_drawn_as_1_to_7(shaped):
    classified, populations = shaped({"ZA1": [15, 16, 14, 15, 6, 5, 7, 4]})
    audit = audit_metrics(classified, populations=populations)
    assert counted(audit, "ZA1", "counted_suppressed") == [False] * 4 + [True] * 4
    result = audit.counted_xmr("ZA1")
    assert result.points["signal"].iloc[-1] == "below lower limit"
    assert result.points["suppressed"].tolist() == [False] * 4 + [True] * 4
    assert result.points[["range_low", "range_high"]].iloc[4:].to_numpy().tolist() == [[1, 7]] * 4
    summary = audit.spc.set_index("provider_code").loc["ZA1", "summary"]
    assert summary == (
        "Special cause variation (neither improvement nor concern): "
        "2026/27 Q2 (1–7) is below the lower limit (6). Special cause variation in 7 of 8 quarters: "
        "2024/25 Q3 (about 15) above the upper limit (15), 2024/25 Q4 (about 15) above the upper limit "
        "(15) and 2025/26 Q2 (about 15) above the upper limit (15); 2025/26 Q3 (1–7), 2025/26 Q4 (1–7), "
        "2026/27 Q1 (1–7) and 2026/27 Q2 (1–7), shown as bands in their signals' colours."
    )
    page = ProviderPage(run_of(audit, populations), "ZA1")
    assert "missing" not in str(page.summary()) and "(1–7) is below the lower limit (6)" in str(
        page.summary()
    )
    chart = page.spc_chart()
    axes = chart.figure.axes[0]
    assert len([patch for patch in axes.patches if patch.get_gid() == "suppressed"]) == 4
    assert [t.get_text() for t in axes.texts if t.get_gid() == "suppressed_label"] == ["1–7"] * 4
    assert "as a band from 1 to 7 where a count is suppressed" in chart.caption


def test_what_a_circulated_spc_chart_carries_is_published_figures_only(shaped):
    audit = audit_of(shaped, {"ZA1": [15, 16, 14, 15, 6, 5, 7, 4], "ZB2": [40, 3, 33, 0, 12, 2, 9, 41]})
    for code in PROVIDERS:
        for result in (audit.counted_xmr(code), audit.facet_injection_xmr(code)):
            points = result.points
            assert points[["moving_range", "upper_2s", "lower_2s"]].isna().all().all()
            assert np.isnan(result.mean_moving_range)
            assert (
                ((points[["mean", "lower", "upper"]] % 1 == 0) | points[["mean", "lower", "upper"]].isna())
                .all()
                .all()
            )
            shown = points["value"].dropna()
            assert (shown % 5 == 0).all() and not shown.between(1, 7).any()
            assert points["value"].isna().eq(points["suppressed"]).all()
        xmr_points = audit.counted_xmr(code).points["value"]
        published = pd.Series(counted(audit, code), dtype="Float64")
        assert xmr_points.astype("Float64").equals(published)
    table = audit.spc.set_index("provider_code")
    assert table.loc["ZB2", "latest_value"] == 40  # published, not the true 41
    assert np.isnan(table["mean_moving_range"]).all()


def test_internal_mode_charts_the_true_counts(shaped):
    series = [15, 16, 14, 15, 6, 5, 7, 4]
    audit = audit_of(shaped, {"ZA1": series}, policy=INTERNAL)
    result = audit.counted_xmr("ZA1")
    assert result.publication is None and result.points["value"].tolist() == series
    assert result.mean == pytest.approx(10.25)


def test_the_all_provider_total_is_the_true_total_rounded_once(synthetic_set):
    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    internal = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations, policy=INTERNAL)
    run = run_of(audit, synthetic_set.populations)
    chart = SummaryPage(run).trend_chart()
    (dots,) = [c for c in chart.figure.axes[0].collections if c.get_gid() == "points"]
    drawn = dots.get_offsets()[:, 1]
    true = internal.volumes.groupby("quarter")["counted"].sum().sort_index().to_numpy()
    assert drawn.tolist() == ((2 * true + 5) // 10 * 5).tolist()  # rounded once, halves up
    sum_of_published = audit.volumes.groupby("quarter")["counted"].sum().sort_index().to_numpy()
    assert (drawn != sum_of_published).any()  # what the chart drew before
    assert (
        "Each point is the true total of all providers' counts, rounded once to the nearest 5"
        in chart.caption
    )
    # Issue 14: the caption named one special-cause point where the chart flagged two; every point
    # beyond a limit is named now, with the value drawn, and the count of coloured points is given.
    result = audit.trend_xmr()
    points = result.points
    beyond = points[points["beyond_limits"]]
    assert len(beyond) >= 2, "the synthetic set's total has two points beyond its limits"
    for period, value in zip(beyond["period"], beyond["value"], strict=True):
        assert f"{period} (about {int(value):,})" in chart.caption
    flagged = int(points["special_cause"].sum())
    assert f"Special cause variation in {flagged} of {len(points)} quarters" in chart.caption


def test_a_total_of_two_providers_never_gives_the_suppressed_one_away(shaped):
    # ZB2 is suppressed in four quarters; with ZA1's published count beside it a rounded total
    # would narrow it, so those totals are withheld, and drawn as the range the cells allow. With
    # two providers even a total of two rounded counts would narrow one of them (81 + 20 = 101
    # published as 100 says ZA1's 80 is not 82 when ZB2's 20 is 18 … 22), so every total is withheld.
    za1 = [81, 90, 73, 85, 104, 108, 118, 112]
    zb2 = [20, 3, 25, 6, 30, 2, 40, 7]
    classified, populations = shaped({"ZA1": za1, "ZB2": zb2})
    audit = audit_metrics(classified, populations=populations)
    result = audit.trend_xmr()
    points = result.points
    assert points["suppressed"].all()
    hidden = np.array([1 <= n <= 7 for n in zb2])
    # a withheld total is drawn as the range the published counts allow: ZA1's published count ± 2,
    # plus ZB2's ± 2, or 1 … 7 where it is suppressed
    za1_published = np.array(counted(audit, "ZA1"))
    zb2_published = np.array([0 if pd.isna(n) else n for n in counted(audit, "ZB2")])
    low = za1_published - 2 + np.where(hidden, 1, zb2_published - 2)
    high = za1_published + 2 + np.where(hidden, 7, zb2_published + 2)
    assert points["range_low"].tolist() == low.tolist()
    assert points["range_high"].tolist() == high.tolist()
    chart = SummaryPage(run_of(audit, populations)).trend_chart()
    quarters = ", ".join(points["period"])
    assert f"the total of {quarters}, drawn as the range those counts allow" in chart.caption
    assert "These totals include the suppressed counts" in chart.caption


def test_a_mean_that_would_pin_a_hidden_count_is_published_more_coarsely(shaped):
    # ZA1 counts no RFD for seven quarters and 3 in the last, which is suppressed. Its true mean,
    # 3 / 8 = 0.375, to a whole number is 0, which a mean of 4 / 8 = 0.5 would not be: the reader
    # would know the hidden count is 1 to 3. Published to the nearest 5, every count of 1 to 7
    # gives the same mean and limits.
    classified, populations = shaped({"ZA1": [0, 0, 0, 0, 0, 0, 0, 3]})
    audit = audit_metrics(classified, populations=populations)
    result = audit.counted_xmr("ZA1")
    assert result.publication.summary_rounding == 5
    assert (result.mean, result.lower, result.upper) == (0, 0, 0)
    last = audit.spc_true_counts.index[
        (audit.spc_true_counts["provider_code"] == "ZA1")
        & (audit.spc_true_counts["quarter"] == audit.quarter)
    ]
    for hidden in range(1, 8):
        counts = audit.spc_true_counts.copy()
        counts.loc[last, "counted"] = hidden
        other = dataclasses.replace(audit, spc_true_counts=counts).counted_xmr("ZA1")
        assert (other.mean, other.lower, other.upper) == (0, 0, 0)
    # to whole numbers the mean would be 0 for 1 to 3 and 1 for 4 to 7 (halves up)
    assert [int(np.floor(hidden / 8 + 0.5)) for hidden in range(1, 8)] == [0, 0, 0, 1, 1, 1, 1]
    caption = ProviderPage(run_of(audit, populations), "ZA1").spc_chart().caption
    assert (
        "rounded to the nearest 5, as whole numbers would narrow what a suppressed or rounded count could be"
        in caption
    )


def edited_expectations(tmp_path, old: str, new: str):
    text = EXPECTATIONS.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {EXPECTATIONS.name}"
    path = tmp_path / EXPECTATIONS.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_screening_moving_range_outliers_is_a_parameter(shaped, tmp_path):
    # A jump from about 20 to about 60: moving ranges 1, 1, 2, 38, 1, 1, 2, mean 46 / 7 = 6.57.
    # Screened (the default, as plotthedots), 38 ≥ 3.267 × 6.57 = 21.5 is left out: mR-bar 8 / 6;
    # the Excel tools keep it, and the limits are about five times as wide.
    series = [20, 21, 20, 22, 60, 61, 60, 62]
    classified, populations = shaped({"ZA1": series})
    default = audit_metrics(classified, populations=populations, policy=INTERNAL)
    assert default.expectations.trends.screen_moving_range_outliers is True
    path = edited_expectations(
        tmp_path, "screen_moving_range_outliers: true", "screen_moving_range_outliers: false"
    )
    excel = audit_metrics(
        classified, populations=populations, policy=INTERNAL, expectations=load_expectations(path)
    )
    screened, unscreened = default.counted_xmr("ZA1"), excel.counted_xmr("ZA1")
    assert screened.mean_moving_range == pytest.approx(8 / 6)
    assert unscreened.mean_moving_range == pytest.approx(46 / 7)
    assert unscreened.upper - unscreened.lower == pytest.approx(2 * 2.66 * 46 / 7)
    assert excel.spc.set_index("provider_code").loc["ZA1", "upper"] == pytest.approx(unscreened.upper)


def test_a_screening_setting_that_is_not_true_or_false_fails_to_load(tmp_path):
    path = edited_expectations(
        tmp_path, "screen_moving_range_outliers: true", "screen_moving_range_outliers: yes please"
    )
    with pytest.raises(ExpectationsError, match=r"trends.screen_moving_range_outliers"):
        load_expectations(path)
