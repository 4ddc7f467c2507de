"""pyspark on first use, and the session rfd_lib's Spark functions run in."""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from rfd_lib.errors import RfdAuditError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = 'pip install "rfd-audit[spark]"'
DEFAULT_MASTER = "local[2]"


def pyspark_module(name: str = "pyspark.sql") -> ModuleType:
    """Return the pyspark module ``name``, or raise a one-line error saying how to install pyspark.

    Imported here, on first use, because pyspark is an optional extra: ``import rfd_lib.spark``
    works without it.
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        raise RfdAuditError(
            "rfd_lib.spark needs pyspark, which is not installed", hint=INSTALL_HINT
        ) from None


def session(master: str | None = None) -> SparkSession:
    """Return the active Spark session if there is one (Databricks), else a local one on ``master``.

    ``master`` defaults to ``local[2]``. A session built here has its web UI off and runs its
    Python workers on this interpreter (``sys.executable``), so they have the same pyarrow and
    rfd_lib as the driver. Raises a one-line error where pyspark or a Java runtime is missing.
    """
    sql = pyspark_module("pyspark.sql")
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        return active
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise RfdAuditError(
            "a local Spark session needs a Java runtime, and there is no java on PATH nor JAVA_HOME",
            hint="install Java 17 or 21 (Debian: apt-get install default-jre-headless)",
        )
    # Workers started with another Python lack pyarrow or rfd_lib (ModuleNotFoundError in a task).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    master = master or DEFAULT_MASTER
    builder = (
        sql.SparkSession.builder.master(master)
        .appName("rfd-audit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
    )
    if master.startswith("local"):
        # Spark's default of 200 shuffle partitions is for clusters; one machine wants a few. A
        # local session needs no network: bind to loopback rather than warn about the hostname.
        builder = builder.config("spark.sql.shuffle.partitions", "4")
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    with quiet_pandas_warning():
        spark = builder.getOrCreate()
    # An error in a worker reaches the caller as an exception (rfd_lib's one line, through
    # spark_errors); the JVM's own log of it would print a Java stack trace before that line.
    spark.sparkContext.setLogLevel("FATAL")
    return spark


@contextlib.contextmanager
def quiet_pandas_warning() -> Iterator[None]:
    """Return a context without PySpark's warning that it does not fully support pandas 3.

    rfd_lib's Spark functions exchange Arrow with the workers and never use pandas there.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
        yield


def column_reference(name: str) -> str:
    """Return column ``name`` as Spark reads a reference to it: in backticks, so a dot is part of it."""
    return "`" + name.replace("`", "``") + "`"
