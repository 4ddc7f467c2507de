"""The ``rfd-audit`` command line: a thin wrapper, one-line errors, no partial output."""

import subprocess
import sys

import pandas as pd

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
