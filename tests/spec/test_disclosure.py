"""Disclosure control as worked examples: raw counts in, what a circulated report prints out.

Each table is read as whitespace-separated columns; ``#`` starts a comment, ``.`` is an empty
cell. Printed values are :func:`as_text`'s: ``*`` suppressed, ``–`` not applicable.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from rfd_lib.errors import ColumnError, RfdAuditError
from rfd_lib.metrics.disclosure import (
    CIRCULATION,
    INTERNAL,
    INTERNAL_BANNER,
    Disclosure,
    DisclosureError,
    add_totals,
    as_text,
    never_small,
    per,
    protect,
    share,
)


def read(text: str) -> pd.DataFrame:
    """Return a worked-example table: whitespace-separated columns, '#' comments, '.' empty."""
    lines = [line.split("#")[0].split() for line in text.strip().splitlines()]
    header, rows = lines[0], [line for line in lines[1:] if line]
    frame = pd.DataFrame(rows, columns=header).replace(".", None)
    return frame.astype("string")


def counts(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column).astype("Int64")


def printed(out: pd.DataFrame, column: str) -> list[str]:
    return as_text(out[column], out[f"{column}_suppressed"]).tolist()


# --- one count at a time ---------------------------------------------------------------------

ONE_AT_A_TIME = """
raw      printed    # why
0        0          # a zero describes no one, and the audit needs its zeros
1        *          # 1 to 7: suppressed, on the true count, before rounding
7        *
8        10         # the smallest count published: rounded to the nearest 5
12       10
13       15
1000     1,000
1234     1,235
"""


def test_each_count_alone():
    table = read(ONE_AT_A_TIME)
    out = protect(pd.DataFrame({"spells": counts(table["raw"])}), ["spells"])
    assert printed(out, "spells") == table["printed"].tolist()
    assert out["spells"].dtype == "Int64"
    assert out["spells_suppressed"].tolist() == table["printed"].eq("*").tolist()


# --- a provider's cells and its total ----------------------------------------------------------

GROUPS = """
provider  reason    raw    printed
A         none      0      0
A         age       1      *         # two small cells that count 8 together: enough
A         elective  7      *
A         private   8      10
A         counted   1000   1,000
A         Total     .      1,010     # the sum of the cells printed: 0 + 10 + 1000
B         age       3      *         # alone, so the smallest other non-zero cell goes too
B         elective  12     *
B         counted   40     40
B         Total     .      40        # 3 and 12 are left out: 40 − 40 gives nothing away
C         age       1      *         # 1 + 2 = 3 counts 7 or fewer: a third cell goes
C         elective  2      *
C         private   30     *
C         counted   40     40
C         Total     .      40
D         age       3      *         # a tie: the first of the smallest cells is taken
D         elective  20     *
D         counted   20     20
D         Total     .      20
E         age       2      *         # the group's true total, 6, is small: the total goes too
E         elective  0      0
E         counted   4      *
E         Total     .      *
F         age       12     10        # nothing small: the total is the sum of the rounded cells
F         counted   13     15
F         Total     .      25
"""


def test_cells_and_totals_of_each_group():
    table = read(GROUPS)
    cells = table[table["reason"] != "Total"].assign(spells=lambda t: counts(t["raw"]))
    out = protect(cells[["provider", "reason", "spells"]], ["spells"], within=["provider"])
    out = add_totals(out, ["spells"], within=["provider"])
    assert out["reason"].tolist() == table["reason"].tolist()
    assert printed(out, "spells") == table["printed"].tolist()
    never_small(out, ["spells"], within=["provider"])


def test_without_within_no_cell_is_suppressed_for_a_total():
    table = read(GROUPS)
    cells = table[table["provider"].eq("B") & table["reason"].ne("Total")]
    out = protect(pd.DataFrame({"spells": counts(cells["raw"])}), ["spells"])
    assert printed(out, "spells") == ["*", "10", "40"]
    # ... which the guard refuses once it is told a total of the group is published.
    with pytest.raises(DisclosureError, match="single suppressed cell"):
        never_small(out.assign(provider="B"), ["spells"], within=["provider"])


def test_within_nothing_is_one_group_for_the_whole_table():
    table = pd.DataFrame({"reason": ["age", "elective", "counted"], "spells": [3, 12, 40]})
    out = add_totals(protect(table, ["spells"], within=[]), ["spells"], within=[])
    assert printed(out, "spells") == ["*", "*", "40", "40"]
    assert out["reason"].tolist() == ["age", "elective", "counted", "Total"]


# --- the waterfall: RFD-coded = counted + each first failure -----------------------------------

WATERFALL = """
provider_code  quarter  step  label      spells  printed
RX1            2024-Q1  0     RFD-coded  .       410      # added by add_totals: the steps printed
RX1            2024-Q1  1     age        3       *        # alone: the smallest other step goes
RX1            2024-Q1  2     elective   9       *
RX1            2024-Q1  3     private    0       0
RX1            2024-Q1  4     counted    412     410
RX2            2024-Q1  0     RFD-coded  .       150
RX2            2024-Q1  1     age        0       0
RX2            2024-Q1  2     elective   31      30
RX2            2024-Q1  3     private    8       10
RX2            2024-Q1  4     counted    112     110
"""


def test_the_waterfall_is_a_total_with_its_parts():
    table = read(WATERFALL)
    steps = table[table["step"] != "0"].assign(
        step=lambda t: counts(t["step"]), spells=lambda t: counts(t["spells"])
    )
    steps = steps[["provider_code", "quarter", "step", "label", "spells"]]
    within = ["provider_code", "quarter"]
    out = add_totals(
        protect(steps, ["spells"], within=within),
        ["spells"],
        within=within,
        label={"step": 0, "label": "RFD-coded"},
    ).sort_values([*within, "step"], ignore_index=True)
    assert out["label"].tolist() == table["label"].tolist()
    assert printed(out, "spells") == table["printed"].tolist()


# --- two counts that do not add up: spells and patients ----------------------------------------

SPELLS_AND_PATIENTS = """
provider  reason    spells  patients  spells_printed  patients_printed
A         age       9       5         10              *           # patients 5 is small; spells 9 is not
A         elective  30      28        30              *           # the smallest other patients cell goes
A         counted   100     80        100             80
A         Total     .       .         140             –           # patients overlap across reasons: no total
"""


def test_each_count_column_is_protected_on_its_own():
    table = read(SPELLS_AND_PATIENTS)
    cells = table[table["reason"] != "Total"]
    raw = cells[["provider", "reason"]].assign(
        spells=counts(cells["spells"]), patients=counts(cells["patients"])
    )
    out = protect(raw, ["spells", "patients"], within=["provider"])
    out = add_totals(out, ["spells"], within=["provider"])
    assert printed(out, "spells") == table["spells_printed"].tolist()
    assert printed(out, "patients") == table["patients_printed"].tolist()
    assert list(out.columns) == [
        "provider",
        "reason",
        "spells",
        "spells_suppressed",
        "patients",
        "patients_suppressed",
    ]


def test_a_not_applicable_count_stays_not_applicable():
    raw = pd.DataFrame(
        {
            "provider": ["A", "A"],
            "reason": ["age", "counted"],
            "patients": pd.array([pd.NA, pd.NA], dtype="Int64"),
        }
    )
    out = add_totals(protect(raw, ["patients"], within=["provider"]), ["patients"], within=["provider"])
    assert printed(out, "patients") == ["–", "–", "–"]


# --- internal mode -----------------------------------------------------------------------------


def test_internal_mode_publishes_everything_under_a_banner():
    table = read(GROUPS)
    cells = table[table["reason"] != "Total"].assign(spells=lambda t: counts(t["raw"]))
    out = protect(cells[["provider", "reason", "spells"]], ["spells"], within=["provider"], policy=INTERNAL)
    assert out["spells"].tolist() == cells["spells"].tolist()
    assert not out["spells_suppressed"].any()
    totals = add_totals(out, ["spells"], within=["provider"])
    assert totals.loc[totals["reason"].eq("Total"), "spells"].tolist() == [1016, 55, 73, 43, 6, 25]
    never_small(totals, ["spells"], within=["provider"], policy=INTERNAL)
    assert INTERNAL.banner == INTERNAL_BANNER == "contains unsuppressed figures — do not circulate"
    assert CIRCULATION.banner is None
    assert INTERNAL.footnote is None
    assert CIRCULATION.footnote.startswith("* not shown to protect confidentiality: a count of 1 to 7, or")


# --- rates and shares --------------------------------------------------------------------------

SHARES = """
numerator  denominator  share    # from published counts only
10         40           0.25
*          40           –        # a suppressed side gives no share
20         *            –
0          0            –        # nothing to divide by
0          40           0.0
"""


def _published(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column.replace("*", None)).astype("Int64")


def test_share_of_published_counts():
    table = read(SHARES)
    result = share(_published(table["numerator"]), _published(table["denominator"]))
    expected = pd.to_numeric(table["share"].replace("–", None)).astype("Float64")
    pd.testing.assert_series_equal(result, expected, check_names=False)


def test_per_population_and_per_count():
    numerator = pd.Series([10, pd.NA, 0], dtype="Int64")
    population = pd.Series([250_000, 250_000, 0], dtype="Int64")
    rate = per(numerator, population, 100_000, denominator_is_count=False)
    assert rate.tolist() == [4.0, pd.NA, pd.NA]
    assert per(pd.Series([10]), pd.Series([40]), 1000).tolist() == [250.0]


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [([3], [40]), ([10], [12]), ([12], [40])],
    ids=["small numerator", "unrounded denominator", "unrounded numerator"],
)
def test_share_and_per_refuse_raw_counts(numerator, denominator):
    with pytest.raises(DisclosureError):
        share(pd.Series(numerator), pd.Series(denominator))
    with pytest.raises(DisclosureError):
        per(pd.Series(numerator), pd.Series(denominator), 100)


def test_internal_shares_take_raw_counts():
    assert share(pd.Series([3]), pd.Series([12]), policy=INTERNAL).tolist() == [0.25]


# --- printing ----------------------------------------------------------------------------------

AS_TEXT = """
value     suppressed  text
0         no          0
999       no          999
1000      no          1,000
1234565   no          1,234,565
.         yes         *          # suppressed
.         no          –          # not applicable
40        yes         *          # a flagged cell is never printed, whatever its value
"""


def test_as_text():
    table = read(AS_TEXT)
    text = as_text(counts(table["value"]), table["suppressed"].eq("yes"))
    assert text.tolist() == table["text"].tolist()
    assert text.dtype == "string"


# --- the guard a report calls before publishing ------------------------------------------------


def test_never_small_names_the_column_and_the_row():
    by_provider = pd.DataFrame(
        {"spells": [10, 3, 20]}, index=pd.Index(["RX1", "RX2", "RX3"], name="provider")
    )
    with pytest.raises(
        DisclosureError, match=r"'spells' would publish a count of 1–7 at row 'RX2'"
    ) as raised:
        never_small(by_provider, ["spells"])
    assert "3" not in raised.value.message.replace("1–7", "")
    assert isinstance(raised.value, RfdAuditError)
    long = pd.DataFrame({"provider": ["RX1", "RX2"], "reason": ["age", "elective"], "spells": [10, 12]})
    with pytest.raises(
        DisclosureError, match=r"not rounded to the nearest 5 at row 1 \(provider='RX2', reason='elective'\)"
    ):
        never_small(long, ["spells"])
    never_small(long, ["spells"], policy=INTERNAL)


def test_never_small_accepts_protected_tables_with_their_totals():
    raw = pd.DataFrame({"provider": ["A"] * 3, "reason": ["x", "y", "z"], "spells": [2, 9, 33]})
    out = add_totals(protect(raw, ["spells"], within=["provider"]), ["spells"], within=["provider"])
    never_small(out, ["spells"], within=["provider"])


# --- what protect refuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (pd.Series([1, -2]), "negative count at row 1"),
        (pd.Series([1.0, 2.5]), "not a whole number at row 1"),
        (pd.Series(["1", "2"], dtype="string"), "not counts"),
        (pd.Series([True, False]), "not counts"),
    ],
    ids=["negative", "fraction", "text", "boolean"],
)
def test_protect_refuses_what_is_not_a_count(values, words):
    with pytest.raises(DisclosureError, match=words):
        protect(pd.DataFrame({"spells": values}), ["spells"])


def test_protect_accepts_whole_floats_and_missing_values():
    out = protect(pd.DataFrame({"spells": [12.0, np.nan, 3.0]}), ["spells"])
    assert printed(out, "spells") == ["10", "–", "*"]


def test_protect_refuses_to_protect_twice_and_missing_columns():
    once = protect(pd.DataFrame({"spells": [12]}), ["spells"])
    with pytest.raises(DisclosureError, match="already protected"):
        protect(once, ["spells"])
    with pytest.raises(ColumnError, match="no column 'patients'"):
        protect(once, ["patients"])
    with pytest.raises(ColumnError, match="output of protect"):
        add_totals(pd.DataFrame({"g": ["a"], "spells": [10]}), ["spells"], within=["g"])


def test_a_suppressed_count_leaves_nothing_behind_in_the_array():
    out = protect(pd.DataFrame({"spells": [3, 12]}), ["spells"])
    # Arrow (Parquet, Feather, IPC) writes the data buffer as it is, masked slots included.
    data = pa.array(out["spells"]).buffers()[1]
    assert np.frombuffer(data, dtype=np.int64)[:2].tolist() == [0, 10]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"mode": "public"}, "mode must be"),
        ({"threshold": -1}, "threshold must be 0 or more"),
        ({"threshold": 2, "rounding": 10}, "would publish 3 as a count of 2 or fewer"),
        ({"rounding": True}, "whole number"),
    ],
)
def test_policies_that_cannot_work_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Disclosure(**kwargs)
