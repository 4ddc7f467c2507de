"""Property tests of disclosure control: no published figure reveals a count of 1-7.

Random tables of providers × reasons with two count columns, ``spells`` and ``patients`` (a
subset of spells, so the two do not add up), are protected within each provider and given a
total per provider. Small counts are drawn often. The last test is exhaustive rather than random:
it plays the reader who knows the rule and works back from what is published to every table that
would have published it.
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfd_lib.metrics.disclosure import INTERNAL, add_totals, never_small, protect

THRESHOLD, ROUNDING = 7, 5
COUNTS = ["spells", "patients"]
WITHIN = ["provider"]
SETTINGS = settings(derandomize=True, max_examples=50, deadline=None)

counts = st.one_of(st.integers(0, 10), st.integers(0, 30), st.integers(0, 200))


@st.composite
def tables(draw) -> pd.DataFrame:
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=8))
    provider = [f"P{group}" for group, size in enumerate(sizes) for _ in range(size)]
    reason = [f"r{cell}" for size in sizes for cell in range(size)]
    spells = draw(st.lists(counts, min_size=len(provider), max_size=len(provider)))
    patients = [draw(st.integers(0, n)) for n in spells]
    return pd.DataFrame(
        {
            "provider": pd.array(provider, dtype="string"),
            "reason": pd.array(reason, dtype="string"),
            "spells": pd.array(spells, dtype="Int64"),
            "patients": pd.array(patients, dtype="Int64"),
        }
    )


def published(raw: pd.DataFrame) -> pd.DataFrame:
    return add_totals(protect(raw, COUNTS, within=WITHIN), COUNTS, within=WITHIN)


@SETTINGS
@given(tables())
def test_no_published_figure_is_a_count_of_1_to_7(raw):
    out = published(raw)
    for column in COUNTS:
        shown = out[column].dropna()
        assert not shown.between(1, THRESHOLD).any(), column


@SETTINGS
@given(tables())
def test_every_published_count_is_a_rounded_multiple_of_5_close_to_the_truth(raw):
    out = protect(raw, COUNTS, within=WITHIN)
    for column in COUNTS:
        shown = out[column].notna()
        assert (out[column][shown] % ROUNDING == 0).all()
        assert (out[column][shown] - raw[column][shown]).abs().le(ROUNDING // 2).all()
    totals = published(raw)
    for column in COUNTS:
        assert (totals[column].dropna() % ROUNDING == 0).all()


@SETTINGS
@given(tables())
def test_no_suppressed_cell_can_be_worked_out_from_its_total(raw):
    out = published(raw)
    is_total = out["reason"].eq("Total").to_numpy()
    cells, totals = out[~is_total].reset_index(drop=True), out[is_total].set_index("provider")
    for column in COUNTS:
        flag = f"{column}_suppressed"
        frame = pd.DataFrame(
            {
                "provider": cells["provider"],
                "hidden": cells[flag],
                "hidden_count": raw[column].where(cells[flag], 0),
                "shown_sum": cells[column].fillna(0),
                "shown_nonzero": cells[column].fillna(0).gt(0),
            }
        )
        groups = frame.groupby("provider").agg(
            hidden=("hidden", "sum"),
            hidden_count=("hidden_count", "sum"),
            shown_sum=("shown_sum", "sum"),
            shown_nonzero=("shown_nonzero", "any"),
        )
        total = totals.loc[groups.index, column]
        total_hidden = totals.loc[groups.index, flag].to_numpy()
        # A published total leaves nothing over once the published cells are taken from it ...
        left_over = (total - groups["shown_sum"]).to_numpy()
        assert (left_over[~total_hidden] == 0).all()
        # ... and its suppressed cells, if any, are at least two that together count 8 or more.
        hidden, hidden_count = groups["hidden"].to_numpy(), groups["hidden_count"].to_numpy()
        safe = (hidden == 0) | ((hidden >= 2) & (hidden_count > THRESHOLD)) | total_hidden
        assert safe.all(), groups[~safe]
        # A suppressed total follows from the cells shown: it tells the reader nothing more.
        assert (total_hidden == (hidden > 0) & ~groups["shown_nonzero"].to_numpy()).all()


@SETTINGS
@given(tables())
def test_protecting_published_values_again_changes_none(raw):
    once = protect(raw, COUNTS, within=WITHIN)
    twice = protect(once[["provider", "reason", *COUNTS]], COUNTS, within=WITHIN)
    for column in COUNTS:
        pd.testing.assert_series_equal(twice[column], once[column])
        assert not twice[f"{column}_suppressed"].any()


@SETTINGS
@given(tables())
def test_internal_mode_publishes_the_counts_as_they_are(raw):
    out = protect(raw, COUNTS, within=WITHIN, policy=INTERNAL)
    for column in COUNTS:
        pd.testing.assert_series_equal(out[column], raw[column])
        assert not out[f"{column}_suppressed"].any()
    totals = add_totals(out, COUNTS, within=WITHIN)
    totals = totals[totals["reason"].eq("Total")].set_index("provider")
    for column in COUNTS:
        expected = raw.groupby("provider")[column].sum()
        assert (totals.loc[expected.index, column] == expected).all()
    assert INTERNAL.banner == "contains unsuppressed figures — do not circulate"


@SETTINGS
@given(tables())
def test_the_guard_accepts_what_protect_publishes(raw):
    never_small(published(raw), COUNTS, within=WITHIN)


def _preimage_sizes(cells: int, largest: int, *, total_elsewhere: bool = False) -> np.ndarray:
    """Return, for every suppressed cell of every group of ``cells`` counts 0..largest, how many
    true counts of that cell are consistent with everything published about its group.

    ``total_elsewhere``: the group's true total, rounded to 5 (or ``*`` if 1 to 7), is also
    published, as if another table had computed it from the raw data."""
    grid = np.array(list(itertools.product(range(largest + 1), repeat=cells)))
    table = pd.DataFrame(
        {
            "group": np.repeat(np.arange(len(grid)), cells),
            "cell": np.tile(np.arange(cells), len(grid)),
            "n": grid.ravel(),
        }
    )
    out = add_totals(protect(table, ["n"], within=["group"]), ["n"], within=["group"])
    shown = out["n"].fillna(-1).to_numpy().reshape(len(grid), cells + 1)  # the cells, then the total
    if total_elsewhere:
        true_total = grid.sum(axis=1)
        rounded = (2 * true_total + ROUNDING) // (2 * ROUNDING) * ROUNDING
        shown = np.column_stack([shown, np.where((true_total >= 1) & (true_total <= THRESHOLD), -1, rounded)])
    # Two groups that publish the same figures are indistinguishable to the reader.
    _, seen = np.unique(shown, axis=0, return_inverse=True)
    seen = seen.ravel()
    # Far from the edge of the grid, so that a cell's possible values are not cut short by it.
    inside = grid.max(axis=1) <= largest - 3 * ROUNDING - 2
    sizes = []
    for cell in range(cells):
        pairs = np.unique(np.stack([seen, grid[:, cell]], axis=1), axis=0)
        candidates = np.bincount(pairs[:, 0], minlength=seen.max() + 1)[seen]
        sizes.append(candidates[(shown[:, cell] == -1) & inside])
    return np.concatenate(sizes)


@pytest.mark.parametrize("cells", [2, 3])
def test_every_suppressed_cell_stays_as_uncertain_as_a_star(cells):
    # Exhaustive: every group of 2 or 3 cells of 0..35. A reader who knows the rule and sees the
    # cells and total published still finds at least 7 true counts possible for every suppressed
    # cell, as many as the footnote's "1 to 7" allows.
    sizes = _preimage_sizes(cells, 35)
    assert sizes.size > 0
    assert sizes.min() >= THRESHOLD


@pytest.mark.parametrize("cells", [2, 3])
def test_a_true_total_published_elsewhere_narrows_but_never_reveals(cells):
    # What complementary suppression is for: a total computed from the raw data and published in
    # another table. Every suppressed cell still has at least 5 possible true counts.
    sizes = _preimage_sizes(cells, 35, total_elsewhere=True)
    assert sizes.min() >= 5
