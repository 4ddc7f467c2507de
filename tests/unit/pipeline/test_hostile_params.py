"""Hostile and faulty parameter and reference files: each stops with one short line naming the file.

Every YAML file rfd_lib reads (run parameters, code lists, expectations, the spell schema, column
profiles, rule manifests, the reports' wording) goes through one loader, so each hostile file is tried against every
reader. Then the empty lists that would change what a reference file means, and the run record
that must never hold a database password.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from rfd_lib.config import CODE_LISTS, EXPECTATIONS, SPELL_SCHEMA
from rfd_lib.engine.rule import load_rule
from rfd_lib.engine.rule_file import PACKAGED_RULES
from rfd_lib.errors import RfdAuditError, RuleError
from rfd_lib.extracts.populations import PopulationError, check_populations, read_populations
from rfd_lib.extracts.profiles import load_profile
from rfd_lib.extracts.spell_schema import SchemaError, load_spell_schema
from rfd_lib.metrics.code_lists import CodeListError, load_code_lists
from rfd_lib.metrics.expectations import ExpectationsError, load_expectations
from rfd_lib.pipeline.params import ParamsError, load_params
from rfd_lib.wording import WordingError, wording

PROFILE = SPELL_SCHEMA.parent / "profiles" / "canonical.yaml"
RULE_SQL = Path(str(PACKAGED_RULES / "2K_RFD_back.sql"))

# Nine levels of ten aliases each: 10⁹ strings once expanded.
BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def run_params(folder: Path, text: str) -> None:
    load_params(_write(folder / "run.yaml", text))


def code_lists(folder: Path, text: str) -> None:
    load_code_lists(_write(folder / "code_lists.yaml", text))


def expectations(folder: Path, text: str) -> None:
    load_expectations(_write(folder / "expectations.yaml", text))


def spell_schema(folder: Path, text: str) -> None:
    load_spell_schema(_write(folder / "spell_schema.yaml", text))


def profile(folder: Path, text: str) -> None:
    load_profile(_write(folder / "local.yaml", text))


def wording_file(folder: Path, text: str) -> None:
    wording(_write(folder / "wording.yaml", text))


def rule_manifest(folder: Path, text: str) -> None:
    target = folder / RULE_SQL.name
    shutil.copy(RULE_SQL, target)
    _write(target.with_suffix(".yaml"), text)
    load_rule(target)


READERS: list[tuple[Callable[[Path, str], None], type[RfdAuditError], Path]] = [
    (run_params, ParamsError, Path("run.yaml")),
    (code_lists, CodeListError, Path("code_lists.yaml")),
    (expectations, ExpectationsError, Path("expectations.yaml")),
    (spell_schema, SchemaError, Path("spell_schema.yaml")),
    (profile, SchemaError, Path("local.yaml")),
    (rule_manifest, RuleError, RULE_SQL.with_suffix(".yaml").relative_to(RULE_SQL.parent)),
    (wording_file, WordingError, Path("wording.yaml")),
]


def _write(path: Path, text: str | bytes) -> Path:
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


HOSTILE = [
    # case                    file content                                       words in the one-line message
    ("an alias bomb",         BOMB,                                               ["line 2", "an alias (*name) is not allowed"]),
    ("one alias",             "a: &x 1\nb: *x\n",                                 ["line 2", "alias"]),
    ("a key given twice",     "name: a\ntitle: t\nname: b\n",                     ["line 3", "key 'name' is given twice (first at line 1)"]),
    ("a key twice in a flow", "{name: a, name: b}\n",                             ["line 1", "key 'name' is given twice"]),
    ("a merge key",           "<<: {name: a}\nname: b\n",                        ["line 1", "a merge key (<<) is not allowed"]),
    ("a python tag",          "name: !!python/object/apply:os.system [echo]\n",   ["line 1", "could not determine a constructor"]),
    ("deep nesting",          "a: " + "[" * 5000 + "]" * 5000 + "\n",            ["nested more than 20 levels deep"]),
    ("a 5,000-digit integer", "jobs: " + "9" * 5000 + "\n",                       ["a value cannot be read"]),
    ("not UTF-8",             b"name: caf\xe9\n",                                 ["not UTF-8 text (byte 10)"]),
    ("larger than 1 MB",      "# " + "x" * 1_000_001 + "\n",                      ["more than any parameter file needs"]),
    ("a syntax error",        "name: [q2\n",                                      ["not valid YAML at line 2", "HINT: check the indentation"]),
]  # fmt: skip


@pytest.mark.parametrize(("reader", "error", "name"), READERS, ids=[row[0].__name__ for row in READERS])
@pytest.mark.parametrize(("case", "content", "words"), HOSTILE, ids=[row[0] for row in HOSTILE])
def test_every_yaml_reader_refuses_a_hostile_file_in_one_short_line(
    tmp_path, reader, error, name, case, content, words
):
    with pytest.raises(error) as caught:
        reader(tmp_path, content)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / name}: ") and "\n" not in message
    assert len(message) < 300, message[:300]
    for word in words:
        assert word in message, (case, message)


GOOD_PARAMS = 'name: q2\nquarter: "2026/27 Q2"\nextracts:\n  synthetic: true\n'
HUGE = "[" + ", ".join(["ZR8"] * 100_000) + "]"


@pytest.mark.parametrize(
    ("reader", "error", "text", "words"),
    [
        (run_params, ParamsError, GOOD_PARAMS.replace('"2026/27 Q2"', HUGE), ["quarter:", "['ZR8', 'ZR8',"]),
        (run_params, ParamsError, GOOD_PARAMS + f"? {'k' * 100_000}\n: 1\n", ["unknown key 'kkk", "…"]),
        (
            run_params,
            ParamsError,
            GOOD_PARAMS.replace('"2026/27 Q2"', "Z" * 100_000),
            ["quarter: 'ZZZ", "..."],
        ),
        (
            code_lists,
            CodeListError,
            CODE_LISTS.read_text().replace("[V54.4]", f"[{HUGE}]"),
            ["['ZR8', 'ZR8',", "is not an OPCS-4"],
        ),
        (code_lists, CodeListError, CODE_LISTS.read_text().replace("V54.4", "Z" * 100_000), ["'ZZZZ", "..."]),
        (
            profile,
            SchemaError,
            PROFILE.read_text() + f"  ? {'x' * 100_000}\n  : y\n",
            ["not canonical columns: xxx"],
        ),
    ],
    ids=["run-params-list", "run-params-key", "run-params-string", "code-list", "code", "profile-column"],
)
def test_a_huge_value_gives_a_short_message(tmp_path, reader, error, text, words):
    with pytest.raises(error) as caught:
        reader(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message[:300]
    for word in words:
        assert word in message, message


# ---- empty lists that would change what a reference file means -------------------------------


@pytest.mark.parametrize(
    ("reader", "error", "source", "old", "new", "key"),
    [
        (code_lists, CodeListError, CODE_LISTS, "[V54.4]", "[]", "facet_joint_injection.primary_procedure"),
        (
            code_lists,
            CodeListError,
            CODE_LISTS,
            "[A57.7, A73.5]",
            "[]",
            "medial_branch_block.primary_procedure",
        ),
        (code_lists, CodeListError, CODE_LISTS, "[Z67.5, Z67.6, Z67.7, Z99.3]", "[]", "lumbar_site.codes"),
    ],
    ids=["facet-injection", "medial-branch-block", "lumbar-site"],
)
def test_an_empty_list_is_refused_naming_the_file_and_key(tmp_path, reader, error, source, old, new, key):
    text = source.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(error) as caught:
        reader(tmp_path, text.replace(old, new, 1))
    message = str(caught.value)
    assert message.startswith(str(tmp_path)) and "\n" not in message
    assert f"{key}: Tuple should have at least 1 item" in message, message


@pytest.mark.parametrize("key", ["columns", "columns.Admission_Method.codes"])
def test_an_empty_list_in_the_spell_schema_is_refused(tmp_path, key):
    schema = yaml.safe_load(SPELL_SCHEMA.read_text(encoding="utf-8"))
    *parents, last = key.split(".")
    inner = schema
    for part in parents:
        inner = inner[part]
    assert inner[last]
    inner[last] = {}
    with pytest.raises(SchemaError) as caught:
        spell_schema(tmp_path, yaml.safe_dump(schema))
    message = str(caught.value)
    assert message.startswith(str(tmp_path)) and "\n" not in message
    assert f"{key}: Dictionary should have at least 1 item" in message, message


@pytest.mark.parametrize("key", ["repeat_within_months", "block_before_rfd_months", "baseline_quarters"])
def test_a_window_past_ten_years_is_refused(tmp_path, key):
    text = EXPECTATIONS.read_text(encoding="utf-8")
    assert f"\n{key}: " in text
    changed = "\n".join(
        f"{key}: 1000000000" if line.startswith(f"{key}: ") else line for line in text.split("\n")
    )
    with pytest.raises(
        ExpectationsError, match=rf"expectations.yaml: {key}: Input should be less than or equal"
    ):
        expectations(tmp_path, changed)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("shapes.opcs4.pattern", "(?=A)[A-Z]", "is not a regular expression Arrow reads"),
        ("shapes.opcs4.pattern", "(", "is not a regular expression (missing )"),
        ("columns.Age_At_Start_of_Spell_SUS.plausible", [120, 0], "is the wrong way round"),
    ],
    ids=["python-only-regex", "bad-regex", "plausible-reversed"],
)
def test_a_spell_schema_value_that_would_fail_later_is_refused_on_load(tmp_path, key, value, words):
    schema = yaml.safe_load(SPELL_SCHEMA.read_text(encoding="utf-8"))
    *parents, last = key.split(".")
    inner = schema
    for part in parents:
        inner = inner[part]
    assert last in inner
    inner[last] = value
    with pytest.raises(SchemaError) as caught:
        spell_schema(tmp_path, yaml.safe_dump(schema))
    message = str(caught.value)
    assert "\n" not in message and f"{key}: " in message and words in message, message


def test_code_lists_given_as_text_are_refused_not_split_into_letters(tmp_path):
    with pytest.raises(CodeListError, match="expected a list of codes such as"):
        code_lists(tmp_path, CODE_LISTS.read_text().replace("[V54.4]", "V54.4"))


def test_the_shipped_reference_files_still_load():
    assert load_code_lists(CODE_LISTS).facet_joint_injection.primary_procedure == ("V544",)
    assert load_expectations(EXPECTATIONS).restrictions
    assert load_spell_schema(SPELL_SCHEMA).columns
    assert load_profile(PROFILE).name == "canonical"


def test_a_profile_that_is_not_a_mapping_is_one_line(tmp_path):
    with pytest.raises(SchemaError, match="a YAML mapping"):
        profile(tmp_path, "- a\n- b\n")


def test_a_profile_with_a_bad_regular_expression_is_one_line(tmp_path):
    text = (SPELL_SCHEMA.parent / "profiles" / "hes_apc.yaml").read_text()
    assert "columns: " in text
    bad = text.replace("columns: ", "columns: '(' #", 1)
    with pytest.raises(SchemaError, match=r"'\(' is not a regular expression"):
        profile(tmp_path, bad)


# ---- the run record ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://analyst:s3cret@db.example/ncdr",
        "postgresql://analyst@db.example/ncdr?password=s3cret",
        "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BSQL%7D%3BUID%3Du%3BPWD%3Ds3cret",
        "postgresql://analyst:s3cret@db.example:port/ncdr",
    ],
    ids=["password", "password-parameter", "odbc-connect", "unreadable"],
)
def test_the_run_record_never_holds_a_database_secret(tmp_path, url):
    text = f"name: q2\nextracts:\n  database:\n    url: {json.dumps(url)}\n    query: SELECT 1\n"
    params = load_params(_write(tmp_path / "run.yaml", text))
    record = params.for_record()
    saved = json.dumps(record)
    assert "s3cret" not in saved
    assert record["name"] == "q2" and record["extracts"]["database"]["query"] == "SELECT 1"
    assert params.extracts.database.url == url  # the run itself still connects with the secret


def test_the_run_record_keeps_every_other_parameter(tmp_path):
    params = load_params(_write(tmp_path / "run.yaml", GOOD_PARAMS + "providers: [ZA1]\n"))
    assert params.for_record() == params.model_dump(mode="json")
    assert params.for_record()["providers"] == ["ZA1"]


# ---- populations --------------------------------------------------------------------------------


def populations_file(folder: Path, text: str) -> Path:
    return _write(folder / "populations.csv", "provider_code,catchment_population\n" + text)


def test_a_population_of_exactly_100_million_is_accepted(tmp_path):
    frame = read_populations(populations_file(tmp_path, "ZA1,100000000\nZB2,000000000250000\n"))
    assert frame["catchment_population"].tolist() == [100_000_000, 250_000]


def test_populations_matching_no_provider_of_the_extract_are_refused_in_one_line(tmp_path):
    path = populations_file(tmp_path, "QQ1,1000\nQQ2,2000\n")
    with pytest.raises(PopulationError) as caught:
        check_populations(read_populations(path), ["ZB2", "ZA1", "ZA1"], path)
    message = str(caught.value)
    assert message.startswith(f"{path}: none of the extract's 2 provider(s) (ZA1, ZB2)")
    assert "\n" not in message and "HINT: is it the right populations file?" in message


def test_populations_missing_some_providers_name_them_for_a_note(tmp_path):
    path = populations_file(tmp_path, "ZA1,1000\nQQ2,2000\n")
    assert check_populations(read_populations(path), ["ZC3", "ZA1", "ZB2"], path) == ["ZB2", "ZC3"]
    assert check_populations(read_populations(path), ["ZA1"], path) == []


def test_thousands_of_unmatched_providers_give_a_short_message(tmp_path):
    path = populations_file(tmp_path, "QQ1,1000\n")
    with pytest.raises(PopulationError) as caught:
        check_populations(read_populations(path), [f"Z{i:05d}" for i in range(200_000)], path)
    assert len(str(caught.value)) < 300 and "(200,000 in all)" in str(caught.value)


@pytest.mark.parametrize(
    ("period_date", "quarter"), [("discharge_date", "2026/27 Q1"), ("admission_date", "2025/26 Q4")]
)
def test_the_quarter_audited_is_a_quarter_of_the_expectations_period_date(period_date, quarter):
    import pandas as pd

    from rfd_lib.metrics.extent import SpellExtent
    from rfd_lib.pipeline import runner

    # Admitted on 30 March, discharged on 2 April: a different financial quarter by each date.
    spells = pd.DataFrame(
        {
            "provider_code": ["ZZ1"],
            "admission_date": pd.to_datetime(["2026-03-30"]),
            "discharge_date": pd.to_datetime(["2026-04-02"]),
        }
    )
    params = runner.RunParams.model_validate({"name": "q", "extracts": {"synthetic": True}})
    assert runner._quarter(params, SpellExtent.of(spells, period_date), period_date) == quarter
