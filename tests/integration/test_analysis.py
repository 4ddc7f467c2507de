"""An analyst's own cells in a real run: an unprotected table fails its report, a published one passes.

One small circulation run (module fixture: a fifth of the synthetic set, provider ZK1 and the
summary, HTML only) whose provider notebook is ``tests/notebooks/unprotected_table.ipynb``: a cell
showing ``spells.groupby("reason").size()``. The same table through ``page.publish``
(``published_table.ipynb``) is executed against the run's saved audit and rendered. Then the
shipped notebooks are executed with no parameters at all, as an analyst opening them by hand
would, against the run found in the reports folder ``RFD_AUDIT_REPORTS`` names.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from papermill.exceptions import PapermillExecutionError

from rfd_lib.pipeline.runner import run_audit
from rfd_lib.report.notebook_runner import execute, kernel_folder
from rfd_lib.report.render import ReportContext, render_html
from rfd_lib.synthetic import write_extracts
from tests.paths import ROOT, TESTS

SAFE_COUNT = re.compile(r"^(\*|–|0|[1-9][0-9]{0,2}(,[0-9]{3})*)$")
MESSAGE = (
    'UnprotectedOutputError: cell 6 (spells.groupby("reason").size()): shows a pandas table or series '
    "that has not been through disclosure control; show counts with page.publish(table) or "
    "page.publish_chart(table, title=...)"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    extracts = write_extracts(folder / "extracts", scale=0.2).folder
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "notebooks" / "summary.ipynb", notebooks)
    shutil.copy(TESTS / "notebooks" / "unprotected_table.ipynb", notebooks / "provider_audit.ipynb")
    params = {
        "name": "q2",
        "quarter": "2026/27 Q2",
        "extracts": {"files": sorted(str(path) for path in extracts.glob("Z*.csv"))},
        "populations": str(extracts / "populations.csv"),
        "providers": ["ZK1"],
        "disclosure": "circulation",
        "formats": ["html"],
        "output": str(folder / "reports" / "q2"),
        "jobs": 1,
    }
    path = folder / "q2.yaml"
    path.write_text(json.dumps(params), encoding="utf-8")
    return run_audit(path, progress=False, notebooks=notebooks)


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> Path:
    return kernel_folder(tmp_path_factory.mktemp("kernels"))


def test_an_unprotected_table_fails_its_report_with_one_line_naming_the_cell(run):
    (failed,) = run.failures
    assert failed.name == "ZK1" and failed.error == MESSAGE
    assert not (run.output / "ZK1.html").exists() and (run.output / "summary.html").is_file()
    index = BeautifulSoup((run.output / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert MESSAGE in index.get_text(" ")
    # Nothing of the table is in the executed notebook: the cell's one output is the error.
    executed = nbformat.read(run.output / "internal" / "notebooks" / "ZK1.ipynb", as_version=4)
    (cell,) = [c for c in executed.cells if c.source == 'spells.groupby("reason").size()']
    assert [o.output_type for o in cell.outputs] == ["error"]
    assert cell.outputs[0].ename == "UnprotectedOutputError"


def test_the_same_table_through_page_publish_shows_stars_and_multiples_of_five(run, kernels, tmp_path):
    spells = pd.read_parquet(run.output / "internal" / "classified_spells.parquet")
    true = spells[spells["provider_code"] == "ZK1"].groupby("reason", observed=True).size()
    assert true.between(1, 7).any() and (true > 7).any(), "the fixture needs small and large counts"
    executed = execute(
        TESTS / "notebooks" / "published_table.ipynb",
        tmp_path / "published.ipynb",
        {"audit_file": str(run.output / "internal" / "audit_run.pkl"), "provider": "ZK1"},
        kernels=kernels,
    )
    html = render_html(executed, tmp_path / "published.html", ReportContext("t", "s", "today"))
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    cells = [cell.get_text(strip=True) for cell in soup.select("td.count")]
    assert len(cells) == len(true) + 1  # and the total row
    assert "*" in cells and any(text not in ("*", "0") for text in cells)
    for text in cells:
        assert SAFE_COUNT.match(text) and (text == "*" or int(text.replace(",", "")) % 5 == 0), text
    assert "not shown to protect confidentiality" in soup.get_text(" ")


@pytest.mark.parametrize("notebook", ["provider_audit.ipynb", "summary.ipynb"])
def test_a_notebook_opened_by_hand_reads_the_newest_run(run, kernels, tmp_path, monkeypatch, notebook):
    monkeypatch.setenv("RFD_AUDIT_REPORTS", str(run.output.parent))
    executed = nbformat.read(
        execute(ROOT / "notebooks" / notebook, tmp_path / notebook, {}, kernels=kernels), as_version=4
    )
    html = "".join(
        output.get("data", {}).get("text/html", "")
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    assert "Counted RFDs by age band, 2026/27 Q2" in html  # the run's quarter, from the run


def test_a_run_named_that_is_not_there_is_one_line(run, kernels, tmp_path, monkeypatch):
    monkeypatch.setenv("RFD_AUDIT_REPORTS", str(run.output.parent))
    with pytest.raises(PapermillExecutionError) as caught:
        execute(
            ROOT / "notebooks" / "summary.ipynb", tmp_path / "s.ipynb", {"run_name": "q3"}, kernels=kernels
        )
    assert caught.value.ename == "RfdAuditError"
    assert "no audit run named 'q3'" in caught.value.evalue and "(runs there: q2)" in caught.value.evalue
