"""Parameter files are checked before anything runs: each mistake gives one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfd_lib.cli import main
from rfd_lib.pipeline.params import ParamsError, load_params
from tests.paths import ROOT

GOOD = """\
name: q2
quarter: "2026/27 Q2"
extracts:
  files: ["extracts/"]
populations: populations.csv
"""


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "extracts").mkdir()
    (tmp_path / "populations.csv").write_text("provider_code,catchment_population\nZA1,1000\n")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_demo_parameters_are_valid():
    params = load_params(ROOT / "params" / "demo.yaml")
    assert params.extracts.synthetic and params.quarter == "2026/27 Q2"
    assert params.formats == ["html", "pdf"] and params.disclosure == "circulation"


def test_relative_paths_are_taken_from_the_parameter_file(folder):
    params = load_params(write(folder, GOOD))
    assert params.path(params.populations) == folder / "populations.csv"
    assert params.output_dir.name == "q2"


@pytest.mark.parametrize(
    "text,words",
    [
        (GOOD + "quater: x\n", ["unknown key 'quater'", "did you mean 'quarter'"]),
        (GOOD + "jobs: two\n", ["jobs:", "valid integer", "'two'"]),
        (GOOD + "jobs: 0\n", ["jobs:", "greater than or equal to 1"]),
        (
            GOOD.replace('"2026/27 Q2"', '"2026 Q2"'),
            ["quarter", "not a financial quarter such as '2026/27 Q2'"],
        ),
        (GOOD.replace('"2026/27 Q2"', "2026"), ["quarter", "string", "HINT: quote the value"]),
        (GOOD + "providers: [01]\n", ["providers.0", "HINT: quote the value"]),
        (GOOD + "disclosure: public\n", ["disclosure", "'circulation' or 'internal'"]),
        (GOOD + "formats: [html, docx]\n", ["formats.1", "'docx'"]),
        (GOOD.replace("populations.csv", "missing.csv"), ["populations:", "missing.csv does not exist"]),
        (GOOD.replace("extracts/", "nowhere/"), ["extracts.files[0]:", "nowhere does not exist"]),
        (
            GOOD.replace("extracts:\n", "extracts:\n  synthetic: true\n"),
            ["exactly one of", "found synthetic, files"],
        ),
        (
            GOOD.replace("extracts:\n", "extracts:\n  sheets: S\n"),
            ["key 'extracts.sheets'", "did you mean 'sheet'"],
        ),
        ("name: q2\n", ["key 'extracts' is required"]),
        ("name: q2\nextracts: {}\n", ["exactly one of synthetic"]),
        ("name: [q2\n", ["not valid YAML at line 2", "HINT: check the indentation"]),
        ("- name\n", ["a YAML mapping"]),
        (GOOD.replace("name: q2", "name: ../q2"), ["name:", "should match pattern"]),
        (GOOD.replace("name: q2", f"name: {'q' * 101}"), ["name:", "at most 100 characters"]),
        (GOOD + "providers: [ZR8, ZR8]\n", ["providers:", "'ZR8' is given more than once"]),
        (GOOD + "providers: [ZR8, 'zr8 ']\n", ["providers:", "'zr8 ' is given more than once"]),
        (GOOD + "formats: [html, pdf, html]\n", ["formats:", "'html' is given more than once"]),
        (GOOD + "name: again\n", ["line 6", "key 'name' is given twice (first at line 1)"]),
        (GOOD.replace("populations.csv", "~no_such_user_rfd/p.csv"), ["populations:", "does not exist"]),
        (GOOD.replace("populations.csv", "p" * 300 + ".csv"), ["populations:", "does not exist"]),
    ],
)
def test_each_mistake_is_one_clear_line(folder, text, words):
    with pytest.raises(ParamsError) as caught:
        load_params(write(folder, text))
    message = str(caught.value)
    assert message.startswith(str(folder / "run.yaml")) and "\n" not in message
    for word in words:
        assert word in message


def test_a_parameter_file_that_does_not_exist(tmp_path):
    with pytest.raises(ParamsError, match="no such parameter file"):
        load_params(tmp_path / "nope.yaml")


def test_the_command_line_gives_the_error_and_status_2(folder, capsys):
    status = main(["run", str(write(folder, GOOD + "quater: x\n")), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "unknown key 'quater'" in err
    assert not (folder / "q2").exists()  # nothing written


def test_command_line_options_are_checked(folder, capsys):
    with pytest.raises(SystemExit):
        main(["run", str(write(folder, GOOD)), "--formats", "docx"])
    assert "formats are html and pdf" in capsys.readouterr().err


def test_the_protective_marking_is_none_unless_given_and_one_short_line(folder):
    assert load_params(write(folder, GOOD)).protective_marking is None
    given = load_params(write(folder, GOOD + 'protective_marking: " OFFICIAL-SENSITIVE "\n'))
    assert given.protective_marking == "OFFICIAL-SENSITIVE"
    for value, words in [
        ('""', "the protective marking is empty"),
        ('"OFFICIAL\\nSENSITIVE"', "one line of plain text"),
        ('"' + "X" * 41 + '"', "41 characters; at most 40"),
        ("[OFFICIAL]", "protective_marking: Input should be a valid string"),
    ]:
        with pytest.raises(ParamsError) as caught:
            load_params(write(folder, GOOD + f"protective_marking: {value}\n"))
        assert "\n" not in str(caught.value).split(" HINT")[0] and words in str(caught.value), str(
            caught.value
        )
        assert "protective_marking" in str(caught.value)


SPARK = GOOD.replace('  files: ["extracts/"]\n', "  spark:\n{spark}")


@pytest.mark.parametrize(
    "spark,words",
    [
        ("    table: t\n    path: p.parquet\n", ["extracts.spark: give exactly one of table: or path:"]),
        ("    master: local[2]\n", ["extracts.spark: give exactly one of table: or path:"]),
        ("    table: t\n    format: csv\n", ["extracts.spark:", "format: and options: are for a path"]),
        ("    path: p.csv\n    options: {header: true}\n", ["extracts.spark.options.header", "string"]),
        ("    path: p.csv\n    fromat: csv\n", ["unknown key 'extracts.spark.fromat'", "'format'"]),
    ],
)
def test_each_mistake_in_a_spark_source_is_one_clear_line(folder, spark, words):
    with pytest.raises(ParamsError) as caught:
        load_params(write(folder, SPARK.format(spark=spark)))
    message = str(caught.value)
    assert message.startswith(str(folder / "run.yaml")) and "\n" not in message
    for word in words:
        assert word in message


def test_a_spark_path_is_taken_from_the_parameter_file_unless_it_has_a_scheme(folder):
    local = load_params(write(folder, SPARK.format(spark="    path: data/q2.parquet\n")))
    assert local.extracts.spark.path == str(folder / "data" / "q2.parquet")
    assert local.extracts.spark.format == "parquet" and local.extracts.spark.master is None
    remote = load_params(write(folder, SPARK.format(spark='    path: "dbfs:/mnt/q2/"\n    format: delta\n')))
    assert remote.extracts.spark.path == "dbfs:/mnt/q2/"


def test_a_spark_sources_secret_options_are_never_recorded(folder):
    text = '    path: "abfss://c@a.dfs.core.windows.net/q2"\n    options: {sep: "|", sasToken: "s3cr3t"}\n'
    record = load_params(write(folder, SPARK.format(spark=text))).for_record()
    assert record["extracts"]["spark"]["options"] == {"sep": "|", "sasToken": "***"}
    assert "s3cr3t" not in str(record)
