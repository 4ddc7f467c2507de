"""A database source is only ever read: no query can change it, and a query file must exist.

Each database is made here with the database's own package (sqlite3, duckdb), holding one table
``apcs`` of three made-up rows. A query that would write, or more than one statement, is refused
with one line before anything runs, and the table is the same afterwards; SQLite and DuckDB files
are also opened read-only, so even SQL the check cannot read cannot write.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rfd_lib.errors import ExtractError
from rfd_lib.extracts.sources import read_database, shown_url

ROWS = [("1", "ZA1"), ("2", "ZA1"), ("3", "ZB2")]


def make_sqlite(path: Path) -> str:
    """Create ``apcs`` in a SQLite file with sqlite3 and return the file's URL."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE apcs (APCS_Ident TEXT, Der_Provider_Code TEXT)")
        connection.executemany("INSERT INTO apcs VALUES (?, ?)", ROWS)
    connection.close()
    return f"sqlite:///{path}"


def sqlite_rows(path: Path) -> list[tuple[str, str]]:
    """Return the rows of ``apcs`` as sqlite3 reads them."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT * FROM apcs ORDER BY APCS_Ident").fetchall()
    finally:
        connection.close()


WRITES = [
    ("drop", "DROP TABLE apcs", "found DROP"),
    ("delete", "DELETE FROM apcs", "found DELETE"),
    ("insert", "INSERT INTO apcs VALUES ('4', 'ZC3')", "found INSERT"),
    ("update", "UPDATE apcs SET Der_Provider_Code = 'ZZ9'", "found UPDATE"),
    ("two statements", "SELECT * FROM apcs; DROP TABLE apcs", "holds 2 statements, not one"),
    ("select into", "SELECT * INTO copy_of_apcs FROM apcs", "found INTO"),
    ("writing with", "WITH gone AS (DELETE FROM apcs RETURNING *) SELECT * FROM gone", "found DELETE"),
    ("pragma", "PRAGMA journal_mode = DELETE", "found PRAGMA"),
    ("attach", "ATTACH DATABASE 'other.db' AS other", "not a SELECT that only reads"),
]


@pytest.mark.parametrize(("case", "query", "words"), WRITES, ids=[row[0] for row in WRITES])
def test_a_query_that_would_change_a_sqlite_source_is_refused(tmp_path, case, query, words):
    url = make_sqlite(tmp_path / "apcs.db")
    with pytest.raises(ExtractError) as caught:
        read_database(url, query)
    message = str(caught.value)
    assert "\n" not in message and words in message, message
    assert "HINT: the query must be one SELECT" in message
    assert sqlite_rows(tmp_path / "apcs.db") == ROWS
    assert sorted(path.name for path in tmp_path.iterdir()) == ["apcs.db"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM apcs ORDER BY APCS_Ident",
        "WITH a AS (SELECT * FROM apcs) SELECT * FROM a ORDER BY APCS_Ident;",
        "SELECT * FROM apcs WHERE APCS_Ident < '3' UNION ALL SELECT * FROM apcs WHERE APCS_Ident = '3'",
    ],
    ids=["select", "with", "union"],
)
def test_a_select_still_reads_the_rows(tmp_path, query):
    url = make_sqlite(tmp_path / "apcs.db")
    table = read_database(url, query).table
    assert table.column_names == ["APCS_Ident", "Der_Provider_Code"]
    assert sorted(zip(*table.to_pydict().values(), strict=True)) == ROWS


def test_sqlite_is_opened_read_only_even_for_sql_the_check_cannot_parse(tmp_path, monkeypatch):
    url = make_sqlite(tmp_path / "apcs.db")
    monkeypatch.setattr("rfd_lib.extracts.sources._check_reads_only", lambda *args: None)
    with pytest.raises(ExtractError, match="readonly database") as caught:
        read_database(url, "DROP TABLE apcs")
    assert "\n" not in str(caught.value)
    assert sqlite_rows(tmp_path / "apcs.db") == ROWS


def test_a_sqlite_file_whose_name_needs_escaping_is_read(tmp_path):
    path = tmp_path / "spells 100% #1.db"
    url = make_sqlite(path)
    assert read_database(url, "SELECT * FROM apcs").table.num_rows == 3


def test_duckdb_is_opened_read_only(tmp_path, monkeypatch):
    duckdb = pytest.importorskip("duckdb")
    pytest.importorskip("duckdb_engine")
    path = tmp_path / "apcs.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE apcs (APCS_Ident VARCHAR, Der_Provider_Code VARCHAR)")
    connection.executemany("INSERT INTO apcs VALUES (?, ?)", ROWS)
    connection.close()
    url = f"duckdb:///{path}"
    with pytest.raises(ExtractError, match="found DROP"):
        read_database(url, "DROP TABLE apcs")
    monkeypatch.setattr("rfd_lib.extracts.sources._check_reads_only", lambda *args: None)
    with pytest.raises(ExtractError, match="the query failed") as caught:
        read_database(url, "DROP TABLE apcs")
    assert "read-only" in str(caught.value).lower()
    assert read_database(url, "SELECT * FROM apcs").table.num_rows == 3


def test_sql_server_sql_the_check_cannot_parse_is_refused():
    # Refused before any connection is tried: no server or driver is needed.
    with pytest.raises(ExtractError, match="cannot be checked as a single SELECT"):
        read_database("mssql+pyodbc://user:secret@server/db?driver=x", "SELECT * FROM x WHERE (")


# ---- query files ------------------------------------------------------------------------------


def test_a_query_file_that_does_not_exist_is_refused_naming_it(tmp_path):
    url = make_sqlite(tmp_path / "apcs.db")
    missing = tmp_path / "missing.sql"
    with pytest.raises(ExtractError) as caught:
        read_database(url, str(missing))
    assert str(caught.value).startswith(f"{missing}: no such query file")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda folder: folder.joinpath("folder.sql").mkdir() or folder / "folder.sql", "cannot read"),
        (
            lambda folder: (
                folder.joinpath("latin1.sql").write_bytes(b"SELECT '\xe9'") and folder / "latin1.sql"
            ),
            "not UTF-8",
        ),
        (
            lambda folder: folder.joinpath("empty.sql").write_text("-- nothing\n") and folder / "empty.sql",
            "holds 0 statements",
        ),
        (lambda folder: Path("x" * 300 + ".sql"), "cannot read the query file"),
    ],
    ids=["a-folder", "not-utf8", "no-statement", "name-too-long"],
)
def test_a_query_file_that_cannot_be_used_is_one_line(tmp_path, make, words):
    url = make_sqlite(tmp_path / "apcs.db")
    with pytest.raises(ExtractError) as caught:
        read_database(url, str(make(tmp_path)))
    message = str(caught.value)
    assert "\n" not in message and words in message and len(message) < 400, message


def test_a_query_file_is_read_and_checked(tmp_path):
    url = make_sqlite(tmp_path / "apcs.db")
    good, bad = tmp_path / "good.sql", tmp_path / "bad.sql"
    good.write_text("SELECT *\nFROM apcs\n", encoding="utf-8")
    bad.write_text("DELETE FROM apcs\n", encoding="utf-8")
    assert read_database(url, str(good)).table.num_rows == 3
    with pytest.raises(ExtractError, match=rf"^{bad}: the query is not a SELECT"):
        read_database(url, str(bad))
    assert sqlite_rows(tmp_path / "apcs.db") == ROWS


# ---- showing a URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://analyst:s3cret@db/ncdr", "postgresql://analyst:***@db/ncdr"),
        ("postgresql://analyst@db/ncdr?password=s3cret", "postgresql://analyst@db/ncdr?…"),
        ("postgresql://analyst:s3cret@db:port/ncdr", "(a database URL that cannot be read)"),
        ("sqlite:///spells.db", "sqlite:///spells.db"),
    ],
)
def test_shown_url_hides_every_secret(url, shown):
    assert shown_url(url) == shown
