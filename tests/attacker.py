"""The attacker: reads a run's circulated table files and, for every suppressed count, finds every true value
consistent with all of them.

It plays a reader who has every file of ``reports/<name>/tables/`` (the reports show the same
figures), knows the disclosure rule (:mod:`rfd_lib.metrics.disclosure`) and knows how the audit's
counts relate to one another. Each true count it cannot see is an unknown whole number; what it
reads and what it knows become linear (in)equalities over them (how a cell is read, in
:func:`problem`, with :data:`DERIVED` and :data:`PRIMARY_ONLY`; and :data:`RELATIONS`, one line
each); then, for each suppressed cell, integer linear programming
(``scipy.optimize.milp``, HiGHS) decides which values are still possible. The unknowns fall
into small connected groups (a provider's quarter, or its repeat window), each solved on its own.

Soundness matters more than strength: every (in)equality here must hold for the true counts, or
the attacker would "find" a disclosure that is not there. :func:`truth_violations` checks that
the true counts (the same run's internal-mode files) satisfy all of them. A reading rule that
depends on how a figure was published (rounded, or worked out from other published figures) is
written so that it holds under the rule as it is and as it was before the figure was derived:
the attacker never assumes more than the files show.

To add a relation, add one line to :data:`RELATIONS`. The SPC charts' means, for instance, are
worked out from the true counts and published rounded: :class:`MeanOf` turns each into a bound on
the sum of its chart's true counts. Their limits (which give the mean moving range, a sum of
absolute differences) are not linear in the counts and are left to the guard in
:mod:`rfd_lib.metrics.spc_disclosure`, which proves each one against every value 1 … 7.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from rfd_lib.metrics.periods import quarter_bounds, quarter_range

THRESHOLD, ROUNDING = 7, 5
HALF = ROUNDING // 2  # a count published as p is p - 2 .. p + 2
LARGE = 1_000_000  # "no upper bound": no count in a table comes near it
# A cell's possible values are decided one by one, this many from its least; beyond, from its greatest.
EXACT_UP_TO = 8
KEYS = ["provider_code", "quarter"]
COUNT_TABLES = ("volumes", "waterfall", "checks", "intervals", "funnel", "spc")
RESTRICTION = re.compile(r"^restriction: ")


# --- the files -------------------------------------------------------------------------------


def read_figures(folder: str | Path) -> pd.DataFrame:
    """Return every row of every CSV in ``folder`` with its ``table`` (the file's name) and ``number``."""
    frames = []
    for path in sorted(Path(folder).glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(frame.assign(table=path.stem.removeprefix("INTERNAL-")))
    figures = pd.concat(frames, ignore_index=True)
    figures["suppressed"] = figures["suppressed"].eq("True")
    figures["number"] = pd.to_numeric(figures["value"].where(figures["value"].ne("")), errors="coerce")
    return figures


@dataclass(frozen=True)
class S:
    """A selection of count cells: a table, a measure (text, or a compiled pattern) and a statistic."""

    table: str
    measure: str | re.Pattern
    statistic: str = "count"

    def of(self, counts: pd.DataFrame) -> pd.DataFrame:
        rows = counts[(counts["table"] == self.table) & (counts["statistic"] == self.statistic)]
        if isinstance(self.measure, re.Pattern):
            return rows[rows["measure"].str.contains(self.measure)]
        return rows[rows["measure"] == self.measure]


# A constraint: lower <= sum(coefficient * unknown) <= upper, over the unknowns' ids.
Constraint = tuple[tuple[int, ...], tuple[float, ...], float, float]


def _le(small: Sequence[int], big: Sequence[int]) -> Constraint:
    """sum(small) <= sum(big)."""
    return (*_terms(small, big), -np.inf, 0.0)


def _eq(left: Sequence[int], right: Sequence[int]) -> Constraint:
    """sum(left) == sum(right)."""
    return (*_terms(left, right), 0.0, 0.0)


def _terms(plus: Sequence[int], minus: Sequence[int]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    ids = [*plus, *minus]
    return tuple(int(i) for i in ids), tuple([1.0] * len(plus) + [-1.0] * len(minus))


def _joined(left: pd.DataFrame, right: pd.DataFrame, on: Sequence[str]) -> pd.DataFrame:
    return left[[*on, "id"]].merge(right[[*on, "id"]], on=list(on), suffixes=("_a", "_b"))


# --- relations: what a reader knows about the true counts (one per line, below) ---------------


@dataclass(frozen=True)
class Same:
    """The same true count, published in two places (matched on provider and quarter, and measure if asked)."""

    a: S
    b: S
    by_measure: bool = False

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        on = [*KEYS, "measure"] if self.by_measure else KEYS
        for a, b in _joined(self.a.of(counts), self.b.of(counts), on)[["id_a", "id_b"]].itertuples(
            index=False
        ):
            yield _eq([a], [b])


@dataclass(frozen=True)
class Total:
    """A total equals the sum of its parts, in each provider's quarter (is at least those shown, if one is not)."""

    total: S
    parts: Sequence[S]

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        cells = pd.concat([part.of(counts).assign(_part=n) for n, part in enumerate(self.parts)])
        ids = cells.groupby(KEYS)["id"].agg(list)
        every = cells.groupby(KEYS)["_part"].nunique() == len(self.parts)
        for row in self.total.of(counts).itertuples():
            key = (row.provider_code, row.quarter)
            if key in ids.index:
                yield _eq([row.id], ids[key]) if every[key] else _le(ids[key], [row.id])


@dataclass(frozen=True)
class AtMost:
    """One count is never more than another in the same provider's quarter (a numerator and its denominator)."""

    small: S
    big: S
    by_measure: bool = False

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        on = [*KEYS, "measure"] if self.by_measure else KEYS
        for a, b in _joined(self.small.of(counts), self.big.of(counts), on)[["id_a", "id_b"]].itertuples(
            index=False
        ):
            yield _le([a], [b])


@dataclass(frozen=True)
class WithinEarlierReasons:
    """Spells failing a restriction are among those whose first failure is it or an earlier one.

    The waterfall puts a spell under the first restriction it fails, in the rule's order, so the
    spells failing restriction i (a check's numerator) number at most the waterfall's reasons
    1..i, and the first restriction's failures are exactly its first reason. ``numerators``
    selects the counts of failures; ``restriction`` (a pattern) names the one restriction they
    all count, where it is not their own measure (the diagnosis-outside-list check).
    """

    numerators: S = S("checks", RESTRICTION, "numerator")
    restriction: re.Pattern | None = None

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        reasons = S("waterfall", RESTRICTION, "first failure").of(counts)
        numerators = self.numerators.of(counts)
        order = {measure: n for n, measure in enumerate(dict.fromkeys(reasons["measure"]))}
        named = None
        if self.restriction is not None:
            named = next((m for m in order if self.restriction.search(m)), None)
            if named is None:
                return
        reasons = reasons.assign(order=reasons["measure"].map(order))
        by_key = {key: group.sort_values("order") for key, group in reasons.groupby(KEYS)}
        for row in numerators.itertuples():
            measure = named or row.measure
            group = by_key.get((row.provider_code, row.quarter))
            if group is None or measure not in order:
                continue
            earlier = group[group["order"] <= order[measure]]["id"].tolist()
            if order[measure] == 0:
                yield _eq([row.id], earlier)
            else:
                yield _le([row.id], earlier)


@dataclass(frozen=True)
class OverQuarters:
    """A count over several quarters (``A to B``) is the sum of the quarters' counts."""

    cells: S

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        rows = self.cells.of(counts)
        single = rows[~rows["quarter"].str.contains(" to ")].set_index(KEYS)["id"]
        for row in rows[rows["quarter"].str.contains(" to ")].itertuples():
            parts = [single.get((row.provider_code, quarter)) for quarter in _quarters(row.quarter)]
            if all(part is not None for part in parts):
                yield _eq([row.id], parts)


@dataclass(frozen=True)
class OverProviders:
    """A count over all providers (blank code) is the sum of every provider's count."""

    cells: S

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        rows = self.cells.of(counts)
        rows = rows[~rows["quarter"].str.contains(" to ")]
        providers = rows[rows["provider_code"] != ""].groupby("quarter")["id"].agg(list)
        for row in rows[rows["provider_code"] == ""].itertuples():
            if row.quarter in providers.index:
                yield _eq([row.id], providers[row.quarter])


@dataclass(frozen=True)
class RepeatWindow:
    """Counted RFDs with a previous RFD (the interval bands, over a window of quarters) are at least the
    window's repeats (the repeat check's numerators: a repeat has a previous RFD) and at most the RFDs
    it could assess for a repeat (its denominators: one with a previous RFD can be assessed), or the
    counted RFDs where a quarter's denominator is not shown."""

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        bands = counts[counts["table"] == "intervals"]
        numerator = S("checks", "repeat", "numerator").of(counts).set_index(KEYS)["id"]
        denominator = S("checks", "repeat", "denominator").of(counts).set_index(KEYS)["id"]
        counted = S("volumes", "counted").of(counts).set_index(KEYS)["id"]
        for (code, window), group in bands.groupby(KEYS):
            quarters = [(code, quarter) for quarter in _quarters(window)]
            with_previous = group["id"].tolist()
            # Repeats not shown count 0 or more: leaving them out keeps the bound true.
            yield _le([numerator[key] for key in quarters if key in numerator.index], with_previous)
            most = [denominator.get(key, counted.get(key)) for key in quarters]
            if all(cell is not None for cell in most):
                yield _le(with_previous, most)
            if all(key in counted.index for key in quarters):
                yield _le(with_previous, [counted[key] for key in quarters])


@dataclass(frozen=True)
class MeanOf:
    """A chart's mean (a published figure, not a count) is the mean of its points' true counts (every
    quarter its period covers, suppressed points included: the chart works from the true counts),
    rounded to the nearest ``summary_rounding`` (a figure beside it): so the true counts' sum is
    within ``n × summary_rounding / 2`` of ``n × mean``. Each provider's chart and the chart of all
    providers (blank code)."""

    mean: S
    points: S

    def __call__(self, counts: pd.DataFrame, figures: pd.DataFrame) -> Iterator[Constraint]:
        means = self.mean.of(figures[figures["number"].notna()])
        rounding = S(self.mean.table, self.mean.measure, "summary_rounding").of(figures)
        rounding = rounding.set_index("provider_code")["number"]
        points = self.points.of(counts)
        for row in means.itertuples():
            quarters = set(_quarters(row.quarter))
            ids = points[(points["provider_code"] == row.provider_code) & points["quarter"].isin(quarters)][
                "id"
            ]
            n = len(ids)
            if n == len(quarters) and row.provider_code in rounding.index:
                # n * (mean - r/2) <= sum of the true counts <= n * (mean + r/2)
                slack = n * (rounding[row.provider_code] / 2 + 1e-6)
                yield tuple(int(i) for i in ids), (1.0,) * n, n * row.number - slack, n * row.number + slack


def _quarters(text: str) -> list[str]:
    first, _, last = text.partition(" to ")
    return quarter_range(first, last) if last else [first]


COUNT_KINDS = (
    "prior_block",
    "repeat",
    "therapeutic_block",
    "facet_joint_injection",
    "day_case",
    "rfd_without_lumbar_site",
    "rfd_diagnosis_outside_list",
)
DIAGNOSIS_LIST = re.compile(r"Primary_Spell_Diagnosis")  # the rule's restriction on the primary diagnosis

# fmt: off
RELATIONS: list[Callable[[pd.DataFrame, pd.DataFrame], Iterator[Constraint]]] = [
    # --- one true count published in several places --------------------------------------------------------------------
    Same(S("waterfall", "rfd_coded"), S("volumes", "rfd_coded")),                           # the waterfall starts at the volumes' RFD-coded spells
    Same(S("waterfall", "counted"), S("volumes", "counted")),                               # ... and ends at their counted RFDs
    Same(S("checks", "day_case", "denominator"), S("volumes", "counted")),                  # day cases are out of the counted RFDs
    Same(S("checks", "rfd_diagnosis_outside_list", "denominator"), S("volumes", "rfd_coded")),  # diagnoses off the list, of the RFD-coded spells
    Same(S("checks", "change_from_baseline", "numerator"), S("volumes", "counted")),        # this quarter's counted RFDs, against the baseline
    Same(S("checks", "expected_rate", "numerator"), S("volumes", "counted")),               # ... and per 100,000 people
    Same(S("funnel", "funnel"), S("volumes", "counted")),                                   # the funnel plots the counted RFDs
    Same(S("spc", "counted", "value"), S("volumes", "counted")),                            # ... and so do the XmR charts' points
    Same(S("spc", "facet_joint_injections", "value"), S("checks", "facet_joint_injection", "numerator")),  # the facet chart's points
    # --- totals: a total is the sum of its parts -----------------------------------------------------------------------
    Total(S("volumes", "rfd_coded"), [S("waterfall", "counted"), S("waterfall", RESTRICTION, "first failure")]),  # RFD-coded = counted + every reason
    Total(S("volumes", "counted"), [S("checks", "prior_block", "denominator"), S("checks", "prior_block", "unassessed")]),  # counted = assessed + not
    Total(S("volumes", "counted"), [S("checks", "repeat", "denominator"), S("checks", "repeat", "unassessed")]),  # the same for repeats
    Total(S("checks", "rfd_without_lumbar_site", "denominator"), [S("volumes", "rfd_coded"), S("checks", "rfd_without_lumbar_site", "numerator")]),  # RFD primary procedures = RFD-coded + those without a site
    OverQuarters(S("volumes", "counted")),                                                  # counted over the last quarters = those quarters' sum
    OverProviders(S("spc", "counted", "value")),                                            # the all-provider trend's points = the providers' sum
    # --- bounds ------------------------------------------------------------------------------------------------------------
    *(AtMost(S("checks", kind, "numerator"), S("checks", kind, "denominator")) for kind in COUNT_KINDS),  # numerator <= denominator
    WithinEarlierReasons(S("checks", "rfd_diagnosis_outside_list", "numerator"), DIAGNOSIS_LIST),  # diagnosis off the list: the diagnosis restriction's failures
    AtMost(S("checks", "repeat", "without side"), S("checks", "repeat", "numerator")),      # repeats judged without a side <= repeats
    AtMost(S("checks", "therapeutic_block", "denominator"), S("checks", "facet_joint_injection", "denominator")),  # patients blocked <= block spells <= lumbar injections
    RepeatWindow(),                                                                         # repeats <= with a previous RFD <= assessable <= counted, over the window
    # --- figures worked out from counts --------------------------------------------------------------------------------------
    MeanOf(S("spc", "counted", "mean"), S("spc", "counted", "value")),                       # an XmR mean: of the true counts, rounded
    MeanOf(S("spc", "facet_joint_injections", "mean"), S("spc", "facet_joint_injections", "value")),  # the same
]
# fmt: on


def totals(cells: pd.DataFrame) -> pd.Series:
    """Return, per cell, whether it is a total of other cells here (RFD-coded spells, all providers', several quarters').

    A suppressed total is at least as many as its suppressed parts (each is 1 or more), so it is
    not held to "every one of 1 to 7 possible", only to "at least 7 possible values".
    """
    coded = cells["measure"].eq("rfd_coded") | (
        cells["measure"].isin(["rfd_diagnosis_outside_list", "rfd_without_lumbar_site"])
        & cells["statistic"].eq("denominator")
    )
    return (
        coded
        | cells["provider_code"].eq("")
        | cells["quarter"].str.contains(" to ") & cells["table"].eq("volumes")
    )


# --- reading a published cell ----------------------------------------------------------------


def _sum_of_parts(counts: pd.DataFrame) -> pd.Series:
    """Return, per RFD-coded cell, whether it equals counted plus the reasons as published (* as 0)."""
    parts = pd.concat(
        [S("waterfall", "counted").of(counts), S("waterfall", RESTRICTION, "first failure").of(counts)]
    )
    summed = parts["number"].fillna(0).groupby([parts["provider_code"], parts["quarter"]]).sum()
    coded = counts[(counts["measure"] == "rfd_coded") | (counts["measure"] == "rfd_diagnosis_outside_list")]
    coded = coded[coded["statistic"].isin(["count", "denominator"])]
    key = pd.MultiIndex.from_frame(coded[KEYS])
    total = pd.Series(summed.reindex(key).to_numpy(), index=coded.index)
    return coded["number"].eq(total)


def _coded_plus_numerator(counts: pd.DataFrame) -> pd.Series:
    """Return, per RFD-without-site denominator, whether it equals RFD-coded plus its numerator as published (* as 0)."""
    denominator = S("checks", "rfd_without_lumbar_site", "denominator").of(counts)
    numerator = S("checks", "rfd_without_lumbar_site", "numerator").of(counts).set_index(KEYS)["number"]
    coded = S("volumes", "rfd_coded").of(counts).set_index(KEYS)["number"]
    key = pd.MultiIndex.from_frame(denominator[KEYS])
    total = coded.reindex(key).fillna(0).to_numpy() + numerator.reindex(key).fillna(0).to_numpy()
    return pd.Series(denominator["number"].to_numpy() == total, index=denominator.index)


def _derived_denominator(counts: pd.DataFrame) -> pd.Series:
    """Return, per pathway check denominator, whether it is counted less the unassessed count as published
    (less 5 where that is suppressed)."""
    flags = []
    counted = S("volumes", "counted").of(counts).set_index(KEYS)["number"]
    for kind in ("prior_block", "repeat"):
        denominator = S("checks", kind, "denominator").of(counts)
        unassessed = S("checks", kind, "unassessed").of(counts).set_index(KEYS)
        key = pd.MultiIndex.from_frame(denominator[KEYS])
        hidden = unassessed["suppressed"].reindex(key).fillna(False).to_numpy(dtype=bool)
        shown = unassessed["number"].reindex(key).fillna(0).to_numpy(dtype=float)
        less = counted.reindex(key).to_numpy() - np.where(hidden, ROUNDING, shown)
        flags.append(pd.Series(denominator["number"].to_numpy() == less, index=denominator.index))
    return pd.concat(flags)


# Figures worked out from other published figures: they say nothing the others do not, so their
# published value gives no bound of its own (the relations above still tie their true counts).
# fmt: off
DERIVED: list[tuple[str, Callable[[pd.DataFrame], pd.Series]]] = [
    ("counted over several quarters: a sum of published quarters", lambda c: c["quarter"].str.contains(" to ") & c["table"].eq("volumes")),
    ("RFD-coded spells equal to counted plus the reasons as published", _sum_of_parts),
    ("a pathway check's denominator: counted less the unassessed count as published (5 if suppressed)", _derived_denominator),
    ("RFD primary procedures: RFD-coded plus those without a site, as published", _coded_plus_numerator),
]
# fmt: on


def _capped(counts: pd.DataFrame, derived: pd.Series) -> pd.Series:
    """Return, per pathway numerator, whether it equals a derived denominator (published no higher than it)."""
    flags = []
    for kind in ("prior_block", "repeat"):
        numerator = S("checks", kind, "numerator").of(counts)
        denominator = S("checks", kind, "denominator").of(counts)
        cap = pd.Series(
            denominator["number"].where(derived.reindex(denominator.index, fill_value=False)).to_numpy(),
            index=pd.MultiIndex.from_frame(denominator[KEYS]),
        )
        key = pd.MultiIndex.from_frame(numerator[KEYS])
        flags.append(
            pd.Series(numerator["number"].to_numpy() == cap.reindex(key).to_numpy(), index=numerator.index)
        )
    return pd.concat(flags)


# Suppressed cells that only primary suppression can hide (nothing is hidden there to protect
# another cell), so the reader knows them to be 1..7; every other suppressed cell is 1 or more.
# fmt: off
PRIMARY_ONLY: list[tuple[str, Callable[[pd.DataFrame], pd.Series]]] = [
    ("counted RFDs: never hidden to protect another cell",
     lambda c: c["measure"].eq("counted") & c["table"].isin(["volumes", "waterfall", "funnel", "spc"]) & ~c["quarter"].str.contains(" to ") & c["provider_code"].ne("")),
    ("day cases, facet joint injections and lumbar injections",
     lambda c: c["table"].eq("checks") & (c["measure"].isin(["day_case", "facet_joint_injection"]) & c["statistic"].eq("numerator") | c["measure"].eq("facet_joint_injection") & c["statistic"].eq("denominator"))),
    ("therapeutic blocks (patients) and RFD without a lumbar site code",
     lambda c: c["table"].eq("checks") & (c["measure"].eq("therapeutic_block") & c["statistic"].isin(["numerator", "denominator"]) | c["measure"].eq("rfd_without_lumbar_site") & c["statistic"].eq("numerator"))),
]
# fmt: on


# --- the attack ------------------------------------------------------------------------------


@dataclass
class Problem:
    """The unknowns (one per published or suppressed count) and every constraint on them."""

    counts: pd.DataFrame  # one row per unknown, ``id`` its column in the constraints
    lower: np.ndarray
    upper: np.ndarray
    constraints: list[Constraint] = field(default_factory=list)


def problem(figures: pd.DataFrame, relations: Sequence = RELATIONS) -> Problem:
    """Return what a reader of ``figures`` (from :func:`read_figures`) knows, as a :class:`Problem`."""
    counts = figures[
        figures["table"].isin(COUNT_TABLES)
        & figures["unit"].isin(["spells", "patients"])
        & (figures["suppressed"] | figures["number"].notna())
    ].reset_index(drop=True)
    counts = counts.assign(id=np.arange(len(counts)))
    derived = pd.Series(False, index=counts.index)
    for _, rule in DERIVED:
        derived |= rule(counts).reindex(counts.index, fill_value=False).fillna(False).astype(bool)
    capped = _capped(counts, derived).reindex(counts.index, fill_value=False)
    primary = pd.Series(False, index=counts.index)
    for _, rule in PRIMARY_ONLY:
        primary |= rule(counts).reindex(counts.index, fill_value=False).fillna(False).astype(bool)
    number = counts["number"].to_numpy()
    hidden = counts["suppressed"].to_numpy()
    lower = np.zeros(len(counts))
    upper = np.full(len(counts), float(LARGE))
    # Published as 0: 0. Published as p: p - 2 .. p + 2, unless derived (no bound) or capped (no upper bound).
    shown = ~hidden & ~derived.to_numpy()
    zero = shown & (number == 0)
    lower[zero], upper[zero] = 0, 0
    rounded = shown & (number > 0)
    lower[rounded] = np.maximum(number[rounded] - HALF, 0)
    upper[rounded & ~capped.to_numpy()] = number[rounded & ~capped.to_numpy()] + HALF
    # Suppressed: never 0; 1..7 where only primary suppression hides.
    lower[hidden] = 1
    # A withheld all-provider total may be 0 (rounded totals near it can be withheld with it).
    lower[hidden & counts["provider_code"].eq("").to_numpy()] = 0
    upper[hidden & primary.to_numpy()] = THRESHOLD
    result = Problem(counts, lower, upper)
    for relation in relations:
        result.constraints.extend(relation(counts, figures))
    return result


@dataclass(frozen=True)
class Finding:
    """What the attacker can tell of one suppressed cell."""

    id: int
    feasible_small: tuple[int, ...]  # which of 1..7 are still possible
    lowest: int
    highest: int  # LARGE: no upper bound
    size: int  # how many values are possible, counted one by one up to EXACT_UP_TO


def attack(figures: pd.DataFrame, relations: Sequence = RELATIONS) -> pd.DataFrame:
    """Return one row per suppressed count in ``figures``: its cell, which of 1..7 it may be, its bounds and how many values it may take."""
    known = problem(figures, relations)
    known.constraints = _presolved(known)
    findings = [finding for group in _components(known) for finding in _solve(known, group)]
    table = pd.DataFrame(
        [finding.__dict__ for finding in findings], columns=list(Finding.__dataclass_fields__)
    )
    cells = known.counts.set_index("id")[["table", *KEYS, "measure", "statistic"]]
    return cells.loc[table["id"]].reset_index().merge(table, on="id")


def truth_violations(
    figures: pd.DataFrame, truth: pd.DataFrame, relations: Sequence = RELATIONS
) -> list[str]:
    """Return every bound or constraint the true counts (internal-mode files) break: none if the attacker is sound."""
    known = problem(figures, relations)
    key = ["table", *KEYS, "measure", "statistic"]
    true = known.counts[key].merge(truth[[*key, "number"]], on=key, how="left")["number"].to_numpy()
    problems = []
    counts = known.counts
    out_of_bounds = (true < known.lower) | (true > known.upper) | np.isnan(true)
    for row in counts[out_of_bounds].itertuples():
        problems.append(f"bound: {row.table} {row.provider_code} {row.quarter} {row.measure} {row.statistic}")
    for ids, coefficients, lower, upper in known.constraints:
        value = float(np.dot(true[list(ids)], coefficients))
        if not lower - 1e-9 <= value <= upper + 1e-9:
            cells = counts.loc[list(ids), key].astype(str).agg(" ".join, axis=1).tolist()
            problems.append(f"relation: {cells}")
    return problems


def _presolved(known: Problem) -> list[Constraint]:
    """Return the constraints less those that bind nothing: an equality through a shown figure that no
    other constraint holds and nothing bounds (a total derived from published figures) is always met."""
    constraints = list(known.constraints)
    hidden = known.counts["suppressed"].to_numpy()
    free = (known.lower == 0) & (known.upper >= LARGE) & ~hidden
    while True:
        uses = np.bincount([i for ids, *_ in constraints for i in ids], minlength=len(free))
        loose = [
            n
            for n, (ids, coefficients, lower, upper) in enumerate(constraints)
            if lower == upper == 0
            and any(free[i] and uses[i] == 1 and abs(c) == 1 for i, c in zip(ids, coefficients, strict=True))
            and _other_side_non_negative(ids, coefficients, free, uses)
        ]
        if not loose:
            return constraints
        drop = set(loose)
        constraints = [constraint for n, constraint in enumerate(constraints) if n not in drop]


def _other_side_non_negative(ids, coefficients, free, uses) -> bool:
    """Return True when the loose unknown's equality only asks it to equal a sum the others can always reach.

    ``x = sum(parts)`` with x free (0 .. no bound) holds for any parts, which are never negative.
    """
    for i, c in zip(ids, coefficients, strict=True):
        if free[i] and uses[i] == 1:
            others = [(j, d) for j, d in zip(ids, coefficients, strict=True) if j != i]
            return all(d == -c for _, d in others)
    return False


def _components(known: Problem) -> list[np.ndarray]:
    """Return the groups of unknowns tied by constraints that hold a suppressed cell."""
    parent = np.arange(len(known.counts))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for ids, *_ in known.constraints:
        first = root(ids[0])
        for other in ids[1:]:
            parent[root(other)] = first
    roots = np.array([root(i) for i in range(len(parent))])
    hidden = known.counts["suppressed"].to_numpy()
    return [np.flatnonzero(roots == r) for r in np.unique(roots[hidden])]


def _solve(known: Problem, group: np.ndarray) -> Iterator[Finding]:
    """Yield a :class:`Finding` per suppressed cell of one group of unknowns.

    Per suppressed cell: its least and greatest possible values (one MILP each), then each value
    from the least up, one by one (:data:`EXACT_UP_TO` of them): possible when some solution takes
    it. Solutions are shared: one that aims every cell at a value still to be decided at once
    (least total distance) settles many; a value no such solution reached is tried on its own.
    """
    local = {int(g): n for n, g in enumerate(group)}
    rows, columns, values, low, high = [], [], [], [], []
    for ids, coefficients, lower, upper in known.constraints:
        if int(ids[0]) not in local:
            continue
        for i, coefficient in zip(ids, coefficients, strict=True):
            rows.append(len(low))
            columns.append(local[int(i)])
            values.append(coefficient)
        low.append(lower)
        high.append(upper)
    n = len(group)
    matrix = csr_array((values, (rows, columns)), shape=(len(low), n))
    base_lower, base_upper = known.lower[group], known.upper[group]
    hidden = np.flatnonzero(known.counts["suppressed"].to_numpy()[group])
    witnessed: dict[int, set[int]] = {int(j): set() for j in hidden}

    def solve(objective: np.ndarray, fix: tuple[int, int] | None = None, aim: dict[int, int] | None = None):
        lower, upper = base_lower.copy(), base_upper.copy()
        if fix is not None:
            lower[fix[0]] = upper[fix[0]] = fix[1]
            if not base_lower[fix[0]] <= fix[1] <= base_upper[fix[0]]:
                return None
        size, blocks, cl, cu = n, [matrix], list(low), list(high)
        cost = objective
        if aim:
            # x_j - over_j + under_j = target_j; minimise the total distance sum(over + under).
            m = len(aim)
            rows_ = np.arange(m)
            cells = np.array(list(aim))
            link = csr_array(
                (
                    np.concatenate([np.ones(m), -np.ones(m), np.ones(m)]),
                    (np.tile(rows_, 3), np.concatenate([cells, n + rows_, n + m + rows_])),
                ),
                shape=(m, n + 2 * m),
            )
            blocks = [_widen(matrix, n + 2 * m), link]
            cl += list(aim.values())
            cu += list(aim.values())
            size = n + 2 * m
            cost = np.concatenate([np.zeros(n), np.ones(2 * m)])
            lower = np.concatenate([lower, np.zeros(2 * m)])
            upper = np.concatenate([upper, np.full(2 * m, np.inf)])
        from scipy.sparse import vstack

        stacked = vstack(blocks).tocsr() if len(blocks) > 1 else blocks[0]
        constraints = [LinearConstraint(stacked, cl, cu)] if len(cl) else []
        integrality = np.concatenate([np.ones(n), np.zeros(size - n)])
        result = milp(cost, integrality=integrality, bounds=Bounds(lower, upper), constraints=constraints)
        if result.status != 0:
            return None
        x = np.rint(result.x[:n]).astype(np.int64)
        for j in witnessed:
            witnessed[j].add(int(x[j]))
        return x

    if solve(np.zeros(n)) is None:
        raise AssertionError(
            f"the published figures contradict the relations: {known.counts.loc[group].to_dict('records')[:3]}"
        )
    lowest, highest = {}, {}
    for j in hidden:
        unit = np.zeros(n)
        unit[j] = 1
        highest[j] = int(solve(-unit)[j])
        lowest[j] = 1 if 1 in witnessed[j] else int(solve(unit)[j])
    pending = {
        j: [v for v in range(lowest[j], min(highest[j], lowest[j] + EXACT_UP_TO - 1) + 1)] for j in hidden
    }
    possible: dict[int, set[int]] = {j: set() for j in hidden}

    def settle() -> None:
        for j in hidden:
            seen = [v for v in pending[j] if v in witnessed[j]]
            possible[j].update(seen)
            pending[j] = [v for v in pending[j] if v not in witnessed[j]]

    settle()
    while any(pending.values()):
        aim = {int(j): pending[j][0] for j in hidden if pending[j]}
        solve(np.zeros(n), aim=aim)
        settle()
        for j, value in aim.items():
            if pending[j] and pending[j][0] == value:  # not reached by the shared solution
                if solve(np.zeros(n), fix=(j, value)) is None:
                    pending[j] = pending[j][1:]
                settle()
    for j in hidden:
        feasible = sorted(possible[j])
        size = len(feasible) + max(highest[j] - (lowest[j] + EXACT_UP_TO - 1), 0)
        yield Finding(
            id=int(group[j]),
            feasible_small=tuple(v for v in feasible if 1 <= v <= THRESHOLD),
            lowest=lowest[j],
            highest=highest[j],
            size=size,
        )


def _widen(matrix: csr_array, columns: int) -> csr_array:
    """Return ``matrix`` with zero columns added on the right, up to ``columns``."""
    coo = matrix.tocoo()
    return csr_array((coo.data, (coo.row, coo.col)), shape=(matrix.shape[0], columns))


# --- small audits made by hand or by hypothesis ----------------------------------------------


@dataclass(frozen=True)
class Spells:
    """``n`` alike spells of one provider's quarter, as :func:`rfd_lib.metrics.activity.label_activity` labels them.

    ``kind``: 'rfd', 'rfd_no_site', 'block' or 'facet_injection'. ``fails``: the restrictions
    (indexes in the rule's order; 0 is the diagnosis list) an RFD-coded spell fails; it is
    counted when it fails none. ``prior_block`` and ``repeat``: None where they cannot be assessed
    (the look-back starts before the extract). ``previous``: days since the patient's previous
    RFD (None for a first RFD); a repeat needs one.
    """

    provider: str
    quarter: str
    n: int
    kind: str = "rfd"
    fails: tuple[int, ...] = ()
    day_case: bool = False
    prior_block: bool | None = True
    repeat: bool | None = False
    previous: int | None = None
    without_side: bool = False  # a repeat judged without a side (laterality not coded)
    therapeutic: bool = False  # a block completing repeated blocks with no RFD after them


def activity(groups: Sequence[Spells], restrictions: Sequence[str]) -> pd.DataFrame:
    """Return the labelled activity of ``groups``: one row per spell, one patient per spell."""
    rows = [group for group in groups for _ in range(group.n)]
    fails = {
        f"fails: {name}": np.array([n in row.fails for row in rows], dtype=bool)
        for n, name in enumerate(restrictions)
    }
    first = [restrictions[min(row.fails)] if row.fails else None for row in rows]
    rfd = np.array([row.kind == "rfd" for row in rows], dtype=bool)
    return pd.DataFrame(
        {
            "provider_code": pd.array([row.provider for row in rows], dtype="string"),
            "quarter": pd.array([row.quarter for row in rows], dtype="string"),
            "patient_id": pd.array([f"p{n}" for n in range(len(rows))], dtype="string"),
            "admission_date": [quarter_bounds(row.quarter)[0] for row in rows],
            "kind": pd.array([row.kind for row in rows], dtype="string"),
            "counted": rfd & np.array([not row.fails for row in rows], dtype=bool),
            "first_failure": pd.array(first, dtype="string"),
            **fails,
            "diagnosis_outside_list": pd.array([0 in row.fails for row in rows], dtype="boolean"),
            "day_case": pd.array([row.day_case for row in rows], dtype="boolean"),
            "prior_block": pd.array(
                [row.prior_block if row.kind == "rfd" else None for row in rows], dtype="boolean"
            ),
            "prior_block_note": pd.array([None] * len(rows), dtype="string"),
            "days_since_previous": pd.array([row.previous for row in rows], dtype="Int64"),
            "repeat": pd.array([row.repeat if row.kind == "rfd" else None for row in rows], dtype="boolean"),
            "repeat_without_side": pd.array(
                [
                    row.repeat and row.without_side if row.kind == "rfd" and row.repeat is not None else None
                    for row in rows
                ],
                dtype="boolean",
            ),
            "therapeutic_block": pd.array(
                [row.therapeutic if row.kind == "block" else None for row in rows], dtype="boolean"
            ),
        }
    )


def audit_of(groups: Sequence[Spells], policy):
    """Return :func:`rfd_lib.metrics.audit.audit_metrics` of ``groups``, worked out as a run works it out.

    Only the labelling of spells is replaced (by :func:`activity`): every table is counted,
    protected and derived by the audit's own code.
    """
    from unittest import mock

    from rfd_lib.engine.rule import load_rule
    from rfd_lib.metrics.audit import audit_metrics

    restrictions = [criterion.name for criterion in load_rule().restrictions]
    labelled = activity(groups, restrictions)
    quarters = sorted(labelled["quarter"].unique())
    providers = sorted(labelled["provider_code"].unique())
    # Only the quarters covered are read from it: the first day of the first, the last of the last.
    dates = [quarter_bounds(quarters[0])[0]] * len(providers) + [quarter_bounds(quarters[-1])[1]] * len(
        providers
    )
    classified = pd.DataFrame(
        {
            "provider_code": pd.array(providers * 2, dtype="string"),
            "admission_date": dates,
            "discharge_date": dates,
        }
    )
    with mock.patch("rfd_lib.metrics.audit.label_activity", return_value=labelled):
        return audit_metrics(classified, policy=policy)


def written(groups: Sequence[Spells], folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the figures of ``groups``' audit as a reader reads them, and the true ones (internal mode).

    The tables are written as a run writes them, CSV files only (the attacker reads no workbook).
    """
    from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL
    from rfd_lib.report.table_files import tidy_tables, write_tables

    for policy, where in ((CIRCULATION, "circulated"), (INTERNAL, "internal")):
        write_tables(tidy_tables(audit_of(groups, policy)), folder / where, policy, workbook=False)
    return read_figures(folder / "circulated"), read_figures(folder / "internal")
