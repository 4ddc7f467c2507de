"""Open an extract wherever it is: a CSV, Parquet or Excel file, a folder of them, or a database.

Each reader returns a :class:`~rfd_lib.extracts.csv_source.RawTable`: the columns as the source names
them, the row number of each row as the analyst would find it, and any rows that could not be
split into fields. Text sources give text columns; Parquet and databases give their own types,
which :mod:`rfd_lib.extracts.validate` converts (a code stored as a number is caught there).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rfd_lib.errors import ExtractError
from rfd_lib.extracts.csv_source import (
    CsvHead,
    RawTable,
    check_header,
    concat_raw,
    iter_csv,
    name_blanks,
    read_csv,
    read_head,
)

if TYPE_CHECKING:
    import sqlalchemy

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".psv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
OUR_FILES = (".quarantine.csv", ".findings.csv")
# Rows read at a time; a CSV is cut in runs of about this many rows of this many bytes.
BATCH_ROWS = 200_000
CSV_BYTES_PER_ROW = 128
# sqlglot's name for the SQL of each SQLAlchemy backend; others are read as generic SQL.
SQLGLOT_DIALECTS = {
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "postgresql": "postgres",
    "mssql": "tsql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
}
# Backends whose connection itself refuses writes (read_database opens them so).
ENFORCED_READ_ONLY = ("sqlite", "duckdb", "postgresql")
# Excel's lock file while a workbook is open, and macOS's resource forks on shared drives.
NOT_EXTRACTS = ("~$", "._")
NO_REJECTS = pa.table(
    {
        "source_row": pa.array([], pa.int64()),
        "reason": pa.array([], pa.large_string()),
        "text": pa.array([], pa.large_string()),
    }
)


def is_database_url(source: str | os.PathLike[str]) -> bool:
    """Return whether ``source`` is a SQLAlchemy database URL rather than a path."""
    return isinstance(source, str) and "://" in source


def expand_sources(
    sources: Iterable[str | os.PathLike[str]],
    *,
    skip: Iterable[str | os.PathLike[str]] = (),
    notes: list[str] | None = None,
) -> list[str | Path]:
    """Return the extracts ``sources`` name: files as given, folders as the extracts inside them.

    ``skip`` names files that are never extracts (the output being written, say): a folder's are
    passed over, and one named on its own is refused. A populations file in a folder (the
    README suggests keeping it beside the extracts) is passed over too. What was passed over is
    appended to ``notes``. Raises ExtractError for a link that leads nowhere or round in a loop.
    """
    skipped = {_resolved(Path(path)) for path in skip}
    expanded: list[str | Path] = []
    for source in sources:
        if is_database_url(source):
            expanded.append(str(source))
            continue
        path = Path(source)
        if path.is_dir():
            inside = _extracts_in(path, skipped, notes if notes is not None else [])
            if not inside:
                raise ExtractError(f"{path}: the folder holds no CSV, Parquet or Excel extract")
            expanded += inside
        elif path.is_file():
            if _resolved(path) in skipped:
                raise ExtractError(
                    f"{path}: is the output being written, so it cannot be read as an extract too",
                    hint="write the output to another file (-o)",
                )
            expanded.append(path)
        else:
            raise ExtractError(f"{path}: no such file or folder")
    seen: dict[str, str | Path] = {}
    for item in expanded:
        key = str(item) if isinstance(item, str) else _resolved(item)
        if key in seen:
            raise ExtractError(f"{item}: given twice (its spells would be counted twice)")
        seen[key] = item
    return expanded


def _extracts_in(folder: Path, skipped: set[str], notes: list[str]) -> list[Path]:
    """Return the extracts in ``folder``, noting the output and populations files passed over."""
    # Files rfd-audit wrote beside an earlier output, or other programs keep beside an
    # extract, and folders named like one are not extracts.
    named = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in TEXT_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES
        and not p.name.endswith(OUR_FILES)
        and not p.name.startswith(NOT_EXTRACTS)
    )
    inside = []
    for path in named:
        if not path.exists():
            raise ExtractError(
                f"{path}: a link that leads nowhere (or round in a loop of links)",
                hint="remove the link from the folder, or point it at the extract",
            )
        if path.is_dir():
            continue
        if _resolved(path) in skipped:
            notes.append(f"{path}: not read as an extract (it is this command's output)")
        elif _is_populations(path):
            notes.append(f"{path}: not read as an extract (it is a populations file)")
        else:
            inside.append(path)
    return inside


def _resolved(path: Path) -> str:
    """Return ``path`` made absolute with links followed (raises ExtractError for a loop)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        raise ExtractError(f"{path}: a link that leads round in a loop of links") from None


def _is_populations(path: Path) -> bool:
    """Return whether the text file at ``path`` has the populations file's header, not spells."""
    from rfd_lib.extracts.populations import POPULATION_COLUMNS

    if path.suffix.lower() not in TEXT_SUFFIXES:
        return False
    try:
        header = {name.casefold() for name in read_head(path).header}
    except ExtractError:
        return False  # it is read, and refused, as an extract
    return set(POPULATION_COLUMNS) <= header


def header_of(
    source: str | Path, *, delimiter: str | None, encoding: str | None, sheet: str | None, query: str | None
) -> tuple[list[str], CsvHead | None]:
    """Return the column names of ``source`` (without reading its rows where the format allows)."""
    if is_database_url(source):
        return [], None  # a query's columns are known only once it runs
    path = Path(source)
    suffix = _suffix(path)
    if suffix in PARQUET_SUFFIXES:
        try:
            names = [name.strip() for name in pq.read_schema(path).names]
        except (pa.ArrowInvalid, OSError) as error:
            raise ExtractError(f"{path}: not a readable Parquet file ({_first_line(error)})") from None
        check_header(path, names)
        return names, None
    if suffix in EXCEL_SUFFIXES:
        return [], None
    head = read_head(path, delimiter=delimiter, encoding=encoding)
    return head.header, head


def read_source(
    source: str | Path,
    *,
    head: CsvHead | None,
    null_values: tuple[str, ...],
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    query: str | None = None,
) -> RawTable:
    """Return every row of ``source`` (raises ExtractError with a one-line reason)."""
    if is_database_url(source):
        return read_database(str(source), query)
    path = Path(source)
    suffix = _suffix(path)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path)
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, sheet)
    return read_csv(path, head or read_head(path, delimiter=delimiter, encoding=encoding), null_values)


def iter_source(
    source: str | Path,
    *,
    head: CsvHead | None,
    null_values: tuple[str, ...],
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    query: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[RawTable]:
    """Yield the rows of ``source`` a batch at a time, numbered as :func:`read_source` numbers them.

    A CSV comes in runs of whole rows (:func:`~rfd_lib.extracts.csv_source.iter_csv`), a Parquet
    file in its row batches, a database query in ``fetchmany`` batches of ``batch_rows``; a
    worksheet is read whole (Excel holds at most 1,048,576 rows) and handed on in slices. The
    first batch is yielded even when it is empty, so a source with a header and no rows is seen.
    Raises ExtractError with a one-line reason.
    """
    if is_database_url(source):
        yield from _database_batches(str(source), query, batch_rows)
        return
    path = Path(source)
    suffix = _suffix(path)
    if suffix in PARQUET_SUFFIXES:
        yield from _parquet_batches(path, batch_rows)
    elif suffix in EXCEL_SUFFIXES:
        yield from slices(read_excel(path, sheet), batch_rows)
    else:
        head = head or read_head(path, delimiter=delimiter, encoding=encoding)
        yield from iter_csv(path, head, null_values, chunk_bytes=max(batch_rows, 1) * CSV_BYTES_PER_ROW)


def slices(raw: RawTable, batch_rows: int) -> Iterator[RawTable]:
    """Yield ``raw`` in slices of ``batch_rows`` rows (its rejected rows with the first)."""
    step = max(batch_rows, 1)
    for start in range(0, max(raw.table.num_rows, 1), step):
        rejected = raw.rejected if start == 0 else raw.rejected.slice(0, 0)
        yield RawTable(
            raw.source, raw.table.slice(start, step), raw.rows[start : start + step], rejected, raw.notes
        )


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[RawTable]:
    try:
        handle = pq.ParquetFile(path)
        names = [name.strip() for name in handle.schema_arrow.names]
        check_header(path, names)
        first = 1
        batches = handle.iter_batches(batch_size=max(batch_rows, 1))
        for batch in itertools.chain(batches, [None] if handle.metadata.num_rows == 0 else []):
            table = (
                handle.schema_arrow.empty_table() if batch is None else pa.Table.from_batches([batch])
            ).rename_columns(names)
            rows = np.arange(first, first + table.num_rows, dtype=np.int64)
            first += table.num_rows
            yield RawTable(str(path), flat_values(table, path), rows, NO_REJECTS)
    except (pa.ArrowInvalid, OSError) as error:
        raise ExtractError(f"{path}: not a readable Parquet file ({_first_line(error)})") from None


def _suffix(path: Path) -> str:
    """Return the lower-case suffix of an extract rfd-audit can read (raises ExtractError)."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ExtractError(f"{path}: old-style .xls workbooks are not read", hint="save it as .xlsx or CSV")
    if suffix not in TEXT_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES:
        raise ExtractError(
            f"{path}: unknown kind of extract {suffix or '(no suffix)'!r}",
            hint="rfd-audit reads .csv/.txt/.tsv, .parquet, .xlsx and database URLs",
        )
    return suffix


def read_parquet(path: Path) -> RawTable:
    """Return the rows of a Parquet file, typed as stored; rows numbered from 1."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise ExtractError(f"{path}: not a readable Parquet file ({_first_line(error)})") from None
    table = table.rename_columns([name.strip() for name in table.column_names])
    check_header(path, table.column_names)
    return RawTable(
        str(path), flat_values(table, path), np.arange(1, table.num_rows + 1, dtype=np.int64), NO_REJECTS
    )


def read_excel(path: Path, sheet: str | None) -> RawTable:
    """Return the rows of one worksheet as text; rows numbered as Excel numbers them (header = 1).

    Excel cannot tell an empty cell from an empty string, so both are NULL. A number in a cell is
    written as text without a trailing '.0'; :mod:`rfd_lib.extracts.validate` catches a code that has lost
    its leading zero on the way.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as error:
        raise ExtractError(f"{path}: not a readable .xlsx workbook ({_first_line(error)})") from None
    names = book.sheet_names
    if sheet is None:
        if len(names) != 1:
            raise ExtractError(
                f"{path}: the workbook has {len(names)} sheets ({', '.join(names)})",
                hint="choose the sheet that holds the spells (--sheet NAME)",
            )
        sheet = names[0]
    elif sheet not in names:
        raise ExtractError(f"{path}: no sheet called {sheet!r}; the sheets are {', '.join(names)}")
    cells = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if not any(str(value).strip() for row in cells for value in row):
        raise ExtractError(f"{path}: sheet {sheet!r} is empty")
    if not any(str(value).strip() for value in cells[0]):
        raise ExtractError(
            f"{path}: row 1 of sheet {sheet!r} is blank where the header should be",
            hint="delete the rows above the header",
        )
    header = name_blanks([str(value).strip() for value in cells[0]])
    check_header(f"{path}[{sheet}]", header)
    body = cells[1:]
    # Excel leaves trailing rows that only ever held formatting: they are not spells.
    while body and all(value == "" for value in body[-1]):
        body.pop()
    columns = list(zip(*body, strict=True)) if body else [() for _ in header]
    table = pa.table({name: _excel_text(values) for name, values in zip(header, columns, strict=True)})
    return RawTable(f"{path}[{sheet}]", table, np.arange(2, len(body) + 2, dtype=np.int64), NO_REJECTS)


def _excel_text(values: tuple[object, ...]) -> pa.Array:
    """Return one worksheet column as text: numbers without '.0', dates as ISO, empty as NULL."""

    def text(value: object) -> str | None:
        if value == "" or value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime):
            return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)

    # One conversion per cell is unavoidable here: the workbook reader hands over Python objects.
    return pa.array([text(value) for value in values], pa.large_string())


def _database_batches(url: str, query: str | None, batch_rows: int) -> Iterator[RawTable]:
    """Yield the rows of ``query`` run through the SQLAlchemy ``url``, ``batch_rows`` at a time.

    The source is never changed: the query must be one statement that only reads (checked with
    sqlglot), SQLite and DuckDB files are opened read-only, PostgreSQL runs it in a read-only
    transaction, and every transaction is rolled back, never committed.
    """
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        # ValueError is a port that is not a number; the URL is never repeated (it may hold a password).
        raise ExtractError(
            "the database URL cannot be read", hint="e.g. sqlite:///spells.db or duckdb:///spells.duckdb"
        ) from None
    if parsed.host and "@" in parsed.host:
        raise ExtractError(
            "the database URL has more than one '@' before its host",
            hint="write an '@' inside the user's secret as %40",
        )
    shown = _shown(parsed)
    if not query:
        raise ExtractError(f"{shown}: a database needs a query (--query 'SELECT … FROM …')")
    backend = parsed.get_backend_name()
    local_file = backend in ("sqlite", "duckdb") and parsed.database not in (None, "", ":memory:")
    if local_file and not Path(parsed.database).is_file():
        raise ExtractError(f"{shown}: database file {parsed.database} does not exist")
    sql, where = query_text(query, shown)
    _check_reads_only(sql, where, backend)
    try:
        engine = _read_only_engine(parsed, local_file)
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ImportError) as error:
        raise ExtractError(f"{shown}: cannot open the database ({_first_line(error)})") from None
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(sql))
            names = [name.strip() for name in result.keys()]  # noqa: SIM118 (a Result is not a dict)
            check_header(shown, names)
            first = 1
            while True:
                rows = result.fetchmany(max(batch_rows, 1))
                if rows or first == 1:
                    yield _database_rows(shown, names, rows, first)
                first += len(rows)
                if len(rows) < max(batch_rows, 1):
                    break
            connection.rollback()
    except sa.exc.DBAPIError as error:
        raise ExtractError(f"{shown}: the query failed ({_unquoted(_first_line(error.orig))})") from None
    except sa.exc.SQLAlchemyError as error:
        raise ExtractError(f"{shown}: the query failed ({_unquoted(_first_line(error))})") from None
    finally:
        engine.dispose()


def read_database(url: str, query: str | None) -> RawTable:
    """Return the rows of ``query`` run through the SQLAlchemy ``url``, all at once; rows numbered from 1."""
    return concat_raw(list(_database_batches(url, query, BATCH_ROWS)))


def _database_rows(shown: str, names: list[str], rows: list, first: int) -> RawTable:
    """Return fetched rows as a :class:`RawTable`, numbered from ``first``."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = pa.table({name: _database_column(values) for name, values in zip(names, columns, strict=True)})
    return RawTable(
        shown, flat_values(table, shown), np.arange(first, first + len(rows), dtype=np.int64), NO_REJECTS
    )


def is_query_file(query: str) -> bool:
    """Return whether ``query`` names a ``.sql`` file rather than holding SQL text."""
    return query.strip().lower().endswith(".sql")


def query_text(query: str, shown: str) -> tuple[str, str]:
    """Return the SQL of ``query`` and where it came from (a .sql file, or ``shown``, the database)."""
    name = query.strip()
    if not is_query_file(name):
        return query, shown
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8-sig"), str(path)
    except FileNotFoundError:
        raise ExtractError(
            f"{_first_line(name)}: no such query file",
            hint="give the path of an existing .sql file; SQL text ending in '.sql' can end with ';'",
        ) from None
    except UnicodeDecodeError as error:
        raise ExtractError(f"{path}: the query file is not UTF-8 text (byte {error.start + 1})") from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or "not a file name"
        raise ExtractError(f"{_first_line(name)}: cannot read the query file ({reason})") from None


def _check_reads_only(sql: str, where: str, backend: str) -> None:
    """Raise ExtractError unless ``sql`` is a single query that only reads (SELECT or WITH … SELECT).

    sqlglot reads it in the backend's dialect. SQL sqlglot cannot parse is refused only where the
    connection itself does not enforce reading (see :data:`ENFORCED_READ_ONLY`).
    """
    import logging

    import sqlglot
    from sqlglot import exp

    hint = "the query must be one SELECT (or WITH … SELECT) statement; rfd-audit never changes a source"
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)  # its warnings would echo the query
    try:
        statements = [s for s in sqlglot.parse(sql, read=SQLGLOT_DIALECTS.get(backend)) if s is not None]
    except sqlglot.errors.SqlglotError:
        if backend in ENFORCED_READ_ONLY:
            return
        raise ExtractError(f"{where}: the query cannot be checked as a single SELECT", hint=hint) from None
    finally:
        sqlglot_log.setLevel(level)
    if len(statements) != 1:
        raise ExtractError(f"{where}: the query holds {len(statements)} statements, not one", hint=hint)
    [statement] = statements
    # A query may hide a write: SELECT … INTO, a data-modifying WITH, a row lock.
    writing = (exp.Into, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter)
    writes = next(statement.find_all(*writing, exp.Command, exp.Lock), None)
    if not isinstance(statement, exp.Query) or writes is not None:
        found = type(writes if writes is not None else statement).__name__.upper()
        raise ExtractError(f"{where}: the query is not a SELECT that only reads (found {found})", hint=hint)


def _read_only_engine(parsed: sqlalchemy.engine.URL, local_file: bool) -> sqlalchemy.engine.Engine:
    """Return an engine for ``parsed`` that opens the source read-only where the backend can."""
    import sqlalchemy as sa

    backend = parsed.get_backend_name()
    if backend == "sqlite" and local_file:
        # SQLite's own read-only mode, through a file: URI (the path percent-encoded).
        database = "file:" + urllib.parse.quote(str(Path(parsed.database).resolve()))
        return sa.create_engine(
            parsed.set(database=database, query={**parsed.query, "mode": "ro", "uri": "true"})
        )
    if backend == "duckdb" and local_file:
        return sa.create_engine(parsed, connect_args={"read_only": True})
    if backend == "postgresql":
        return sa.create_engine(parsed, execution_options={"postgresql_readonly": True})
    return sa.create_engine(parsed)


def shown_url(url: str) -> str:
    """Return the database ``url`` safe to print or save: password and query parameters hidden."""
    import sqlalchemy as sa

    try:
        return _shown(sa.engine.make_url(url))
    except (sa.exc.ArgumentError, ValueError):
        return "(a database URL that cannot be read)"


def _shown(url: sqlalchemy.engine.URL) -> str:
    """Return ``url`` safe to print: password and every query parameter (which may hold one) hidden."""
    hidden = url.set(query={}).render_as_string(hide_password=True)
    return f"{hidden}?…" if url.query else hidden


def _database_column(values: tuple[object, ...]) -> pa.Array:
    """Return a query column as Arrow, typed by its values; a column of mixed types as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # SQLite columns hold mixed types; text keeps every value as it was (validate checks it).
        return pa.array([None if value is None else str(value) for value in values], pa.large_string())


def flat_values(table: pa.Table, where: str | Path) -> pa.Table:
    """Return ``table`` with bytes as text and NaN as NULL.

    Raises ExtractError for a column that holds lists or records, or bytes that are not UTF-8
    text: neither can be a spell's value.
    """
    columns = []
    for name, values in zip(table.column_names, table.columns, strict=True):
        kind = values.type
        if pa.types.is_nested(kind):
            raise ExtractError(
                f"{where}: column {name} holds lists or records, not one value per row",
                hint="export the column flat: one code, date or number in each cell",
            )
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            try:
                values = pc.cast(pc.cast(values, pa.large_binary()), pa.large_string())
            except pa.ArrowInvalid:
                raise ExtractError(
                    f"{where}: column {name} holds bytes that are not UTF-8 text",
                    hint="export the column as text (VARCHAR / string)",
                ) from None
        if pa.types.is_floating(kind):
            # pandas writes a missing value as NaN: as text it would be the code 'nan'.
            values = pc.if_else(pc.is_nan(values), pa.scalar(None, kind), values)
        columns.append(values)
    return pa.table(columns, names=table.column_names)


def _unquoted(message: str) -> str:
    """Return a database's message with every quoted part hidden: drivers quote the values there."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "'…'", message)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
