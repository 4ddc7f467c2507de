"""Funnel plots: the peer rate, exact Poisson limits, overdispersion, who is outside, and the chart.

The worked example, five providers (the numbers are chosen so everything can be done by hand):

    code  spells  population   rate per 100,000   expected E = θ n   z = 2(√O − √E)
    RA1     10     100,000        10.0                 10              0
    RB2     20     200,000        10.0                 20              0
    RC3     40     200,000        20.0                 20              2(6.32456 − 4.47214) = 3.70484
    RD4      5     250,000         2.0                 25              2(2.23607 − 5)       = −5.52786
    RE5     25     250,000        10.0                 25              0
    total  100   1,000,000  -> peer rate θ = 100 / 1,000,000 = 10.0 per 100,000

Exact Poisson limits (Spiegelhalter 2005): for tail probability p, r = the smallest count with
P(Y ≤ r) ≥ p for Y ~ Poisson(E), a = (P(Y ≤ r) − p) / P(Y = r), limit = (r − a) events.

Limits adjusted for overdispersion are never narrower than those exact limits: lower = min(exact,
adjusted), upper = max(exact, adjusted) (rfd-audit issue 12: the normal limits on the square-root
scale used to raise the lower limit at small expected counts, so "adjusting" flagged more).
"""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from rfd_lib.charts.funnel import funnel_chart
from rfd_lib.charts.house_style import Chart
from rfd_lib.metrics import funnel as funnel_module
from rfd_lib.metrics.funnel import (
    FunnelResult,
    additive_tau2,
    chances_outside,
    format_rate,
    funnel,
    funnel_limits,
    level_label,
    poisson_control_limits,
    winsorised_phi,
)

WORKED = [
    # code  spells  population
    ("RA1", 10,     100_000),
    ("RB2", 20,     200_000),
    ("RC3", 40,     200_000),
    ("RD4", 5,      250_000),
    ("RE5", 25,     250_000),
]  # fmt: skip


def worked(*extra: tuple) -> pd.DataFrame:
    rows = WORKED + list(extra)
    return pd.DataFrame(
        {
            "provider_code": pd.array([r[0] for r in rows], dtype="string"),
            "spells": pd.array([r[1] for r in rows], dtype="Int64"),
            "population": pd.array([r[2] for r in rows], dtype="Int64"),
        }
    )


def test_target_expected_counts_and_z_scores():
    result = funnel(worked())
    assert result.target == pytest.approx(10.0)
    providers = result.providers.set_index("provider_code")
    assert list(providers["expected"]) == pytest.approx([10, 20, 20, 25, 25])
    assert list(providers["rate"]) == pytest.approx([10, 10, 20, 2, 10])
    assert list(providers["z"]) == pytest.approx([0, 0, 3.70484, -5.52786, 0], abs=1e-5)
    assert list(providers["count"]) == [10, 20, 40, 5, 25]
    assert list(providers["population"]) == [100_000, 200_000, 200_000, 250_000, 250_000]


# Limits at E = 20 (RB2, RC3: 200,000 people) and E = 25 (RD4, RE5: 250,000), worked by hand from
# Poisson tables (cdf and pmf to 6 places, so the last digit may differ from the exact value):
#   99.8 % upper, E = 20: p = 0.999, P(Y<=34) = 0.998511 < p <= P(Y<=35) = 0.999196 -> r = 35,
#        P(Y=35) = 0.000685, a = (0.999196 - 0.999) / 0.000685 = 0.286 -> 34.714 events -> 17.357 per 100,000
#   95 % upper, E = 20:   p = 0.975, P(Y<=28) = 0.965666 < p <= P(Y<=29) = 0.978182 -> r = 29,
#        P(Y=29) = 0.012515, a = 0.254 -> 28.746 events -> 14.373 per 100,000
#   99.8 % lower, E = 25: p = 0.001, P(Y<=10) = 0.000586 < p <= P(Y<=11) = 0.001416 -> r = 11,
#        P(Y=11) = 0.000830, a = 0.501 -> 10.499 events -> 4.199 per 100,000
#   95 % lower, E = 25:   p = 0.025, P(Y<=15) = 0.022293 < p <= P(Y<=16) = 0.037748 -> r = 16,
#        P(Y=16) = 0.015455, a = 0.825 -> 15.175 events -> 6.070 per 100,000
# RC3 (20.0) is above 17.357 and RD4 (2.0) below 4.199: both outside the 99.8 % limits.
WORKED_LIMITS = [
    # code   lower_95  upper_95  lower_998  upper_998  position_95  position_998
    ("RA1",  3.7752,   16.1600,  1.2205,    20.6620,   "within",    "within"),
    ("RB2",  5.6025,   14.3729,  3.5846,    17.3568,   "within",    "within"),
    ("RC3",  5.6025,   14.3729,  3.5846,    17.3568,   "above",     "above"),
    ("RD4",  6.0701,   13.9107,  4.1994,    16.5386,   "below",     "below"),
    ("RE5",  6.0701,   13.9107,  4.1994,    16.5386,   "within",    "within"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "lower_95", "upper_95", "lower_998", "upper_998", "pos_95", "pos_998"), WORKED_LIMITS
)
def test_worked_funnel_limits_and_positions(code, lower_95, upper_95, lower_998, upper_998, pos_95, pos_998):
    row = funnel(worked()).providers.set_index("provider_code").loc[code]
    assert row["lower_95"] == pytest.approx(lower_95, abs=1e-4)
    assert row["upper_95"] == pytest.approx(upper_95, abs=1e-4)
    assert row["lower_998"] == pytest.approx(lower_998, abs=1e-4)
    assert row["upper_998"] == pytest.approx(upper_998, abs=1e-4)
    assert (row["position_95"], row["position_998"]) == (pos_95, pos_998)


def test_worked_funnel_names_those_outside_and_says_how():
    result = funnel(worked())
    assert result.outside == {"RC3": "above", "RD4": "below"}
    assert result.phi is None and result.tau2 is None and not result.adjusted
    assert result.excluded == {}
    assert "exact Poisson" in result.method and "not adjusted for overdispersion" in result.method
    assert "10.0 per 100,000" in result.method
    assert isinstance(result, FunnelResult)
    with pytest.raises(AttributeError):
        result.target = 1.0  # frozen


def cdf_from_chi_square(r, mean):
    """P(Y <= r) for Y ~ Poisson(mean), by the chi-square relation: P(chi2 with 2(r+1) df > 2 mean)."""
    return np.where(r < 0, 0.0, stats.chi2.sf(2 * mean, 2 * (np.maximum(r, 0) + 1)))


@pytest.mark.parametrize("level", [0.95, 0.998])
def test_exact_limits_are_spiegelhalters_interpolated_quantiles_checked_by_chi_square(level):
    expected = np.geomspace(10, 5_000, 400)
    for p, limit in zip(
        ((1 - level) / 2, (1 + level) / 2), poisson_control_limits(expected, level), strict=True
    ):
        r = np.ceil(limit)  # the quantile r_p; limit = r_p - a with 0 < a < 1
        below, at = cdf_from_chi_square(r - 1, expected), cdf_from_chi_square(r, expected)
        assert (below < p).all() and (p <= at).all()
        np.testing.assert_allclose(r - limit, (at - p) / (at - below), rtol=1e-6, atol=1e-9)


def test_exact_limits_are_continuous_and_inside_funnelplotrs_chi_square_form():
    expected = np.linspace(1, 60, 20_000)
    lower, upper = poisson_control_limits(expected, 0.95)
    # Steps of 0.003 in E move the limits by hundredths at most: no jumps of a whole count at whole counts.
    assert np.abs(np.diff(upper)).max() < 0.05 and np.abs(np.diff(lower)).max() < 0.05
    # FunnelPlotR's limits: the Garwood confidence interval of a count equal to E. Both of its ends lie higher.
    assert (stats.chi2.ppf(0.975, 2 * expected + 2) / 2 > upper).all()
    assert (stats.chi2.ppf(0.025, 2 * expected) / 2 > lower).all()


def test_limits_at_tiny_expected_counts_stay_at_or_above_zero():
    # E = 0.0005: P(Y = 0) = 0.9995 >= 0.999, so r = 0 and the upper limit 0 − a is cut to 0: one event is above.
    # E = 0.01:   P(Y = 0) = 0.99005 < 0.999 <= P(Y <= 1) = 0.99995 -> r = 1, a = 0.00095 / 0.0099 = 0.096 -> 0.904
    # E = 0.5:    P(Y = 0) = 0.607 >= 0.001, so r = 0 and the lower limit 0 − a is cut to 0.
    lower, upper = poisson_control_limits([0.0, 0.0005, 0.01, 0.5, np.nan], 0.998)
    assert list(lower[:4]) == [0.0, 0.0, 0.0, 0.0]
    assert upper[0] == 0.0 and upper[1] == 0.0
    assert upper[2] == pytest.approx(0.904, abs=1e-3)
    assert np.isnan(lower[4]) and np.isnan(upper[4])


def test_curve_runs_from_the_smallest_to_the_largest_population_around_the_target():
    result = funnel(worked())
    curve = result.curve
    assert len(curve) == 200
    assert curve["population"].iloc[0] == pytest.approx(100_000) and curve["population"].iloc[
        -1
    ] == pytest.approx(250_000)
    assert np.allclose(np.diff(np.log(curve["population"])), np.log(2.5) / 199)  # log-spaced
    assert (curve["lower_998"] <= curve["lower_95"]).all() and (curve["lower_95"] <= result.target).all()
    assert (result.target <= curve["upper_95"]).all() and (curve["upper_95"] <= curve["upper_998"]).all()
    # the funnel narrows as the population grows
    assert curve["upper_998"].iloc[0] > curve["upper_998"].iloc[-1]
    assert curve["lower_998"].iloc[0] < curve["lower_998"].iloc[-1]
    assert curve.loc[0, "upper_998"] == pytest.approx(20.6620, abs=1e-4)  # RA1's limit: the same formula


# Winsorisation and φ worked by hand on ten z-scores:
#   z sorted:             -4, -1, 0, 0, 1, 1, 2, 2, 3, 10
#   10th percentile:      position 0.1 x 9 = 0.9 between -4 and -1 -> -4 + 0.9 x 3 = -1.3
#   90th percentile:      position 8.1 between 3 and 10           ->  3 + 0.1 x 7 =  3.7
#   winsorised:           -1.3, -1, 0, 0, 1, 1, 2, 2, 3, 3.7
#   squares:              1.69 + 1 + 0 + 0 + 1 + 1 + 4 + 4 + 9 + 13.69 = 35.38
#   φ = 35.38 / 10 = 3.538     (without winsorising: (16 + 1 + 1 + 1 + 4 + 4 + 9 + 100) / 10 = 13.6)
TEN_Z = [3, -1, 0, 10, 1, 2, -4, 0, 1, 2]


def test_phi_winsorises_then_averages_the_squares():
    assert winsorised_phi(TEN_Z) == pytest.approx(3.538)
    assert winsorised_phi(TEN_Z, winsorise=0) == pytest.approx(13.6)


# τ² worked by hand: five providers with standard errors s = 1/(2√E), E = 10, 20, 20, 25, 25:
#   w = 1/s² = 4E = 40, 80, 80, 100, 100;  Σw = 400;  Σw² = 1600 + 6400 + 6400 + 10000 + 10000 = 34400
#   Σw − Σw²/Σw = 400 − 86 = 314
#   φ = 3.538:  τ² = (5 × 3.538 − 4) / 314 = 13.69 / 314 = 0.043599
#   φ = 0.7:    5 × 0.7 = 3.5 < I − 1 = 4  -> τ² = 0
FIVE_S = 1 / (2 * np.sqrt([10, 20, 20, 25, 25]))


def test_tau2_is_the_dersimonian_laird_moment_estimate():
    assert additive_tau2(3.538, FIVE_S) == pytest.approx(13.69 / 314)
    assert additive_tau2(0.7, FIVE_S) == 0.0
    assert additive_tau2(0.8, FIVE_S) == 0.0  # I φ = I − 1 exactly: no excess
    with pytest.raises(ValueError, match="at least two providers"):
        additive_tau2(3.0, FIVE_S[:1])


# The worked funnel, multiplicative. z = 0, 0, 3.70484, −5.52786, 0
#   10th percentile: sorted −5.52786, 0, 0, 0, 3.70484; position 0.4 -> −5.52786 × 0.6 = −3.31672
#   90th percentile: position 3.6 -> 0.6 × 3.70484 = 2.22290
#   φ = (3.31672² + 2.22290²) / 5 = (11.00062 + 4.94128) / 5 = 3.18838 > 1, √φ = 1.78561
#   outside a level when |z| / √φ > z_level:  RC3 3.70484 / 1.78561 = 2.0748 (> 1.960, < 3.090),
#                                             RD4 5.52786 / 1.78561 = 3.0958 (> 3.090, just)
#   RC3's limits at 99.8 %: 10 × (1 ± 3.09023 × 1.78561 / (2√20))² = 1.4675 .. 26.1444
def test_multiplicative_overdispersion_widens_the_limits_by_root_phi():
    result = funnel(worked(), overdispersion="multiplicative")
    assert result.phi == pytest.approx(3.18838, abs=1e-5)
    assert result.tau2 is None and result.adjusted
    providers = result.providers.set_index("provider_code")
    assert providers.loc["RC3", "lower_998"] == pytest.approx(1.4675, abs=1e-4)
    assert providers.loc["RC3", "upper_998"] == pytest.approx(26.1444, abs=1e-4)
    assert (providers.loc["RC3", "position_95"], providers.loc["RC3", "position_998"]) == ("above", "within")
    assert (providers.loc["RD4", "position_95"], providers.loc["RD4", "position_998"]) == ("below", "below")
    assert result.outside == {"RD4": "below"}
    assert "φ = 3.19" in result.method and "widened" in result.method
    # the same test as |z| / √φ against the normal quantile, provider by provider, and outside the exact limits
    z_998 = stats.norm.ppf(0.999)
    outside_exact = funnel(worked()).providers.set_index("provider_code")["position_998"] != "within"
    outside = (np.abs(providers["z"]) / np.sqrt(result.phi) > z_998) & outside_exact
    assert list(providers.index[outside]) == ["RD4"]


# The worked funnel, additive. φ = 3.18838 as above; w = 4E as in the τ² example:
#   τ² = (5 × 3.18838 − 4) / 314 = 11.94192 / 314 = 0.038032
#   RD4 (E = 25) at 99.8 %: s² + τ² = 0.01 + 0.038032 = 0.048032, √ = 0.219162
#   lower = 10 × (1 − 3.09023 × 0.219162)² = 10 × 0.322740² = 1.0416 -> RD4's 2.0 is within
#   at 95 %: 10 × (1 − 1.95996 × 0.219162)² = 3.2542 -> RD4 is below
def test_additive_overdispersion_adds_tau2_to_each_variance():
    result = funnel(worked(), overdispersion="additive")
    assert result.phi == pytest.approx(3.18838, abs=1e-5)
    assert result.tau2 == pytest.approx(0.038032, abs=1e-6)
    providers = result.providers.set_index("provider_code")
    assert providers.loc["RD4", "lower_998"] == pytest.approx(1.0416, abs=1e-4)
    assert providers.loc["RD4", "lower_95"] == pytest.approx(3.2542, abs=1e-4)
    assert (providers.loc["RD4", "position_95"], providers.loc["RD4", "position_998"]) == ("below", "within")
    assert result.outside == {}
    assert "τ² = 0.038" in result.method and "random-effects" in result.method


# The first example: φ = 1.01 (barely overdispersed), E = 10, 99.8 % limits (z = 3.09023).
#   exact lower: p = 0.001, P(Y<=1) = 0.000499 < p <= P(Y<=2) = 0.002769 -> r = 2, P(Y=2) = 0.002270,
#       a = (0.002769 - 0.001) / 0.002270 = 0.7795 -> 1.2205 events (RA1's 1.2205 per 100,000 above)
#   normal on the square-root scale: 10 × (1 − 3.09023 × √1.01 / (2√10))² = 10 × 0.508953² = 2.5903 events:
#       narrower than exact; an in-control provider would fall below it with P(Y<=2) = 0.28 %, not P(Y<=1) = 0.05 %
#   -> the lower limit stays 1.2205. Upper: normal 10 × 1.491047² = 22.2322 > exact 20.6620 -> 22.2322.
#   Additive, τ² = 0.001: normal lower 10 × (1 − 3.09023 × √(1/40 + 0.001))² = 2.5170 -> 1.2205 again;
#       upper 10 × (1 + 3.09023 × 0.161245)² = 22.4486.
def test_barely_overdispersed_limits_keep_the_exact_lower_limit_at_small_expected_counts():
    exact_lower, exact_upper = poisson_control_limits(10, 0.998)
    assert (exact_lower, exact_upper) == (pytest.approx(1.2205, abs=1e-4), pytest.approx(20.6620, abs=1e-4))
    lower, upper = funnel_limits(10, 0.998, "multiplicative", phi=1.01)
    assert lower <= 1.22 + 1e-3 and lower == pytest.approx(1.2205, abs=1e-4)
    assert upper == pytest.approx(22.2322, abs=1e-4)
    lower, upper = funnel_limits(10, 0.998, "additive", tau2=0.001)
    assert lower == pytest.approx(1.2205, abs=1e-4) and upper == pytest.approx(22.4486, abs=1e-4)
    # Where the normal limits are the wider, they stand: E = 25, φ = 3.18838 (the worked RD4 below).
    lower, upper = funnel_limits(25, 0.998, "multiplicative", phi=3.18838)
    assert lower == pytest.approx(25 * (1 - 3.090232 * np.sqrt(3.18838) / 10) ** 2, rel=1e-6)
    assert upper == pytest.approx(25 * (1 + 3.090232 * np.sqrt(3.18838) / 10) ** 2, rel=1e-6)


# The second example, with the counts written out: one small provider, ZS1, 40,000 people and
# 1 counted RFD; nineteen of 300,000 with counts about 60 (Poisson at 20 per 100,000, adjusted so the
# total is round), which spread a little more than Poisson.
#   ΣO = 1 + 1147 = 1148, Σn = 40,000 + 19 × 300,000 = 5,740,000 -> θ = 20.0 per 100,000
#   ZS1: E = 8, rate 2.5 per 100,000, z = 2(1 − √8) = −3.65685; P(O <= 1) = 9 e^−8 = 0.302 %  > 0.1 %
#   exact 99.8 % lower: P(Y<=0) = 0.000335 < 0.001 <= P(Y<=1) = 0.003019 -> r = 1,
#        a = (0.003019 − 0.001) / 0.002684 = 0.7524 -> 0.2476 events = 0.6190 per 100,000: ZS1 is within
#   z sorted: −3.6569, −1.7806, −1.4919, … , 1.4786, 1.5961, 2.0580
#   10th percentile (position 1.9): −1.7806 + 0.9 × 0.2887 = −1.5208; 90th (position 17.1): 1.4786 + 0.1 × 0.1175 = 1.4904
#   φ = Σ winsorised z² / 20 = 22.0051 / 20 = 1.1003
#   τ²: w = 4E = 32 and 19 × 240; Σw = 4592, Σw² = 1024 + 19 × 57,600 = 1,095,424, Σw − Σw²/Σw = 4353.45
#       τ² = (20 × 1.1003 − 19) / 4353.45 = 3.0051 / 4353.45 = 0.00069028
#   Before the fix ZS1 was below under both adjustments, though within under exact limits:
#       multiplicative lower 8 × (1 − 3.09023 × √1.1003 / (2√8))² = 1.4586 events = 3.646 per 100,000
#       additive lower       8 × (1 − 3.09023 × √(1/32 + 0.00069028))² = 1.6036 events = 4.009 per 100,000
#   Now the lower limit is min(exact, adjusted) = 0.6190 per 100,000 under both: ZS1 is within.
SMALL_AND_NINETEEN = [("ZS1", 1, 40_000)] + [
    (f"ZP{i:02d}", count, 300_000)
    for i, count in enumerate([47, 49, 52, 53, 53, 55, 55, 56, 57, 58, 59, 61, 64, 64, 70, 72, 72, 73, 77], 1)
]


def small_and_nineteen() -> pd.DataFrame:
    return pd.DataFrame(SMALL_AND_NINETEEN, columns=["provider_code", "spells", "population"])


@pytest.mark.parametrize("mode", ["multiplicative", "additive"])
def test_a_small_provider_within_the_exact_limits_stays_within_when_adjusted(mode):
    data = small_and_nineteen()
    assert data["spells"].sum() == 1148
    plain, adjusted = funnel(data), funnel(data, overdispersion=mode)
    small = adjusted.providers.set_index("provider_code").loc["ZS1"]
    assert adjusted.target == pytest.approx(20.0)
    assert (small["expected"], small["rate"], small["z"]) == (8.0, 2.5, pytest.approx(-3.65685, abs=1e-5))
    # P(O <= 1) = 0.30 %, above 0.1 %: within the exact 99.8 % limits.
    assert stats.poisson.cdf(1, 8) == pytest.approx(0.003019, abs=1e-6)
    assert adjusted.phi == pytest.approx(1.1003, abs=1e-4) and adjusted.adjusted
    if mode == "additive":
        assert adjusted.tau2 == pytest.approx(0.00069028, abs=1e-8)
    assert plain.providers.set_index("provider_code").loc["ZS1", "position_998"] == "within"
    assert small["lower_998"] == pytest.approx(0.6190, abs=1e-4)
    assert small["position_998"] == "within"
    assert adjusted.outside == {} and "never narrower than the exact Poisson limits" in adjusted.method
    # Every provider's limits, and the curve drawn, contain the exact ones at every level.
    for label in ("95", "998"):
        for table in ("providers", "curve"):
            exact, wide = getattr(plain, table), getattr(adjusted, table)
            assert (wide[f"lower_{label}"] <= exact[f"lower_{label}"] + 1e-12).all()
            assert (wide[f"upper_{label}"] >= exact[f"upper_{label}"] - 1e-12).all()
        # ... and where the adjustment is wider (the 300,000-people providers' upper limits) it stands.
        widened = adjusted.providers[f"upper_{label}"].iloc[1:] > plain.providers[f"upper_{label}"].iloc[1:]
        assert widened.all()


@settings(max_examples=300, deadline=None)
@given(
    expected=st.floats(min_value=0.1, max_value=1e4, exclude_min=True),
    phi=st.floats(min_value=1, max_value=100),
    tau2=st.floats(min_value=0, max_value=1),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.998]),
)
def test_adjusted_limits_always_contain_the_exact_limits(expected, phi, tau2, level):
    exact_lower, exact_upper = poisson_control_limits(expected, level)
    for lower, upper in (
        funnel_limits(expected, level, "multiplicative", phi=phi),
        funnel_limits(expected, level, "additive", tau2=tau2),
    ):
        assert lower <= exact_lower and upper >= exact_upper


# The chance that an in-control provider, O ~ Poisson(E), is outside given limits, at E = 10 and the
# 95 % limits 3.7752 .. 16.1600 (RA1's above, per 100,000 of its 100,000 people = events):
#   above: P(O > 16.16) = P(O >= 17) = 1 − P(O <= 16) = 1 − 0.972958 = 0.027042
#   below: P(O < 3.7752) = P(O <= 3) = e^−10 (1 + 10 + 50 + 166.667) = 0.010336
# A limit on a whole count: P(O > 16) is the same 0.027042; P(O < 4) the same 0.010336; a lower limit
# of 0 leaves nothing below.
def test_chances_outside_are_poisson_tail_sums():
    above, below = chances_outside(10, 3.7752, 16.16)
    assert above == pytest.approx(0.027042, abs=1e-6) and below == pytest.approx(0.010336, abs=1e-6)
    assert below == pytest.approx(np.exp(-10) * (1 + 10 + 50 + 1000 / 6), rel=1e-12)
    assert above == pytest.approx(1 - stats.poisson.pmf(np.arange(17), 10).sum(), rel=1e-9)
    above, below = chances_outside([10, 10], [4.0, 0.0], [16.0, 16.0])
    assert list(above) == pytest.approx([0.027042] * 2, abs=1e-6)
    assert list(below) == pytest.approx([0.010336, 0.0], abs=1e-6)


# The coverage table in rfd_lib/metrics/funnel.py's docstring, recomputed: medians over each grid of E
# of the chance above / below the exact limits and FunnelPlotR's chi-square ones, in %, to 2 decimals.
COVERAGE_GRIDS = {
    "1 to 50, step 0.01": np.arange(100, 5_000) / 100,  # 1.00, 1.01, ..., 49.99
    "500 to 5,000, step 0.1": np.arange(5_000, 50_001) / 10,  # 500.0, ..., 5000.0
}


def chi_square_limits(expected, level):
    p = (1 - level) / 2
    return stats.chi2.ppf(p, 2 * expected) / 2, stats.chi2.ppf(1 - p, 2 * expected + 2) / 2


def median_chances(expected, lower, upper) -> list[str]:
    return [f"{100 * np.median(chance):.2f}" for chance in chances_outside(expected, lower, upper)]


@pytest.mark.parametrize("level", [0.95, 0.998])
@pytest.mark.parametrize("grid", list(COVERAGE_GRIDS))
def test_the_docstrings_coverage_figures_are_what_the_poisson_distribution_gives(level, grid):
    expected = COVERAGE_GRIDS[grid]
    computed = median_chances(expected, *poisson_control_limits(expected, level))
    computed += median_chances(expected, *chi_square_limits(expected, level))
    label = f"{level * 100:g} %"
    row = re.search(
        rf"^\s*{re.escape(label)}\s+{re.escape(grid)}\s+([\d.]+) %\s+([\d.]+) %\s+([\d.]+) %\s+([\d.]+) %\s*$",
        funnel_module.__doc__,
        flags=re.MULTILINE,
    )
    assert row is not None, f"no row for {label}, {grid} in the docstring's table"
    assert list(row.groups()) == computed


def test_the_docstrings_other_spreads_of_small_expected_counts():
    # Whole E = 1 … 49 (the 3.1 % / 1.8 %) and 2,000 E log-spaced on [1, 50) (the old 3.4 % / 1.3 %).
    docstring = " ".join(funnel_module.__doc__.split())
    for expected, words in (
        (np.arange(1.0, 50.0), "whole ``E`` = 1 … 49 these limits give {} % above and {} % below at 95 %"),
        (np.geomspace(1, 50, 2_000, endpoint=False), "2,000 ``E`` log-spaced on [1, 50), {} % and {} %"),
    ):
        above, below = median_chances(expected, *poisson_control_limits(expected, 0.95))
        assert words.format(above, below) in docstring


# No overdispersion: counts close to expected. θ = 100 / 1,000,000 again; z = 2(√O − √E):
#   RA1 11 vs 10: 2(3.31662 − 3.16228) = 0.30869     RB2 19 vs 20: 2(4.35890 − 4.47214) = −0.22648
#   RC3 21 vs 20: 2(4.58258 − 4.47214) =  0.22088    RD4 24 vs 25: 2(4.89898 − 5)       = −0.20204
#   RE5 25 vs 25: 0
#   sorted: −0.22647, −0.20204, 0, 0.22088, 0.30869
#   10th percentile: −0.22647 + 0.4 × 0.02443 = −0.21670;  90th: 0.22088 + 0.6 × 0.08781 = 0.27357
#   winsorised: 0.27357, −0.21670, 0.22088, −0.20204, 0
#   φ = (0.07484 + 0.04696 + 0.04879 + 0.04082 + 0) / 5 = 0.21141 / 5 = 0.04228 ≤ 1
CALM = [
    ("RA1", 11, 100_000),
    ("RB2", 19, 200_000),
    ("RC3", 21, 200_000),
    ("RD4", 24, 250_000),
    ("RE5", 25, 250_000),
]


@pytest.mark.parametrize("mode", ["multiplicative", "additive"])
def test_without_overdispersion_the_exact_limits_are_unchanged(mode):
    calm = pd.DataFrame(
        {
            "provider_code": [r[0] for r in CALM],
            "spells": [r[1] for r in CALM],
            "population": [r[2] for r in CALM],
        }
    )
    plain, adjusted = funnel(calm), funnel(calm, overdispersion=mode)
    assert adjusted.phi == pytest.approx(0.04228, abs=1e-5)
    assert not adjusted.adjusted
    assert adjusted.tau2 == (0.0 if mode == "additive" else None)
    limit_columns = [c for c in plain.providers.columns if c.startswith(("lower_", "upper_"))]
    pd.testing.assert_frame_equal(adjusted.providers[limit_columns], plain.providers[limit_columns])
    pd.testing.assert_frame_equal(adjusted.curve, plain.curve)
    assert "not widened" in adjusted.method


def test_suppressed_counts_and_unknown_populations_are_excluded_and_named():
    data = worked(("RF6", None, 300_000), ("ZX9", 7, None), ("RG7", None, None))
    result = funnel(data)
    assert result.excluded == {
        "RF6": "count suppressed",
        "ZX9": "no population",
        "RG7": "count suppressed; no population",
    }
    assert list(result.providers["provider_code"]) == ["RA1", "RB2", "RC3", "RD4", "RE5"]
    assert result.target == pytest.approx(10.0)  # the excluded do not enter the peer rate


def test_funnel_takes_the_output_of_rates():
    from rfd_lib.metrics.rates import rates

    table = pd.DataFrame(
        {"provider_code": [r[0] for r in WORKED] + ["ZX9"], "spells": [r[1] for r in WORKED] + [3]}
    )
    populations = pd.DataFrame(
        {"provider_code": [r[0] for r in WORKED], "catchment_population": [r[2] for r in WORKED]}
    )
    result = funnel(rates(table, populations))
    assert result.outside == {"RC3": "above", "RD4": "below"}
    assert result.excluded == {"ZX9": "no population"}


def test_all_zero_counts_give_a_flat_funnel_at_zero():
    data = pd.DataFrame({"provider_code": ["RA1", "RB2"], "spells": [0, 0], "population": [1_000, 2_000]})
    for mode in ("none", "multiplicative", "additive"):
        result = funnel(data, overdispersion=mode)
        assert result.target == 0.0 and result.outside == {}
        assert (result.curve.drop(columns="population") == 0).all().all()


@pytest.mark.parametrize(
    ("kwargs", "data", "words"),
    [
        (
            {"overdispersion": "quadratic"},
            None,
            "overdispersion must be one of none, multiplicative, additive",
        ),
        ({"levels": (0.95, 1.0)}, None, "strictly between 0 and 1"),
        ({"levels": (0.0,)}, None, "strictly between 0 and 1"),
        ({"levels": ()}, None, "non-empty"),
        ({"levels": 0.95}, None, "non-empty sequence"),
        ({"levels": (0.95, 0.95)}, None, "differ"),
        ({"winsorise": 0.5}, None, "winsorise"),
        ({"per": -1}, None, "per must be above 0"),
        ({}, worked(("RF6", -3, 100_000)), "negative"),
        ({}, worked().assign(spells=[10, 20, 40, 5, 2.5]), "whole numbers"),
        ({}, worked(("RF6", 3, 0)), "populations must be above 0"),
        ({}, worked(("RA1", 3, 100_000)), "more than one row"),
        ({}, worked().drop(columns="population"), "no column 'population'"),
        ({}, worked().assign(spells=pd.array([None] * 5, dtype="Int64")), "no provider has both"),
        ({"overdispersion": "additive"}, worked().iloc[:1], "at least two providers"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, data, words):
    with pytest.raises(ValueError, match=words):
        funnel(worked() if data is None else data, **kwargs)


def test_other_levels_and_denominators():
    result = funnel(worked(), levels=(0.9,), per=1_000)
    assert result.target == pytest.approx(0.1)
    assert (
        level_label(0.9) == "90" and "lower_90" in result.providers and "position_998" not in result.providers
    )
    assert result.per_label == "per 1,000"
    assert result.outside == {"RC3": "above", "RD4": "below"}


def test_format_rate_keeps_three_significant_figures():
    assert [format_rate(v) for v in (12.345, 2.0, 0.04567, 1234.5, 0.0)] == [
        "12.3",
        "2.00",
        "0.0457",
        "1,234",
        "0",
    ]


def labels_positions(axes) -> dict[str, tuple[float, float]]:
    return {text.get_text(): tuple(round(v, 6) for v in text.xy) for text in axes.texts}


def test_chart_shows_the_limits_the_outliers_and_says_so_in_words():
    result = funnel(worked(("RF6", None, 300_000)))
    chart = funnel_chart(result, period_label="2025/26 Q1")
    assert isinstance(chart, Chart)
    axes = chart.figure.axes[0]

    assert "2025/26 Q1" in chart.title and "2 of 5 providers outside the 99.8 % limits" in chart.title
    assert axes.get_title(loc="left").replace("\n", " ") == chart.title
    assert axes.get_xlabel() == "Catchment population (thousands of people)"
    assert axes.get_ylabel() == "RFD spells per 100,000 population"

    limits = [line for line in axes.get_lines() if (line.get_gid() or "").startswith("limit-")]
    assert len(limits) == 4
    styles = {line.get_gid(): line.get_linestyle() for line in limits}
    assert styles["limit-95-upper"] == styles["limit-95-lower"] == "--"
    assert styles["limit-998-upper"] == styles["limit-998-lower"] == "-"
    target = [line for line in axes.get_lines() if line.get_gid() == "target"]
    assert len(target) == 1 and target[0].get_ydata()[0] == pytest.approx(10.0)

    labels = {text.get_gid(): text.get_text() for text in axes.texts}
    assert labels == {"label-RC3": "RC3", "label-RD4": "RD4"}  # only those outside the 99.8 % limits
    assert labels_positions(axes) == {"RC3": (200.0, 20.0), "RD4": (250.0, 2.0)}  # x in thousands

    legend_texts = [text.get_text() for text in chart.figure.legends[0].get_texts()]
    assert legend_texts[:3] == ["99.8 % limits", "95 % limits", "Peer rate, 10.0 per 100,000"]
    assert "Above the 99.8 % limits" in legend_texts and "Below the 99.8 % limits" in legend_texts

    caption = chart.caption
    assert "Above the 99.8 % limits: RC3 (20.0 per 100,000)." in caption
    assert "Below the 99.8 % limits: RD4 (2.00 per 100,000)." in caption
    assert "peer rate, 10.0 per 100,000" in caption and result.method in caption
    assert "dashed lines the 95 % limits and solid lines the 99.8 % limits" in caption
    assert "Not shown: RF6 (count suppressed)." in caption
    assert chart.alt_text == f"{chart.title}. {caption}"

    assert chart.figure.get_size_inches()[0] == pytest.approx(6.7)
    assert chart.png().startswith(b"\x89PNG")


def test_chart_without_outliers_says_none_are_outside():
    calm = pd.DataFrame(
        {
            "provider_code": [r[0] for r in CALM],
            "spells": [r[1] for r in CALM],
            "population": [r[2] for r in CALM],
        }
    )
    chart = funnel_chart(
        funnel(calm, overdispersion="multiplicative"), title="RFD by catchment", period_label="2025/26 Q2"
    )
    assert chart.title == "RFD by catchment"
    assert not chart.figure.axes[0].texts
    assert "No provider is outside the 99.8 % limits." in chart.caption
    assert "not widened" in chart.caption and "2025/26 Q2" in chart.caption
    points = [c for c in chart.figure.axes[0].collections if c.get_offsets().shape[0]]
    assert sum(c.get_offsets().shape[0] for c in points) == 5
