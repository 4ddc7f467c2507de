"""The project's own promises: the conda environments match pyproject, CI runs the README's tests,
``make lab`` opens the notebooks with the project's kernel, the README says only what is so."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from importlib.util import find_spec

import pytest
import yaml
from packaging.requirements import Requirement

from rfd_lib.report.notebook_runner import KERNEL_NAME
from tests.paths import ROOT

CONDA_NAMES = {
    "python-duckdb": "duckdb",
    "jupyter_client": "jupyter-client",
}  # conda-forge names that differ from PyPI's


def _conda(name: str) -> dict[str, object]:
    conda = yaml.safe_load((ROOT / name).read_text())["dependencies"]
    listed = [Requirement(d) for d in conda if isinstance(d, str) and not d.startswith(("python>", "pip"))]
    return {CONDA_NAMES.get(r.name, r.name): r.specifier for r in listed}


@pytest.mark.parametrize(
    "name, wanted",
    [("environment.yml", ["dependencies", "lab"]), ("environment-dev.yml", ["dev"])],
)
def test_the_conda_environments_list_the_same_dependencies_as_pyproject(name, wanted):
    """The analyst's environment is the runtime and JupyterLab; the developer's adds the dev extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"dependencies": project["dependencies"], **project["optional-dependencies"]}
    requirements = [Requirement(r) for group in wanted for r in groups[group]]
    assert _conda(name) == {r.name: r.specifier for r in requirements}


def test_jupyterlab_is_the_lab_extra_and_not_a_developer_tool_only():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [Requirement(r).name for r in extras["lab"]] == ["jupyterlab"]
    assert str(Requirement(extras["lab"][0]).specifier) in {"<5,>=4", ">=4,<5"}
    assert "jupyterlab" not in {Requirement(r).name for r in extras["dev"]}
    assert "jupyterlab" in _conda("environment.yml") and "jupyterlab" not in _conda("environment-dev.yml")


def _make_dry_run(*targets: str) -> str:
    done = subprocess.run(
        ["make", "--dry-run", "--always-make", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_installs_jupyterlab_and_opens_the_notebooks_with_the_projects_kernel():
    commands = _make_dry_run("lab")
    assert "pip install --quiet -e '.[lab]'" in commands
    # The kernel the notebooks name, registered inside .venv: not one of another Python.
    assert f"ipykernel install --sys-prefix --name {KERNEL_NAME}" in commands
    assert re.search(r"\.venv/bin/jupyter lab --ServerApp\.root_dir=notebooks\b", commands), commands
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        kernelspec = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["kernelspec"]
        assert kernelspec["name"] == KERNEL_NAME, notebook.name


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_report_installs_jupyterlab_and_make_test_the_developers_tools_too():
    """The README's set-up (make report) gives an analyst JupyterLab; the dev extra is for tests."""
    assert "pip install --quiet -e '.[lab]'" in _make_dry_run("report")
    assert "pip install --quiet -e '.[lab,dev,spark]'" in _make_dry_run("test")
    assert not re.search(r"\.\[[^\]]*\bdev\b", _make_dry_run("report"))  # no dev extra for an analyst


def test_pyspark_is_the_spark_extra_and_ci_brings_java_for_it():
    """rfd_lib.spark needs pyspark (an extra) and Java, which CI installs only where it is missing."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert [Requirement(r).name for r in project["optional-dependencies"]["spark"]] == ["pyspark"]
    assert "pyspark" not in {Requirement(r).name for r in project["dependencies"]}
    run = (ROOT / ".ci" / "run").read_text()
    assert "command -v java" in run and "default-jre-headless" in run
    assert "CI=true make test" in run  # the Spark tests fail, not skip, without pyspark or Java


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(find_spec("jupyterlab") is None, reason="JupyterLab (the lab extra) is not installed")
def test_jupyterlab_serves_the_notebooks_with_the_projects_kernel(tmp_path):
    """What `make lab` starts, started here: the notebooks listed, the rfd-audit kernel this Python."""
    version = subprocess.run(
        [sys.executable, "-m", "jupyterlab", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip().startswith("4.")
    prefix = tmp_path / "prefix"  # the kernel registered as make registers it, here in a temp prefix
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", KERNEL_NAME],
        capture_output=True,
        check=True,
    )
    env = {
        **os.environ,
        "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    port, token = _free_port(), "rfd-audit-test"
    server = subprocess.Popen(
        [
            *[sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT / 'notebooks'}"],
            *["--no-browser", "--allow-root", f"--port={port}", "--ServerApp.port_retries=0"],
            f"--IdentityProvider.token={token}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def get(path: str) -> dict:
            url = f"http://127.0.0.1:{port}{path}?token={token}"
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer)

        deadline = time.monotonic() + 60
        while True:
            try:
                contents = get("/api/contents")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(0.3)
        names = {item["name"] for item in contents["content"]}
        assert {"provider_audit.ipynb", "summary.ipynb"} <= names
        spec = get("/api/kernelspecs")["kernelspecs"][KERNEL_NAME]["spec"]
        assert os.path.realpath(spec["argv"][0]) == os.path.realpath(sys.executable)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_readme_carries_no_development_history_and_names_the_guidance_publicly():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "development workspace" not in readme
    history = re.findall(r"(?i)\b(?:next|previous|last|this|later|earlier) issue\b|\bissue \d+", readme)
    assert history == []
    # The guidance by its public title and publisher.
    assert "*Lumbar radiofrequency facet joint denervation*" in readme
    assert "NHS England" in readme and "Evidence-Based Interventions programme" in readme
    assert "Best Practice Guidance" in readme


def test_the_readme_says_what_a_run_prints():
    """What `rfd-audit run` prints per file (tests/integration/test_cli.py checks it does)."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "A run prints, for each extract file, the column profile used" in readme
    assert "rows read = accepted + quarantined" in readme


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
