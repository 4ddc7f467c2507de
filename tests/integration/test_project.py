"""The project's own promises: the conda environment matches pyproject, CI runs the README's tests."""

import subprocess
import sys
import tomllib
import zipfile

import pytest
import yaml
from packaging.requirements import Requirement

from tests.paths import ROOT

CONDA_NAMES = {
    "python-duckdb": "duckdb",
    "jupyter_client": "jupyter-client",
}  # conda-forge names that differ from PyPI's


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    listed = [Requirement(d) for d in conda if isinstance(d, str) and not d.startswith(("python>", "pip"))]
    as_pypi = {CONDA_NAMES.get(r.name, r.name): r.specifier for r in listed}
    assert as_pypi == {r.name: r.specifier for r in wanted}


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "make report" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_rule_files_are_shipped_in_the_wheel(tmp_path):
    hatchling = pytest.importorskip("hatchling.builders.wheel")
    (wheel,) = hatchling.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"rfd_lib/rules/2K_RFD_back.sql", "rfd_lib/rules/2K_RFD_back.yaml"} <= names
    profiles = {f"rfd_lib/params/profiles/{p.name}" for p in (ROOT / "params" / "profiles").glob("*.yaml")}
    shipped = {
        f"rfd_lib/params/{name}.yaml" for name in ("spell_schema", "code_lists", "expectations", "wording")
    }
    assert profiles and profiles | shipped <= names
    assert not any(name.startswith(("tests/", "benchmarks/", "reports/")) for name in names)


def test_the_pre_commit_config_is_valid_and_uses_only_local_hooks():
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    assert {"ruff-check", "ruff-format", "nbstripout", "detect-secrets"} <= {
        hook["id"] for hook in config["repos"][0]["hooks"]
    }


def test_developers_md_lists_every_module_of_rfd_lib():
    """The layout table is the map a new maintainer reads: every module is on it."""
    listed = (ROOT / "DEVELOPERS.md").read_text(encoding="utf-8")
    modules = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "rfd_lib").rglob("*.py")
        if path.name != "__init__.py"
    ]
    assert modules and [module for module in modules if f"`{module}`" not in listed] == []


@pytest.mark.parametrize(
    "name", ["classify", "read_extract", "load_extracts", "load_rule", "run_audit", "audit_metrics"]
)
def test_every_public_name_the_readme_uses_is_on_the_package(name):
    import rfd_lib

    assert callable(getattr(rfd_lib, name)) and name in rfd_lib.__all__


def test_the_notebooks_import_only_the_packages_public_names():
    """A notebook imports from rfd_lib.<layer>, never from a module inside it."""
    import json

    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        imports = [
            line for cell in cells for line in cell["source"] if "import" in line and "rfd_lib" in line
        ]
        assert imports, notebook.name
        for line in imports:
            module = line.split()[1]
            assert module.count(".") <= 1, f"{notebook.name}: {line.strip()}"
            assert all(
                name.strip() in __import__(module, fromlist=["x"]).__all__
                for name in line.split("import")[1].split(",")
            )
