"""A worker keeps one kernel between notebooks, but no notebook sees another's variables."""

from __future__ import annotations

import sys

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

from rfd_lib.report.notebook_runner import WorkerKernelEngine, execute, kernel_folder


def notebook(path, *sources: str):
    cells = [nbformat.v4.new_code_cell('name: str = "x"  # a parameter', metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=metadata), path)
    return path


@pytest.fixture
def kernels(tmp_path):
    yield kernel_folder(tmp_path / "jupyter")
    WorkerKernelEngine.shutdown()


def outputs(path) -> list[str]:
    executed = nbformat.read(path, as_version=4)
    return [
        o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.output_type == "stream"
    ]


def test_the_kernel_is_kept_and_its_namespace_cleared(tmp_path, kernels):
    first = notebook(tmp_path / "first.ipynb", "import os\nleft_behind = name\nprint(os.getpid())")
    second = notebook(
        tmp_path / "second.ipynb", "import os\nprint(os.getpid(), 'left_behind' in dir(), name)"
    )
    execute(first, tmp_path / "out1.ipynb", {"name": "one"}, kernels=kernels, reuse_kernel=True)
    execute(second, tmp_path / "out2.ipynb", {"name": "two"}, kernels=kernels, reuse_kernel=True)
    pid = outputs(tmp_path / "out1.ipynb")[0].split()[0]
    assert outputs(tmp_path / "out2.ipynb")[0].split() == [pid, "False", "two"]


def test_the_kernel_runs_this_interpreter_and_a_failure_does_not_stop_the_next(tmp_path, kernels):
    where = notebook(tmp_path / "where.ipynb", "import os, sys\nprint(sys.executable, os.getpid())")
    broken = notebook(tmp_path / "broken.ipynb", "half_done = 1\nraise RuntimeError('deliberately broken')")
    execute(where, tmp_path / "out1.ipynb", {}, kernels=kernels, reuse_kernel=True)
    executable, pid = outputs(tmp_path / "out1.ipynb")[0].split()
    assert executable == sys.executable
    with pytest.raises(PapermillExecutionError, match="deliberately broken"):
        execute(broken, tmp_path / "out2.ipynb", {}, kernels=kernels, reuse_kernel=True)
    after = notebook(tmp_path / "after.ipynb", "import os\nprint(os.getpid(), 'half_done' in dir())")
    execute(after, tmp_path / "out3.ipynb", {}, kernels=kernels, reuse_kernel=True)
    assert outputs(tmp_path / "out3.ipynb")[0].split() == [pid, "False"]


def test_a_kernel_that_died_is_replaced(tmp_path, kernels):
    where = notebook(tmp_path / "where.ipynb", "import os\nprint(os.getpid())")
    dies = notebook(tmp_path / "dies.ipynb", "import os\nos._exit(1)")
    execute(where, tmp_path / "out1.ipynb", {}, kernels=kernels, reuse_kernel=True)
    pid = outputs(tmp_path / "out1.ipynb")[0].split()[0]
    with pytest.raises(Exception, match=r"(?i)kernel"):
        execute(dies, tmp_path / "out2.ipynb", {}, kernels=kernels, reuse_kernel=True)
    execute(where, tmp_path / "out3.ipynb", {}, kernels=kernels, reuse_kernel=True)
    assert outputs(tmp_path / "out3.ipynb")[0].split()[0] != pid


def test_braces_in_a_path_are_not_papermill_templates(tmp_path, kernels):
    folder = tmp_path / "q{2} {provider}"
    folder.mkdir()
    source = notebook(folder / "in{x}.ipynb", "print(name)")
    execute(source, folder / "out{name}.ipynb", {"name": "ZK1"}, kernels=kernels, reuse_kernel=True)
    assert outputs(folder / "out{name}.ipynb") == ["ZK1\n"]
