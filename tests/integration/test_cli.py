"""The ``rfd-audit`` command line: a thin wrapper, one-line errors, no partial output."""

import subprocess
import sys

import pandas as pd
import pytest

from rfd_lib.cli import main


def test_example_classifies_synthetic_spells_and_writes_them(tmp_path, capsys):
    assert main(["example", "--spells", "3000", "--seed", "5", "-o", str(tmp_path)]) == 0
    written = pd.read_parquet(tmp_path / "classified_spells.parquet")
    assert len(written) == 3000
    assert written["ebi_category"].notna().sum() > 0
    out = capsys.readouterr().out
    assert "counted" in out
    assert "3,000 synthetic spells classified" in out
    assert not list(tmp_path.glob("*.partial"))


def test_a_bad_rule_is_one_line_on_stderr_with_status_2_and_nothing_written(tmp_path, capsys):
    status = main(["example", "--spells", "100", "--rule", "no_such_rule", "-o", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("rfd-audit: error: no rule called 'no_such_rule'")
    assert not (tmp_path / "out").exists()


def test_an_output_folder_that_cannot_be_made_is_one_line_on_stderr(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    assert main(["example", "--spells", "100", "-o", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rfd-audit: error: ") and str(blocker) in err
    assert err.count("\n") == 1


def test_rule_shows_the_criteria_and_provenance(capsys):
    assert main(["rule"]) == 0
    out = capsys.readouterr().out
    assert "published 2020-01, last reviewed 2024-09" in out
    assert "[WHERE, line 20, restriction] Private Appointment Exclusion" in out
    assert "1. [WHEN, line 1, scope]" in out


def test_the_installed_command_runs():
    done = subprocess.run(
        [sys.executable, "-m", "rfd_lib.cli", "rule"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "2K_RFD_back" in done.stdout


def test_run_prints_each_extract_files_profile_and_rows_and_never_a_value(tmp_path, capsys):
    """The README's promise: per file, the profile (detected) and rows read = accepted + quarantined."""
    import json

    from rfd_lib.extracts.reading import load_extracts
    from rfd_lib.synthetic import write_extracts

    extracts = write_extracts(tmp_path / "extracts", scale=0.1).folder
    lines = (extracts / "ZH8.csv").read_text(encoding="utf-8-sig").splitlines()
    broken = [lines[0], *(line + ",surplus" for line in lines[1:6]), *lines[6:]]  # 5 rows quarantined
    (extracts / "ZH8.csv").write_text("\n".join(broken) + "\n", encoding="utf-8")
    files = [str(extracts / "ZH8.csv"), str(extracts / "ZK1.csv")]
    params = tmp_path / "q2.yaml"
    params.write_text(
        json.dumps(
            {
                "name": "q2",
                "extracts": {"files": files},
                "populations": str(extracts / "populations.csv"),
                "providers": ["ZH8"],
                "formats": ["html"],
                "output": str(tmp_path / "q2"),
                "jobs": 1,
            }
        ),
        encoding="utf-8",
    )
    assert main(["run", str(params), "--quiet"]) == 0
    out = capsys.readouterr().out
    expected = load_extracts(files).reconciliation.set_index("source")
    assert expected.loc[files[0], "rows_quarantined"] == 5
    for file in files:
        counts = expected.loc[file]
        line = (
            f"{file}: profile sus_apcs (detected from the header); {counts['rows_read']:,} rows read = "
            f"{counts['rows_accepted']:,} accepted + {counts['rows_quarantined']:,} quarantined"
        )
        assert line in out.splitlines(), out
    values = {field for row in broken[1:] for field in row.split(",") if len(field) > 5}
    assert not [value for value in values if value in out], "a value of the extract was printed"


def test_a_profile_given_in_the_parameter_file_is_said_to_be_given():
    from rfd_lib.extracts.reading import Extract
    from rfd_lib.pipeline.run_extracts import files_read

    reconciliation = pd.DataFrame(
        [
            {"source": "hes.csv", "profile": "hes_apc", "rows_read": 12, "rows_accepted": 10}
            | {"rows_quarantined": 2, "spells": 4}
        ]
    )
    empty = pd.DataFrame()
    extract = Extract(empty, empty, empty, reconciliation)
    assert files_read(extract, given=True) == (
        "hes.csv: profile hes_apc (as given in the parameter file); 12 rows read = 10 accepted "
        "(4 spells) + 2 quarantined",
    )


def test_extract_sql_prints_the_query_of_the_one_documented_function(capsys):
    import datetime as dt

    import sqlglot

    from rfd_lib.pipeline.extract_sql import extract_sql

    arguments = ["--from", "Db.dbo.APCS", "--start", "2025-04-01", "--end", "2025-06-30"]
    assert main(["extract-sql", *arguments]) == 0
    out = capsys.readouterr().out
    assert out == extract_sql(table="Db.dbo.APCS", start=dt.date(2025, 4, 1), end=dt.date(2025, 6, 30))
    sqlglot.parse_one(out, read="tsql")


def test_extract_sql_refuses_an_episode_profile_and_a_bad_date_in_one_line(capsys):
    assert main(["extract-sql", "--profile", "hes_apc"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("rfd-audit: error: column profile 'hes_apc' reads episodes") and err.count("\n") == 1
    )
    with pytest.raises(SystemExit) as stop:
        main(["extract-sql", "--end", "30/06/2025"])
    assert stop.value.code == 2
    assert "'30/06/2025' is not a date written YYYY-MM-DD" in capsys.readouterr().err
