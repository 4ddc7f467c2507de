"""Loading rule files: the packaged rule's provenance, a second rule with no code change, and the
load-time errors for anything the engine does not support."""

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rfd_lib import RuleError, classify, load_rule
from rfd_lib.engine.rule_file import PACKAGED_RULES, packaged_rule_names
from tests.paths import GUIDANCE, TESTS

RULE_SQL = Path(str(PACKAGED_RULES / "2K_RFD_back.sql"))
MADE_UP = TESTS / "rules" / "2X_made_up_shoulder.sql"


def test_the_packaged_rule_matches_the_sha256_in_its_manifest():
    manifest = yaml.safe_load(RULE_SQL.with_suffix(".yaml").read_text())
    assert hashlib.sha256(RULE_SQL.read_bytes()).hexdigest() == manifest["sha256"]


@pytest.mark.skipif(not GUIDANCE.is_file(), reason="the guidance is only beside a development checkout")
def test_the_packaged_rule_is_the_published_coding_section_verbatim():
    published = GUIDANCE.read_text(encoding="utf-8")
    rule = RULE_SQL.read_text(encoding="utf-8")
    assert rule.endswith("\n")
    assert rule[:-1] in published
    assert rule.startswith("WHEN ") and "THEN '2K_RFD_back'\nExclusions\nWHERE 1=1\n" in rule


def test_packaged_rules_are_listed_and_loaded_by_name():
    assert "2K_RFD_back" in packaged_rule_names()
    rule = load_rule("2K_RFD_back")
    assert rule.manifest.published == "2020-01"
    assert rule.manifest.last_reviewed == "2024-09"
    assert rule.columns == (
        "Primary_Spell_Procedure",
        "Any_Spell_Procedure",
        "Primary_Spell_Diagnosis",
        "Age_At_Start_of_Spell_SUS",
        "Der_Age_at_CDS_Activity_Date",
        "Admission_Method",
        "Any_Spell_Diagnosis",
        "Administrative_Category",
    )


def test_a_second_rule_file_works_with_no_code_change():
    rule = load_rule(MADE_UP)
    assert rule.label == "2X_Shoulder_made_up"
    assert [c.name for c in rule.criteria][1:] == [
        "Adults up to 90",
        "COALESCE(APCS.Age_At_Start_of_Spell_SUS, APCS.Der_Age_at_CDS_Activity_Date) >= 19",
        "Not a day case",
        "LEN(LTRIM(Primary_Spell_Diagnosis)) >= 4",
        "NOT SUBSTRING(UPPER(Primary_Spell_Diagnosis), 1, 3) IN ('M75')",
        "Trauma Exclusion",
    ]
    base = {
        "Primary_Spell_Procedure": "O291",
        "Any_Spell_Procedure": "||O291 ,Z812  ",
        "Primary_Spell_Diagnosis": "M170",
        "Any_Spell_Diagnosis": "||M170",
        "Age_At_Start_of_Spell_SUS": 60,
        "Der_Age_at_CDS_Activity_Date": 60,
        "Patient_Classification": "1",
    }
    changes = {
        "counted": ({}, True),
        "o293 in lower case": ({"Primary_Spell_Procedure": "o293"}, True),
        "O294 is outside [1-3]": ({"Primary_Spell_Procedure": "O294"}, False),
        "site code not last": ({"Any_Spell_Procedure": "||O291 ,Z812 ,Y534"}, False),
        "age 90 is the limit": ({"Age_At_Start_of_Spell_SUS": 90}, True),
        "age 91 is over it": ({"Age_At_Start_of_Spell_SUS": 91}, False),
        "day case": ({"Patient_Classification": "2 "}, False),
        "short diagnosis": ({"Primary_Spell_Diagnosis": "  M17"}, False),
        "excluded diagnosis m75.1": ({"Primary_Spell_Diagnosis": "m751"}, False),
        "trauma co-diagnosis": ({"Any_Spell_Diagnosis": "||M170,S420"}, False),
        "no diagnoses at all": ({"Any_Spell_Diagnosis": None}, True),
    }
    frame = pd.DataFrame([{**base, **change} for change, _ in changes.values()]).astype(
        {c: "string" for c in base if "Age" not in c} | {c: "Int64" for c in base if "Age" in c}
    )
    result = classify(frame, MADE_UP)
    counted = dict(zip(changes, result["ebi_category"].eq("2X_Shoulder_made_up").fillna(False), strict=True))
    assert counted == {name: expected for name, (_, expected) in changes.items()}


def write_rule(tmp_path: Path, text: str, name: str = "rule.sql") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "-- a rule under test\n-- its second line\nWHEN x = 'y'\nAND "

UNSUPPORTED = [
    # case                                  construct on line 4                      message contains
    ("a function not in the subset",        "CHARINDEX('x', a) > 0",                "CHARINDEX"),
    ("arithmetic",                          "a + 1 > 2",                            "a + 1"),
    ("an explicit CAST",                    "CAST(a AS VARCHAR(3)) = 'x'",          "CAST"),
    ("LIKE … ESCAPE",                       "a LIKE 'x!%' ESCAPE '!'",              "ESCAPE"),
    ("a subquery",                          "EXISTS (SELECT 1)",                    "EXISTS"),
    ("IN a subquery",                       "a IN (SELECT b FROM t)",               "not a query"),
    ("a Unicode N'…' constant",             "a = N'x'",                             "N'x'"),
    ("a LIKE pattern that is a column",     "a LIKE b",                             "quoted string"),
    ("an unclosed [ in a pattern",          "a LIKE '[ab'",                         "unclosed '['"),
    ("an empty [] in a pattern",            "a LIKE 'x[]'",                         "empty character class"),
    ("a reversed range",                    "a LIKE '[z-a]'",                       "reversed range"),
    ("a range across kinds of character",   "a LIKE '[0-z]'",                       "collation order"),
    ("a negative length",                   "LEFT(a, -1) = 'x'",                    "negative length"),
    ("a fractional position",               "SUBSTRING(a, 1.5, 2) = 'x'",           "whole numbers"),
    ("a column for a length",               "LEFT(a, b) = 'x'",                     "constant"),
    ("ISNULL with three arguments",         "ISNULL(a, b, c) = 1",                  "two arguments"),
    ("a date function",                     "DATEDIFF(day, a, b) > 2",              "DATEDIFF"),
    ("a value where a condition belongs",   "a",                                    "condition is expected"),
    ("a CASE expression",                   "CASE WHEN a = 1 THEN 1 END = 1",       "CASE"),
    ("TRIM with characters",                "LTRIM(a, 'x') = 'y'",                  "LTRIM"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("construct", "message"), [c[1:] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED]
)
def test_unsupported_sql_is_refused_at_load_naming_the_construct_and_line(tmp_path, construct, message):
    path = write_rule(tmp_path, f"{HEADER}{construct}\nTHEN 'T'\n")
    with pytest.raises(RuleError) as raised:
        load_rule(path)
    text = str(raised.value)
    assert f"{path}:4:" in text
    assert message in text
    assert "\n" not in text


BAD_STRUCTURE = [
    # case                                   rule text                                             message contains
    ("not starting with WHEN",               "SELECT x FROM t",                                    ":1: a rule starts with WHEN"),
    ("no THEN",                              "WHEN x = 'y'\n",                                     "no THEN"),
    ("THEN without a category",              "WHEN x = 'y' THEN x",                                "quoted string"),
    ("two WHEN branches",                    "WHEN x = 'y' THEN 'A'\nWHEN x = 'z' THEN 'B'",       ":2: unexpected 'WHEN'"),
    ("an unknown heading",                   "WHEN x = 'y' THEN 'A'\nInclusions\nWHERE 1=1",       ":2: unexpected 'Inclusions'"),
    ("unbalanced parentheses",               "WHEN (x = 'y' THEN 'A'",                             "no THEN"),
    ("a clause after WHERE",                 "WHEN x = 'y' THEN 'A'\nWHERE 1=1 GROUP BY x",        "GROUP"),
    ("an unparseable condition",             "WHEN x = = 'y' THEN 'A'",                            "cannot parse"),
    ("an unterminated string",               "WHEN x = 'y THEN 'A'",                               "rule.sql"),
]  # fmt: skip


@pytest.mark.parametrize("text, message", [c[1:] for c in BAD_STRUCTURE], ids=[c[0] for c in BAD_STRUCTURE])
def test_a_rule_file_of_the_wrong_shape_is_refused_in_one_line(tmp_path, text, message):
    path = write_rule(tmp_path, text)
    with pytest.raises(RuleError) as raised:
        load_rule(path)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("WHEN a = 1\n-- about b\nAND b = 2 THEN 'T'", ["a = 1", "about b"]),
        ("WHEN -- about a\na = 1\nAND b = 2 THEN 'T'", ["about a", "b = 2"]),
        ("WHEN /* about a */ a = 1 THEN 'T'", ["about a"]),
        ("-- a file header names nothing\nWHEN a = 1 THEN 'T'", ["a = 1"]),
        ("WHEN a = 1 THEN 'T'\nWHERE -- about c\nc = 3 AND d = 4", ["a = 1", "about c", "d = 4"]),
        ("WHEN a = 1 -- trailing, about a\nAND b = 2 THEN 'T'", ["a = 1 /* trailing, about a */", "b = 2"]),
    ],
    ids=["before an AND", "straight after WHEN", "a block comment", "a header", "after WHERE", "trailing"],
)
def test_criteria_take_their_names_from_the_comment_before_them(tmp_path, text, names):
    assert [c.name for c in load_rule(write_rule(tmp_path, text)).criteria] == names


def test_where_1_equals_1_is_not_a_criterion(tmp_path):
    rule = load_rule(write_rule(tmp_path, "WHEN x = 'y' THEN 'A'\nExclusions\nWHERE 1=1\nAND z = 'q'"))
    assert [c.sql for c in rule.criteria] == ["x = 'y'", "z = 'q'"]


def copy_packaged_rule(tmp_path: Path) -> Path:
    target = tmp_path / "2K_RFD_back.sql"
    shutil.copy(RULE_SQL, target)
    shutil.copy(RULE_SQL.with_suffix(".yaml"), target.with_suffix(".yaml"))
    return target


def test_an_edited_rule_no_longer_matching_its_manifest_is_refused(tmp_path):
    rule = copy_packaged_rule(tmp_path)
    rule.write_text(rule.read_text().replace("120", "130"))
    with pytest.raises(RuleError, match="does not match the sha256 in its manifest"):
        load_rule(rule)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reviewer": "me"}, "reviewer: Extra inputs are not permitted"),
        ({"scope_criteria": 0}, "scope_criteria: Input should be greater than or equal to 1"),
        ({"scope_criteria": 7}, "scope_criteria is 7 but the WHEN clause has 4 criteria"),
        ({"sha256": "abc"}, "sha256: String should match pattern"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_field(tmp_path, change, message):
    rule = copy_packaged_rule(tmp_path)
    manifest = yaml.safe_load(rule.with_suffix(".yaml").read_text()) | change
    rule.with_suffix(".yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(RuleError, match=message):
        load_rule(rule)


def test_a_rule_without_a_manifest_loads_with_no_recorded_provenance(tmp_path):
    rule = load_rule(write_rule(tmp_path, "WHEN x = 'y' THEN 'A'"))
    assert rule.manifest.source == "(no recorded provenance)"
    assert rule.scope_count == 1


def test_an_unknown_rule_name_lists_the_packaged_rules():
    with pytest.raises(RuleError, match=r"no rule called '2K_RFD_backk'.*packaged rules are 2K_RFD_back"):
        load_rule("2K_RFD_backk")


def test_a_changed_rule_file_is_reloaded(tmp_path):
    path = write_rule(tmp_path, "WHEN x = 'y' THEN 'A'")
    assert load_rule(path).label == "A"
    path.write_text("WHEN x = 'y' THEN 'B'  ")
    assert load_rule(path).label == "B"
