"""Statistical disclosure control for every table and figure meant for circulation.

The rule, in the order it is applied (HES/SUS and OpenSAFELY practice; ``threshold`` 7 and
``rounding`` 5 by default):

1. **A zero is published as 0.** It describes no one, and hiding zeros would hide the audit's
   findings ("no spells failed the age restriction") and make every total unknowable. Zeros are
   never hidden to protect another cell (item 4): a zero is often known from elsewhere, and then
   the total less the cells shown would be the small cell itself.
2. **A count of 1 to 7 is suppressed** (primary suppression): ``<NA>``, flagged, printed ``*``.
   Suppression is decided on the true count, before any rounding.
3. **Every other count is rounded to the nearest 5**, halves up (a half cannot occur with 5:
   8 → 10, 12 → 10, 13 → 15, 1000 → 1000). Rates, shares and totals are derived only from these
   published values (:func:`share`, :func:`per`, :func:`add_totals`), never from the raw counts.
4. **Complementary suppression** inside every group whose total is published (``within``): when a
   group has a suppressed cell, and either it is the only one or the suppressed cells together
   count 7 or fewer, the smallest remaining non-zero cell of the group is suppressed as well (ties:
   the first in the table's order). One more is always enough, for it counts 8 or more. So a
   group has either no suppressed cell, or at least two that together count 8 or more, or no
   published non-zero cell at all (its true total is then 1 to 7, or all of it is suppressed).
5. **A total is the sum of the published cells** of its group (:func:`add_totals`): suppressed
   cells are left out, so the total minus the cells shown is always 0 and nothing can be worked
   out by subtraction ("recalculate totals after redaction", OpenSAFELY). The total is suppressed
   when the group has suppressed cells and no published non-zero cell (every group whose true
   total is 1 to 7 is one of these); whether it is follows from the cells shown, so a suppressed
   total tells a reader nothing more. The report says that totals leave out ``*`` cells.

Off only in ``internal`` mode (``Disclosure(mode="internal")``): counts are published as they are,
nothing is flagged, totals are true totals, and :attr:`Disclosure.banner` is the line every page
must carry, :data:`INTERNAL_BANNER`.

Worked examples (one group, a provider's reasons, its total published)::

    raw cells         published            total
    0, 1, 7, 8, 1000  0, *, *, 10, 1000    1010      two small cells counting 8: enough
    3, 12, 40         *, *, 40             40        3 alone: 12 (the smallest other) hidden too
    1, 2, 30, 40      *, *, *, 40          40        1 + 2 = 3 counts 7 or fewer: 30 hidden too
    3, 20, 20         *, *, 20             20        a tie: the first 20 is hidden
    2, 0, 4           *, 0, *              *         the true total, 6, is small
    12, 13            10, 15               25        nothing hidden: the sum of the rounded cells

Why the total leaves suppressed cells out. Adding the suppressed cells' rounded values (a common
alternative) publishes their rounded sum: with cells 1, 1, 8 (8 hidden with the ones) the total
would be 0 + 0 + 10 = 10 and the two ones would be known to be 1 or 2; with cells 1 and 7 it
would be 0 + 5 = 5, itself a small count. Adding their true sum rounded instead narrows a hidden
7 next to a hidden 11 and a published 12 to "6 or 7". With the total as the sum of the published
cells, the property tests go through every group of two or three cells of 0 to 35 and check that,
given all that is published, every suppressed cell is consistent with at least 7 different true
counts: no fewer than the footnote's "1 to 7" allows.

Layout. Tables are long: one row per cell, ``within`` naming the columns that identify a group,
e.g. ``["provider_code", "quarter"]`` for a quarter's reasons at a provider. Give :func:`protect`
the cells only and let :func:`add_totals` append the totals:

* **A total with its parts**, e.g. a provider's reasons with their sum: protect the parts within
  the group and add the total with :func:`add_totals`. Do not publish running remainders ("left
  after the age check") computed from raw counts: each is another total, and two adjacent ones
  give the step between them exactly.
* **A headline count that must not be hidden to protect another cell.** The audit's counted RFDs
  per provider and quarter feed its rates, funnel and SPC charts; as one part of "RFD-coded =
  counted + not counted" they would be hidden at every small provider whose not-counted spells
  are 1 to 7. So :mod:`rfd_lib.metrics.publish` protects counted spells on their own and
  publishes RFD-coded spells as the waterfall's total (rule 5): counted plus the reasons shown,
  ``*`` left out. The difference of two counts each rounded on their own narrows the true
  difference to 5 to 9 consecutive values, one of which may be 0, so where a hidden cell is
  such a difference, the other side is not rounded from the raw data: it is a sum of published
  cells, or (the pathway checks' "counted = assessed + unassessed") the published headline less
  the middle of what ``*`` can hide. Either says nothing the cells shown do not.
* **Columns that do not add up** (spells and patients, a subset of spells such as day cases) are
  each protected on their own, with their own flags and complementary cells; a subset only bounds
  its superset (patients ≤ spells), which pins nothing. A column whose cells overlap (one patient
  under two reasons) has no additive total: do not pass it to :func:`add_totals`.

Across tables (what everything circulated together must hold). A reader has every table of a
run at once (the reports, the index and ``tables/``) and knows how the counts relate: a total
is the sum of its parts, a check's denominator plus its unassessed spells is counted, spells
failing a restriction number at least its waterfall reason and at most the reasons up to it,
the repeat intervals lie between the window's repeats and its assessable RFDs. One true count
is therefore published one way only (the same cell in every table), and counts that bound a
hidden one are protected with it: see :mod:`rfd_lib.metrics.publish`. ``tests/attacker.py``
plays that reader: for every suppressed cell of a run's circulated files (the demo run, and
hypothesis-made audits) it finds, by integer linear programming over every relation, the true
values still possible. Every suppressed count of 1 to 7 keeps all of 1 to 7 possible, and every
suppressed count at least 7 values.

Known residual, and its size: **a suppressed total is at least as many as its suppressed parts**
(each is 1 or more, zeros being shown). RFD-coded spells hidden beside k hidden parts (counted
and the reasons) is known to be k or more: with all six parts hidden, 6 or 7. The parts
themselves are not narrowed. Totals are held to "at least 7 possible values" only.

Not covered here: totals over two crossing groupings at once (providers within a quarter *and*
quarters within a provider; complementary suppression is applied in one grouping only); a group
total computed from the raw data and published elsewhere, which is what complementary
suppression is for but which can still narrow a suppressed cell (to no fewer than 5 possible
values in groups of up to three cells, tested; seven cells of 1 under such a total of ``*``
would each be pinned to 1), so publish totals from :func:`add_totals`; statistics other than
counts: do not publish the minimum or maximum of a small group, nor a median of fewer than 8
people; and figures worked out from the true counts rather than the published ones (an SPC
chart's mean and limits): add their relation to ``tests/attacker.py`` (one line) before they
are circulated.

Not covered by the SPC charts' guard either (:mod:`rfd_lib.metrics.spc_disclosure`, which works
their limits and signals out from the true counts and checks that the mean and limits it
publishes leave every suppressed point each of 1 to 7): **the signals themselves**, on purpose
(issue 12: a suppressed quarter must still count). A suppressed point coloured "below the lower
limit" tells a reader its true count is below that limit, a run or trend through it says on which
side of the mean it lies or which way it moved, and the summary says so in words; its band "1–7"
is then narrower in effect. **Series one at a time**: a provider's series (its mean and limits
against its own points) and each quarter's all-provider total (against that quarter's cells) are
checked on their own, not together, as complementary suppression works in one grouping only; nor
is the total checked against the summary's headline, which adds up published counts. **Which
rounding** a provider's mean and limits get (whole numbers, or coarser when those would narrow a
point) depends on the true counts, so that a coarser one was needed is itself a faint hint (the
quarters whose total is withheld are chosen from the published cells alone, so that choice is
none). **Published cells under a total**: the true total rounded once narrows the rounded cells
it adds up (two published 10s under a total of 15 add up to 13 to 17), which rounding, a blur,
does not promise to prevent.

Every circulated table or figure with a ``*`` carries :attr:`Disclosure.footnote`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rfd_lib.errors import ColumnError, RfdAuditError

__all__ = [
    "CIRCULATION",
    "INTERNAL",
    "INTERNAL_BANNER",
    "Disclosure",
    "DisclosureError",
    "add_totals",
    "as_text",
    "never_small",
    "per",
    "protect",
    "share",
]

INTERNAL_BANNER = "contains unsuppressed figures — do not circulate"
SUPPRESSED = "*"
NOT_APPLICABLE = "–"
FLAG_SUFFIX = "_suppressed"


def _round(values: np.ndarray, base: int) -> np.ndarray:
    # Integer arithmetic: nearest multiple of base, halves up, exact for any int64.
    return (2 * values + base) // (2 * base) * base


class DisclosureError(RfdAuditError):
    """A figure meant for circulation could identify someone, or cannot be protected as given."""


@dataclass(frozen=True)
class Disclosure:
    """How counts are published: ``circulation`` (protected) or ``internal`` (as they are).

    ``threshold``: counts 1 … ``threshold`` are suppressed (0 is published, see the module's
    docstring). ``rounding``: every other count is rounded to the nearest multiple of it, halves
    up. Both are ignored in internal mode.
    """

    mode: Literal["circulation", "internal"] = "circulation"
    threshold: int = 7
    rounding: int = 5

    def __post_init__(self) -> None:
        if self.mode not in ("circulation", "internal"):
            raise ValueError(f"mode must be 'circulation' or 'internal', not {self.mode!r}")
        for name in ("threshold", "rounding"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"{name} must be a whole number")
        if self.threshold < 0 or self.rounding < 1:
            raise ValueError("threshold must be 0 or more and rounding 1 or more")
        # Rounding must not turn the smallest published count into 0 or into a small count.
        if _round(np.array([self.threshold + 1]), self.rounding)[0] <= self.threshold:
            raise ValueError(
                f"rounding to {self.rounding} would publish {self.threshold + 1} as a count of "
                f"{self.threshold} or fewer"
            )

    @property
    def circulating(self) -> bool:
        """Return True when counts are protected (circulation mode)."""
        return self.mode == "circulation"

    @property
    def footnote(self) -> str | None:
        """Return the footnote of a circulated table or figure with ``*`` in it (None in internal mode)."""
        if not self.circulating:
            return None
        return (
            f"* not shown to protect confidentiality: a count of 1 to {self.threshold}, or a count "
            f"(which may be larger) hidden so that one cannot be worked out. Other counts are "
            f"rounded to the nearest {self.rounding}, and a total adds up the counts shown, leaving "
            f"out *, so figures may not add up exactly."
        )

    @property
    def banner(self) -> str | None:
        """Return the line every page must carry: :data:`INTERNAL_BANNER` in internal mode, else None."""
        return None if self.circulating else INTERNAL_BANNER


CIRCULATION = Disclosure()
INTERNAL = Disclosure(mode="internal")


def protect(
    table: pd.DataFrame,
    counts: Sequence[str],
    *,
    within: Sequence[str] | None = None,
    policy: Disclosure = CIRCULATION,
) -> pd.DataFrame:
    """Return ``table`` with its ``counts`` columns protected by ``policy``.

    Each count column becomes a nullable ``Int64`` column of published values (rounded; ``<NA>``
    where suppressed), followed by a boolean column ``<count>_suppressed``, True where the cell
    is suppressed, so a renderer prints ``*`` and says why. A ``<NA>`` count in ``table`` means
    "not applicable": it stays ``<NA>``, is not flagged and takes no part in any group.

    ``within`` names the columns whose groups have a published total (``[]``: the whole table is
    one group); complementary suppression is applied in each group. ``None``: no total of these
    cells is published anywhere, so no complementary suppression. In internal mode the counts
    are returned unchanged and every flag is False. The index and other columns are kept.
    """
    _require_columns(table, [*counts, *(within or [])])
    if len(set(counts)) != len(counts):
        raise ColumnError("a count column is listed twice")
    for column in counts:
        if f"{column}{FLAG_SUFFIX}" in table.columns:
            raise DisclosureError(
                f"column {column!r} is already protected (the table has {column}{FLAG_SUFFIX})",
                hint="protect the raw counts once; protecting published values again loses the flags",
            )
    groups = None if within is None else _group_ids(table, within)
    out = table.copy()
    for column in counts:
        values, missing = _whole_counts(table, column)
        if policy.circulating:
            hidden = ~missing & (values >= 1) & (values <= policy.threshold)
            if groups is not None:
                hidden |= _complementary(values, missing, hidden, groups, policy.threshold)
            published = _round(values, policy.rounding)
        else:
            hidden = np.zeros(len(table), dtype=bool)
            published = values
        absent = missing | hidden
        # Zero the data under the mask: a hidden count must not survive in the array's buffer.
        out[column] = pd.arrays.IntegerArray(np.where(absent, 0, published), absent)
        out.insert(out.columns.get_loc(column) + 1, f"{column}{FLAG_SUFFIX}", hidden)
    return out


def add_totals(
    protected: pd.DataFrame,
    counts: Sequence[str],
    *,
    within: Sequence[str],
    label: str | Mapping[str, object] = "Total",
) -> pd.DataFrame:
    """Return ``protected`` with one total row after each group of ``within`` (``[]``: one total).

    Each total is the sum of the group's published cells: suppressed cells are left out (see the
    module's docstring for why), and the total is suppressed (``<NA>``, flag True) when the group
    has a suppressed cell and no published non-zero cell. A group of only ``<NA>`` (not
    applicable) cells has a ``<NA>`` total, not flagged. Count columns not in ``counts`` are
    ``<NA>`` in total rows. ``label`` is a ``{column: value}`` mapping for the total rows, or a
    text put in the first column that is neither in ``within`` nor a count or flag. Rows are
    grouped in the order groups first appear, each group's rows in their order; the index is
    reset.
    """
    flags = [f"{column}{FLAG_SUFFIX}" for column in counts]
    _require_columns(protected, [*counts, *within])
    missing_flags = [flag for flag in flags if flag not in protected.columns]
    if missing_flags:
        raise ColumnError(
            f"{missing_flags[0]!r} is missing: add_totals takes the output of protect()",
            hint="run protect(table, counts, within=...) first",
        )
    labels = _total_labels(protected, within, label)
    groups = _group_ids(protected, within)
    first = np.unique(groups, return_index=True)[1]
    n_groups = len(first)
    totals = protected.iloc[first][list(within)].reset_index(drop=True)
    for column, value in labels.items():
        totals[column] = value
    for column, flag in zip(counts, flags, strict=True):
        values, missing = _whole_counts(protected, column)
        shown = ~missing
        total = _per_group(groups, np.where(shown, values, 0), n_groups)
        applicable = _per_group(groups, shown | protected[flag].to_numpy(dtype=bool), n_groups) > 0
        suppressed = _per_group(groups, protected[flag].to_numpy(dtype=bool), n_groups) > 0
        shown_nonzero = _per_group(groups, shown & (values > 0), n_groups) > 0
        hidden = suppressed & ~shown_nonzero
        absent = hidden | ~applicable
        totals[column] = pd.arrays.IntegerArray(np.where(absent, 0, total), absent)
        totals[flag] = hidden
    for column in protected.columns:
        if column.endswith(FLAG_SUFFIX) and column not in totals.columns:
            # Another count column's total rows are not applicable, never suppressed.
            totals[column] = False
    combined = pd.concat([protected.reset_index(drop=True), totals], ignore_index=True)
    is_total = np.arange(len(combined)) >= len(protected)
    # lexsort is stable: each group's rows keep their order and its total comes last.
    order = np.lexsort((is_total, np.concatenate([groups, np.arange(n_groups)])))
    return combined.iloc[order].reset_index(drop=True)


def share(numerator: pd.Series, denominator: pd.Series, *, policy: Disclosure = CIRCULATION) -> pd.Series:
    """Return ``numerator / denominator`` as ``Float64``; ``<NA>`` if either is ``<NA>`` or the denominator 0.

    Both must be published counts (from :func:`protect` or :func:`add_totals`): in circulation
    mode a count of 1 … threshold or one not rounded raises :class:`DisclosureError`, so a share
    is never computed from raw counts.
    """
    _published_only(numerator, "numerator", policy)
    _published_only(denominator, "denominator", policy)
    return _ratio(numerator, denominator, 1)


def per(
    numerator: pd.Series,
    denominator: pd.Series,
    scale: float,
    *,
    policy: Disclosure = CIRCULATION,
    denominator_is_count: bool = True,
) -> pd.Series:
    """Return ``numerator / denominator × scale`` (``Float64``), e.g. spells per 100,000 people.

    ``<NA>`` where either is ``<NA>`` or the denominator is 0. The numerator must be a published
    count, and so must the denominator unless ``denominator_is_count=False`` (a published
    population, which is not protected).
    """
    _published_only(numerator, "numerator", policy)
    if denominator_is_count:
        _published_only(denominator, "denominator", policy)
    return _ratio(numerator, denominator, scale)


def as_text(values: pd.Series, suppressed: pd.Series) -> pd.Series:
    """Return counts as report text: ``1,234``; ``*`` where suppressed; ``–`` where ``<NA>`` (not applicable).

    ``suppressed`` is the count's ``<count>_suppressed`` column from :func:`protect`; it wins over
    a value, so a flagged cell is never printed. The result is a ``string`` Series.
    """
    numbers = values.astype("Int64")
    text = numbers.astype("string")
    # Thousands separators one group per pass (Arrow's RE2 has no look-ahead); 6 passes cover int64.
    for _ in range(6):
        text = text.str.replace(r"(\d)(\d{3})(,|$)", r"\1,\2\3", regex=True)
    text = text.fillna(NOT_APPLICABLE)
    return text.mask(pd.Series(suppressed, index=values.index).astype(bool), SUPPRESSED).astype("string")


def never_small(
    table: pd.DataFrame,
    counts: Sequence[str],
    *,
    within: Sequence[str] | None = None,
    policy: Disclosure = CIRCULATION,
) -> None:
    """Return None if ``table``'s ``counts`` are safe to publish under ``policy``; raise otherwise.

    In circulation mode, raises :class:`DisclosureError` naming the column and the row when a
    published count is 1 … threshold or not a multiple of the rounding; with ``within``, also when
    a group has exactly one suppressed cell next to a published non-zero one (a total would give
    it away). A cell counts as suppressed when its ``<count>_suppressed`` flag is True, or when it
    is ``<NA>`` and the table has no flags. The message never contains a count. Internal mode
    checks nothing: its pages carry :data:`INTERNAL_BANNER` instead.
    """
    if not policy.circulating:
        return
    _require_columns(table, [*counts, *(within or [])])
    for column in counts:
        values, missing = _whole_counts(table, column)
        small = ~missing & (values >= 1) & (values <= policy.threshold)
        unrounded = ~missing & (values % policy.rounding != 0)
        for bad, what in (
            (small, f"a count of 1–{policy.threshold}"),
            (unrounded, f"a count not rounded to the nearest {policy.rounding}"),
        ):
            if bad.any():
                raise DisclosureError(
                    f"column {column!r} would publish {what} at {_row_label(table, int(np.argmax(bad)))}",
                    hint="publish counts only as returned by rfd_lib.metrics.disclosure.protect()",
                )
        if within is None:
            continue
        flag = f"{column}{FLAG_SUFFIX}"
        hidden = table[flag].astype(bool).to_numpy() if flag in table.columns else missing
        groups = _group_ids(table, within)
        frame = pd.DataFrame({"hidden": hidden, "shown": ~missing & (values > 0)})
        per_group = frame.groupby(groups).transform("sum")
        alone = hidden & (per_group["hidden"].to_numpy() == 1) & (per_group["shown"].to_numpy() > 0)
        if alone.any():
            raise DisclosureError(
                f"column {column!r} has a single suppressed cell in its group at "
                f"{_row_label(table, int(np.argmax(alone)))}, which a total would give away",
                hint=f"protect with within={list(within)!r}: the columns of groups with published totals",
            )


# --- helpers -----------------------------------------------------------------------------------


def _complementary(
    values: np.ndarray, missing: np.ndarray, primary: np.ndarray, groups: np.ndarray, threshold: int
) -> np.ndarray:
    # Groups are dense integer ids, so numpy's bincount and lexsort do groupby's work without its
    # per-call overhead (reports protect many small tables; the tests protect thousands).
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    hidden_cells = _per_group(groups, primary, n_groups)
    hidden_count = _per_group(groups, np.where(primary, values, 0), n_groups)
    needs = (hidden_cells >= 1) & ((hidden_cells == 1) | (hidden_count <= threshold))
    # Candidates are > threshold (anything smaller is already hidden); 0 protects nothing.
    candidates = np.flatnonzero(needs[groups] & ~missing & (values > threshold))
    ranked = candidates[np.lexsort((candidates, values[candidates], groups[candidates]))]
    first_of_group = np.r_[True, groups[ranked][1:] != groups[ranked][:-1]][: len(ranked)]
    secondary = np.zeros(len(values), dtype=bool)
    secondary[ranked[first_of_group]] = True
    return secondary


def _per_group(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    # Exact: bincount sums in float64, and counts stay far below 2**53.
    return np.rint(np.bincount(groups, weights=values, minlength=n_groups)).astype(np.int64)


def _whole_counts(table: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    series = table[column]
    if series.dtype == object:
        # e.g. pd.Series([10, pd.NA]); text or mixed values are refused below or here.
        try:
            series = pd.to_numeric(series)
        except (TypeError, ValueError):
            raise DisclosureError(f"column {column!r} holds values that are not counts") from None
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        raise DisclosureError(f"column {column!r} holds {dtype} values, not counts")
    if pd.api.types.is_float_dtype(dtype):
        floats = series.astype("Float64")
        fractional = floats.mod(1).ne(0).fillna(False).to_numpy(dtype=bool)
        if fractional.any():
            raise DisclosureError(
                f"column {column!r} holds a value that is not a whole number at "
                f"{_row_label(table, int(np.argmax(fractional)))}"
            )
        series = floats
    numbers = series.astype("Int64")
    missing = numbers.isna().to_numpy(dtype=bool)
    values = numbers.fillna(0).to_numpy(dtype=np.int64)
    negative = values < 0
    if negative.any():
        raise DisclosureError(
            f"column {column!r} holds a negative count at {_row_label(table, int(np.argmax(negative)))}"
        )
    return values, missing


def _group_ids(table: pd.DataFrame, within: Sequence[str]) -> np.ndarray:
    if not within:
        return np.zeros(len(table), dtype=np.int64)
    # sort=False numbers groups in the order they first appear.
    return (
        table.groupby(list(within), sort=False, dropna=False, observed=True).ngroup().to_numpy(dtype=np.int64)
    )


def _total_labels(
    protected: pd.DataFrame, within: Sequence[str], label: str | Mapping[str, object]
) -> Mapping[str, object]:
    if isinstance(label, Mapping):
        _require_columns(protected, list(label))
        return label
    counts = {c.removesuffix(FLAG_SUFFIX) for c in protected.columns if c.endswith(FLAG_SUFFIX)}
    free = [
        column
        for column in protected.columns
        if column not in within and column not in counts and not column.endswith(FLAG_SUFFIX)
    ]
    if not free:
        raise ColumnError(
            "no column can hold the total rows' label", hint="pass label={column: value} for the total rows"
        )
    return {free[0]: label}


def _published_only(values: pd.Series, name: str, policy: Disclosure) -> None:
    if policy.circulating:
        never_small(pd.DataFrame({name: values}), [name], policy=policy)


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float) -> pd.Series:
    top = numerator.astype("Float64")
    bottom = denominator.astype("Float64")
    return (top / bottom.mask(bottom.eq(0)) * scale).astype("Float64")


def _require_columns(table: pd.DataFrame, columns: Sequence[str]) -> None:
    absent = [column for column in columns if column not in table.columns]
    if absent:
        raise ColumnError(f"the table has no column {absent[0]!r}")


def _row_label(table: pd.DataFrame, position: int) -> str:
    index = table.index
    if not isinstance(index, pd.RangeIndex):
        return f"row {index[position]!r}"
    row = table.iloc[position]
    keys = [
        f"{column}={row[column]!r}"
        for column in table.columns
        if not pd.api.types.is_numeric_dtype(table[column].dtype)
        and not pd.api.types.is_bool_dtype(table[column].dtype)
    ]
    return f"row {position}" + (f" ({', '.join(keys)})" if keys else "")
