"""The report notebooks are committed clean: no outputs, typed and commented parameters, no logic."""

from __future__ import annotations

import ast

import nbformat
import pytest
from papermill.translators import PythonTranslator

from tests.paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_both_report_notebooks_exist():
    assert [path.name for path in NOTEBOOKS] == ["provider_audit.ipynb", "summary.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
    assert "papermill" not in notebook.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_are_typed_commented_and_independent(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    parameters = PythonTranslator.inspect(tagged[0])
    assert parameters, "papermill finds no parameter"
    for parameter in parameters:
        assert parameter.inferred_type_name != "None", f"{parameter.name} has no type"
        assert parameter.help, f"{parameter.name} has no comment"
    tree = ast.parse(tagged[0].source)
    names = {p.name for p in parameters}
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), "the parameters cell holds annotated assignments only"
        used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        assert not used & names, f"{node.target.id} is computed from another parameter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short_calls_into_rfd_lib(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        kinds = (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.With, ast.Lambda)
        assert not any(isinstance(node, kinds) for node in ast.walk(tree)), cell.source
        assert len(cell.source.splitlines()) <= 4, f"too long for a notebook cell:\n{cell.source}"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module.startswith("rfd_lib"), "notebooks import rfd_lib only"
        # Every cell is hidden from the reports: only its output shows.
        assert {"remove_input", "remove_cell"} & set(cell.metadata.get("tags", [])), cell.source
