"""The published 2K_RFD_back rule, spell by spell: what SQL Server counts and why not.

Each case starts from a spell the rule counts and changes a few fields. ``expected`` is
``COUNTED``, ``NOT_CODED`` (no lumbar RFD procedure), or the reason classify must give.
"""

import pandas as pd
import pytest

from rfd_lib import classify, load_rule

RULE = load_rule("2K_RFD_back")
PROCEDURE, DIAGNOSIS, AGE, ELECTIVE, CANCER, PRIVATE = (c.name for c in RULE.criteria)
COUNTED = None
NOT_CODED = f"not coded: [{PROCEDURE}] is not TRUE"


def fails(*criteria: str) -> str:
    return "fails: " + "; ".join(criteria)


def unknown(criterion: str) -> str:
    return f"{criterion} (unknown)"


COUNTED_SPELL = {
    "Primary_Spell_Procedure": "V485",
    "Any_Spell_Procedure": "||V485 ,Z675 ||Y534",
    "Primary_Spell_Diagnosis": "M545",
    "Any_Spell_Diagnosis": "||M545 ,I10X",
    "Age_At_Start_of_Spell_SUS": 45,
    "Der_Age_at_CDS_Activity_Date": 45,
    "Admission_Method": "11",
    "Administrative_Category": "01",
}

P, AP = "Primary_Spell_Procedure", "Any_Spell_Procedure"
D, AD = "Primary_Spell_Diagnosis", "Any_Spell_Diagnosis"
SUS_AGE, CDS_AGE = "Age_At_Start_of_Spell_SUS", "Der_Age_at_CDS_Activity_Date"
METHOD, CATEGORY = "Admission_Method", "Administrative_Category"

CASES = [
    # case                                                   changes to the counted spell                     expected
    ("a lumbar RFD spell that meets every criterion",        {},                                              COUNTED),
    ("V48.7 is RFD as well as V48.5",                        {P: "V487", AP: "||V487,Z676"},                  COUNTED),
    ("codes in lower case",                                  {P: "v485", AP: "||v485 ,z677"},                 COUNTED),
    ("a trailing blank on the primary procedure",            {P: "V485 "},                                    COUNTED),
    ("Z99.3 as the site code",                               {AP: "||V485,Z993"},                             COUNTED),
    ("the site code in a later episode",                     {AP: "||V485 ||Y534 ,Z676"},                     COUNTED),
    ("a dotted V48.5 is not the code",                       {P: "V48.5", AP: "||V48.5,Z675"},                NOT_CODED),
    ("V48.5 only as a secondary procedure",                  {P: "W401", AP: "||W401 ,V485 ,Z675"},           NOT_CODED),
    ("a cervical site code (Z67.1) only",                    {AP: "||V485 ,Z671"},                            NOT_CODED),
    ("no site code at all",                                  {AP: "||V485"},                                  NOT_CODED),
    ("NULL procedure strings",                               {P: None, AP: None},                             NOT_CODED),
    ("a 5-character diagnosis, M54.50",                      {D: "M5450"},                                    COUNTED),
    ("an X-padded diagnosis, M545X",                         {D: "M545X"},                                    COUNTED),
    ("each of the back-pain diagnoses: M51.2",               {D: "M512"},                                     COUNTED),
    ("each of the back-pain diagnoses: M51.8",               {D: "M518"},                                     COUNTED),
    ("each of the back-pain diagnoses: M51.9",               {D: "M519"},                                     COUNTED),
    ("each of the back-pain diagnoses: M54.9",               {D: "M549"},                                     COUNTED),
    ("a lower-case diagnosis",                               {D: "m549"},                                     COUNTED),
    ("spondylosis M47.9 is not a listed diagnosis",          {D: "M479"},                                     fails(DIAGNOSIS)),
    ("a dotted M54.5 is not the code",                       {D: "M54.5"},                                    fails(DIAGNOSIS)),
    ("a leading blank on the diagnosis",                     {D: " M545"},                                    fails(DIAGNOSIS)),
    ("a NULL primary diagnosis is UNKNOWN",                  {D: None},                                       fails(unknown(DIAGNOSIS))),
    ("age 19 is in range",                                   {SUS_AGE: 19, CDS_AGE: 19},                      COUNTED),
    ("age 120 is in range",                                  {SUS_AGE: 120, CDS_AGE: 120},                    COUNTED),
    ("age 18 is a child",                                    {SUS_AGE: 18, CDS_AGE: 18},                      fails(AGE)),
    ("age 121 is out of range",                              {SUS_AGE: 121, CDS_AGE: 121},                    fails(AGE)),
    ("the SUS age wins over the CDS age",                    {SUS_AGE: 18, CDS_AGE: 45},                      fails(AGE)),
    ("no SUS age: the CDS age is used",                      {SUS_AGE: None, CDS_AGE: 50},                    COUNTED),
    ("no SUS age and CDS age 999 (not known)",               {SUS_AGE: None, CDS_AGE: 999},                   fails(AGE)),
    ("no SUS age and an infant age code 7001",               {SUS_AGE: None, CDS_AGE: 7001},                  fails(AGE)),
    ("no age at all is UNKNOWN",                             {SUS_AGE: None, CDS_AGE: None},                  fails(unknown(AGE))),
    ("elective from the waiting list (11) ",                 {METHOD: "11"},                                  COUNTED),
    ("elective planned (13)",                                {METHOD: "13"},                                  COUNTED),
    ("transfer (81) is not emergency",                       {METHOD: "81"},                                  COUNTED),
    ("emergency via A&E (21)",                               {METHOD: "21"},                                  fails(ELECTIVE)),
    ("emergency 2A",                                         {METHOD: "2A"},                                  fails(ELECTIVE)),
    ("a leading blank hides an emergency (' 21')",           {METHOD: " 21"},                                 COUNTED),
    ("a NULL admission method is UNKNOWN",                   {METHOD: None},                                  fails(unknown(ELECTIVE))),
    ("malignant neoplasm C50.9 co-diagnosed",                {AD: "||M545 ,C509"},                            fails(CANCER)),
    ("lower-case c509",                                      {AD: "||M545,c509"},                             fails(CANCER)),
    ("C79.51, a 5-character cancer code",                    {AD: "||M545,C7951"},                            fails(CANCER)),
    ("in situ D05.1",                                        {AD: "||M545,D051"},                             fails(CANCER)),
    ("uncertain behaviour D37.4",                            {AD: "||M545,D374"},                             fails(CANCER)),
    ("uncertain behaviour D48.9",                            {AD: "||M545,D489"},                             fails(CANCER)),
    ("benign D36.9 is not excluded",                         {AD: "||M545,D369"},                             COUNTED),
    ("D49 is not excluded",                                  {AD: "||M545,D499"},                             COUNTED),
    ("C5X, not two digits, is not excluded",                 {AD: "||M545,C5X"},                              COUNTED),
    ("a cancer code in a later episode",                     {AD: "||M545 ||I10X ,C61X"},                     fails(CANCER)),
    ("NULL diagnoses are not a cancer exclusion",            {AD: None},                                      COUNTED),
    ("an empty diagnosis string is not excluded",            {AD: ""},                                        COUNTED),
    ("private patient (02)",                                 {CATEGORY: "02"},                                fails(PRIVATE)),
    ("private patient with a trailing blank ('02 ')",        {CATEGORY: "02 "},                               fails(PRIVATE)),
    ("a leading blank hides a private patient (' 02')",      {CATEGORY: " 02"},                               COUNTED),
    ("a lost leading zero ('2') hides a private patient",    {CATEGORY: "2"},                                 COUNTED),
    ("amenity patient (03)",                                 {CATEGORY: "03"},                                COUNTED),
    ("a NULL administrative category is UNKNOWN",            {CATEGORY: None},                                fails(unknown(PRIVATE))),
    ("several failures, in published order",                 {CATEGORY: "02", SUS_AGE: 17, METHOD: "21"},     fails(AGE, ELECTIVE, PRIVATE)),
    ("failures across WHEN and WHERE",                       {D: "M479", AD: "||M479,C509"},                  fails(DIAGNOSIS, CANCER)),
]  # fmt: skip


def spells_for(cases) -> pd.DataFrame:
    rows = [{**COUNTED_SPELL, **changes} for _, changes, _ in cases]
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        kind = "Int64" if column in (SUS_AGE, CDS_AGE) else "string"
        frame[column] = frame[column].astype(kind)
    return frame


@pytest.mark.parametrize("all_criteria", [False, True], ids=["in-play evaluation", "every criterion"])
def test_the_published_rule_case_by_case(all_criteria):
    # One frame for all cases, so that rows also evaluate side by side as in a real extract.
    result = classify(spells_for(CASES), "2K_RFD_back", all_criteria=all_criteria)
    reasons = result["reason"].astype(object).where(result["reason"].notna(), None)
    got = {name: reason for (name, _, _), reason in zip(CASES, reasons, strict=True)}
    assert got == {name: expected for name, _, expected in CASES}
    counted = result["ebi_category"].eq("2K_RFD_back").fillna(False).tolist()
    assert counted == [expected is COUNTED for _, _, expected in CASES]
    assert result["ebi_category"].isna().tolist() == [expected is not COUNTED for _, _, expected in CASES]


def test_criteria_are_named_from_the_rule_comments_and_otherwise_from_the_sql():
    assert [c.name for c in RULE.criteria] == [
        "Primary_Spell_Procedure LIKE '%V48[57]%' AND "
        "(Any_Spell_Procedure LIKE '%Z67[567]%' OR Any_Spell_Procedure LIKE '%Z993%')",
        "LEFT(Primary_Spell_Diagnosis, 4) IN ('M512', 'M518', 'M519', 'M545', 'M549')",
        "Age between 19 and 120",
        "Only Elective Activity",
        "Cancer Diagnosis Exclusion",
        "Private Appointment Exclusion",
    ]
    assert [c.section for c in RULE.criteria] == ["WHEN"] * 4 + ["WHERE"] * 2
    assert [c.line for c in RULE.criteria] == [1, 5, 7, 9, 14, 20]
    assert RULE.label == "2K_RFD_back"
    assert [c.name for c in RULE.scope] == [PROCEDURE]


def test_the_criterion_columns_hold_what_sql_server_evaluates():
    result = classify(spells_for(CASES), all_criteria=True)
    by_case = result.set_axis([name for name, _, _ in CASES])
    assert by_case.loc["a NULL primary diagnosis is UNKNOWN", DIAGNOSIS] is pd.NA
    assert by_case.loc["no age at all is UNKNOWN", AGE] is pd.NA
    assert not by_case.loc["private patient (02)", PRIVATE]
    assert by_case.loc["NULL diagnoses are not a cancer exclusion", CANCER]
    cervical = by_case.loc["a cervical site code (Z67.1) only", PROCEDURE]
    assert cervical is not pd.NA
    assert not cervical
    assert by_case.loc["NULL procedure strings", PROCEDURE] is pd.NA
