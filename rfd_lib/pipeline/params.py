"""An audit run's parameter file (``params/*.yaml``), checked before anything runs.

One YAML file per run says which quarter is audited, where the extracts come from, which rule,
populations, expectations and code lists apply, the disclosure mode and where the reports go.
:func:`load_params` returns it as :class:`RunParams` or raises :class:`ParamsError`: one line
naming the file and the key at fault (an unknown key with the closest known one, a wrong type, a
file that does not exist). Whether the quarter and providers are in the data is checked once the
extracts are read (:func:`rfd_lib.pipeline.runner.run_audit`).

Relative paths are relative to the folder of the parameter file. Values stay as YAML gives them:
a quarter is a string such as ``"2026/27 Q2"`` and is parsed by :mod:`rfd_lib.metrics.periods`, never by
the YAML reader; an unquoted code such as ``01`` is refused, not turned into the number 1.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rfd_lib import config
from rfd_lib.engine.rule_file import names_a_file
from rfd_lib.errors import RfdAuditError
from rfd_lib.report.marking import checked_marking
from rfd_lib.yaml_model import location, quoted, read_yaml, shortened

QUARTER_PATTERN = r"^[0-9]{4}/[0-9]{2} Q[1-4]$"
# A Spark path with a scheme (dbfs:/, s3a://, abfss://) is not a file beside the parameter file;
# two letters at least, so that a Windows drive (C:) is still a local path.
_SECRET_OPTION = re.compile(r"(?i)password|secret|token|key|credential|sas")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class ParamsError(RfdAuditError):
    """A parameter file cannot be used: unreadable, an unknown key, a wrong type, a missing file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Database(_Strict):
    """A SQLAlchemy URL and the query (SQL text, or a ``.sql`` file) that returns the spells."""

    url: str
    query: str


class Spark(_Strict):
    """A Spark source: a table, or a path read in ``format`` with ``options``; the session's master.

    ``master`` None uses the active session (Databricks), else a local one on ``local[2]``
    (:func:`rfd_lib.spark.session`). A CSV is read with every column as text (no schema inference).
    """

    table: str | None = None
    path: str | None = None
    format: str = "parquet"
    options: dict[str, str] = Field(default_factory=dict)
    master: str | None = None

    @model_validator(mode="after")
    def _table_or_path(self) -> Spark:
        if (self.table is None) == (self.path is None):
            raise ValueError("give exactly one of table: or path:")
        if self.table is not None and (self.options or "format" in self.model_fields_set):
            raise ValueError("format: and options: are for a path: a table is read as Spark has it")
        return self

    @property
    def shown(self) -> str:
        """Return the source as the run names it: ``spark table <name>`` or the path."""
        return f"spark table {self.table}" if self.table is not None else str(self.path)


class Extracts(_Strict):
    """Where the spells come from: the synthetic set, files and folders, a database or a Spark source."""

    synthetic: bool = False
    files: list[str] = Field(default_factory=list)
    database: Database | None = None
    spark: Spark | None = None
    profile: str | None = None  # a profile name or YAML file; None detects it from each header
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    # Two files sharing spell identifiers stop the run (the same extract given twice would count
    # its RFDs twice); true reads them anyway and reports the shared ones as a finding.
    allow_duplicate_spells: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Extracts:
        given = [
            name
            for name, on in (
                ("synthetic", self.synthetic),
                ("files", self.files),
                ("database", self.database),
                ("spark", self.spark),
            )
            if on
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of synthetic: true, files: [...], database: {url, query} or "
                "spark: {table or path}" + (f" (found {', '.join(given)})" if given else "")
            )
        return self


class RunParams(_Strict):
    """One audit run, as its parameter file states it (see ``params/demo.yaml``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    quarter: str | None = Field(None, pattern=QUARTER_PATTERN)
    extracts: Extracts
    rule: str = "2K_RFD_back"
    populations: str | None = None
    expectations: str | None = None
    code_lists: str | None = None
    disclosure: Literal["circulation", "internal"] = "circulation"
    providers: list[str] = Field(default_factory=list)
    output: str | None = None
    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"], min_length=1)
    chromium: str | None = None
    jobs: int = Field(2, ge=1, le=64)
    # Printed at the top and bottom of every page and PDF page (e.g. "OFFICIAL-SENSITIVE"); none if left out.
    protective_marking: str | None = None
    source: Path | None = Field(None, exclude=True)  # the parameter file itself, set by load_params

    @field_validator("providers", "formats")
    @classmethod
    def _each_once(cls, values: list[str]) -> list[str]:
        # Two tasks for one provider or format would race to write the same report file.
        seen: set[str] = set()
        for value in values:
            if fold_code(value) in seen:
                raise ValueError(f"{quoted(value)} is given more than once")
            seen.add(fold_code(value))
        return values

    @field_validator("protective_marking")
    @classmethod
    def _one_short_line(cls, value: str | None) -> str | None:
        return None if value is None else checked_marking(value)

    def path(self, value: str | os.PathLike[str]) -> Path:
        """Return ``value`` as a path, relative ones taken from the parameter file's folder."""
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # "~user/…" naming no user: left as written, so it is reported missing
            path = Path(value)
        if path.is_absolute() or self.source is None:
            return path
        return self.source.parent / path

    @property
    def output_dir(self) -> Path:
        """Return the run's output folder (default: ``reports/<name>``)."""
        return self.path(self.output) if self.output else config.REPORTS_DIR / self.name

    def for_record(self) -> dict[str, object]:
        """Return the parameters as a JSON-safe dict to save, any database URL's secrets masked.

        The URL is shown as on screen: password and every query parameter hidden (see
        :func:`rfd_lib.extracts.sources.shown_url`).
        """
        from rfd_lib.extracts.sources import shown_url  # pyarrow is not needed to check parameters

        record = self.model_dump(mode="json")
        if self.extracts.database is not None:
            record["extracts"]["database"]["url"] = shown_url(self.extracts.database.url)
        if self.extracts.spark is not None:
            # A reader option may carry a storage key or password (e.g. a JDBC source's): never saved.
            options = record["extracts"]["spark"]["options"]
            for key in options:
                if _SECRET_OPTION.search(key):
                    options[key] = "***"
        return record


def fold_code(code: str) -> str:
    """Return a provider code as the extracts' codes are read: blanks trimmed, upper case.

    SQL Server ignores trailing blanks and case; a leading blank is a typing slip. The same rule
    for a column of codes is :func:`rfd_lib.extracts.validate.fold_codes`.
    """
    return code.strip().upper()


def load_params(path: str | os.PathLike[str], **overrides: object) -> RunParams:
    """Return the run parameters in the YAML file at ``path``, checked; ``overrides`` replace keys.

    Raises :class:`ParamsError` (one line naming the file and key) when the file cannot be read or
    parsed, a key is unknown or of the wrong type, or a file it names does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such parameter file", hint="see params/demo.yaml for an example")
    data = read_yaml(path, ParamsError, "the parameter")
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected keys and values (a YAML mapping) at the top level")
    data = {**data, **{key: value for key, value in overrides.items() if value is not None}}
    try:
        params = RunParams.model_validate({**data, "source": path.resolve()})
    except ValidationError as error:
        raise ParamsError(f"{path}: {_first_problem(error)}", hint=_hint(error)) from None
    params = resolve_paths(params)
    _require_files(params, path)
    return params


def resolve_paths(params: RunParams) -> RunParams:
    """Return ``params`` with every file it names as a path from the parameter file's folder.

    :func:`load_params` does it once; the rest of the run takes the values as they are. Paths
    already absolute are kept, so doing it again changes nothing.
    """
    from rfd_lib.extracts.sources import is_query_file  # pyarrow is not needed to check parameters

    def resolved(value: str) -> str:
        return str(params.path(value.strip()))

    extracts, database = params.extracts, params.extracts.database
    within: dict[str, object] = {"files": [resolved(file) for file in extracts.files]}
    if database is not None and is_query_file(database.query):
        within["database"] = database.model_copy(update={"query": resolved(database.query)})
    spark = extracts.spark
    if spark is not None and spark.path is not None and not _URI_SCHEME.match(spark.path):
        within["spark"] = spark.model_copy(update={"path": resolved(spark.path)})
    update: dict[str, object] = {"extracts": extracts.model_copy(update=within)}
    for key in ("populations", "expectations", "code_lists", "chromium", "output"):
        if getattr(params, key):
            update[key] = resolved(getattr(params, key))
    if names_a_file(params.rule):
        update["rule"] = resolved(params.rule)
    return params.model_copy(update=update)


def _first_problem(error: ValidationError) -> str:
    """Return the first validation problem as "key: what is wrong", in words an analyst reads."""
    problem = error.errors()[0]
    where = location(problem["loc"])
    if problem["type"] == "extra_forbidden":
        known = _known_keys(problem["loc"][:-1])
        close = difflib.get_close_matches(str(problem["loc"][-1])[:100], known, n=1)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {where!r}{suggestion}; known keys: {', '.join(known)}"
    if problem["type"] == "missing":
        return f"key {where!r} is required"
    if problem["type"] == "string_pattern_mismatch" and problem["loc"][-1] == "quarter":
        return f"{where}: {quoted(problem['input'])} is not a financial quarter such as '2026/27 Q2'"
    message = problem["msg"].removeprefix("Value error, ")
    if "input" in problem and problem["type"] != "value_error":
        return f"{where}: {message} (got {quoted(problem['input'])})"
    return f"{where}: {message}"


def _hint(error: ValidationError) -> str | None:
    problem = error.errors()[0]
    if problem["type"] == "string_type" and not isinstance(problem.get("input"), dict | list):
        return "quote the value in the YAML file (e.g. '01' or \"2026/27 Q2\") so it stays text"
    count = error.error_count()
    return f"{count - 1} more problem(s) in the same file" if count > 1 else None


def _known_keys(location: tuple) -> list[str]:
    model: type[BaseModel] = RunParams
    for part in location:
        annotation = model.model_fields[str(part)].annotation
        model = next(arg for arg in getattr(annotation, "__args__", (annotation,)) if isinstance(arg, type))
    return [name for name in model.model_fields if name != "source"]


def _require_files(params: RunParams, path: Path) -> None:
    """Raise :class:`ParamsError` for the first file the parameters name that does not exist."""
    from rfd_lib.extracts.sources import is_query_file

    named = [(f"extracts.files[{i}]", file) for i, file in enumerate(params.extracts.files)]
    named += [(key, getattr(params, key)) for key in ("populations", "expectations", "code_lists")]
    if params.chromium:
        named.append(("chromium", params.chromium))
    if names_a_file(params.rule):
        named.append(("rule", params.rule))
    database = params.extracts.database
    if database is not None and is_query_file(database.query):
        named.append(("extracts.database.query", database.query))
    for key, value in named:
        if value is not None and not _exists(Path(value)):
            raise ParamsError(
                f"{path}: {key}: {shortened(value)} does not exist",
                hint="relative paths are taken from the parameter file's folder",
            )


def _exists(path: Path) -> bool:
    """Return whether ``path`` exists; a name too long or holding a NUL byte cannot."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
