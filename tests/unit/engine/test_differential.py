"""Differential property test: ``classify`` against an independent DuckDB transcription of the rule.

hypothesis generates spells full of the things real extracts hold — NULLs, empty strings, lower
case, dotted codes (V48.5), X-padded (M545X) and 5-character (M5450) codes, leading and trailing
blanks, SUS-style ``||`` strings with any separators, boundary and code ages (999, 7001) — and
every criterion and the label must agree, row by row, with the views of
``tests/oracle/2K_RFD_back.duckdb.sql``.
"""

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rfd_lib import classify, load_rule
from tests.paths import TESTS

ORACLE = (TESTS / "oracle" / "2K_RFD_back.duckdb.sql").read_text()
ORACLE_COLUMNS = ["procedure", "diagnosis", "age", "elective", "cancer", "private"]
CRITERIA = [c.name for c in load_rule("2K_RFD_back").criteria]
AGES = ["Age_At_Start_of_Spell_SUS", "Der_Age_at_CDS_Activity_Date"]

PROCEDURE_CODES = ["V485", "V487", "v485", "V48.5", "V486", "V481", "X481", "W401", "A577", "V544", "48"]
SITE_CODES = ["Z675", "Z676", "z677", "Z671", "Z993", "z993", "Z99.3", "Y534", "Z67", "Z6755"]
DIAGNOSES = ["M545", "M5450", "M545X", "m545", "M54.5", "M549", "M512", "m518", "M519", "M51", "M479", "I10X"]
CANCER_LIKE = [
    "C509",
    "c61X",
    "C5",
    "C5X",
    "C7951",
    "D051",
    "D0",
    "d05",
    "D369",
    "D374",
    "d379",
    "D38",
    "D410",
    "D489",
    "D499",
    "D36",
]
SEPARATORS = [",", " ,", ", ", "||", " ||", "|| ", " "]


def padded(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text with, sometimes, blanks before or after."""
    return st.tuples(st.sampled_from(["", "", " ", "  "]), text, st.sampled_from(["", "", " ", "   "])).map(
        "".join
    )


def code_string(codes: list[str]) -> st.SearchStrategy[str | None]:
    """A SUS-style concatenated code string, or NULL, or empty."""
    pieces = st.lists(st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(codes)), max_size=5)
    joined = pieces.map(lambda parts: "".join(sep + code for sep, code in parts))
    return st.one_of(st.none(), st.just(""), padded(joined), joined.map(lambda s: "||" + s.lstrip("|, ")))


def text(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), padded(st.sampled_from(values)), st.sampled_from(values))


AGE_VALUES = st.sampled_from([None, 0, 18, 19, 45, 120, 121, 999, 7001])

SPELL = st.fixed_dictionaries(
    {
        "Primary_Spell_Procedure": text([*PROCEDURE_CODES, ""]),
        "Any_Spell_Procedure": code_string(PROCEDURE_CODES + SITE_CODES),
        "Primary_Spell_Diagnosis": text([*DIAGNOSES, *CANCER_LIKE, ""]),
        "Any_Spell_Diagnosis": code_string(DIAGNOSES + CANCER_LIKE),
        "Age_At_Start_of_Spell_SUS": AGE_VALUES,
        "Der_Age_at_CDS_Activity_Date": AGE_VALUES,
        "Admission_Method": text(["11", "12", "13", "21", "2A", "2", "22", "81", "31", "x2", ""]),
        "Administrative_Category": text(["01", "02", "2", "03", "020", "0 2", ""]),
    }
)

# A spell the rule counts, so that the generated frames always exercise the restrictions too.
COUNTED = {
    "Primary_Spell_Procedure": "V485",
    "Any_Spell_Procedure": "||V485 ,Z675",
    "Primary_Spell_Diagnosis": "M545",
    "Any_Spell_Diagnosis": "||M545",
    "Age_At_Start_of_Spell_SUS": 45,
    "Der_Age_at_CDS_Activity_Date": 45,
    "Admission_Method": "11",
    "Administrative_Category": "01",
}

# Mostly coded spells (the interesting ones), some of anything.
CODED_SPELL = SPELL.map(
    lambda s: {**s, "Primary_Spell_Procedure": "V485", "Any_Spell_Procedure": "||V485,Z675"}
)
SPELLS = st.lists(st.one_of(SPELL, CODED_SPELL, st.just(COUNTED)), min_size=1, max_size=40)


def frame(spells: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(spells, columns=list(COUNTED))
    return table.astype({c: ("Int64" if c in AGES else "string") for c in table.columns})


def as_python(column: pd.Series) -> list:
    return column.astype(object).where(column.notna(), None).tolist()


@pytest.fixture(scope="module")
def duck():
    connection = duckdb.connect()
    connection.register("spells", frame([COUNTED]))
    connection.execute(ORACLE)
    yield connection
    connection.close()


def oracle(duck, spells: pd.DataFrame) -> pd.DataFrame:
    """Return the oracle's criteria and label for ``spells``, in their row order."""
    duck.register("spells", spells)
    criteria = duck.sql("SELECT * FROM criteria").df()
    label = duck.sql("SELECT ebi_category FROM classified").df()
    return criteria.assign(ebi_category=label["ebi_category"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spells=SPELLS)
@example(
    spells=[COUNTED, {**COUNTED, "Administrative_Category": "02 "}, {**COUNTED, "Admission_Method": " 21"}]
)
def test_every_criterion_and_the_label_agree_with_duckdb(duck, spells):
    table = frame(spells)
    ours = classify(table, all_criteria=True)
    theirs = oracle(duck, table)
    for criterion, column in zip(CRITERIA, ORACLE_COLUMNS, strict=True):
        assert as_python(ours[criterion]) == as_python(theirs[column]), criterion
    assert as_python(ours["ebi_category"]) == as_python(theirs["ebi_category"])


@settings(max_examples=150, deadline=None)
@given(spells=SPELLS)
def test_in_play_evaluation_gives_the_same_verdicts_as_full_evaluation(spells):
    table = frame(spells)
    fast = classify(table)
    full = classify(table, all_criteria=True)
    assert as_python(fast["ebi_category"]) == as_python(full["ebi_category"])
    assert as_python(fast["reason"]) == as_python(full["reason"])
    for criterion in CRITERIA:
        evaluated = fast[criterion].notna()
        assert as_python(fast.loc[evaluated, criterion]) == as_python(full.loc[evaluated, criterion])


def test_the_oracle_sees_nulls_as_nulls(duck):
    table = frame([{c: None for c in COUNTED}])
    assert oracle(duck, table).loc[0, ORACLE_COLUMNS].isna().tolist() == [True, True, True, True, False, True]
