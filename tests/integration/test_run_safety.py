"""A run writes only where it should, one at a time, and ends cleanly however it is stopped.

Hostile provider codes, output folders that are not the run's, two runs into one folder, a full
disk, a browser that fails, and runs killed (SIGKILL) or interrupted (SIGINT, as Ctrl-C sends it
to every process of the run) mid-way. Each case here failed before issue 10. The case lists
(patient level) are written under ``internal/`` only, in either mode, and no file outside it names
a spell of the extract (issue 13).
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from rfd_lib.atomic import WriteError, partial_path, write_atomically
from rfd_lib.cli import main
from rfd_lib.extracts.reading import load_extracts
from rfd_lib.pipeline.output_folder import (
    RESERVED,
    RunFolderError,
    check_output_folder,
    hold_output_folder,
    report_stem,
    report_stems,
)
from rfd_lib.pipeline.params import ParamsError
from rfd_lib.pipeline.runner import run_audit
from rfd_lib.report.saved_audit import load_run
from rfd_lib.synthetic import write_extracts
from tests.browser.chromium import needs_chromium
from tests.run_params import params_file

HOSTILE_CODES = [
    "../../../ESCAPED",
    "summary",
    "SUMMARY",
    "index",
    "Index",
    "internal",
    "a/b",
    "a\\b",
    "{provider}",
    "CON",
    "nul",
    "LPT1",
    "zt0",
    "ZT0 ",
    " ZT0",
    "$x^$",
    "x" * 300,
    "Z\x00T0",
    ".hidden",
    "..",
    "",
]


@pytest.mark.parametrize("code", HOSTILE_CODES, ids=[repr(code)[:20] for code in HOSTILE_CODES])
def test_a_provider_code_never_becomes_a_path_or_another_file_of_the_run(code):
    stem = report_stem(code)
    assert stem.replace("-", "").replace("_", "").isalnum() and stem.isascii()
    assert stem.lower() not in RESERVED and not stem.startswith(("-", "."))
    assert len(stem) <= 40


def test_report_names_are_distinct_even_where_case_is_ignored():
    stems = report_stems(["ZT0", *HOSTILE_CODES])
    assert stems["ZT0"] == "ZT0", "a plain code keeps its own name"
    assert len({stem.lower() for stem in stems.values()}) == len(stems)


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    """A small synthetic set (a tenth of the spells)."""
    return write_extracts(tmp_path_factory.mktemp("extracts"), scale=0.1).folder


# The providers params_file runs.
RUN_CODES = ("ZF6", "ZH8", "ZK1")


def test_reports_of_codes_that_name_the_runs_own_files_go_elsewhere(extracts, tmp_path):
    """Providers coded INDEX and CON keep their reports; the index and summary stay the run's."""
    spells = load_extracts([extracts / "ZH8.csv", extracts / "ZK1.csv"]).spells
    spells["provider_code"] = spells["provider_code"].map({"ZH8": "INDEX", "ZK1": "CON"}).astype("string")
    canonical = [c for c in spells.columns if c not in ("source", "source_row") and not c.startswith("dq_")]
    spells[canonical].to_parquet(tmp_path / "hostile.parquet", index=False)
    files = {"files": [str(tmp_path / "hostile.parquet")]}
    path = params_file(tmp_path, extracts, "hostile", extracts=files, populations=None)
    result = run_audit(path, progress=False)
    assert not result.failures
    names = sorted(p.name for p in result.output.iterdir() if p.is_file() and not p.name.startswith("."))
    assert names == sorted(
        ["index.html", "summary.html", f"{report_stem('INDEX')}.html", f"{report_stem('CON')}.html"]
    )
    soup = BeautifulSoup(result.index.read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in soup.find_all("a", href=True)}
    assert {f"{report_stem('INDEX')}.html", f"{report_stem('CON')}.html", "summary.html"} <= links
    shown = soup.get_text(" ")
    assert "INDEX" in shown and "CON" in shown, "the index shows the real codes"


def test_the_root_a_home_folder_or_a_folder_that_is_not_this_runs_is_refused(tmp_path):
    with pytest.raises(RunFolderError, match="root folder"):
        check_output_folder(Path("/"), "demo")
    with pytest.raises(RunFolderError, match="home folder"):
        check_output_folder(Path.home(), "demo")
    (tmp_path / "notes.txt").write_text("someone's work")
    with pytest.raises(RunFolderError, match="files that are not a run's"):
        check_output_folder(tmp_path, "demo")
    other = tmp_path / "other"
    (other / "internal").mkdir(parents=True)
    (other / "index.html").write_text("<html></html>")
    (other / "internal" / "run.json").write_text(json.dumps({"params": {"name": "q1"}}))
    with pytest.raises(RunFolderError, match="another run \\('q1'\\)"):
        check_output_folder(other, "q2")
    check_output_folder(other, "q1")  # the same run again may replace it
    check_output_folder(tmp_path / "new", "q2")


def test_output_root_in_a_parameter_file_writes_nothing(extracts, tmp_path, capsys):
    status = main(["run", str(params_file(tmp_path, extracts, "rooted", output="/")), "--quiet"])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to write reports into the root folder" in err
    assert not Path("/index.html").exists() and not Path("/internal").exists()


def test_a_second_run_into_a_held_folder_is_refused_and_the_first_is_untouched(extracts, tmp_path, capsys):
    output = tmp_path / "q2"
    with hold_output_folder(output, "q2"):
        status = main(["run", str(params_file(tmp_path, extracts, "q2")), "--quiet"])
        err = capsys.readouterr().err
        assert status == 2 and "another rfd-audit run is writing to this folder" in err
        assert not (output / "index.html").exists()


def test_a_run_that_fails_validation_leaves_no_folder(extracts, tmp_path):
    with pytest.raises(ParamsError):
        run_audit(params_file(tmp_path, extracts, "bad", providers=["ZZ9"]), progress=False)
    assert not (tmp_path / "bad").exists()


def test_a_broken_wording_file_stops_the_run_before_anything_is_read_or_written(
    extracts, tmp_path, monkeypatch
):
    from rfd_lib import config
    from rfd_lib.wording import WordingError

    broken = tmp_path / "wording.yaml"
    text = config.WORDING.read_text(encoding="utf-8")
    broken.write_text(text.replace('"RFD audit: {provider} ({code})"', '"RFD audit: {provider ({code})"'))
    monkeypatch.setattr(config, "WORDING", broken)
    read = []
    monkeypatch.setattr("rfd_lib.pipeline.run_extracts.classify_extracts", lambda *a, **k: read.append(a))
    with pytest.raises(WordingError, match=r"wording.yaml: provider_page.title"):
        run_audit(params_file(tmp_path, extracts, "worded"), progress=False)
    assert read == [] and not (tmp_path / "worded").exists()


def test_the_wording_file_is_in_every_reports_provenance(extracts, tmp_path):
    from rfd_lib import config

    result = run_audit(params_file(tmp_path, extracts, "provenance", providers=["ZH8"]), progress=False)
    run = load_run(result.output / "internal" / "audit_run.pkl")
    assert any(key == f"input {config.WORDING.name}" for key, _ in run.provenance)


def test_a_provider_given_twice_or_many_unknown_providers_give_one_short_line(extracts, tmp_path):
    with pytest.raises(ParamsError, match="ZH8 given more than once"):
        run_audit(params_file(tmp_path, extracts, "twice"), providers=["ZH8", "ZH8"], progress=False)
    unknown = [f"Q{i:05d}" for i in range(200_000)]
    with pytest.raises(ParamsError) as caught:
        run_audit(params_file(tmp_path, extracts, "many"), providers=unknown, progress=False)
    assert "(200,000 in all)" in str(caught.value) and len(str(caught.value)) < 600


def test_the_same_extract_under_two_names_stops_the_run_unless_allowed(extracts, tmp_path, capsys):
    copy = tmp_path / "ZH8-again.csv"
    copy.write_bytes((extracts / "ZH8.csv").read_bytes())
    files = {"files": [str(extracts / "ZH8.csv"), str(copy)]}
    status = main(["run", str(params_file(tmp_path, extracts, "twice", extracts=files)), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "ZH8-again.csv share" in err and "allow_duplicate_spells: true" in err
    assert not (tmp_path / "twice").exists()


def test_provider_codes_in_parameters_are_compared_as_the_extracts_are_read(extracts, tmp_path):
    with pytest.raises(ParamsError, match="ZH8 given more than once"):
        run_audit(params_file(tmp_path, extracts, "folded"), providers=["ZH8", " zh8 "], progress=False)


def test_a_full_disk_names_the_file_and_leaves_no_partial(tmp_path, monkeypatch):
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(WriteError) as caught:
        write_atomically(tmp_path / "report.html", "<html></html>")
    assert "report.html: cannot be written (No space left on device)" in str(caught.value)
    assert "free space" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_two_writers_of_one_output_never_share_a_temporary_file(tmp_path):
    first, second = partial_path(tmp_path / "out.parquet"), partial_path(tmp_path / "out.parquet")
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith(".out.parquet.") and first.name.endswith(".partial")


def test_a_classified_output_that_cannot_be_written_is_named_and_leaves_nothing(
    extracts, tmp_path, monkeypatch, capsys
):
    def full(*args, **options):
        raise OSError(errno.ENOSPC, "No space left on device")

    output = tmp_path / "out" / "classified.parquet"
    # The disk fills while the batches' parts are written, or while they are put together.
    for target, said in [
        ("write_table", "the classified spells cannot be written"),
        ("ParquetWriter", "cannot be written"),
    ]:
        with monkeypatch.context() as patch:
            patch.setattr(pq, target, full)
            assert main(["classify", str(extracts / "ZH8.csv"), "-o", str(output)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{said} (No space left on device)" in err
        assert "classified.parquet" in err
        assert not list(output.parent.iterdir())
    # ... or part way through any Parquet file: its temporary file goes too.
    with monkeypatch.context() as patch:
        patch.setattr(pq.ParquetWriter, "write_table", full)
        assert main(["classify", str(extracts / "ZH8.csv"), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be written (No space left on device)" in err
    assert not list(output.parent.iterdir())


def test_a_failing_browser_keeps_the_html_and_says_so(extracts, tmp_path, capsys):
    path = params_file(tmp_path, extracts, "nobrowser", formats=["html", "pdf"], chromium="/bin/false")
    status = main(["run", str(path), "--quiet", "--providers", "ZH8"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "2 of 2 reports written" in out and "2 PDF(s) not printed (the HTML reports were made)" in err
    output = tmp_path / "nobrowser"
    assert (output / "ZH8.html").is_file() and not (output / "ZH8.pdf").exists()
    assert "the HTML report was made but not its PDF" in (output / "index.html").read_text(encoding="utf-8")


def test_a_source_whose_every_row_was_quarantined_is_named_in_the_index(extracts, tmp_path):
    lines = (extracts / "ZH8.csv").read_text(encoding="utf-8-sig").splitlines()
    broken = [lines[0], *(line + ",surplus" for line in lines[1:40])]
    (tmp_path / "ZQ9.csv").write_text("\n".join(broken) + "\n", encoding="utf-8")
    files = [str(extracts / "ZK1.csv"), str(tmp_path / "ZQ9.csv")]
    result = run_audit(
        params_file(tmp_path, extracts, "quarantined", extracts={"files": files}), progress=False
    )
    note = "ZQ9.csv: all 39 rows were quarantined"
    assert any(note in text for text in result.notes)
    assert note in BeautifulSoup(result.index.read_text(encoding="utf-8"), "html.parser").get_text(" ")


def _processes_with(marker: str) -> list[int]:
    """Return the processes whose environment carries ``marker`` (the run, its workers, kernels, browsers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@needs_chromium
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find leftover processes")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_a_run_stopped_mid_way_leaves_no_process_no_partial_report_and_reruns_the_same(
    extracts, tmp_path, how
):
    path = params_file(tmp_path, extracts, "stopped", formats=["html", "pdf"])
    output = tmp_path / "stopped"
    marker = uuid.uuid4().hex
    run = subprocess.Popen(
        [sys.executable, "-m", "rfd_lib.cli", "run", str(path), "--quiet"],
        env={**os.environ, "RFD_AUDIT_TEST_MARKER": marker},
        # As from a terminal: tests started in the background by a non-interactive shell inherit
        # Ctrl-C ignored, and Python then keeps ignoring it (the run would finish, status 0).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    record = output / "internal" / "run.json"
    while time.monotonic() < deadline and not (record.is_file() and list(output.glob("Z*.html"))):
        time.sleep(0.1)
    assert list(output.glob("Z*.html")), "the run made no report in time"
    if how == "SIGKILL":
        os.kill(run.pid, signal.SIGKILL)  # kill -9 of the run alone: its workers must notice
    else:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C: the terminal signals every process of the run
    _, err = run.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == [], "a worker, kernel or browser outlived the run"

    assert not list(output.rglob("*.partial")), "a half-written report was left"
    for html in output.glob("*.html"):
        assert html.read_text(encoding="utf-8").rstrip().endswith("</html>")
    for pdf in output.glob("*.pdf"):
        assert pdf.read_bytes().rstrip().endswith(b"%%EOF")
    status = json.loads(record.read_text(encoding="utf-8"))["status"]
    index = (output / "index.html").read_text(encoding="utf-8")
    if how == "SIGKILL":
        assert run.returncode == -signal.SIGKILL and status == "running"
        assert "had not finished when this page was written" in index
    else:
        assert run.returncode == 130 and status == "interrupted"
        assert err.count("\n") == 1 and "interrupted:" in err
        assert "This run was interrupted" in index and "not made" in index

    stopped = load_run(output / "internal" / "audit_run.pkl").audit
    again = run_audit(path, progress=False)
    assert not again.failures and json.loads(record.read_text(encoding="utf-8"))["status"] == "finished"
    pd.testing.assert_frame_equal(
        stopped.volumes, load_run(output / "internal" / "audit_run.pkl").audit.volumes
    )
    pd.testing.assert_frame_equal(
        stopped.checks, load_run(output / "internal" / "audit_run.pkl").audit.checks
    )


# --- the case lists: patient level, under internal/ only ---------------------------------------


def texts(path: Path) -> list[str]:
    """Return what a reader of ``path`` sees: its text, or each member's of a zip (a workbook)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return [book.read(member).decode("utf-8", "replace") for member in book.namelist()]
    return [path.read_bytes().decode("utf-8", "replace")]


def test_a_circulation_run_writes_case_lists_in_internal_only_and_nothing_else_names_a_spell(
    extracts, tmp_path, capsys
):
    assert main(["run", str(params_file(tmp_path, extracts, "q2")), "--quiet"]) == 0
    output = tmp_path / "q2"
    out = capsys.readouterr().out
    folder = output / "internal" / "case_lists"
    assert f"case lists for local review (patient level, NOT for circulation) in {folder}" in out
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [*(f"{code}.csv" for code in RUN_CODES), "case_lists.xlsx"]
    )
    record = json.loads((output / "internal" / "run.json").read_text(encoding="utf-8"))
    assert record["case_lists"] == [str(folder / f"{code}.csv") for code in RUN_CODES] + [
        str(folder / "case_lists.xlsx")
    ]
    assert load_workbook(folder / "case_lists.xlsx").sheetnames == ["about", *RUN_CODES]
    spells = set(
        load_extracts([extracts / f"{code}.csv" for code in RUN_CODES]).spells["spell_id"].astype(str)
    )
    listed = pd.read_csv(folder / "ZK1.csv", dtype=str)  # ZH8 is the clean provider: headings only
    assert len(listed) and set(listed["provider_code"]) == {"ZK1"} and set(listed["spell_id"]) <= spells

    circulated = [path for path in output.rglob("*") if path.is_file() and "internal" not in path.parts]
    assert any(path.suffix == ".xlsx" for path in circulated) and any(
        path.suffix == ".html" for path in circulated
    )
    # Every run of digits or letters that could be an identifier, in every circulated file.
    tokens = {token for path in circulated for text in texts(path) for token in re.findall(r"\w+", text)}
    assert not tokens & spells, sorted(tokens & spells)[:5]
    assert tokens & set(RUN_CODES), "the scan read the files"


def test_an_internal_run_writes_them_too(extracts, tmp_path, capsys):
    path = params_file(tmp_path, extracts, "internal", disclosure="internal", providers=["ZH8"])
    assert main(["run", str(path), "--quiet"]) == 0
    output = tmp_path / "internal"
    folder = output / "internal" / "case_lists"
    assert (folder / "case_lists.xlsx").is_file() and (folder / "ZH8.csv").is_file()
    assert "NOT for circulation" in capsys.readouterr().out
