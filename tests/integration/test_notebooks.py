"""The report notebooks are committed clean: no outputs, typed and commented parameters, no logic.

Outside the marked "Your analysis" section (between the cells tagged ``your-analysis`` and
``end-of-your-analysis``) every code cell is a short call into rfd_lib; inside it, an analyst's
cells may be as long as they need, loops included.
"""

from __future__ import annotations

import ast

import nbformat
import pytest
from papermill.translators import PythonTranslator

from tests.paths import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
START, END = "your-analysis", "end-of-your-analysis"


def analysis_section(notebook) -> range:
    """Return the positions of the cells inside the notebook's marked "Your analysis" section."""
    tagged = {
        tag: [n for n, c in enumerate(notebook.cells) if tag in c.metadata.get("tags", [])]
        for tag in (START, END)
    }
    assert len(tagged[START]) == 1 and len(tagged[END]) == 1, (
        "one start and one end marker of the analysis section"
    )
    (start,), (end,) = tagged[START], tagged[END]
    assert start < end
    for marker in (start, end):
        cell = notebook.cells[marker]
        assert cell.cell_type == "markdown" and "remove_cell" in cell.metadata["tags"], (
            "markers are not in the report"
        )
    return range(start + 1, end)


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
    section = analysis_section(notebook)
    for position, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or position in section:
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_analysis_section_has_a_heading_and_an_example_that_publishes(path):
    notebook = nbformat.read(path, as_version=4)
    cells = [notebook.cells[n] for n in analysis_section(notebook)]
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("## ")
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    assert code and any("page.publish" in source for source in code)
    assert any(len(source.splitlines()) > 4 for source in code), (
        "the example shows that longer cells are allowed"
    )


def test_the_provider_example_is_the_readme_worked_example():
    notebook = nbformat.read(ROOT / "notebooks" / "provider_audit.ipynb", as_version=4)
    (example,) = [
        notebook.cells[n].source for n in analysis_section(notebook) if notebook.cells[n].cell_type == "code"
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"```python\n{example}\n```" in readme


def test_the_rule_still_holds_outside_the_section(tmp_path):
    """A long cell outside the section fails the rule; the same cell inside it passes."""
    notebook = nbformat.read(ROOT / "notebooks" / "provider_audit.ipynb", as_version=4)
    long_cell = nbformat.v4.new_code_cell("for n in range(3):\n    pass", metadata={"tags": ["remove_input"]})
    section = analysis_section(notebook)
    inside, outside = nbformat.from_dict(notebook), nbformat.from_dict(notebook)
    inside.cells.insert(section.start, long_cell)
    outside.cells.insert(3, long_cell)
    for name, changed in (("inside", inside), ("outside", outside)):
        nbformat.write(changed, tmp_path / f"{name}.ipynb")
    test_code_cells_are_short_calls_into_rfd_lib(tmp_path / "inside.ipynb")
    with pytest.raises(AssertionError):
        test_code_cells_are_short_calls_into_rfd_lib(tmp_path / "outside.ipynb")
