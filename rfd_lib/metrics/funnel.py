"""Funnel-plot statistics: providers' rates against the peer rate, with exact Poisson limits.

Each provider ``i`` has ``O_i`` events (RFD spells) among ``n_i`` people (its catchment). The
target is the peer rate θ = ΣO / Σn, pooled over the providers compared (shown per ``per``
people), and provider ``i`` expects ``E_i = θ n_i`` events if it were like its peers.

Limits without adjustment: exact Poisson, interpolated
    Spiegelhalter (2005a) "Funnel plots for comparing institutional performance", Stat Med
    24:1185, appendix on discrete data: for tail probability ``p`` take the Poisson quantile
    ``r_p`` (the smallest ``r`` with ``P(Y ≤ r) ≥ p`` for ``Y ~ Poisson(E)``), then interpolate
    between whole counts with ``a = (P(Y ≤ r_p) − p) / P(Y = r_p)``; the limit is ``(r_p − a)``
    events, or ``(r_p − a) / n`` as a rate, with ``p = (1 − level)/2`` for the lower and ``(1 + level)/2``
    for the upper limit. The limits are continuous in ``n``; a lower limit below 0 is 0.
    This is a *prediction* interval for a provider at the target, which is what a funnel asks.
    A provider is "above" a level when its rate is strictly above the upper limit at its own
    population, "below" when strictly below the lower limit, "within" otherwise.

    NHS-R's FunnelPlotR draws instead, as its unadjusted limits, the chi-square (Garwood)
    *confidence* interval of a count equal to ``E``: ``chi2.ppf(p, 2E)/2`` and
    ``chi2.ppf(1 − p, 2E + 2)/2``. Both are called "exact Poisson", but that one answers another
    question (where the mean could be, had ``E`` events been seen) and lies above the prediction
    interval at both ends, so an in-control provider falls above it too rarely and below it too
    often (Seaton & Manktelow 2012, BMC Med Res Methodol 12:98).

Coverage: no limit of a discrete count is exact
    :func:`chances_outside` gives, from the Poisson distribution itself (no simulation), the
    chance that an in-control provider (``O ~ Poisson(E)``) is strictly above and strictly below
    given limits. The medians over ``E`` evenly spaced on a grid, for these limits and for the
    chi-square ones (``tests/spec/test_funnel.py`` recomputes every figure of this table)::

        level   E                        these: above  below   chi-square: above  below
        95 %    1 to 50, step 0.01               3.09 %  1.86 %               1.20 %  3.25 %
        95 %    500 to 5,000, step 0.1           2.56 %  2.44 %               2.34 %  2.56 %
        99.8 %  1 to 50, step 0.01               0.13 %  0.06 %               0.02 %  0.28 %
        99.8 %  500 to 5,000, step 0.1           0.10 %  0.10 %               0.09 %  0.11 %

    (nominal: 2.5 % and 0.1 % a side). Below ``E`` = 50 the chance is a saw-tooth in ``E``, so a
    median depends on how ``E`` is spread: over whole ``E`` = 1 … 49 these limits give 3.09 % above
    and 1.83 % below at 95 % (the "3.1 % / 1.8 %" of rfd-audit issue 12); over 2,000 ``E``
    log-spaced on [1, 50), 3.39 % and 1.31 % (the "3.4 % / 1.3 %" this docstring once gave without
    saying so). However ``E`` under 50 is spread, these limits are the closer to nominal at both
    ends; from ``E`` = 500 on both are within 0.2 percentage points of it. These are the limits
    the paper gives.

Overdispersion
    Spiegelhalter (2005b) "Handling over-dispersion of performance indicators", Qual Saf Health
    Care 14:347. On the square-root scale of the ratio to the peer rate,
    ``Y_i = sqrt(O_i / E_i)`` has target 1 and standard error ``s_i = 1 / (2 sqrt(E_i))``
    whatever the rate (a variance-stabilising transform, which the paper recommends for counts),
    so the z-score is ``z_i = (Y_i − 1) / s_i = 2 (sqrt(O_i) − sqrt(E_i))``.

    Winsorisation: the z-scores below their ``winsorise`` quantile (10 % by default) are set to
    that quantile and those above the ``1 − winsorise`` quantile to that one (quantiles by linear
    interpolation, R's and numpy's default, as FunnelPlotR's), so a few extreme providers do not
    by themselves make everyone look overdispersed. ``φ = mean(winsorised z²)`` over the ``I``
    providers compared.

    Additive (random effects, DerSimonian-Laird; the default): with weights
    ``w_i = 1 / s_i² = 4 E_i``, ``τ² = max(0, (I φ − (I − 1)) / (Σw − Σw² / Σw))`` and the
    adjusted limits are ``θ (1 ± z_α sqrt(s² + τ²))²``. When ``τ² = 0`` the exact Poisson limits
    stand unchanged. ``τ²`` is on the square-root scale of the ratio to the peer rate, so it does
    not depend on ``per``: ``sqrt(τ²)`` is roughly half the between-provider coefficient of
    variation.

    Multiplicative: when ``φ > 1`` the adjusted limits are ``θ (1 ± z_α sqrt(φ) s)²``. When
    ``φ ≤ 1`` the data are not overdispersed and the exact Poisson limits stand unchanged.

    In both, an adjusted lower limit whose ``1 − z_α (…)`` is below 0 is 0, and ``z_α`` is the
    normal quantile of ``(1 + level)/2`` (1.96 for 95 %, 3.09 for 99.8 %).

Never narrower than the exact Poisson limits
    The limits drawn and judged are the adjusted ones widened, where needed, to the exact ones:
    ``lower = min(exact, adjusted)`` and ``upper = max(exact, adjusted)`` at every population,
    for each provider's own limits (hence its position) and for the curve (:func:`funnel_limits`).
    An allowance for overdispersion says providers vary *more* than Poisson, so it must not give
    limits narrower than Poisson's. Yet the adjusted limits are normal limits on the square-root
    scale, and for a skewed, discrete count they put the lower limit above the exact one at most
    ``E`` even when φ is barely above 1: at φ = 1.01 and ``E`` = 10 the 99.8 % lower limit would
    move from 1.22 to 2.59 events, and the chance that an in-control provider falls below it from
    0.05 % to 0.28 %. Taking the wider of the two at each end keeps what the adjustment is for
    (wider limits where the spread between providers is larger than chance) and never flags a
    provider the exact limits would not: a provider outside is outside both. Both limits are
    continuous in the population, so the curve stays continuous too. With multiplicative φ a
    provider is therefore outside a level exactly when ``|z_i| / sqrt(φ) > z_α`` *and* it is
    outside the exact limits.

The default, and what FunnelPlotR does
    FunnelPlotR 0.6.0 (NHS-R, ``R/funnel_plot.R``, ``R/od_adjustment.R``,
    ``R/calculate_limits.R``) has no multiplicative method: ``funnel_plot()`` defaults to
    ``data_type = "SR"``, ``sr_method = "SHMI"``, ``draw_adjusted = TRUE``, ``trim_by = 0.1``
    and ``limit = 99`` (99.8 %). "SHMI" (NHS Digital's SHMI method) takes ``z = sqrt(E) log(O/E)``
    on the log scale, *truncates* (leaves out, by rank, rather than winsorising) about the 10 %
    of z-scores at each end, computes φ over the rest, then τ² as above with ``s = 1 / sqrt(E)``,
    and draws ``exp(± z_α sqrt(1/E + τ²))`` around a ratio of 1 (``E`` rounded to two decimals
    first, by default).
    ``sr_method = "CQC"`` takes the square-root-scale z-scores and 10 % winsorisation used here,
    the same τ², and draws ``1 ± z_α sqrt(s² + τ²)`` (not squared back to the ratio scale as
    Spiegelhalter 2005b does, and as here). In both, φ only decides whether to adjust (φ > 1;
    otherwise the chi-square limits are drawn) and feeds τ²: the adjustment is always additive.

    The default here is the additive τ² on the square-root scale. Spiegelhalter (2005b) finds
    both approaches workable but the additive random-effects one to have "a stronger conceptual
    foundation" (the Healthcare Commission adopted it), and FunnelPlotR's two methods, named for
    the SHMI's and the CQC's, both add τ². It also fits RFD: providers differ in policy and
    practice, a between-provider spread of the true rate that does not shrink as a catchment
    grows. The multiplicative φ scales each provider's Poisson variance instead, so its limits
    still close in on the peer rate as populations grow and would flag the largest providers for
    ordinary differences between providers. The square-root scale rather than SHMI's log scale
    because a provider with no counted RFD in a quarter has ``log 0`` (FunnelPlotR gives it
    z = −∞), while ``sqrt`` is defined at 0 and stabilises a Poisson count's variance. With some
    20 providers τ² is imprecise: the winsorising limits how much the few providers an audit
    looks for (the heaviest users) set it, and the exact floor keeps an underestimate from ever
    narrowing the limits. ``"multiplicative"`` and ``"none"`` remain as options
    (``funnel_overdispersion`` in ``params/expectations.yaml``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfd_lib.metrics.rates import _check_level, _counts_array

__all__ = [
    "FunnelResult",
    "additive_tau2",
    "chances_outside",
    "format_rate",
    "funnel",
    "funnel_limits",
    "level_label",
    "poisson_control_limits",
    "winsorised_phi",
]

OVERDISPERSION = ("none", "multiplicative", "additive")
CURVE_POINTS = 200


POSITION_WORDS = {"above": "above the limits", "below": "below the limits"}


@dataclass(frozen=True)
class FunnelResult:
    """What :func:`funnel` found, with everything a report or :func:`funnel_chart` needs.

    Fields:

    * ``target`` — the peer rate per ``per`` people: all providers' events over all their people.
    * ``per`` — rates are per this many people (100,000).
    * ``levels`` — the limit levels, e.g. ``(0.95, 0.998)``; the widest decides ``outside``.
    * ``overdispersion`` — ``"none"``, ``"multiplicative"`` or ``"additive"``, as asked.
    * ``winsorise`` — the share of z-scores winsorised at each end to estimate ``phi``.
    * ``phi`` — the overdispersion ratio φ (``None`` with ``overdispersion="none"``).
    * ``tau2`` — the between-provider variance τ² (only with ``overdispersion="additive"``).
    * ``adjusted`` — whether the adjustment applied (φ > 1, or τ² > 0): the limits are then the
      adjusted ones, widened to the exact Poisson limits wherever those are wider.
    * ``method`` — one sentence for the report naming the limits and the adjustment.
    * ``providers`` — one row per provider compared: ``provider_code``, ``count``, ``population``,
      ``rate`` (per ``per``), ``expected`` (events at the peer rate), ``z`` (unadjusted, square-root
      scale), and for each level, labelled as :func:`level_label` does (``95``, ``998``):
      ``lower_95`` / ``upper_95`` (the rate limits at the provider's population) and
      ``position_95``: ``"above"``, ``"below"`` or ``"within"``. Never narrower than the exact
      Poisson limits (see the module docstring).
    * ``outside`` — provider code → ``"above"`` or ``"below"`` for those outside the widest
      limits, those above first, each side from the most extreme rate.
    * ``curve`` — the limits to draw: ``population`` (about 200 points, log-spaced from the
      smallest to the largest population) and ``lower_95``, ``upper_95``, … per ``per`` people,
      by the same rule as the providers' own limits.
    * ``excluded`` — provider code → why it is not compared (``"count suppressed"``,
      ``"no population"``, or both): never dropped silently.
    """

    target: float
    per: float
    levels: tuple[float, ...]
    overdispersion: str
    winsorise: float
    phi: float | None
    tau2: float | None
    adjusted: bool
    method: str
    providers: pd.DataFrame
    outside: dict[str, str]
    curve: pd.DataFrame
    excluded: dict[str, str]

    def position(self, code: str) -> str:
        """Return where provider ``code`` sits on the funnel plot, in words a report prints."""
        if code in self.excluded:
            return f"not compared ({self.excluded[code]})"
        return POSITION_WORDS.get(self.outside.get(code, ""), "within the limits")

    @property
    def widest(self) -> float:
        """Return the widest level, the one whose limits decide ``outside``."""
        return max(self.levels)

    @property
    def per_label(self) -> str:
        """Return the words for the rates' unit, e.g. ``"per 100,000"``."""
        return f"per {_people(self.per)}"


def level_label(level: float) -> str:
    """Return the column suffix of ``level``: ``"95"`` for 0.95, ``"998"`` for 0.998."""
    return f"{level * 100:g}".replace(".", "")


def format_rate(value: float) -> str:
    """Return ``value`` as text with three significant figures and no exponent (``"12.3"``)."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def poisson_control_limits(expected: object, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the exact Poisson funnel limits, in events, for providers expecting ``expected``.

    ``(lower, upper)`` float arrays shaped like ``expected``: Spiegelhalter's (2005a) interpolated
    quantiles of Poisson(``expected``) at ``(1 − level)/2`` and ``(1 + level)/2`` (see the module
    docstring), never below 0. ``NaN`` expected gives ``NaN``. Raises ``ValueError`` if ``level``
    is not strictly between 0 and 1 or an expected count is negative.
    """
    _check_level(level)
    mean = np.asarray(expected, dtype=float)
    if (mean[~np.isnan(mean)] < 0).any():
        raise ValueError("expected counts cannot be negative")
    return _interpolated_quantile(mean, (1 - level) / 2), _interpolated_quantile(mean, (1 + level) / 2)


def funnel_limits(
    expected: object,
    level: float,
    overdispersion: str = "none",
    *,
    phi: float | None = None,
    tau2: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the funnel's limits, in events, for providers expecting ``expected`` events.

    ``(lower, upper)`` float arrays shaped like ``expected``. With ``overdispersion="none"``, or
    ``"multiplicative"`` with ``phi`` ≤ 1, or ``"additive"`` with ``tau2`` = 0, they are the
    exact Poisson limits (:func:`poisson_control_limits`). Otherwise they are the limits
    adjusted for overdispersion on the square-root scale, ``E (1 ± z_α sqrt(φ) / (2 sqrt(E)))²``
    or ``E (1 ± z_α sqrt(1 / (4E) + τ²))²``, but never narrower than the exact ones: the lower
    limit is the smaller of the two and the upper the larger (see the module docstring). Raises
    ``ValueError`` for an unknown ``overdispersion``, a missing or negative ``phi`` / ``tau2``
    for the adjustment asked, a ``level`` not strictly between 0 and 1, or a negative expected
    count.
    """
    if overdispersion not in OVERDISPERSION:
        raise ValueError(f"overdispersion must be one of {', '.join(OVERDISPERSION)}, not {overdispersion!r}")
    exact_lower, exact_upper = poisson_control_limits(expected, level)
    mean = np.asarray(expected, dtype=float)
    if overdispersion == "multiplicative":
        if phi is None or not phi >= 0:
            raise ValueError(f"multiplicative limits need phi of at least 0, not {phi!r}")
        if phi <= 1:
            return exact_lower, exact_upper
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = np.sqrt(phi) / (2 * np.sqrt(mean))
    elif overdispersion == "additive":
        if tau2 is None or not tau2 >= 0:
            raise ValueError(f"additive limits need tau2 of at least 0, not {tau2!r}")
        if tau2 == 0:
            return exact_lower, exact_upper
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = np.sqrt(1 / (4 * mean) + tau2)
    else:
        return exact_lower, exact_upper
    from scipy import stats

    z = stats.norm.ppf((1 + level) / 2)
    # E = 0 gives an infinite spread: the adjusted lower limit 0, the upper NaN, which fmax skips.
    with np.errstate(invalid="ignore"):
        adjusted_lower = mean * np.maximum(1 - z * spread, 0) ** 2
        adjusted_upper = mean * (1 + z * spread) ** 2
    return np.fmin(exact_lower, adjusted_lower), np.fmax(exact_upper, adjusted_upper)


def chances_outside(expected: object, lower: object, upper: object) -> tuple[np.ndarray, np.ndarray]:
    """Return the chances that an in-control provider falls strictly above / below the limits.

    ``(above, below)`` float arrays broadcast from the arguments: for ``O ~ Poisson(expected)``,
    ``P(O > upper) = 1 − P(O ≤ floor(upper))`` and ``P(O < lower) = P(O ≤ ceil(lower) − 1)``
    (0 when ``lower`` ≤ 0), exactly from the Poisson distribution, no simulation; ``lower`` and
    ``upper`` are in events, as :func:`poisson_control_limits` and :func:`funnel_limits` give
    them. Raises ``ValueError`` if an expected count is negative.
    """
    from scipy import stats

    mean = np.asarray(expected, dtype=float)
    if (mean[~np.isnan(mean)] < 0).any():
        raise ValueError("expected counts cannot be negative")
    above = stats.poisson.sf(np.floor(np.asarray(upper, dtype=float)), mean)
    below_count = np.ceil(np.asarray(lower, dtype=float)) - 1
    below = np.where(below_count < 0, 0.0, stats.poisson.cdf(np.maximum(below_count, 0), mean))
    return np.asarray(above, dtype=float), np.asarray(below, dtype=float)


def winsorised_phi(z: object, winsorise: float = 0.10) -> float:
    """Return the overdispersion ratio φ: the mean square of the winsorised z-scores ``z``.

    The z-scores below the ``winsorise`` quantile are set to it, those above the
    ``1 − winsorise`` quantile to that (linear interpolation between order statistics, as R's
    ``quantile`` and FunnelPlotR). Raises ``ValueError`` if ``z`` is empty or has a missing value,
    or ``winsorise`` is not in [0, 0.5).
    """
    _check_winsorise(winsorise)
    scores = np.asarray(z, dtype=float).ravel()
    if scores.size == 0 or np.isnan(scores).any():
        raise ValueError("phi needs at least one z-score and no missing ones")
    low, high = np.quantile(scores, [winsorise, 1 - winsorise])
    return float(np.mean(np.clip(scores, low, high) ** 2))


def additive_tau2(phi: float, s: object) -> float:
    """Return the between-provider variance τ² for ratio ``phi`` and standard errors ``s``.

    ``τ² = max(0, (I φ − (I − 1)) / (Σw − Σw²/Σw))`` with ``w = 1/s²`` over the ``I`` providers
    (Spiegelhalter 2005b; DerSimonian and Laird's moment estimator). Raises ``ValueError`` if a
    standard error is not above 0, or if τ² would be positive but fewer than two providers give
    the spread needed to estimate it.
    """
    errors = np.asarray(s, dtype=float).ravel()
    if errors.size == 0 or not (errors > 0).all():
        raise ValueError("tau2 needs standard errors above 0")
    excess = errors.size * phi - (errors.size - 1)
    if excess <= 0:
        return 0.0
    w = 1 / errors**2
    spread = w.sum() - (w**2).sum() / w.sum()
    if spread <= 0:
        raise ValueError("tau2 needs at least two providers")
    return float(excess / spread)


def funnel(
    data: pd.DataFrame,
    *,
    count: str = "spells",
    population: str = "population",
    per: float = 100_000,
    levels: Sequence[float] = (0.95, 0.998),
    overdispersion: str = "none",
    winsorise: float = 0.10,
) -> FunnelResult:
    """Return the funnel-plot statistics of the providers in ``data`` (see :class:`FunnelResult`).

    ``data`` has one row per provider: ``provider_code``, the ``count`` column (whole numbers;
    ``<NA>`` if suppressed) and the ``population`` column (``<NA>`` if unknown), as
    :func:`rfd_lib.metrics.rates.rates` returns them. Rows with a missing count or population are left
    out of every statistic and listed in ``excluded``. ``overdispersion`` is ``"none"``,
    ``"multiplicative"`` (φ) or ``"additive"`` (τ²), estimated from z-scores winsorised by
    ``winsorise`` at each end. Raises ``ValueError`` for an unknown ``overdispersion``, a level
    not strictly between 0 and 1, a missing column, a blank or repeated provider code, a count
    that is negative or fractional, a population not above 0, ``per`` not above 0, no provider
    left to compare, or an adjustment asked for with fewer than two providers.
    """
    levels = _check_levels(levels)
    if overdispersion not in OVERDISPERSION:
        raise ValueError(f"overdispersion must be one of {', '.join(OVERDISPERSION)}, not {overdispersion!r}")
    _check_winsorise(winsorise)
    if not per > 0:
        raise ValueError(f"per must be above 0, not {per!r}")
    missing = [name for name in ("provider_code", count, population) if name not in data.columns]
    if missing:
        raise ValueError(f"data has no column {', '.join(map(repr, missing))}")
    codes = data["provider_code"]
    if codes.isna().any():
        raise ValueError(f"data has {int(codes.isna().sum())} row(s) without a provider_code")
    if codes.duplicated().any():
        raise ValueError(
            f"provider {codes[codes.duplicated()].iloc[0]} has more than one row: "
            "a funnel compares one total per provider, so add up the rows first"
        )

    events = _counts_array(data[count], f"column {count!r}")
    people = pd.to_numeric(data[population]).to_numpy(dtype=float, na_value=np.nan)
    if (people[~np.isnan(people)] <= 0).any():
        raise ValueError(f"column {population!r}: populations must be above 0")
    suppressed, unknown = np.isnan(events), np.isnan(people)
    keep = ~(suppressed | unknown)
    reason = np.where(
        suppressed & unknown,
        "count suppressed; no population",
        np.where(suppressed, "count suppressed", "no population"),
    )
    excluded = dict(zip(codes[~keep].astype(str), reason[~keep].tolist(), strict=True))
    if not keep.any():
        raise ValueError("no provider has both a count and a population to compare")
    if overdispersion != "none" and keep.sum() < 2:
        raise ValueError("an overdispersion adjustment needs at least two providers")

    observed, n = events[keep], people[keep]
    theta = observed.sum() / n.sum()
    expected = theta * n
    z = 2 * (np.sqrt(observed) - np.sqrt(expected))
    phi = tau2 = None
    if overdispersion != "none":
        phi = winsorised_phi(z, winsorise)
    if overdispersion == "additive":
        # theta > 0 whenever tau2 can be positive: all-zero counts give z = 0 and phi = 0.
        tau2 = additive_tau2(phi, 1 / (2 * np.sqrt(expected))) if theta > 0 else 0.0
    adjusted = (phi is not None and overdispersion == "multiplicative" and phi > 1) or bool(tau2)

    providers = pd.DataFrame(
        {
            "provider_code": codes[keep].to_numpy(),
            "count": pd.array(observed.astype("int64"), dtype="Int64"),
            "population": data[population].array[keep],
            "rate": observed / n * per,
            "expected": expected,
            "z": z,
        }
    )
    providers["provider_code"] = providers["provider_code"].astype("string")
    grid = np.geomspace(n.min(), n.max(), CURVE_POINTS)
    curve = pd.DataFrame({"population": grid})
    for level in levels:
        label = level_label(level)
        lower, upper = _rate_limits(theta, n, level, overdispersion, phi, tau2)
        providers[f"lower_{label}"] = lower * per
        providers[f"upper_{label}"] = upper * per
        providers[f"position_{label}"] = pd.Series(
            np.select([observed / n > upper, observed / n < lower], ["above", "below"], "within"),
            dtype="string",
        )
        curve_lower, curve_upper = _rate_limits(theta, grid, level, overdispersion, phi, tau2)
        curve[f"lower_{label}"] = curve_lower * per
        curve[f"upper_{label}"] = curve_upper * per

    position = providers[f"position_{level_label(max(levels))}"]
    above = providers[position == "above"].sort_values("rate", ascending=False, kind="stable")
    below = providers[position == "below"].sort_values("rate", kind="stable")
    outside = dict.fromkeys(above["provider_code"].astype(str), "above") | dict.fromkeys(
        below["provider_code"].astype(str), "below"
    )
    target = float(theta * per)
    return FunnelResult(
        target=target,
        per=per,
        levels=levels,
        overdispersion=overdispersion,
        winsorise=winsorise,
        phi=phi,
        tau2=tau2,
        adjusted=adjusted,
        method=_method(target, per, levels, overdispersion, winsorise, phi, tau2, adjusted),
        providers=providers,
        outside=outside,
        curve=curve,
        excluded=excluded,
    )


def _interpolated_quantile(mean: np.ndarray, p: float) -> np.ndarray:
    """Return Spiegelhalter's interpolated ``p`` quantile of Poisson(``mean``), at least 0."""
    from scipy import stats  # imported when used: report kernels only draw funnels, quickly

    r = stats.poisson.ppf(p, mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (stats.poisson.cdf(r, mean) - p) / stats.poisson.pmf(r, mean)
    # Rounding in the cdf can put the share a hair outside [0, 1]; the limit must stay between
    # r - 1 and r so that it is continuous in the mean.
    return np.maximum(r - np.clip(share, 0, 1), 0)


def _rate_limits(
    theta: float, n: np.ndarray, level: float, overdispersion: str, phi: float | None, tau2: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the lower and upper limits at populations ``n`` as rates per person (:func:`funnel_limits`)."""
    lower, upper = funnel_limits(theta * n, level, overdispersion, phi=phi, tau2=tau2)
    return lower / n, upper / n


def _method(
    target: float,
    per: float,
    levels: tuple[float, ...],
    overdispersion: str,
    winsorise: float,
    phi: float | None,
    tau2: float | None,
    adjusted: bool,
) -> str:
    """Return the sentence that names the limits and the adjustment, for the report."""
    which = " and ".join(f"{level * 100:g} %" for level in levels)
    around = f"around the peer rate of {format_rate(target)} per {_people(per)}"
    exact = f"{which} exact Poisson limits {around} (Spiegelhalter 2005, interpolated between whole counts)"
    scores = f"{winsorise * 100:g} %-winsorised z-scores on the square-root scale"
    if overdispersion == "none":
        return f"{exact}, not adjusted for overdispersion."
    floor = "never narrower than the exact Poisson limits"
    if overdispersion == "multiplicative":
        if adjusted:
            return (
                f"{which} limits {around}, widened for overdispersion by the square root of the "
                f"multiplicative factor φ = {phi:.2f} (from {scores}; Spiegelhalter 2005) and {floor}."
            )
        return f"{exact}; not widened, as the data are not overdispersed (φ = {phi:.2f} ≤ 1, from {scores})."
    if adjusted:
        return (
            f"{which} random-effects limits {around}, allowing for overdispersion with the additive "
            f"between-provider variance τ² = {tau2:.3g} (from φ = {phi:.2f} of {scores}; Spiegelhalter 2005) "
            f"and {floor}."
        )
    return f"{exact}; not widened, as the between-provider variance τ² is 0 (φ = {phi:.2f}, from {scores})."


def _people(per: float) -> str:
    return f"{int(per):,}" if float(per).is_integer() else f"{per:,}"


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    if isinstance(levels, str | bytes) or not isinstance(levels, Sequence) or len(levels) == 0:
        raise ValueError(f"levels must be a non-empty sequence such as (0.95, 0.998), not {levels!r}")
    for level in levels:
        _check_level(level)
    labels = [level_label(level) for level in levels]
    if len(set(labels)) != len(labels):
        raise ValueError(f"levels must differ from one another, not {tuple(levels)!r}")
    return tuple(float(level) for level in levels)


def _check_winsorise(winsorise: float) -> None:
    if not (isinstance(winsorise, int | float) and 0 <= winsorise < 0.5):
        raise ValueError(f"winsorise must be at least 0 and below 0.5 (e.g. 0.10), not {winsorise!r}")
