"""Provenance: file hashes, the rows a report prints (no full paths), the git commit, packages, time stamp."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from rfd_lib.pipeline import provenance
from rfd_lib.pipeline.provenance import NOT_A_CHECKOUT, collect_provenance, git_commit, sha256_file
from tests.paths import ROOT


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def run_files(tmp_path):
    rule = _write(tmp_path / "rules" / "2K_RFD_back.sql", b"SELECT 1 -- the rule\n")
    params = _write(tmp_path / "params" / "audit.yaml", b"name: test run\n")
    inputs = [
        _write(tmp_path / "extracts" / "spells_2025Q1.csv", b"spell_id,provider_code\n1,RAJ\n"),
        _write(tmp_path / "extracts" / "populations.csv", b"provider_code,catchment_population\nRAJ,1000\n"),
    ]
    return rule, params, inputs


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (5 << 19) + 7])
def test_sha256_file_equals_hashlib_across_chunk_boundaries(tmp_path, size):
    data = os.urandom(size)
    path = _write(tmp_path / "data.bin", data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_rows_give_the_rule_params_and_every_input_with_its_hash(run_files):
    rule, params, inputs = run_files
    found = collect_provenance(rule_file=rule, inputs=inputs, params_file=params)
    rows = dict(found.rows())
    assert rows["rule file"] == "rules/2K_RFD_back.sql"
    assert rows["rule sha256"] == hashlib.sha256(rule.read_bytes()).hexdigest()
    assert rows["parameters file"] == "params/audit.yaml"
    assert rows["parameters sha256"] == hashlib.sha256(params.read_bytes()).hexdigest()
    for path in inputs:
        assert rows[f"input {path.name}"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [label for label, _ in found.rows()] == [
        "rule file",
        "rule sha256",
        "parameters file",
        "parameters sha256",
        "input spells_2025Q1.csv",
        "input populations.csv",
        "rfd_lib version",
        "git commit",
        "Python",
        "packages",
        "run at",
    ]


def test_rows_show_no_absolute_path(run_files, tmp_path):
    rule, params, inputs = run_files
    text = repr(collect_provenance(rule_file=rule, inputs=inputs, params_file=params).rows())
    for prefix in {str(tmp_path), str(Path.home()), str(tmp_path.parents[1]), "/tmp/", "/home/"}:
        assert prefix not in text


def test_a_file_in_the_home_folder_is_shown_without_the_users_folder_name(tmp_path, monkeypatch):
    home = tmp_path / "jsmith"
    monkeypatch.setenv("HOME", str(home))
    rule = _write(home / "rule.sql", b"SELECT 1\n")
    found = collect_provenance(rule_file=rule, inputs=[])
    assert found.rule_file == "rule.sql"
    assert "jsmith" not in repr(found.rows())


def test_inputs_sharing_a_name_are_told_apart_by_their_folder(tmp_path):
    first = _write(tmp_path / "2025Q1" / "spells.csv", b"a\n")
    second = _write(tmp_path / "2025Q2" / "spells.csv", b"b\n")
    found = collect_provenance(rule_file=first, inputs=[first, second])
    assert [name for name, _ in found.inputs] == ["2025Q1/spells.csv", "2025Q2/spells.csv"]


def test_no_params_file_gives_none_and_no_hash_row(run_files):
    rule, _, inputs = run_files
    found = collect_provenance(rule_file=rule, inputs=inputs)
    assert found.params_file is None and found.params_sha256 is None
    rows = dict(found.rows())
    assert rows["parameters file"] == "none"
    assert "parameters sha256" not in rows


def test_a_database_source_is_its_url_without_password_and_the_querys_hash(run_files):
    rule, _, _ = run_files
    query = "SELECT * FROM hes.apc WHERE fyear = 2025"
    found = collect_provenance(
        rule_file=rule,
        inputs=[],
        database=("mssql+pyodbc://audit:s3cret@dwh.nhs.example/HES?driver=ODBC+Driver+18", query),
    )
    ((url, value),) = found.inputs
    assert "s3cret" not in url and url.startswith("mssql+pyodbc://audit:***@dwh.nhs.example/HES")
    assert value == "query sha256 " + hashlib.sha256(query.encode()).hexdigest()
    odbc = collect_provenance(rule_file=rule, inputs=[], database=("Server=dwh;UID=audit;PWD=s3cret;", query))
    assert "s3cret" not in odbc.inputs[0][0]


def test_a_missing_input_raises(run_files, tmp_path):
    rule, _, _ = run_files
    with pytest.raises(FileNotFoundError):
        collect_provenance(rule_file=rule, inputs=[tmp_path / "absent.csv"])


def test_git_commit_of_this_checkout_is_heads_short_hash():
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
    )
    if head.returncode != 0:
        pytest.skip("the tests do not run from a git checkout")
    assert git_commit().startswith(head.stdout.strip())
    assert git_commit(ROOT / "rfd_lib").startswith(head.stdout.strip())


def test_git_commit_outside_a_checkout_says_so(tmp_path):
    assert git_commit(tmp_path) == NOT_A_CHECKOUT
    assert git_commit(tmp_path / "no such folder") == NOT_A_CHECKOUT


def test_git_commit_without_git_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert git_commit(ROOT) == NOT_A_CHECKOUT


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout.strip()


def test_git_commit_marks_uncommitted_changes_to_tracked_files_only(tmp_path):
    repo = tmp_path / "checkout"
    code = _write(repo / "pkg" / "code.py", b"x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    short = _git(repo, "rev-parse", "--short", "HEAD")
    assert git_commit(repo / "pkg") == short
    _write(repo / "pkg" / "untracked.py", b"y = 2\n")
    assert git_commit(repo / "pkg") == short
    code.write_bytes(b"x = 2\n")
    assert git_commit(repo / "pkg") == f"{short} + uncommitted changes"
    # A package installed in an untracked folder of a checkout (its .venv) is not that checkout's code.
    _write(repo / ".venv" / "site-packages" / "rfd_lib" / "__init__.py", b"")
    assert git_commit(repo / ".venv" / "site-packages" / "rfd_lib") == NOT_A_CHECKOUT


def test_run_at_is_utc_to_the_second(run_files):
    rule, _, _ = run_files
    stamp = collect_provenance(rule_file=rule, inputs=[]).run_at
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", stamp)
    assert abs(
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - datetime.now(UTC)
    ) < timedelta(minutes=1)
    london_summer = datetime(2026, 7, 1, 15, 3, 7, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert (
        collect_provenance(rule_file=rule, inputs=[], run_at=london_summer).run_at == "2026-07-01T14:03:07Z"
    )
    naive = datetime(2026, 11, 25, 14, 3, 7)
    assert collect_provenance(rule_file=rule, inputs=[], run_at=naive).run_at == "2026-11-25T14:03:07Z"


def test_versions_are_the_installed_ones(run_files, monkeypatch):
    rule, _, _ = run_files
    listed = provenance.PACKAGES
    monkeypatch.setattr(provenance, "PACKAGES", (*listed, "no-such-package-rfd"))
    found = collect_provenance(rule_file=rule, inputs=[])
    packages = dict(found.packages)
    assert packages["pandas"] == pd.__version__
    assert packages["no-such-package-rfd"] == "not installed"
    assert list(packages) == [*listed, "no-such-package-rfd"]  # in the order listed
    assert {"pandas", "papermill", "nbconvert", "sqlglot"} <= set(listed)
    assert dict(found.rows())["packages"].startswith(f"pandas {pd.__version__}, numpy ")
    assert found.rfd_lib_version == importlib.metadata.version("rfd-audit")
    assert re.fullmatch(r"3\.\d+\.\d+\S*", found.python)


@pytest.fixture
def four_providers(tmp_path):
    """Extracts of RA1, RB2 and RC3 (one file each), one shared by RA1 and RD4, one with no usable row."""
    rule = _write(tmp_path / "rules" / "rule.sql", b"SELECT 1\n")
    folder = tmp_path / "extracts"
    files = {name: _write(folder / name, name.encode() * 3) for name in ("ra1.csv", "rb2.csv", "rc3.csv")}
    files["shared.xlsx"] = _write(folder / "shared.xlsx", b"two providers")
    files["broken.csv"] = _write(folder / "broken.csv", b"every row quarantined")
    populations = _write(folder / "populations.csv", b"provider_code,catchment_population\n")
    spells = pd.DataFrame(
        {
            "source": pd.Categorical(
                [str(files["ra1.csv"])] * 2
                + [str(files["rb2.csv"]), str(files["rc3.csv"])]
                + [f"{files['shared.xlsx']}[Spells]"] * 2
            ),
            "provider_code": pd.array(["RA1", "RA1", "RB2", "RC3", "RA1", "RD4"], dtype="string"),
        }
    )
    holds = provenance.providers_by_file(spells, list(files.values()))
    found = collect_provenance(rule_file=rule, inputs=[*files.values(), populations], holds=holds)
    return found, files, populations


def test_each_extract_file_holds_the_providers_of_the_spells_read_from_it(four_providers):
    _, files, _ = four_providers
    spells = pd.DataFrame(
        {
            "source": [
                str(files["ra1.csv"]),
                f"{files['shared.xlsx']}[Spells]",
                f"{files['shared.xlsx']}[x]",
            ],
            "provider_code": ["RA1", "RA1", "RD4"],
        }
    )
    held = provenance.providers_by_file(spells, [files["ra1.csv"], files["shared.xlsx"], files["broken.csv"]])
    assert held == {files["ra1.csv"]: ("RA1",), files["shared.xlsx"]: ("RA1", "RD4"), files["broken.csv"]: ()}


def test_a_providers_report_lists_its_own_inputs_and_one_digest_of_the_rest(four_providers):
    found, files, _ = four_providers
    rows = dict(found.rows("RA1"))
    inputs = [label for label in rows if label.startswith("input ")]
    # Its own file, the file it shares with RD4, and what every report uses.
    assert inputs == ["input ra1.csv", "input shared.xlsx", "input populations.csv"]
    others = [files[name] for name in ("rb2.csv", "rc3.csv", "broken.csv")]
    # What `sha256sum rb2.csv rc3.csv broken.csv | LC_ALL=C sort -k2 | sha256sum` prints.
    listing = "".join(sorted(f"{sha256_file(path)}  {path.name}\n" for path in others))
    assert rows["other providers' extracts (3 files)"] == hashlib.sha256(listing.encode()).hexdigest()
    assert not any(path.name in repr(found.rows("RA1")) for path in others)
    rd4 = [label for label, _ in found.rows("RD4") if label.startswith(("input ", "other"))]
    assert rd4 == ["input shared.xlsx", "input populations.csv", "other providers' extracts (4 files)"]


def test_the_summary_lists_every_input_and_a_provider_with_no_file_gets_the_digest_of_all(four_providers):
    found, files, populations = four_providers
    summary = [label for label, _ in found.rows() if label.startswith(("input ", "other"))]
    assert summary == [f"input {path.name}" for path in [*files.values(), populations]]
    alone = [label for label, _ in found.rows("RZ9") if label.startswith(("input ", "other"))]
    assert alone == ["input populations.csv", "other providers' extracts (5 files)"]
    labels = [label for label, _ in found.rows("RA1")]
    assert labels[labels.index("other providers' extracts (3 files)") + 1] == "rfd_lib version"


def test_without_holdings_every_report_lists_every_input(run_files):
    rule, params, inputs = run_files
    found = collect_provenance(rule_file=rule, inputs=inputs, params_file=params)
    assert found.rows("RAJ") == found.rows()
