"""A partial run (``--providers`` a subset) never silently shrinks the index (issue 14, item 4).

It keeps the earlier run's reports made from the same inputs (same extracts, quarter, rule,
populations, expectations, code lists, wording and disclosure mode), linked with the figures that
run worked out; it removes those made from other inputs and says why, one line each; and where
the index still lacks providers it says so in a banner. However a run ends, the index links
only files that are in the folder. Three providers, a tenth of the synthetic spells, HTML only.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup

from rfd_lib import config
from rfd_lib.cli import main
from rfd_lib.pipeline import runner
from rfd_lib.pipeline.runner import run_audit
from rfd_lib.synthetic import write_extracts
from tests.run_params import CODES, params_file


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    """A small synthetic set (a tenth of the spells)."""
    return write_extracts(tmp_path_factory.mktemp("extracts"), scale=0.1).folder


@pytest.fixture(scope="module")
def full_run(extracts, tmp_path_factory) -> Path:
    """The output folder of a run of every provider; each test works on a copy of it."""
    folder = tmp_path_factory.mktemp("full")
    result = run_audit(params_file(folder, extracts), progress=False)
    assert not result.failures
    return result.output


def copy_of(full_run: Path, folder: Path) -> Path:
    shutil.copytree(full_run, folder / "q2")
    return folder / "q2"


def page(output: Path) -> BeautifulSoup:
    return BeautifulSoup((output / "index.html").read_text(encoding="utf-8"), "html.parser")


def rows(output: Path) -> dict[str, str]:
    """Return each provider's line on the index as text (code → text)."""
    return {
        body.find("td", class_="code").get_text(strip=True): body.get_text(" | ", strip=True)
        for body in page(output).find_all("tbody", class_="entry")
    }


def assert_every_link_is_on_disk(output: Path) -> None:
    links = [unquote(a["href"]) for a in page(output).find_all("a", href=True)]
    missing = [link for link in links if not (output / link).is_file()]
    assert not missing, f"the index links files that are not in the folder: {missing}"


def text(output: Path) -> str:
    return page(output).get_text(" ", strip=True)


def test_a_partial_run_after_a_full_one_keeps_every_provider_with_working_links(
    full_run, extracts, tmp_path, capsys
):
    output = copy_of(full_run, tmp_path)
    before = rows(output)
    kept_report = (output / "ZF6.html").read_bytes()
    result = run_audit(params_file(tmp_path, extracts), providers=["ZK1"], progress=False)
    assert not result.failures and result.kept == ("ZF6", "ZH8") and result.summary_kept
    after = rows(output)
    assert sorted(after) == list(CODES), "the index lost a provider"
    for code in ("ZF6", "ZH8"):
        # Its line as the full run worked it out, marked with that run's date.
        assert "| from the run of " in after[code]
        assert re.sub(r" \| from the run of [^|]+?(?= \|)", "", after[code]) == before[code]
    assert "from the run of" not in after["ZK1"]
    assert (output / "ZF6.html").read_bytes() == kept_report, "a kept report is left as it was"
    assert_every_link_is_on_disk(output)
    links = {a["href"] for a in page(output).find_all("a", href=True)}
    assert {"ZF6.html", "ZH8.html", "ZK1.html", "summary.html"} <= links
    shown = text(output)
    assert "Partial run" not in shown, "every provider is on the index"
    assert "Kept from the run of" in shown and "covers all 3 providers" in shown
    # The run record keeps every line, so a later partial run keeps them again.
    record = json.loads((output / "internal" / "run.json").read_text(encoding="utf-8"))
    assert sorted(entry["provider_code"] for entry in record["index"]) == list(CODES)
    assert main(["run", str(params_file(tmp_path, extracts)), "--quiet", "--providers", "ZH8"]) == 0
    assert "kept from an earlier run of the same inputs: ZF6, ZK1, the summary" in capsys.readouterr().out
    assert sorted(rows(output)) == list(CODES)
    assert_every_link_is_on_disk(output)


def test_a_partial_run_with_other_expectations_drops_the_other_reports_and_says_why(
    full_run, extracts, tmp_path
):
    output = copy_of(full_run, tmp_path)
    edited = tmp_path / "edited" / "expectations.yaml"
    edited.parent.mkdir()
    edited.write_text(config.EXPECTATIONS.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    path = params_file(tmp_path, extracts, expectations=str(edited))
    result = run_audit(path, providers=["ZK1"], progress=False)
    assert not result.failures and result.kept == () and not result.summary_kept
    assert not (output / "ZF6.html").exists() and not (output / "ZH8.html").exists()
    assert sorted(rows(output)) == ["ZK1"]
    shown = text(output)
    for code in ("ZF6", "ZH8"):
        assert f"{code}: its report of the run of" in shown
    assert shown.count("was removed: expectations.yaml has changed.") == 2
    assert "Partial run: 1 of 3 providers (ZK1). Not on this index: ZF6, ZH8." in shown
    assert "Made by this run. It covers all 3 providers" in shown
    assert_every_link_is_on_disk(output)


def test_a_first_partial_run_says_it_is_partial_and_how_to_make_the_rest(extracts, tmp_path):
    result = run_audit(params_file(tmp_path, extracts), providers=["ZH8"], progress=False)
    assert not result.failures
    banner = page(result.output).find("div", class_="partial").get_text(" ", strip=True)
    assert banner == (
        "Partial run: 1 of 3 providers (ZH8). Not on this index: ZF6, ZK1. To make every report, "
        "run: rfd-audit run q2.yaml --providers ZF6 ZK1"
    )
    assert "Made by this run. It covers all 3 providers in the extracts" in text(result.output)
    assert_every_link_is_on_disk(result.output)


class Killed(BaseException):
    """A run killed outright: nothing after it runs, but the folder's lock goes with the process."""


def test_a_killed_partial_run_never_leaves_an_index_linking_a_missing_report(
    full_run, extracts, tmp_path, monkeypatch
):
    output = copy_of(full_run, tmp_path)
    path = params_file(tmp_path, extracts)

    def killed(tasks, jobs, progress, output):
        (output / "ZK1.html").write_text("<html>half a run</html>")  # one report made, then killed
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(runner, "make_reports", killed)
        with pytest.raises(Killed):
            run_audit(path, providers=["ZK1"], progress=False)
    assert "had not finished" in text(output)
    assert_every_link_is_on_disk(output)
    # A kept report removed by hand meanwhile is not linked, and the index says so.
    (output / "ZF6.html").unlink()
    result = run_audit(path, providers=["ZK1"], progress=False)
    assert result.kept == ("ZH8",) and sorted(rows(output)) == ["ZH8", "ZK1"]
    assert "ZF6: its report of the run of" in text(output)
    assert "its report file is no longer in the folder" in text(output)
    assert "Partial run: 2 of 3 providers" in text(output)
    assert_every_link_is_on_disk(output)
    # A run of every provider makes the whole index again.
    again = run_audit(path, progress=False)
    assert again.kept == () and sorted(rows(output)) == list(CODES) and "Partial run" not in text(output)
    assert_every_link_is_on_disk(output)
