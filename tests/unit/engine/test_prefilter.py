"""The pre-filter: derived from the compiled rule and the code lists, never dropping a spell the audit uses.

Worked cases first (the stems of LIKE patterns, what each rule's scope gives, when nothing can
be derived and every spell is kept), then the differential property test: hypothesis makes
spells full of SQL Server's awkward cases — trailing and leading blanks, X-padded and
5-character codes, lower case, dotted codes (V48.5), NULLs and empty strings, the codes inside a
SUS+ secondary-procedure string — and the exact evaluation (``classify``, then the audit's
``label_activity``) must find every spell it counts or uses among those the pre-filter keeps,
label them the same when only those are given, and DuckDB running the pre-filter's SQL must keep
exactly the rows the mask keeps.
"""

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rfd_lib import ColumnError, classify, load_rule
from rfd_lib.engine.like import stems
from rfd_lib.engine.prefilter import Contains, Prefilter, rule_prefilter
from rfd_lib.metrics.activity import audit_prefilter, label_activity
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.expectations import load_expectations
from tests.paths import TESTS
from tests.unit.engine.test_differential import COUNTED, padded

RULE = load_rule("2K_RFD_back")
CODE_LISTS = load_code_lists()
EXPECTATIONS = load_expectations(rule=RULE)
AUDIT = audit_prefilter(RULE, CODE_LISTS)
P, AP = "Primary_Spell_Procedure", "Any_Spell_Procedure"
SITES = ("Z675", "Z676", "Z677", "Z993")

STEMS = [
    # pattern              stems                                   why
    ("%V48[57]%",          ("V485", "V487"),                       "a set is expanded"),
    ("%Z67[567]%",         ("Z675", "Z676", "Z677"),               "three members"),
    ("%Z993%",             ("Z993",),                              "a plain code"),
    ("O29[1-3]%",          ("O29",),                               "a range ends the run: its members are the collation's"),
    ("%C[0-9][0-9]%",      ("C",),                                 "two ranges: only the letter is sure"),
    ("%D4[012345678]%",    tuple(f"D4{d}" for d in "012345678"),  "nine members, within the limit"),
    ("V48[^57]",           ("V48",),                               "a negated set ends the run"),
    ("M54_",               ("M54",),                               "_ ends the run"),
    ("2%",                 ("2",),                                 "a one-character stem"),
    ("a[_]b",              ("A_B",),                               "[_] is a literal underscore, upper-cased around it"),
    ("%",                  (),                                     "no literal: nothing is sure"),
    ("_%",                 (),                                     "wildcards only"),
]  # fmt: skip


@pytest.mark.parametrize(("pattern", "expected", "why"), STEMS, ids=[case[0] for case in STEMS])
def test_the_stems_of_a_like_pattern(pattern, expected, why):
    assert stems(pattern) == expected, why


def test_the_published_rule_needs_an_rfd_primary_procedure_with_a_lumbar_site_code():
    prefilter = rule_prefilter(RULE)
    assert not prefilter.keep_all
    assert prefilter.clauses == ((Contains(AP, SITES), Contains(P, ("V485", "V487"))),)


def test_the_audit_adds_blocks_injections_and_rfds_without_a_site_code():
    assert AUDIT.clauses == (
        (Contains(AP, SITES), Contains(P, ("A577", "A735", "V544"))),
        (Contains(P, ("V485", "V487")),),
    )


def test_the_made_up_rule_narrows_by_its_own_codes():
    prefilter = rule_prefilter(str(TESTS / "rules" / "2X_made_up_shoulder.sql"))
    # RIGHT(RTRIM(Any_Spell_Procedure), 4) IN ('Z812','Z813'): a piece of the column equals one.
    assert prefilter.clauses == ((Contains(AP, ("Z812", "Z813")), Contains(P, ("O29",))),)


def made_up(tmp_path, condition: str) -> Prefilter:
    path = tmp_path / "made_up.sql"
    path.write_text(f"WHEN ({condition})\nTHEN 'T'\n", encoding="utf-8")
    return rule_prefilter(str(path))


KEEP_ALL = [
    # scope                                                                       why nothing can be derived
    ("LEN(Primary_Spell_Procedure) >= 4",                                         "a length says nothing of the codes"),
    ("Primary_Spell_Procedure NOT LIKE 'X%'",                                     "NOT LIKE is met by nearly anything"),
    ("Primary_Spell_Procedure LIKE '%V48%' OR Primary_Spell_Procedure IS NULL",   "one side of an OR has no condition"),
    ("Primary_Spell_Procedure IN ('02', '2')",                                    "a number column would equal '02'"),
    ("ISNULL(Primary_Spell_Procedure, 'V485') LIKE '%V48%'",                      "a constant may stand in for the column"),
    ("Primary_Spell_Procedure LIKE '%'",                                          "a pattern without a literal"),
]  # fmt: skip


@pytest.mark.parametrize(("scope", "why"), KEEP_ALL, ids=[case[1] for case in KEEP_ALL])
def test_a_scope_without_a_code_condition_keeps_every_spell(tmp_path, scope, why):
    prefilter = made_up(tmp_path, scope)
    assert prefilter.keep_all, why
    assert "no code condition" in prefilter.why
    assert prefilter.mask(pd.DataFrame({P: ["W401", None]})).tolist() == [True, True]
    assert prefilter.where() is None


def test_an_and_narrows_by_the_side_that_can(tmp_path):
    scope = "LEN(Primary_Spell_Procedure) >= 4 AND ISNULL(Primary_Spell_Procedure, Any_Spell_Procedure) = 'v48.5 '"
    # ISNULL's value is one of its columns': either may hold the code (case, dot and blanks gone).
    assert made_up(tmp_path, scope).clauses == ((Contains(P, ("V485",)),), (Contains(AP, ("V485",)),))


MASK = [
    # value of Primary_Spell_Procedure   kept   why
    ("V485",                             True,  "the code"),
    ("v487",                             True,  "lower case"),
    ("  V485   ",                        True,  "blanks either side"),
    ("V48.5",                            True,  "a dotted code: not counted by the rule, kept by a superset"),
    ("||W401 ,V487",                     True,  "inside a code string"),
    ("V4855",                            True,  "a 5-character code"),
    ("V486",                             False, "another V48 code"),
    ("V48",                              False, "too short"),
    ("",                                 False, "empty"),
    (None,                               False, "NULL: the rule's LIKE is UNKNOWN"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "kept", "why"), MASK, ids=[case[2] for case in MASK])
def test_what_the_mask_keeps(value, kept, why):
    frame = pd.DataFrame({P: pd.array([value], dtype="string"), AP: pd.array(["||W401"], dtype="string")})
    assert AUDIT.mask(frame).tolist() == [kept], why


def test_the_mask_reads_an_extract_s_own_names_from_pandas_or_arrow():
    names = {P: "Der_Primary_Procedure_Code", AP: "Der_Procedure_All"}
    raw = {
        "der_primary_procedure_code": ["A577", "A577", "V485", "W401"],
        "Der_Procedure_All": ["Z676", "Z671", None, None],
    }
    assert AUDIT.mask(pd.DataFrame(raw), names).tolist() == [True, False, True, False]
    import pyarrow as pa

    assert AUDIT.mask(pa.table(raw), names).tolist() == [True, False, True, False]
    with pytest.raises(ColumnError, match="Der_Procedure_All"):
        AUDIT.mask(pd.DataFrame({"der_primary_procedure_code": ["V485"]}), names)


def test_a_column_of_another_type_keeps_every_row():
    frame = pd.DataFrame({P: [1.5, 2.5], AP: ["Z676", "Z676"]})
    assert AUDIT.mask(frame).tolist() == [True, True]


def test_the_where_clause_is_t_sql_and_escapes_nothing_by_hand(tmp_path):
    prefilter = made_up(
        tmp_path, "Primary_Spell_Procedure LIKE '%A[_]B%' AND Any_Spell_Procedure LIKE '%Z99[3]%'"
    )
    sql = prefilter.where_sql({P: "Der_Primary_Procedure_Code"})
    sqlglot.parse_one(f"SELECT 1 FROM t WHERE {sql}", read="tsql")
    # A stem holding a LIKE wildcard is looked for with CHARINDEX, which has none.
    assert "CHARINDEX('A_B', UPPER(REPLACE([Der_Primary_Procedure_Code], '.', ''))) > 0" in sql
    assert "UPPER(REPLACE([Any_Spell_Procedure], '.', '')) LIKE '%Z993%'" in sql
    frame = pd.DataFrame({P: ["xa_bx", "AXB", "a_b"], AP: ["z99.3", "Z993", None]})
    assert prefilter.mask(frame).tolist() == [True, False, False]
    assert duck_keeps(prefilter, frame) == [0]


def duck_keeps(prefilter: Prefilter, frame: pd.DataFrame) -> list[int]:
    """Return the rows of ``frame`` DuckDB keeps with the pre-filter's T-SQL, translated by sqlglot."""
    where = prefilter.where_sql()
    query = sqlglot.transpile(
        f"SELECT _row FROM spells WHERE {where} ORDER BY _row", read="tsql", write="duckdb"
    )[0]
    connection = duckdb.connect()
    try:
        connection.register("spells", frame.assign(_row=np.arange(len(frame))))
        return [row for (row,) in connection.sql(query).fetchall()]
    finally:
        connection.close()


# --- the differential property test -------------------------------------------------------------

PROCEDURES = [
    "V485", "V487", "v485", "V48.5", "V48.7", "V4855", "V486", "V481", "V48", "V48X",
    "A577", "a577", "A57.7", "A735", "A73.5", "A5771", "V544", "v54.4", "W401", "X481", "48",
]  # fmt: skip
SITE_CODES = [
    "Z675",
    "Z676",
    "z677",
    "Z67.6",
    "Z671",
    "Z993",
    "Z99.3",
    "Y534",
    "Z67",
    "Z6755",
    "Z942",
    "Z943",
]
SEPARATORS = [",", " ,", ", ", "||", " ||", "|| ", " "]
BASE = pd.Timestamp("2025-01-01")


def code_string(codes: list[str]) -> st.SearchStrategy[str | None]:
    """A SUS+ code string (codes after ``||`` or ``,``), or NULL, or empty."""
    pieces = st.lists(st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(codes)), max_size=5)
    joined = pieces.map(lambda parts: "".join(sep + code for sep, code in parts))
    return st.one_of(st.none(), st.just(""), padded(joined), joined.map(lambda s: "||" + s.lstrip("|, ")))


SPELL = st.fixed_dictionaries(
    {
        P: st.one_of(st.none(), padded(st.sampled_from([*PROCEDURES, ""])), code_string(PROCEDURES)),
        AP: code_string(PROCEDURES + SITE_CODES),
        "Primary_Spell_Diagnosis": st.sampled_from([None, "M545", "m545 ", "M54.5", "M545X", "I10X", "C509"]),
        "Any_Spell_Diagnosis": st.sampled_from([None, "", "||M545", "||M545 ,C509", "||D051"]),
        "Age_At_Start_of_Spell_SUS": st.sampled_from([None, 17, 45, 999]),
        "Der_Age_at_CDS_Activity_Date": st.sampled_from([None, 45]),
        "Admission_Method": st.sampled_from([None, "11", "21", " 12"]),
        "Administrative_Category": st.sampled_from([None, "01", "02 "]),
        "patient_id": st.sampled_from([None, "P1", "P2", "P3"]),
        "days": st.integers(min_value=0, max_value=700),
        "stay": st.sampled_from([0, 1, None]),
    }
)
# The first spell is counted and the earliest: the look-backs start on the same day either way.
FIRST = {**COUNTED, "patient_id": "P1", "days": -1, "stay": 0}


def spells(drawn: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame([FIRST, *drawn])
    admitted = BASE + pd.to_timedelta(table["days"], unit="D")
    stay = pd.to_timedelta(table["stay"].astype("Float64").astype(float), unit="D")
    return pd.DataFrame(
        {
            "spell_id": [f"S{i}" for i in range(len(table))],
            "provider_code": "ZZ1",
            "patient_id": table["patient_id"].astype("string"),
            "admission_date": admitted,
            "discharge_date": admitted + stay,
            "patient_classification": pd.array(["2"] * len(table), dtype="string"),
            **{
                column: table[column].astype("string")
                for column in COUNTED
                if not column.startswith(("Age", "Der_Age"))
            },
            "Age_At_Start_of_Spell_SUS": table["Age_At_Start_of_Spell_SUS"].astype("Int64"),
            "Der_Age_at_CDS_Activity_Date": table["Der_Age_at_CDS_Activity_Date"].astype("Int64"),
        }
    )


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return label_activity(classify(frame), RULE, CODE_LISTS, EXPECTATIONS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=st.lists(SPELL, max_size=30))
@example(
    drawn=[
        {**FIRST, P: "A577", AP: "||A577 ,Z676", "days": 10},  # a block before the RFD
        {**FIRST, P: "V485 ", AP: "||V485", "days": 20},  # an RFD without a site code
        {**FIRST, P: "v54.4", AP: "||V544,Z676", "days": 30},  # a dotted injection: not one
        {**FIRST, P: "W401", AP: "||W401 ,V485 ,Z675", "days": 40},  # RFD only as a secondary
    ]
)
def test_the_pre_filter_never_drops_a_spell_the_audit_counts_or_uses(drawn):
    frame = spells(drawn)
    kept = AUDIT.mask(frame)
    full = classify(frame)
    activity = label_activity(full, RULE, CODE_LISTS, EXPECTATIONS)
    used = activity["spell_row"].to_numpy()
    assert kept[used].all(), frame.iloc[used[~kept[used]]][[P, AP]].to_dict("records")
    assert kept[full["ebi_category"].notna().to_numpy()].all()
    # The same spells, given alone, are labelled the same: the labels are row-wise and the
    # look-backs start on the same day.
    positions = np.flatnonzero(kept)
    alone = labelled(frame.iloc[positions].reset_index(drop=True))
    alone["spell_row"] = positions[alone["spell_row"].to_numpy()]
    pd.testing.assert_frame_equal(alone, activity)
    # DuckDB running the SQL form keeps exactly the rows the mask keeps.
    assert duck_keeps(AUDIT, frame[[P, AP]]) == positions.tolist()
