"""XmR charts by Making Data Count's rules, as worked series with the arithmetic in the comments.

Most rule tests pin the limits with a 4-quarter baseline, so every later point is read against
the same numbers:

    BASELINE = 11, 9, 11, 9       mean 10, moving ranges 2, 2, 2 → mean moving range (mR-bar) 2
    process limits   10 ± 2.66 × 2         = 4.68 and 15.32
    2-sigma lines    10 ± (2/3) × 2.66 × 2 = 6.453 and 13.547

The baseline alternates sides of the mean, never rises or falls twice and stays inside the
2-sigma lines, so it raises no signal of its own; it ends below the mean (9).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from rfd_lib.charts.spc import spc_chart
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL, DisclosureError, protect
from rfd_lib.metrics.spc import Publication, XmR, xmr
from rfd_lib.metrics.spc_by_provider import xmr_by
from rfd_lib.metrics.spc_disclosure import SUMMARY_ROUNDINGS, cell_values, published_xmr, quarter_total

BASELINE = [11, 9, 11, 9]
RULES = ["beyond_limits", "run", "trend", "two_of_three"]


def quarter_labels(n: int, last: str = "2026/27 Q2") -> list[str]:
    """The ``n`` financial-year quarters ending ``last``, oldest first ("2025/26 Q4", "2026/27 Q1", ...)."""
    year, quarter = int(last[:4]), int(last[-1])
    count = year * 4 + quarter - 1 - np.arange(n)[::-1]
    return [f"{c // 4}/{(c // 4 + 1) % 100:02d} Q{c % 4 + 1}" for c in count]


def quarters(values, last: str = "2026/27 Q2", dtype: str = "float64") -> pd.Series:
    return pd.Series(values, index=quarter_labels(len(values), last), dtype=dtype)


def pinned(*later: float, **options) -> XmR:
    """The XmR of BASELINE followed by ``later``, limits from the baseline only."""
    return xmr(quarters([*BASELINE, *later]), baseline_points=len(BASELINE), **options)


def flagged(result: XmR, rule: str) -> list[int]:
    """Positions (0-based, baseline included) of the points the rule flags."""
    return np.flatnonzero(result.points[rule].to_numpy()).tolist()


def test_quarter_labels_helper():
    assert quarter_labels(3) == ["2025/26 Q4", "2026/27 Q1", "2026/27 Q2"]


# Mean, moving range and limits ----------------------------------------------------------------------


def test_limits_of_a_six_point_series():
    # values          4, 6, 5, 7, 6, 8           mean 36 / 6 = 6
    # moving ranges   -, 2, 1, 2, 1, 2           mR-bar 8 / 5 = 1.6 (none ≥ 3.267 × 1.6 = 5.23, none screened)
    # limits          6 ± 2.66 × 1.6 = 6 ± 4.256 → 1.744 and 10.256
    # 2-sigma lines   6 ± 1.7733 × 1.6 = 6 ± 2.8373 → 3.1627 and 8.8373
    result = xmr(quarters([4, 6, 5, 7, 6, 8]))
    assert result.mean == pytest.approx(6)
    assert result.mean_moving_range == pytest.approx(1.6)
    assert result.upper == pytest.approx(10.256)
    assert result.lower == pytest.approx(1.744)
    assert result.upper_2s == pytest.approx(8.837333)
    assert result.lower_2s == pytest.approx(3.162667)
    points = result.points
    assert points["period"].tolist() == quarter_labels(6)
    assert points["moving_range"].tolist()[1:] == [2, 1, 2, 1, 2]
    assert np.isnan(points["moving_range"].iloc[0])
    assert (points["mean"] == result.mean).all() and (points["upper"] == result.upper).all()
    assert not points["special_cause"].any()
    assert (points["variation"] == "common cause").all()
    assert result.variation_icon == "common_cause"
    assert result.summary == "Common cause variation: no signal of change over 6 quarters."
    assert result.note == "fewer than 12 points: limits are indicative"


def test_the_points_table_is_tidy():
    columns = ["period", "value", "suppressed", "range_low", "range_high", "mean", "moving_range", "upper"]
    columns += ["lower", "upper_2s", "lower_2s", *RULES, "special_cause", "variation", "signal"]
    assert pinned(12).points.columns.tolist() == columns


def test_twelve_points_need_no_note():
    assert xmr(quarters([11, 9] * 6)).note is None
    assert xmr(quarters([11, 9] * 5 + [11])).note == "fewer than 12 points: limits are indicative"


def test_lower_limit_is_clipped_at_zero_for_counts_unless_floor_is_none():
    # values 1, 5, 1, 5: mean 3, mR-bar 4, lower limit 3 - 10.64 = -7.64 → 0; 2-sigma line 3 - 7.09 → 0
    assert xmr(quarters([1, 5, 1, 5])).lower == 0
    assert xmr(quarters([1, 5, 1, 5])).lower_2s == 0
    assert xmr(quarters([1, 5, 1, 5]), floor=None).lower == pytest.approx(-7.64)
    assert xmr(quarters([1, 5, 1, 5])).upper == pytest.approx(13.64)


def test_baseline_limits_and_moving_range_screening():
    # 11, 9, 11, 9, 20, 20, 20, 20
    # baseline of 4: mean 10, mR-bar 2 → limits 4.68 and 15.32, and the four 20s are beyond them.
    # all 8:  mean 120 / 8 = 15; moving ranges 2, 2, 2, 11, 0, 0, 0 → mR-bar 17 / 7 = 2.43;
    #         11 ≥ 3.267 × 2.43 = 7.93 is screened out → mR-bar 6 / 6 = 1 → limits 15 ± 2.66.
    #         unscreened: 15 ± 2.66 × 17 / 7 = 15 ± 6.46, and the jump hides inside its own limits.
    values = quarters([11, 9, 11, 9, 20, 20, 20, 20])
    baseline = xmr(values, baseline_points=4)
    assert (baseline.mean, baseline.mean_moving_range) == (10, 2)
    assert (baseline.lower, baseline.upper) == pytest.approx((4.68, 15.32))
    assert flagged(baseline, "beyond_limits") == [4, 5, 6, 7]
    assert baseline.baseline_points == 4

    whole = xmr(values)
    assert whole.mean == 15
    assert whole.mean_moving_range == pytest.approx(1.0)
    assert (whole.lower, whole.upper) == pytest.approx((12.34, 17.66))
    assert flagged(whole, "beyond_limits") == [0, 1, 2, 3, 4, 5, 6, 7]  # two processes, neither inside

    unscreened = xmr(values, screen_outliers=False)
    assert unscreened.mean_moving_range == pytest.approx(17 / 7)
    assert unscreened.upper == pytest.approx(15 + 2.66 * 17 / 7)
    assert flagged(unscreened, "beyond_limits") == []


def test_a_constant_series_has_zero_width_limits_and_no_signal():
    result = xmr(quarters([5] * 8))
    assert (result.mean, result.mean_moving_range, result.upper, result.lower) == (5, 0, 5, 5)
    assert not result.points["special_cause"].any()


# Rule 1: a point beyond the process limits ----------------------------------------------------------


def test_a_point_exactly_on_a_limit_is_not_beyond_it():
    assert pinned(15.32).upper == 15.32  # the limit is this very float
    assert flagged(pinned(15.32), "beyond_limits") == []
    assert flagged(pinned(4.68), "beyond_limits") == []
    assert flagged(pinned(np.nextafter(15.32, np.inf)), "beyond_limits") == [4]
    assert flagged(pinned(np.nextafter(4.68, -np.inf)), "beyond_limits") == [4]


def test_a_point_beyond_each_limit():
    result = pinned(10, 16, 10, 4, 10)
    assert flagged(result, "beyond_limits") == [5, 7]
    assert result.points["signal"].iloc[[5, 7]].tolist() == ["above upper limit", "below lower limit"]
    assert flagged(result, "special_cause") == [5, 7]


# Rule 2: a run of 7 on one side of the mean ---------------------------------------------------------


def test_six_above_the_mean_is_not_a_run():
    # baseline ends 9 (below); then six points above 10, then one below
    result = pinned(12, 11, 12, 11, 12, 11, 8)
    assert flagged(result, "run") == []
    assert not result.points["special_cause"].any()


def test_seven_above_the_mean_is_a_run_and_every_point_of_it_is_flagged():
    result = pinned(12, 11, 12, 11, 12, 11, 12)
    assert flagged(result, "run") == [4, 5, 6, 7, 8, 9, 10]
    assert (result.points["signal"].iloc[4:] == "run above mean").all()
    assert (
        result.summary
        == "Special cause variation (neither improvement nor concern): a run of 7 quarters above the mean ending 2026/27 Q2."
    )


def test_a_run_of_seven_below_the_mean_includes_the_baseline_point_it_starts_from():
    # the baseline's last 9 is below the mean, so six more below make seven
    result = pinned(8, 9, 8, 9, 8, 9)
    assert flagged(result, "run") == [3, 4, 5, 6, 7, 8, 9]
    assert result.points["signal"].iloc[-1] == "run below mean"


def test_a_point_on_the_mean_breaks_a_run():
    # 3 above, one exactly on the mean (10), 3 above: no run of 7
    assert flagged(pinned(12, 11, 12, 10, 11, 12, 11), "run") == []
    # the same with 11 instead of 10: seven above
    assert flagged(pinned(12, 11, 12, 11, 11, 12, 11), "run") == [4, 5, 6, 7, 8, 9, 10]
    # a point on the mean is not in the run that follows it
    assert flagged(pinned(10, 12, 11, 12, 11, 12, 11, 12), "run") == [5, 6, 7, 8, 9, 10, 11]


# Rule 3: a trend of 7 rising or falling points -------------------------------------------------------


def test_six_rising_points_are_not_a_trend():
    # 9 (baseline), 9.5, 10.5, 11, 11.5, 12 rise; then 11 falls
    assert flagged(pinned(9.5, 10.5, 11, 11.5, 12, 11), "trend") == []


def test_seven_rising_points_are_a_trend():
    # 9 (baseline), 9.5, 10.5, 11, 11.5, 12, 12.5: seven points, each higher than the one before
    result = pinned(9.5, 10.5, 11, 11.5, 12, 12.5)
    assert flagged(result, "trend") == [3, 4, 5, 6, 7, 8, 9]
    assert flagged(result, "run") == []  # they cross the mean
    assert (result.points["signal"].iloc[3:] == "increasing trend").all()


def test_seven_falling_points_are_a_trend():
    # 11, 10.5, 10, 9.5, 9, 8.5, 8 after the baseline's 9: the 9 is not part of it (11 is higher)
    result = pinned(11, 10.5, 10, 9.5, 9, 8.5, 8)
    assert flagged(result, "trend") == [4, 5, 6, 7, 8, 9, 10]
    assert (result.points["signal"].iloc[4:] == "decreasing trend").all()


def test_two_equal_neighbours_break_a_trend():
    assert flagged(pinned(9.5, 10.5, 10.5, 11, 11.5, 12, 12.5), "trend") == []


def test_a_trend_is_coloured_by_its_direction_even_below_the_mean():
    # 5, 5.5, 6, 6.5, 7, 7.5, 8: a rising trend, all below the mean (a run of 8 with the baseline's
    # 9), the first three below the 2-sigma line 6.453. The trend comes first, so these seven points
    # are an increasing trend: improvement when higher is better. The baseline's 9 is in the run only.
    result = pinned(5, 5.5, 6, 6.5, 7, 7.5, 8, improvement="increase")
    assert flagged(result, "trend") == [4, 5, 6, 7, 8, 9, 10]
    assert flagged(result, "run") == [3, 4, 5, 6, 7, 8, 9, 10]
    assert flagged(result, "two_of_three") == [4, 5, 6]
    assert result.points["variation"].iloc[4:].tolist() == ["improvement"] * 7
    assert result.points["variation"].iloc[3] == "concern"
    assert result.variation_icon == "improvement_high"
    # The baseline's 9 is coloured too (concern, in the run only), so the words name it as well.
    assert result.summary == (
        "Special cause of improvement: a rising trend over 7 quarters ending 2026/27 Q2. "
        "Special cause variation in 8 of 11 quarters: a rising trend over 7 quarters, 2024/25 Q4 to "
        "2026/27 Q2; 2024/25 Q4, 2025/26 Q1 and 2025/26 Q2 near the lower limit (beyond 2 sigma); "
        "a run of 8 quarters below the mean, 2024/25 Q3 to 2026/27 Q2."
    )


# Rule 4: two of three points beyond the 2-sigma line, same side ---------------------------------------


def test_two_of_three_beyond_two_sigma_on_the_same_side():
    # 14, 12, 14: both 14s are above 13.547 (and below 15.32), the 12 is above the mean
    result = pinned(14, 12, 14)
    assert flagged(result, "two_of_three") == [4, 6]  # the close points, not the 12
    assert result.points["signal"].iloc[6] == "two of three near upper limit"
    assert result.summary == (
        "Special cause variation (neither improvement nor concern): "
        "2 of the last 3 quarters are near the upper limit (beyond 2 sigma), ending 2026/27 Q2."
    )


def test_two_of_three_below():
    assert flagged(pinned(6, 6, 9), "two_of_three") == [4, 5]


def test_two_beyond_two_sigma_on_opposite_sides_is_not_a_signal():
    # 14 above 13.547, 6 below 6.453
    assert flagged(pinned(14, 12, 6), "two_of_three") == []
    assert flagged(pinned(14, 6), "two_of_three") == []


def test_two_of_three_needs_the_third_point_on_the_same_side_of_the_mean():
    assert flagged(pinned(14, 8, 14), "two_of_three") == []


def test_one_of_three_beyond_two_sigma_is_not_a_signal():
    assert flagged(pinned(14, 12, 12), "two_of_three") == []


def test_two_beyond_two_sigma_but_four_apart_is_not_a_signal():
    assert flagged(pinned(14, 12, 12, 14), "two_of_three") == []


def test_a_point_beyond_the_limit_does_not_count_towards_two_of_three():
    # 16 is beyond 15.32: its own signal; the 14 has no second close point
    result = pinned(14, 16, 12)
    assert flagged(result, "two_of_three") == []
    assert flagged(result, "beyond_limits") == [5]


def test_a_point_exactly_on_the_two_sigma_line_is_not_beyond_it():
    line = pinned().upper_2s
    assert flagged(pinned(line, 12, line), "two_of_three") == []
    assert flagged(pinned(np.nextafter(line, np.inf), 12, line + 0.01), "two_of_three") == [4, 6]


# Variation: improvement, concern or neither, and the icon --------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "latest", "variation", "icon"),
    [
        ("increase", 16, "improvement", "improvement_high"),
        ("increase", 4, "concern", "concern_low"),
        ("decrease", 16, "concern", "concern_high"),
        ("decrease", 4, "improvement", "improvement_low"),
        ("neither", 16, "neither", "neither_high"),
        ("neither", 4, "neither", "neither_low"),
        ("increase", 12, "common cause", "common_cause"),
        ("decrease", 12, "common cause", "common_cause"),
    ],
)
def test_variation_of_the_latest_point_and_its_icon(improvement, latest, variation, icon):
    result = pinned(10, latest, improvement=improvement)
    assert result.points["variation"].iloc[-1] == variation
    assert result.variation_icon == icon


def test_the_icon_reads_the_latest_point_only():
    # an earlier point above the limit, then common cause: the icon is common cause
    result = pinned(16, 10, 11, improvement="increase")
    assert result.points["variation"].iloc[4] == "improvement"
    assert result.variation_icon == "common_cause"
    assert result.summary == (
        "Common cause variation at the latest quarter (2026/27 Q2), "
        "after special cause variation in 1 earlier quarter: 2025/26 Q4 (16) above the upper limit (15.3)."
    )


def test_summaries_name_the_limit_and_the_value():
    assert pinned(16, improvement="decrease").summary == (
        "Special cause of concern: 2026/27 Q2 (16) is above the upper limit (15.3)."
    )
    assert pinned(4, improvement="decrease").summary == (
        "Special cause of improvement: 2026/27 Q2 (4) is below the lower limit (4.68)."
    )


def test_the_words_name_every_point_the_chart_flags():
    # Issue 14: the summary's trend caption named one special-cause point where the chart flagged
    # two. One point above the upper limit (15.3) and, later, one below the lower limit (4.68).
    result = pinned(16, 10, 4, improvement="decrease")
    assert flagged(result, "special_cause") == [4, 6]
    assert result.summary == (
        "Special cause of improvement: 2026/27 Q2 (4) is below the lower limit (4.68). "
        "Special cause variation in 2 of 7 quarters: 2025/26 Q4 (16) above the upper limit (15.3) "
        "and 2026/27 Q2 (4) below the lower limit (4.68)."
    )
    # Two above, the latest common cause: both earlier points are named, not only the last.
    result = pinned(16, 17, 10, improvement="decrease")
    assert flagged(result, "special_cause") == [4, 5]
    assert result.summary == (
        "Common cause variation at the latest quarter (2026/27 Q2), after special cause variation in "
        "2 earlier quarters: 2025/26 Q4 (16) above the upper limit (15.3) and 2026/27 Q1 (17) above "
        "the upper limit (15.3)."
    )
    # Every flagged point's period is in the words.
    for period in result.points["period"][result.points["special_cause"]]:
        assert period in result.summary


def test_the_run_summary_from_the_issue():
    result = pinned(12, 11, 12, 11, 12, 11, improvement="decrease")  # 9 then six above: only 6
    assert result.variation_icon == "common_cause"
    result = pinned(8, 12, 11, 12, 11, 12, 11, 12, improvement="decrease")
    assert result.summary == "Special cause of concern: a run of 7 quarters above the mean ending 2026/27 Q2."
    assert result.variation_icon == "concern_high"


# Assurance -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "target", "icon"),
    [
        # limits 4.68 to 15.32
        ("increase", 16, "fail"),  # higher is better, the target is above what the process can reach
        ("increase", 4, "pass"),  # the target is below the lower limit: every point meets it
        ("increase", 10, "hit_and_miss"),
        ("increase", 15.32, "hit_and_miss"),  # on a limit: not beyond it
        ("decrease", 16, "pass"),
        ("decrease", 4, "fail"),
        ("decrease", 4.68, "hit_and_miss"),
    ],
)
def test_assurance(improvement, target, icon):
    result = pinned(10, improvement=improvement, target=target)
    assert result.assurance_icon == icon


def test_assurance_in_words():
    assert pinned(10, improvement="increase", target=16).assurance_summary == (
        "The process will consistently fail the target of 16: it is above the upper limit (15.3)."
    )
    assert pinned(10, improvement="decrease", target=16).assurance_summary.startswith(
        "The process will consistently meet the target of 16"
    )
    assert (
        "between the limits (4.68 to 15.3)" in pinned(10, improvement="increase", target=10).assurance_summary
    )


def test_no_target_no_assurance():
    result = pinned(10, improvement="increase")
    assert result.assurance_icon is None
    assert result.assurance_summary is None


# Missing points ----------------------------------------------------------------------------------------


def test_a_missing_point_is_missing_not_zero():
    # 11, NA, 9, 11, 9: mean of the four values 10; moving ranges only between neighbours: -, -, -, 2, 2
    result = xmr(quarters([11, None, 9, 11, 9], dtype="Int64"))
    assert result.mean == 10
    assert result.mean_moving_range == 2
    assert np.isnan(result.points["moving_range"].iloc[:3]).all()
    missing = result.points.iloc[1]
    assert np.isnan(missing["value"])
    assert not missing[[*RULES, "special_cause"]].any()
    assert pd.isna(missing["variation"]) and pd.isna(missing["signal"])
    assert result.summary == "Common cause variation: no signal of change over 5 quarters (1 missing)."


def test_a_missing_point_neither_breaks_nor_extends_a_run():
    # baseline 9 (below), then 12, 11, 12, NA, 11, 12, 11: six observed above, with a gap → no run
    assert flagged(pinned(12, 11, 12, None, 11, 12, 11), "run") == []
    # one more above: seven observed points above the mean, the gap inside → a run, the gap unflagged
    assert flagged(pinned(12, 11, 12, None, 11, 12, 11, 12), "run") == [4, 5, 6, 8, 9, 10, 11]


def test_a_missing_point_neither_breaks_nor_extends_a_trend():
    assert flagged(pinned(9.5, 10.5, None, 11, 11.5, 12, 12.5), "trend") == [3, 4, 5, 7, 8, 9, 10]
    assert flagged(pinned(9.5, 10.5, None, 11, 11.5, 12), "trend") == []


def test_icons_read_the_latest_observed_point():
    result = pinned(16, None, improvement="increase")
    assert result.variation_icon == "improvement_high"
    assert result.latest["period"] == "2026/27 Q1"


# Bad arguments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "options", "message"),
    [
        ([5], {}, "at least 2 values; got 1 of 1 quarters"),
        ([5, None, None], {}, "at least 2 values; got 1 of 3 quarters"),
        ([5, None, 6, None], {}, "2 values in neighbouring quarters"),
        (
            [5, 6, 7],
            {"improvement": "up"},
            "improvement must be 'increase', 'decrease' or 'neither', not 'up'",
        ),
        ([5, 6, 7], {"target": 5}, "a target needs improvement='increase' or 'decrease'"),
        ([5, 6, 7], {"baseline_points": 1}, "baseline_points must be from 2 to the 3 periods given, not 1"),
        ([5, 6, 7], {"baseline_points": 4}, "baseline_points must be from 2 to the 3 periods given, not 4"),
        ([5, np.inf, 7], {}, "not infinite"),
    ],
)
def test_bad_arguments_are_value_errors(values, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        xmr(quarters(values), **options)


def test_values_must_be_a_series():
    with pytest.raises(ValueError, match="pandas Series"):
        xmr([1, 2, 3])


# One row per provider ------------------------------------------------------------------------------------

RA1 = [11, 9, 11, 9, 11, 9, 11, 9]  # common cause
RB2 = [20, 22, 20, 22, 20, 22, 20, 22]  # mean 21, mR-bar 2: limits 15.68 to 26.32
RC3 = [5, 7, 5, 7, 6, 60, 6]  # no row for 2025/26 Q2 (the 4th of the 8 quarters)
PROVIDERS = pd.DataFrame(
    {
        "provider_code": ["RA1"] * 8 + ["RB2"] * 8 + ["RC3"] * 7,
        "quarter": quarter_labels(8) * 2 + quarter_labels(8)[:3] + quarter_labels(8)[4:],
        "spells": pd.array([*RA1, *RB2, *RC3], dtype="Int64"),
    }
).sample(frac=1, random_state=1)  # row order must not matter


def test_xmr_by_gives_one_row_per_provider():
    table = xmr_by(PROVIDERS, improvement="decrease", target=15)
    assert table["provider_code"].tolist() == ["RA1", "RB2", "RC3"]
    assert table.columns.tolist() == [
        "provider_code", "periods", "values", "latest_period", "latest_value", "mean", "mean_moving_range",
        "lower", "upper", "special_cause_points", "variation_icon", "assurance_icon", "note", "summary",
    ]  # fmt: skip
    rb2 = table.set_index("provider_code").loc["RB2"]
    assert (rb2["mean"], rb2["mean_moving_range"]) == (21, 2)
    assert (rb2["lower"], rb2["upper"]) == pytest.approx((15.68, 26.32))
    assert rb2["assurance_icon"] == "fail"  # lower is better, and 15 is below the lowest RB2 will go
    assert rb2["latest_period"] == "2026/27 Q2" and rb2["latest_value"] == 22
    assert table["variation_icon"].tolist() == ["common_cause", "common_cause", "common_cause"]
    # RA1's limits 4.68 to 15.32 and RC3's 0 to 73.8 straddle 15
    assert table["assurance_icon"].tolist() == ["hit_and_miss", "fail", "hit_and_miss"]


def test_xmr_by_treats_an_absent_row_as_a_missing_point():
    table = xmr_by(PROVIDERS).set_index("provider_code")
    rc3 = table.loc["RC3"]
    assert (rc3["periods"], rc3["values"]) == (8, 7)
    # values 5, 7, 5, [gap], 7, 6, 60, 6 → mean 96 / 7; moving ranges 2, 2, -, -, 1, 54, 54
    # mR-bar 113 / 5 = 22.6; screening drops ranges ≥ 3.267 × 22.6 = 73.8: none
    assert rc3["mean"] == pytest.approx(96 / 7)
    assert rc3["mean_moving_range"] == pytest.approx(113 / 5)
    # mean + 2.66 × 22.6 = 73.8: the 60 is inside the limits, which it widened itself
    assert rc3["special_cause_points"] == 0
    assert rc3["summary"] == "Common cause variation: no signal of change over 8 quarters (1 missing)."


def test_xmr_by_passes_options_on():
    table = xmr_by(PROVIDERS, baseline_points=3, improvement="increase").set_index("provider_code")
    # RC3's baseline 5, 7, 5: mean 5.667, mR-bar 2 → upper 10.987: the 60 is beyond it, but the latest 6 is not
    assert table.loc["RC3", "special_cause_points"] == 1
    assert table.loc["RC3", "upper"] == pytest.approx(17 / 3 + 5.32)


def test_xmr_by_reports_a_provider_with_too_few_values():
    table = pd.DataFrame(
        {
            "provider_code": ["RA1", "RA1", "RZ9"],
            "quarter": ["2026/27 Q1", "2026/27 Q2", "2026/27 Q2"],
            "spells": [3, 4, 5],
        }
    )
    result = xmr_by(table).set_index("provider_code")
    assert (
        result.loc["RZ9", "summary"]
        == "No XmR chart: an XmR chart needs at least 2 values; got 1 of 2 quarters."
    )
    assert pd.isna(result.loc["RZ9", "mean"]) and pd.isna(result.loc["RZ9", "variation_icon"])
    assert result.loc["RA1", "mean"] == 3.5


def test_xmr_by_refuses_duplicate_rows_and_missing_columns():
    with pytest.raises(ValueError, match="more than one row for a provider_code and quarter"):
        xmr_by(pd.concat([PROVIDERS, PROVIDERS.head(1)]))
    with pytest.raises(ValueError, match="no column 'spells'"):
        xmr_by(PROVIDERS.drop(columns="spells"))


# The chart -------------------------------------------------------------------------------------------------


def test_the_chart_draws_every_observed_point_and_says_what_it_found():
    values = quarters([11, 9, 11, 9, 10, None, 10, 16])
    result = xmr(values, improvement="decrease", target=12, baseline_points=4)
    chart = spc_chart(
        result, title="ZA1: RFD spells per quarter", value_label="RFD spells per quarter (count)"
    )
    axes = chart.figure.axes[0]
    (points,) = [c for c in axes.collections if c.get_gid() == "points"]
    assert len(points.get_offsets()) == 7  # 8 quarters, one missing
    assert axes.get_title(loc="left") == "ZA1: RFD spells per quarter"
    assert axes.get_ylabel() == "RFD spells per quarter (count)"
    assert axes.get_xlabel() == "Quarter"
    assert [t.get_text() for t in axes.get_xticklabels()] == quarter_labels(8)
    mean_line = next(line for line in axes.get_lines() if line.get_gid() == "mean")
    assert mean_line.get_ydata()[0] == 10
    icons = {patch.get_gid() for inset in axes.child_axes for patch in inset.patches}
    assert icons == {"variation_icon:concern_high", "assurance_icon:hit_and_miss"}
    assert "?" in [text.get_text() for inset in axes.child_axes for text in inset.texts]
    for words in [
        "over 8 quarters, 2024/25 Q3 to 2026/27 Q2.",
        "Mean 10;",
        "process limits 4.68 to 15.3",
        "from the first 4 quarters",
        "Target 12.",
        "Special cause of concern: 2026/27 Q2 (16) is above the upper limit (15.3).",
        "sometimes meet and sometimes miss the target of 12",
        "orange for special cause concern",
        "Fewer than 12 points",
    ]:
        assert words in chart.caption
    assert chart.alt_text.startswith(
        "ZA1: RFD spells per quarter. XmR chart of RFD spells per quarter (count)"
    )


def test_the_chart_colours_points_by_variation():
    result = pinned(10, 16, 4, improvement="increase")
    chart = spc_chart(result, title="t", value_label="v")
    (points,) = [c for c in chart.figure.axes[0].collections if c.get_gid() == "points"]
    colours = [tuple(np.round(c[:3], 3)) for c in points.get_facecolors()]
    grey, blue, orange = (tuple(np.round(np.array(to_rgb(h)), 3)) for h in ("#7B7D7D", "#289DE0", "#FAB428"))
    assert colours == [grey] * 5 + [blue, orange]
    icons = {patch.get_gid() for inset in chart.figure.axes[0].child_axes for patch in inset.patches}
    assert icons == {"variation_icon:concern_low"}  # no target: no assurance icon


def test_monthly_labels_say_months():
    values = pd.Series([11, 9, 11, 9], index=["2026-01", "2026-02", "2026-03", "2026-04"], dtype="float64")
    assert xmr(values).summary == "Common cause variation: no signal of change over 4 months."
    periods = pd.Series([11.0, 9, 11, 9], index=pd.period_range("2026-01", periods=4, freq="M"))
    assert xmr(periods).unit == "month"


# Against a literal transcription of plotthedots ------------------------------------------------------------


def plotthedots(y: list[float], improvement: int) -> dict[str, list]:
    """NHSRplotthedots' ptd_spc_standard + ptd_calculate_point_type, loop by loop as the R reads.

    One deliberate difference, also in rfd_lib: where a trend point's next step is flat (a tie
    between the end of one trend and the start of another), plotthedots takes that step's sign 0
    as "Decreasing"; here the point keeps the direction of the step before it.
    """
    n = len(y)
    mean = sum(y) / n
    mr = [abs(y[i] - y[i - 1]) for i in range(1, n)]
    amr = sum(mr) / len(mr)
    if amr > 0:
        kept = [r for r in mr if r < 3.267 * amr]
        amr = sum(kept) / len(kept)
    upl, lpl = mean + 2.66 * amr, mean - 2.66 * amr
    nupl, nlpl = mean + 2 * (2.66 / 3) * amr, mean - 2 * (2.66 / 3) * amr
    outside = [v > upl or v < lpl for v in y]
    rtm = [int(np.sign(v - mean)) for v in y]
    close = [int(not o and (v < nlpl or v > nupl)) for v, o in zip(y, outside, strict=True)]

    vp = [0] * 6 + rtm
    one_side = [int(all(vp[i] == vp[i - k] for k in range(1, 7)) and vp[i] != 0) for i in range(6, n + 6)]

    def part_of_seven(v):
        padded = [*v, 0, 0, 0, 0, 0, 0]
        return [int(any(abs(padded[i + k]) == 1 for k in range(7))) for i in range(n)]

    trend_end = [0] * n
    for i in range(6, n):
        d = [np.sign(y[j] - y[j - 1]) for j in range(i - 5, i + 1)]
        trend_end[i] = 1 if all(s == 1 for s in d) else -1 if all(s == -1 for s in d) else 0
    cp, rp = [0, 0, *close, 0, 0], [0, 0, *rtm, 0, 0]
    two = [
        int(any(sum(cp[i + k : i + k + 3]) >= 2 and abs(sum(rp[i + k : i + k + 3])) == 3 for k in range(3)))
        for i in range(n)
    ]
    part_trend, part_run = part_of_seven(trend_end), part_of_seven(one_side)
    part_two = [int(t == 1 and c == 1) for t, c in zip(two, close, strict=True)]

    sdy = [np.sign(y[i + 1] - y[i]) for i in range(n - 1)]
    types = []
    for i in range(n):
        right = sdy[i] if i < n - 1 else sdy[-1]
        left = sdy[i - 1] if i > 0 else 0
        use_right = part_trend[i] and i < n - 1 and part_trend[i + 1] and right != 0
        if outside[i]:
            types.append(rtm[i])
        elif part_trend[i]:
            types.append(right if use_right else left)
        elif part_two[i] or part_run[i]:
            types.append(1 if rtm[i] > 0 else -1)
        else:
            types.append(0)
    if improvement == 0:
        variation = ["neither" if t else "common cause" for t in types]
    else:
        variation = [
            "common cause" if not t else "improvement" if t * improvement > 0 else "concern" for t in types
        ]
    return {
        "limits": [mean, amr, upl, lpl],
        "beyond_limits": outside,
        "run": [bool(p) for p in part_run],
        "trend": [bool(p) for p in part_trend],
        "two_of_three": [bool(p) for p in part_two],
        "variation": variation,
    }


def test_the_vectorised_rules_agree_with_plotthedots_on_random_series():
    rng = np.random.default_rng(20260702)
    for case in range(240):
        n = int(rng.integers(3, 30))
        # small integers, so ties, points on the mean, runs, trends, triples and jumps all turn up
        y = [
            rng.integers(0, 6, n),  # noise
            np.cumsum(rng.integers(-2, 3, n)),  # a random walk
            np.cumsum(rng.integers(0, 3, n)) * rng.choice([-1, 1]),  # rising or falling, with ties
            rng.integers(0, 4, n) + 6 * (np.arange(n) >= n // 2),  # a shift
        ][case % 4].astype(float)
        if rng.random() < 0.2:
            y[rng.integers(0, n)] += 15
        improvement = ["increase", "decrease", "neither"][case % 3]
        expected = plotthedots(y.tolist(), {"increase": 1, "decrease": -1, "neither": 0}[improvement])
        result = xmr(pd.Series(y, index=[f"p{i:02d}" for i in range(n)]), improvement=improvement, floor=None)
        assert [result.mean, result.mean_moving_range, result.upper, result.lower] == pytest.approx(
            expected["limits"]
        )
        for column in ["beyond_limits", "run", "trend", "two_of_three", "variation"]:
            assert result.points[column].tolist() == expected[column], (case, column, y.tolist())


# Circulated charts: limits and signals from the true counts, points as published -----------------------
#
# A reader of a circulated chart sees each count as published: rounded to 5 (a published p was one of
# p-2 … p+2, and above 7), 0 as 0, and a suppressed one as "1–7". ``reader`` enumerates every series
# that fits what is published and works out its mean and limits independently of rfd_lib (plotthedots'
# arithmetic, with rfd_lib's clip at 0), so these tests can say which true counts a published chart
# leaves possible.


def as_published(values: list[int]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The true counts, and their published values and suppressed flags (disclosure.protect)."""
    table = pd.DataFrame({"quarter": quarter_labels(len(values)), "spells": values})
    shown = protect(table, ["spells"]).set_index("quarter")
    return table.set_index("quarter")["spells"], shown["spells"], shown["spells_suppressed"]


def circulated(values: list[int], **options) -> XmR:
    return published_xmr(*as_published(values), **options)


def reader(values: list[int], screen: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every series a reader cannot rule out from the published points, with its (mean, upper, lower)."""
    _, shown, hidden = as_published(values)
    boxes = [
        list(range(1, 8)) if h else [c for c in range(int(p) - 2, int(p) + 3) if c == 0 or c > 7]
        for p, h in zip(shown.fillna(0), hidden, strict=True)
    ]
    series = np.array(list(itertools.product(*boxes)), dtype=float)
    mean = series.mean(axis=1)
    mr = np.abs(np.diff(series, axis=1))
    amr = mr.mean(axis=1)
    if screen:
        kept = np.where(mr < 3.267 * amr[:, None], mr, np.nan)
        with np.errstate(invalid="ignore"):
            amr = np.where(
                amr > 0, np.nanmean(np.where(np.isnan(kept).all(axis=1)[:, None], 0, kept), axis=1), 0
            )
    upper, lower = mean + 2.66 * amr, np.maximum(mean - 2.66 * amr, 0)
    return series, np.stack([mean, upper, lower], axis=1), np.flatnonzero(hidden.to_numpy())


def possible(values: list[int], screen: bool, rounding: int) -> dict[int, tuple[set[int], set[int]]]:
    """Per point a reader cannot read exactly (suppressed, or rounded and not 0): the values left
    possible once the mean and limits are published rounded, and the values its cell allows."""
    series, summaries, _ = reader(values, screen)
    rounded = np.floor(summaries / rounding + 0.5) * rounding
    true = rounded[np.flatnonzero((series == np.array(values)).all(axis=1))[0]]
    fits = (rounded == true).all(axis=1)
    return {
        t: (set(series[fits, t].astype(int).tolist()), set(series[:, t].astype(int).tolist()))
        for t in range(series.shape[1])
        if len(set(series[:, t].tolist())) > 1
    }


def narrowed(values: list[int], screen: bool, rounding: int) -> bool:
    """Whether the mean and limits, published rounded, rule out a value of any point, shown or suppressed."""
    series, summaries, _ = reader(values, screen)
    rounded = np.floor(summaries / rounding + 0.5) * rounding
    true = rounded[np.flatnonzero((series == np.array(values)).all(axis=1))[0]]
    fits = (rounded == true).all(axis=1)
    return any(set(series[fits, t]) != set(series[:, t]) for t in range(series.shape[1]))


def test_a_trend_that_rounding_flattens_is_still_a_trend():
    # The issue's first series. True 11, 12, 13, 14, 16, 17, 18, 19: each higher than the one before,
    # a trend of 8. Published 10, 10, 15, 15, 15, 15, 20, 20: the ties break it, so a chart of the
    # published counts (the old one) has no trend (and its moving ranges, 0 or 5, are all screened
    # out, leaving limits of zero width).
    true, shown, hidden = as_published([11, 12, 13, 14, 16, 17, 18, 19])
    assert shown.tolist() == [10, 10, 15, 15, 15, 15, 20, 20]
    assert not xmr(shown.astype("Float64")).points["trend"].any()
    # From the true counts: mean 120 / 8 = 15; moving ranges 1, 1, 1, 2, 1, 1, 1 → mR-bar 8 / 7;
    # limits 15 ± 3.04 = 11.96 and 18.04, published to whole numbers as 12 and 18.
    result = published_xmr(true, shown, hidden)
    assert result.points["trend"].all()
    assert flagged(result, "beyond_limits") == [0, 7]
    assert result.points["value"].tolist() == [10, 10, 15, 15, 15, 15, 20, 20]  # drawn as published
    assert (result.mean, result.lower, result.upper) == (15, 12, 18)
    assert result.publication == Publication(rounding=5, threshold=7, summary_rounding=1)
    assert result.summary == (
        "Special cause variation (neither improvement nor concern): "
        "2026/27 Q2 (about 20) is above the upper limit (18). "
        "Special cause variation in 8 of 8 quarters: 2024/25 Q3 (about 10) below the lower limit (12) "
        "and 2026/27 Q2 (about 20) above the upper limit (18); a rising trend over 8 quarters, "
        "2024/25 Q3 to 2026/27 Q2."
    )


def test_a_fall_into_suppressed_quarters_is_a_signal_and_each_hidden_point_a_band():
    # The issue's second series. True 15, 16, 14, 15, 6, 5, 7, 4; published 15, 15, 15, 15, *, *, *, *.
    # Charted as published, the four suppressed quarters are gaps and nothing is signalled.
    true, shown, hidden = as_published([15, 16, 14, 15, 6, 5, 7, 4])
    old = xmr(shown.astype("Float64"))
    assert old.summary == "Common cause variation: no signal of change over 8 quarters (4 missing)."
    # From the true counts: mean 82 / 8 = 10.25; moving ranges 1, 2, 1, 9, 1, 2, 3, mR-bar 19 / 7 = 2.71;
    # 9 ≥ 3.267 × 2.71 = 8.87 is screened out → mR-bar 10 / 6 = 1.67; limits 10.25 ± 4.43 = 5.82 and
    # 14.68: the 15s and the 16 are above, the 5 and the 4 below; 6 and 7 are near the lower limit.
    result = published_xmr(true, shown, hidden, improvement="increase")
    assert flagged(result, "beyond_limits") == [0, 1, 3, 5, 7]
    assert flagged(result, "two_of_three") == [4, 6]
    points = result.points
    assert points["suppressed"].tolist() == [False] * 4 + [True] * 4
    assert points["value"].iloc[:4].tolist() == [15] * 4 and points["value"].iloc[4:].isna().all()
    assert (points["range_low"].iloc[4:] == 1).all() and (points["range_high"].iloc[4:] == 7).all()
    assert points["variation"].iloc[4:].tolist() == ["concern"] * 4
    assert (result.mean, result.lower, result.upper) == (10, 6, 15)
    assert result.variation_icon == "concern_low"
    # Every coloured point is named; the suppressed ones by their band only (never as beyond or
    # near a limit, which would narrow it).
    assert result.summary == (
        "Special cause of concern: 2026/27 Q2 (1–7) is below the lower limit (6). "
        "Special cause variation in 7 of 8 quarters: 2024/25 Q3 (about 15) above the upper limit (15), "
        "2024/25 Q4 (about 15) above the upper limit (15) and 2025/26 Q2 (about 15) above the upper "
        "limit (15); 2025/26 Q3 (1–7), 2025/26 Q4 (1–7), 2026/27 Q1 (1–7) and 2026/27 Q2 (1–7), "
        "shown as bands in their signals' colours."
    )
    chart = spc_chart(result, title="t", value_label="counted RFDs per quarter (count)")
    axes = chart.figure.axes[0]
    bands = [patch for patch in axes.patches if patch.get_gid() == "suppressed"]
    assert [(band.get_y(), band.get_y() + band.get_height()) for band in bands] == [(1, 7)] * 4
    orange = tuple(np.round(to_rgb("#FAB428"), 3))
    assert all(tuple(np.round(band.get_facecolor()[:3], 3)) == orange for band in bands)
    labels = [text.get_text() for text in axes.texts if text.get_gid() == "suppressed_label"]
    assert labels == ["1–7"] * 4
    (dots,) = [c for c in axes.collections if c.get_gid() == "points"]
    assert dots.get_offsets()[:, 1].tolist() == [15] * 4
    for words in [
        "Mean 10; process limits 6 to 15 (mean ± 2.66 × mean moving range, from all points), rounded to whole numbers.",
        "The limits and every point's colour are worked out from the true counts",
        "drawn as published: rounded to the nearest 5, and as a band from 1 to 7 where a count is suppressed",
    ]:
        assert words in chart.caption


def test_a_circulated_chart_carries_no_true_count():
    result = circulated([15, 16, 14, 15, 6, 5, 7, 4])
    points = result.points
    # no moving range, mR-bar or 2-sigma line: with the published points they would give counts away
    assert points[["moving_range", "upper_2s", "lower_2s"]].isna().all().all()
    assert np.isnan([result.mean_moving_range, result.upper_2s, result.lower_2s]).all()
    assert (points[["mean", "upper", "lower"]] % 1 == 0).all().all()
    assert set(points["value"].dropna()) == {15}
    assert "(1–7)" in result.summary and "(4)" not in result.summary  # the latest true count is 4


def test_internal_mode_charts_the_true_counts():
    values = [15, 16, 14, 15, 6, 5, 7, 4]
    true = as_published(values)[0]
    result = published_xmr(true, true, pd.Series(False, index=true.index), policy=INTERNAL)
    assert result.publication is None and result.points["value"].tolist() == values
    assert result.summary == xmr(true.astype("Float64")).summary


def test_a_suppressed_count_above_the_threshold_is_refused():
    # The band says 1–7: a count hidden by complementary suppression (8 or more) would make it wrong.
    true, shown, hidden = as_published([15, 16, 14, 15, 6, 5, 7, 4])
    with pytest.raises(DisclosureError, match="suppressed count in the chart is not 1 to 7"):
        published_xmr(
            true.mask(true.index == true.index[0], 15),
            shown.mask(shown.index == true.index[0]),
            hidden | (true.index == true.index[0]),
        )


# The guard: the mean and limits, rounded, must leave every suppressed point each of 1 to 7.
GUARD = [
    # true counts                  screened  rounding  (mean, lower, upper) published
    # four hidden among rounded 15s: whole numbers narrow none of them
    ([15, 16, 14, 15, 6, 5, 7, 4], True, 1, (10, 6, 15)),
    # the 11 is published as 10 (8 … 12): whole numbers (2, 0, 7) would say it is not 8 (an 8
    # cannot give an upper limit of 7), which a reader could subtract from another table's count
    ([0, 0, 0, 0, 0, 11, 3, 0], True, 5, (0, 0, 5)),
    # mean 3 / 8 = 0.375 → 0 would say the hidden count is 1 to 3 (a 4 makes the mean 0.5 → 1);
    # to the nearest 5 the mean says under 20; the limits (moving ranges screened out) add nothing
    ([0, 0, 0, 0, 0, 0, 0, 3], True, 5, (0, 0, 0)),
    # unscreened, the upper limit is 0.505 × the hidden count: "0" to the nearest 5 says it is at
    # most 4; to the nearest 10, at most 9
    ([0, 0, 0, 0, 0, 0, 0, 3], False, 10, (0, 0, 0)),
    # a hidden count between two zeros: upper limit 0.885 × it, "0" even to the nearest 10 says at most 5
    ([0, 2, 0, 0, 0, 0, 0, 0], False, None, None),
    ([0, 2, 0, 0, 0, 0, 0, 0], True, 5, (0, 0, 0)),
    ([0, 0, 3, 0, 24, 0, 0, 0], True, None, None),
]


@pytest.mark.parametrize(("values", "screen", "rounding", "summary"), GUARD)
def test_the_mean_and_limits_are_published_only_as_finely_as_leaves_every_count_as_possible(
    values, screen, rounding, summary
):
    result = circulated(values, screen_outliers=screen)
    assert result.publication.summary_rounding == rounding
    if summary is None:
        assert np.isnan([result.mean, result.lower, result.upper]).all()
    else:
        assert (result.mean, result.lower, result.upper) == summary
        # with these published, a reader still cannot rule out any value at any point (1 … 7 at a
        # hidden one, p-2 … p+2 at one rounded to p)
        assert all(seen == box for seen, box in possible(values, screen, rounding).values())
    # and every finer rounding would have ruled one out
    for finer in [r for r in SUMMARY_ROUNDINGS if rounding is None or r < rounding]:
        assert any(seen != box for seen, box in possible(values, screen, finer).values())


def test_the_caption_says_when_the_mean_and_limits_are_rounded_coarsely_or_not_shown():
    coarse = spc_chart(circulated([0, 0, 0, 0, 0, 0, 0, 3]), title="t", value_label="v")
    assert "rounded to the nearest 5, as whole numbers would narrow what a suppressed or" in coarse.caption
    hidden = spc_chart(
        circulated([0, 2, 0, 0, 0, 0, 0, 0], screen_outliers=False), title="t", value_label="v"
    )
    assert "The mean and process limits are not shown: even rounded to the nearest 10" in hidden.caption
    assert not {"mean", "upper", "lower"} & {line.get_gid() for line in hidden.figure.axes[0].get_lines()}


# All-provider totals: the true total rounded once, unless with the providers' published counts of the
# quarter it would narrow a suppressed one. Which rounded totals are withheld is fixed from the
# published counts alone (so that a total is withheld says nothing either).
TOTALS = [
    # true counts       published        total published   drawn as the range
    # true total 151 would be 150, saying the 100 is 98 or 99 (150 + 2 less 53): withheld
    ((98, 53), (100, 55), None, (151, 159)),
    ((98, 53, 40, 70), (100, 55, 40, 70), 260, None),  # 261 rounded once: 4 cells, none narrowed
    ((98, 2), (100, None), None, (99, 109)),  # 100 would say the hidden one is 1 to 4
    ((102, 3), (100, None), None, (99, 109)),  # 105 would not; but withholding only 100 and 110 would
    ((98, 51, 6), (100, 50, None), 155, None),  # 155: the hidden one is 1 to 7 (153 … 157 less 146 … 154)
    ((98, 51, 2), (100, 50, None), None, (147, 161)),
    ((5, 6), (None, None), 10, None),  # 10: each is 1 to 7 (8 … 12 less the other's 1 … 7)
    ((3, 4), (None, None), None, (2, 14)),  # 5 would be a small count
]


def boxes_of(published: tuple[int | None, ...]) -> list[np.ndarray]:
    return [np.arange(1, 8) if p is None else cell_values(p, CIRCULATION) for p in published]


@pytest.mark.parametrize(("true", "published", "total", "drawn"), TOTALS)
def test_a_quarter_total_is_the_true_total_rounded_once_unless_it_gives_a_count_away(
    true, published, total, drawn
):
    hidden = np.array([p is None for p in published])
    result = quarter_total(boxes_of(published), hidden, sum(true), CIRCULATION)
    assert result.published == total
    if drawn is not None:
        assert result.allowed_range == drawn


@pytest.mark.parametrize(
    "published",
    [(100, None), (100, 50, None), (None, None), (100, None, None), (10, None), (0, None), (20, 10, None)],
)
def test_whatever_the_true_counts_a_quarter_total_narrows_no_cell(published):
    # Every true configuration the published counts allow, and what quarter_total then publishes (a
    # rounded total, or "withheld"): among the configurations that publish the same, each hidden
    # count still takes every value 1 … 7.
    boxes = boxes_of(published)
    hidden = np.array([p is None for p in published])
    outcomes: dict[object, list[tuple[int, ...]]] = {}
    for cells in itertools.product(*boxes):
        shown = quarter_total(boxes, hidden, sum(cells), CIRCULATION).published
        outcomes.setdefault(shown, []).append(cells)
    for shown, configurations in outcomes.items():
        for i in np.flatnonzero(hidden):
            assert {cells[i] for cells in configurations} == set(range(1, 8)), (shown, i)
        # and each rounded count every value it may stand for (else it could be subtracted from
        # another table's count to narrow a hidden one there)
        for i in np.flatnonzero(~hidden):
            assert {cells[i] for cells in configurations} == set(boxes[i].tolist()), (shown, i)
