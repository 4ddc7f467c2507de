"""An analyst's own tables and charts: protected by the run's policy, and a guard on everything else shown."""

from __future__ import annotations

import os
import time

import nbformat
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from IPython.core.interactiveshell import InteractiveShell
from matplotlib.figure import Figure

from rfd_lib.engine.rule import load_rule
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL, INTERNAL_BANNER, DisclosureError
from rfd_lib.pipeline.demo import find_run
from rfd_lib.report.analyst import (
    UnprotectedOutputError,
    criterion_names,
    guard_displays,
    publish_chart,
    publish_table,
    unprotected_cell,
)
from rfd_lib.report.tables import Fragment

BANDS = pd.Series([3, 12, 40, 0], index=pd.Index(["19–39", "40–59", "60–79", "80+"], name="age band"))


def shown(fragment: str) -> list[str]:
    return [cell.get_text(strip=True) for cell in BeautifulSoup(fragment, "html.parser").select("td.count")]


def test_publish_suppresses_small_counts_rounds_the_rest_and_adds_a_total_and_the_note():
    published = publish_table(BANDS.rename("counted RFDs"), CIRCULATION, title="By age")
    # 3 is suppressed and 12, the smallest other, with it; the total adds up what is shown.
    assert shown(published) == ["*", "*", "40", "0", "40"]
    assert "not shown to protect confidentiality" in published and "<caption>By age</caption>" in published
    assert published.data["counted RFDs_suppressed"].tolist() == [True, True, False, False, False]
    assert published.data["counted RFDs"].isna().sum() == 2  # no true count kept under a star


def test_publish_finds_integer_columns_and_groups_by_the_rest():
    table = pd.DataFrame({"quarter": ["Q1", "Q1", "Q2"], "band": ["a", "b", "a"], "spells": [9, 22, 1]})
    published = publish_table(table, CIRCULATION, within=["quarter"])
    assert shown(published) == ["10", "20", "30", "*", "*"]


def test_publish_in_internal_mode_shows_true_counts_under_the_banner():
    published = publish_table(BANDS, INTERNAL)
    assert shown(published) == ["3", "12", "40", "0", "55"] and INTERNAL_BANNER in published


@pytest.mark.parametrize(
    "table,words",
    [
        (
            pd.DataFrame({"band": ["a"], "mean_age": [40.5], "spells": [10]}),
            "'mean_age' holds numbers that are not counts",
        ),
        (pd.DataFrame({"patient_id": ["P1"], "spells": [10]}), "'patient_id' identifies spells or patients"),
        (pd.DataFrame({"band": ["a"]}), "no count column"),
        (pd.DataFrame({"band": ["a"], "spells": [-1]}), "negative count"),
    ],
)
def test_publish_refuses_what_it_cannot_protect(table, words):
    with pytest.raises(DisclosureError, match=words):
        publish_table(table, CIRCULATION)


def test_publish_chart_draws_the_protected_counts_and_lists_them_in_its_caption():
    chart = publish_chart(BANDS.rename("counted RFDs"), CIRCULATION, title="By age", caption="Counted RFDs.")
    assert "The figures: 19–39: *; 40–59: *; 60–79: 40; 80+: 0." in chart.caption
    assert "not shown to protect confidentiality" in chart.caption
    heights = [patch.get_height() for patch in chart.figure.axes[0].patches]
    assert heights == [0, 0, 40, 0]
    internal = publish_chart(BANDS, INTERNAL, title="By age")
    assert "19–39: 3; 40–59: 12" in internal.caption and INTERNAL_BANNER in internal.caption


def test_criterion_columns_are_named_from_the_rule():
    names = criterion_names(load_rule())
    assert list(names.values()) == [
        "primary_spell_diagnosis",
        "age_between_19_and_120",
        "only_elective_activity",
        "cancer_diagnosis_exclusion",
        "private_appointment_exclusion",
    ]


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    yield shell
    guard_displays(INTERNAL)  # the guard off again for whatever else uses the shell


@pytest.mark.parametrize(
    "code",
    [
        "pd.Series([1, 4, 6]).value_counts()",
        "display(pd.DataFrame({'spells': [1, 4, 6]}))",
        "np.array([1, 4, 6])",
        "np.int64(4)",
        "4",
        "Figure()",
        "pd.DataFrame({'spells': [1, 4, 6]}).style",
    ],
)
def test_in_circulation_the_guard_fails_the_cell_before_anything_is_shown(shell, code, capsys):
    shell.user_ns.update(pd=pd, np=np, Figure=Figure)
    assert guard_displays(CIRCULATION)
    result = shell.run_cell(code, store_history=False)
    assert isinstance(result.error_in_exec, UnprotectedOutputError)
    assert "has not been through disclosure control" in str(result.error_in_exec)
    out = capsys.readouterr().out  # the traceback (code lines), never the value's repr
    assert "dtype" not in out and "Out[0]: array" not in out and "<Figure size" not in out


@pytest.mark.parametrize("code", ["Fragment('<p>ok</p>')", "'some text'", "None", "True"])
def test_the_guard_lets_the_pages_output_and_text_through(shell, code):
    shell.user_ns.update(Fragment=Fragment)
    guard_displays(CIRCULATION)
    assert shell.run_cell(code, store_history=False).error_in_exec is None


def test_in_internal_mode_the_guard_is_off(shell):
    shell.user_ns.update(pd=pd)
    guard_displays(CIRCULATION)
    assert not guard_displays(INTERNAL)
    assert shell.run_cell("pd.Series([1, 4, 6])", store_history=False).error_in_exec is None


def test_the_failure_names_the_cell_as_the_analyst_numbers_it():
    notebook = nbformat.v4.new_notebook()
    error = nbformat.v4.new_output(
        "error",
        ename="UnprotectedOutputError",
        evalue="the cell shows a numpy array or number that …",
        traceback=[],
    )
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("\n  (spells['age'] < 40).sum()\nmore", outputs=[error]),
    ]
    assert unprotected_cell(notebook) == (
        "UnprotectedOutputError: cell 2 ((spells['age'] < 40).sum()): shows a numpy array or number that …"
    )
    notebook.cells[2].outputs = []
    assert unprotected_cell(notebook) is None


def test_a_notebook_opened_before_any_run_says_run_make_report_first(tmp_path, monkeypatch):
    monkeypatch.setenv("RFD_AUDIT_REPORTS", str(tmp_path))
    with pytest.raises(RfdAuditError, match=r"no audit run yet in .* HINT: run `make report` first"):
        find_run()
    for age, name in ((100, "old"), (0, "new")):
        saved = tmp_path / name / "internal" / "audit_run.pkl"
        saved.parent.mkdir(parents=True)
        saved.write_bytes(b"")
        os.utime(saved, (time.time() - age, time.time() - age))
    assert find_run().parts[-3] == "new"
    assert find_run("old").parts[-3] == "old"
    with pytest.raises(RfdAuditError, match=r"no audit run named 'q9' .*\(runs there: new, old\)"):
        find_run("q9")
