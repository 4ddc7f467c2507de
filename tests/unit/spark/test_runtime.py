"""rfd_lib.spark without Spark: importable without pyspark, and one line saying what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec

import pytest

import rfd_lib.spark
from rfd_lib import RfdAuditError
from rfd_lib.engine.prefilter import Prefilter
from rfd_lib.spark.classification import _rfd_error
from rfd_lib.spark.runtime import column_reference


def test_without_pyspark_each_function_fails_in_one_line_saying_how_to_install_it(monkeypatch):
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what `import pyspark` sees when it is not installed
    for call in (lambda: rfd_lib.spark.session(), lambda: rfd_lib.spark.classify(None)):
        with pytest.raises(RfdAuditError) as raised:
            call()
        assert (
            str(raised.value)
            == 'rfd_lib.spark needs pyspark, which is not installed HINT: pip install "rfd-audit[spark]"'
        )
    with pytest.raises(RfdAuditError, match="needs pyspark"):
        rfd_lib.spark.prefilter(None, Prefilter(keep_all=True, why="test"))


NO_JAVA = """
import rfd_lib.spark
from rfd_lib import RfdAuditError
try:
    rfd_lib.spark.session()
except RfdAuditError as error:
    print(error)
"""


@pytest.mark.skipif(find_spec("pyspark") is None, reason="pyspark is not installed")
def test_without_java_a_local_session_is_refused_in_one_line(tmp_path):
    # A fresh interpreter: in this one another test's Spark session may be running already, and
    # an active session is used as it is (Databricks), whatever Java there is.
    env = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # a folder without java
    done = subprocess.run(
        [sys.executable, "-c", NO_JAVA], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert "needs a Java runtime" in done.stdout
    assert "default-jre-headless" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1


def test_a_worker_s_rfd_lib_error_is_rebuilt_from_spark_s_traceback_and_nothing_else_is():
    traceback = (
        "An exception was thrown from the Python worker:\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "rfd_lib.errors.DataError: Spark partition 0, Arrow batch 2: rule line 7: row 3 of the spells holds text"
        " HINT: correct the extract\n SQLSTATE: 38000"
    )
    error = _rfd_error(traceback)
    assert type(error).__name__ == "DataError"
    assert error.message == "Spark partition 0, Arrow batch 2: rule line 7: row 3 of the spells holds text"
    assert error.hint == "correct the extract"
    assert _rfd_error("Traceback ...\nValueError: boom") is None
    assert _rfd_error("rfd_lib.errors.Exception: not one of ours") is None


def test_a_column_name_is_quoted_for_spark():
    assert column_reference("a.b") == "`a.b`"
    assert column_reference("odd`name") == "`odd``name`"
