"""The same five SUS+ spells in every form rfd-audit reads give the same canonical spells.

Every fixture is written here, into ``tmp_path``, from ``ROWS`` (five made-up SUS+ spells held
as text): CSV in three encodings and four delimiters, SSMS's text NULL, Parquet, Excel, SQLite and
DuckDB. Each good form must give exactly the spells of the plain UTF-8 CSV, keep codes as text,
account for every row, and number rows as the analyst would find them. The bad forms (codes that
lost their leading zero, a file given twice, a database URL without a query or file, a failing
query, a password) must stop with one line that names the place but no value.
"""

from __future__ import annotations

import codecs
import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from rfd_lib.errors import ExtractError, RfdAuditError
from rfd_lib.extracts.reading import QuarantineWarning, load_extracts, read_extract

# ROWS: five SUS+ spells as an NCDR query gives them: every value text, None for a NULL.
# Spell 5002 is private ('02'); 5002 has no start-of-spell age; 5004 has no primary diagnosis.
COLUMNS = [
    "APCS_Ident",
    "Der_Provider_Code",
    "Der_Pseudo_NHS_Number",
    "Admission_Date",
    "Discharge_Date",
    "Admission_Method",
    "Administrative_Category",
    "Patient_Classification",
    "Age_At_Start_of_Spell_SUS",
    "Der_Age_at_CDS_Activity_Date",
    "Der_Primary_Procedure_Code",
    "Der_Procedure_All",
    "Der_Primary_Diagnosis_Code",
    "Der_Diagnosis_All",
]
ROWS = [
    ["5001", "RXA", "P01", "2025-04-01", "2025-04-01", "11", "01", "2", "54", "54", "V485", "||V485,Z676", "M545", "||M545"],
    ["5002", "RXA", "P02", "2025-04-02", "2025-04-02", "12", "02", "2", None, "38", "V485", "||V485,Z676||X998", "M545", "||M545"],
    ["5003", "RXA", "P03", "2025-04-03", "2025-04-06", "21", "01", "1", "71", "71", "W401", "||W401,Z845", "M170", "||M170,I10X"],
    ["5004", "RXA", "P04", "2025-04-04", "2025-04-04", "11", "01", "2", "45", "45", "A577", "||A577,Z675", None, "||M545"],
    ["5005", "RXA", "P05", "2025-04-05", "2025-04-05", "13", "01", "2", "60", "60", "V487", "||V487", "M549", "||M549"],
]  # fmt: skip
TRACE = ["source", "source_row"]


def spells_frame() -> pd.DataFrame:
    """Return ROWS afresh: a DataFrame of Python strings (object dtype), None for NULL."""
    return pd.DataFrame([list(row) for row in ROWS], columns=COLUMNS, dtype=object)


def python_rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Return the rows of ``frame`` as tuples of Python values, None for a missing one."""
    return [
        tuple(None if pd.isna(value) else value for value in row) for row in frame.itertuples(index=False)
    ]


def write_text(path: Path, frame: pd.DataFrame, **options: object) -> Path:
    """Write ``frame`` with pandas' CSV writer (quoting only where needed) and return ``path``."""
    frame.to_csv(path, index=False, lineterminator="\n", **options)
    return path


def write_xlsx(path: Path, frame: pd.DataFrame, sheet: str = "Spells") -> Path:
    """Write ``frame`` as a one-sheet workbook with openpyxl (None leaves the cell empty)."""
    book = openpyxl.Workbook()
    worksheet = book.active
    worksheet.title = sheet
    worksheet.append(list(frame.columns))
    for row in python_rows(frame):
        worksheet.append(list(row))
    book.save(path)
    return path


def write_sqlite(path: Path, frame: pd.DataFrame, types: dict[str, str] | None = None) -> str:
    """Create table ``spells`` with sqlite3 (TEXT columns unless ``types`` says) and return its URL."""
    declared = ", ".join(f"{name} {(types or {}).get(name, 'TEXT')}" for name in frame.columns)
    with sqlite3.connect(path) as connection:
        connection.execute(f"CREATE TABLE spells ({declared})")
        marks = ", ".join("?" * len(frame.columns))
        connection.executemany(f"INSERT INTO spells VALUES ({marks})", python_rows(frame))
    return f"sqlite:///{path}"


def write_duckdb(path: Path, frame: pd.DataFrame) -> str:
    """Create table ``spells`` (VARCHAR columns) with the duckdb package and return its URL."""
    connection = duckdb.connect(str(path))
    try:
        connection.register("frame", frame)
        connection.execute("CREATE TABLE spells AS SELECT * FROM frame")
        assert {kind for _, kind, *_ in connection.execute("DESCRIBE spells").fetchall()} == {"VARCHAR"}
    finally:
        connection.close()
    return f"duckdb:///{path}"


def canonical(spells: pd.DataFrame) -> pd.DataFrame:
    """Return the spells without where they came from (and without carried-through columns)."""
    return spells.drop(columns=[*TRACE, "Site_Name"], errors="ignore")


def one_line(error: pytest.ExceptionInfo[RfdAuditError]) -> str:
    """Return the error's text, checking it is a single line."""
    text = str(error.value)
    assert "\n" not in text
    return text


@pytest.fixture
def plain_csv(tmp_path: Path) -> Path:
    """The plain UTF-8 CSV, written by pandas: the form every other form is compared with."""
    return write_text(tmp_path / "plain.csv", spells_frame())


@pytest.fixture
def expected(plain_csv: Path) -> pd.DataFrame:
    """The spells read from the plain UTF-8 CSV."""
    return load_extracts([plain_csv]).spells


def test_the_plain_csv_gives_the_spells_as_written(plain_csv):
    extract = load_extracts([plain_csv])
    spells = extract.spells
    assert spells["spell_id"].tolist() == ["5001", "5002", "5003", "5004", "5005"]
    assert spells["Administrative_Category"].tolist() == ["01", "02", "01", "01", "01"]
    assert spells["Admission_Method"].tolist() == ["11", "12", "21", "11", "13"]
    assert spells["Any_Spell_Procedure"].iat[1] == "||V485,Z676||X998"
    assert spells["Age_At_Start_of_Spell_SUS"].isna().tolist() == [False, True, False, False, False]
    assert spells["Primary_Spell_Diagnosis"].isna().tolist() == [False, False, False, True, False]
    assert spells["discharge_date"].iat[2] == pd.Timestamp("2025-04-06")
    assert spells["source_row"].tolist() == [2, 3, 4, 5, 6]  # the header is row 1
    assert extract.reconciliation[
        ["rows_read", "rows_accepted", "rows_quarantined", "spells"]
    ].values.tolist() == [[5, 5, 0, 5]]
    assert extract.findings.empty and extract.quarantine.empty


# Each good form: (name, builder). A builder writes the form into a folder and returns the source,
# the reading options and the row numbers the spells should carry. It also checks that the file
# really is what its name says (a BOM, a cp1252 byte, quoting), so no form passes by accident.
Form = Callable[[Path], tuple[str | Path, dict[str, str], list[int]]]
SPREADSHEET_ROWS = [2, 3, 4, 5, 6]
ONE_BASED = [1, 2, 3, 4, 5]


def utf8_bom(folder: Path):
    """CSV UTF-8 with a byte-order mark, as Excel's 'CSV UTF-8' saves it."""
    path = write_text(folder / "bom.csv", spells_frame(), encoding="utf-8-sig")
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    return path, {}, SPREADSHEET_ROWS


def cp1252(folder: Path):
    """CSV in cp1252 with an extra Ward_Name column holding 'St Mary’s' (’ is byte 0x92)."""
    frame = spells_frame().assign(Ward_Name="St Mary’s")
    path = write_text(folder / "cp1252.csv", frame, encoding="cp1252")
    assert b"St Mary\x92s" in path.read_bytes()
    return path, {}, SPREADSHEET_ROWS


def tab_tsv(folder: Path):
    """Tab-delimited .tsv."""
    return write_text(folder / "tab.tsv", spells_frame(), sep="\t"), {}, SPREADSHEET_ROWS


def tab_txt(folder: Path):
    """Tab-delimited .txt, the delimiter also given explicitly."""
    return write_text(folder / "tab.txt", spells_frame(), sep="\t"), {"delimiter": "\t"}, SPREADSHEET_ROWS


def pipe(folder: Path):
    """Pipe-delimited .csv: every field holding '||' is quoted."""
    path = write_text(folder / "pipe.csv", spells_frame(), sep="|")
    assert '|"||V485,Z676"|' in path.read_text() and '"||M545"' in path.read_text()
    return path, {}, SPREADSHEET_ROWS


def semicolon(folder: Path):
    """Semicolon-delimited .csv, as a European-locale Excel saves it."""
    path = write_text(folder / "semicolon.csv", spells_frame(), sep=";")
    assert path.read_text().splitlines()[0].count(";") == len(COLUMNS) - 1
    return path, {}, SPREADSHEET_ROWS


def ssms(folder: Path):
    """SSMS 'Save Results As' CSV: a NULL is the text NULL, CRLF line ends."""
    path = folder / "ssms.csv"
    spells_frame().to_csv(path, index=False, na_rep="NULL", lineterminator="\r\n")
    assert path.read_text().count(",NULL,") == 2
    return path, {}, SPREADSHEET_ROWS


def parquet(folder: Path):
    """Parquet of string columns, written by pandas."""
    path = folder / "spells.parquet"
    spells_frame().to_parquet(path)
    return path, {}, ONE_BASED


def xlsx(folder: Path):
    """One-sheet .xlsx of text cells, written by openpyxl."""
    return write_xlsx(folder / "spells.xlsx", spells_frame()), {}, SPREADSHEET_ROWS


def xlsx_typed_cells(folder: Path):
    """.xlsx whose dates are date cells and whose ages are number cells, the sheet named."""
    frame = spells_frame()
    for column in ("Admission_Date", "Discharge_Date"):
        frame[column] = [dt.datetime.fromisoformat(value) for value in frame[column]]
    for column in ("Age_At_Start_of_Spell_SUS", "Der_Age_at_CDS_Activity_Date"):
        frame[column] = [None if value is None else int(value) for value in frame[column]]
    return write_xlsx(folder / "typed.xlsx", frame, sheet="Q1"), {"sheet": "Q1"}, SPREADSHEET_ROWS


def sqlite_table(folder: Path):
    """SQLite file made with sqlite3, TEXT columns, read through a query."""
    url = write_sqlite(folder / "spells.db", spells_frame())
    return url, {"query": "SELECT * FROM spells ORDER BY APCS_Ident"}, ONE_BASED


def sqlite_query_file(folder: Path):
    """SQLite file, the query given as a .sql file."""
    url = write_sqlite(folder / "spells.db", spells_frame())
    query = folder / "extract.sql"
    query.write_text("SELECT *\nFROM spells\nORDER BY APCS_Ident\n", encoding="utf-8")
    return url, {"query": str(query)}, ONE_BASED


def duckdb_table(folder: Path):
    """DuckDB file made with the duckdb package, VARCHAR columns."""
    url = write_duckdb(folder / "spells.duckdb", spells_frame())
    return url, {"query": "SELECT * FROM spells ORDER BY APCS_Ident"}, ONE_BASED


GOOD_FORMS = [
    utf8_bom,
    cp1252,
    tab_tsv,
    tab_txt,
    pipe,
    semicolon,
    ssms,
    parquet,
    xlsx,
    xlsx_typed_cells,
    sqlite_table,
    sqlite_query_file,
    duckdb_table,
]


@pytest.mark.parametrize("form", GOOD_FORMS, ids=lambda form: form.__name__)
def test_every_good_form_gives_the_spells_of_the_plain_csv(tmp_path, expected, form: Form):
    folder = tmp_path / "form"
    folder.mkdir()
    source, options, rows = form(folder)
    extract = load_extracts([source], **options)
    spells = extract.spells
    pd.testing.assert_frame_equal(canonical(spells), canonical(expected))
    assert spells["Administrative_Category"].tolist() == ["01", "02", "01", "01", "01"]  # text
    assert spells["patient_classification"].tolist() == ["2", "2", "1", "2", "2"]
    assert spells["source_row"].tolist() == rows
    assert extract.quarantine.empty and extract.findings.empty
    [counts] = extract.reconciliation.to_dict("records")
    assert counts["profile"] == "sus_apcs"
    assert counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"] == 5
    assert counts["spells"] == 5
    assert set(spells["source"].astype(str)) == {counts["source"]}


def test_cp1252_is_detected_and_said(tmp_path):
    path, _, _ = cp1252(tmp_path)
    extract = load_extracts([path])
    assert any("read as cp1252" in note for note in extract.notes)
    assert "Ward_Name" not in extract.spells.columns  # a column no profile names is not carried


def test_cp1252_with_the_kept_site_name_column(tmp_path, expected):
    path = write_text(
        tmp_path / "cp1252.csv", spells_frame().assign(Site_Name="St Mary’s"), encoding="cp1252"
    )
    assert b"St Mary\x92s" in path.read_bytes()
    spells = load_extracts([path]).spells
    pd.testing.assert_frame_equal(canonical(spells), canonical(expected))
    assert spells["Site_Name"].tolist() == ["St Mary’s"] * 5


def test_a_kept_column_is_carried_through_from_parquet(tmp_path):
    path = tmp_path / "sites.parquet"
    spells_frame().assign(Der_Provider_Site_Code="RXA01").to_parquet(path)
    spells = load_extracts([path]).spells
    assert spells["Der_Provider_Site_Code"].tolist() == ["RXA01"] * 5


def test_read_extract_gives_the_spells_of_load_extracts(tmp_path):
    source, _, _ = parquet(tmp_path)
    pd.testing.assert_frame_equal(read_extract(source), load_extracts([source]).spells)


# ---- codes that lost their leading zero ------------------------------------------------------


def test_parquet_with_the_category_as_int64_is_refused_naming_the_column(tmp_path):
    """Parquet where Administrative_Category is int64: every '01'/'02' is now 1/2."""
    frame = spells_frame()
    frame["Administrative_Category"] = frame["Administrative_Category"].astype("int64")
    path = tmp_path / "numbers.parquet"
    frame.to_parquet(path)
    with pytest.raises(ExtractError) as error:
        load_extracts([path])
    text = one_line(error)
    assert "Administrative_Category" in text and "leading zero" in text and str(path) in text


def test_xlsx_with_some_categories_as_numbers_quarantines_those_rows(tmp_path):
    """.xlsx where Administrative_Category is the number 1 in four rows and the text '02' in one."""
    frame = spells_frame()
    frame["Administrative_Category"] = [1, "02", 1, 1, 1]
    path = write_xlsx(tmp_path / "mixed.xlsx", frame)
    extract = load_extracts([path])
    assert extract.spells["spell_id"].tolist() == ["5002"]
    assert extract.spells["Administrative_Category"].tolist() == ["02"]
    quarantine = extract.quarantine
    assert quarantine["source_row"].tolist() == [2, 4, 5, 6]
    assert all(
        "leading zero" in reason and "Administrative_Category" in reason for reason in quarantine["reason"]
    )
    assert quarantine["Administrative_Category"].tolist() == ["1"] * 4  # as read, for the analyst
    [counts] = extract.reconciliation.to_dict("records")
    assert counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"] == 5
    assert (counts["rows_accepted"], counts["rows_quarantined"]) == (1, 4)
    with pytest.warns(QuarantineWarning, match="4 rows quarantined"):
        assert len(read_extract(path)) == 1


def test_xlsx_with_every_category_a_number_is_refused(tmp_path):
    """.xlsx where Administrative_Category cells are the numbers 1 and 2."""
    frame = spells_frame()
    frame["Administrative_Category"] = [1, 2, 1, 1, 1]
    path = write_xlsx(tmp_path / "numbers.xlsx", frame)
    with pytest.raises(ExtractError) as error:
        load_extracts([path])
    assert "Administrative_Category" in one_line(error) and "leading zero" in str(error.value)


def test_sqlite_integer_column_is_refused(tmp_path):
    """SQLite table whose Administrative_Category is declared INTEGER: '02' is stored as 2."""
    url = write_sqlite(tmp_path / "integer.db", spells_frame(), {"Administrative_Category": "INTEGER"})
    with sqlite3.connect(tmp_path / "integer.db") as connection:
        stored = connection.execute("SELECT DISTINCT typeof(Administrative_Category) FROM spells").fetchall()
    assert stored == [("integer",)]
    with pytest.raises(ExtractError) as error:
        load_extracts([url], query="SELECT * FROM spells")
    assert "Administrative_Category" in one_line(error) and "leading zero" in str(error.value)


def test_sqlite_untyped_column_with_one_number_quarantines_that_row(tmp_path):
    """SQLite table whose Administrative_Category has no declared type; spell 5002 holds integer 2."""
    frame = spells_frame()
    frame["Administrative_Category"] = ["01", 2, "01", "01", "01"]
    url = write_sqlite(tmp_path / "mixed.db", frame, {"Administrative_Category": ""})
    extract = load_extracts([url], query="SELECT * FROM spells ORDER BY APCS_Ident")
    assert extract.quarantine["source_row"].tolist() == [2]  # 1-based query row
    assert "leading zero" in extract.quarantine["reason"].iat[0]
    assert extract.spells["Administrative_Category"].tolist() == ["01"] * 4
    assert extract.reconciliation[["rows_read", "rows_accepted", "rows_quarantined"]].values.tolist() == [
        [5, 4, 1]
    ]


# ---- folders and files given twice -----------------------------------------------------------


def test_a_folder_reads_every_extract_inside(tmp_path, expected):
    """A folder with spells 1-2 as CSV, 3 as .xlsx, 4-5 as Parquet, plus files that are not extracts."""
    folder = tmp_path / "extracts"
    folder.mkdir()
    frame = spells_frame()
    write_text(folder / "a.csv", frame.iloc[:2])
    write_xlsx(folder / "b.xlsx", frame.iloc[2:3])
    frame.iloc[3:].to_parquet(folder / "c.parquet")
    (folder / "README.md").write_text("not an extract\n")
    write_text(folder / "old.quarantine.csv", frame)  # an earlier run's output: not an extract
    (folder / "~$b.xlsx").write_bytes(b"\x07analyst" + bytes(154))  # Excel's lock: b.xlsx is open
    (folder / "._a.csv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")  # a resource fork
    (folder / "2024.csv").mkdir()  # a folder named like an extract
    extract = load_extracts([folder])
    spells = extract.spells
    pd.testing.assert_frame_equal(canonical(spells), canonical(expected))
    assert spells["source_row"].tolist() == [2, 3, 2, 1, 2]
    assert [Path(str(s)).name for s in spells["source"]] == [
        "a.csv",
        "a.csv",
        "b.xlsx[Spells]",
        "c.parquet",
        "c.parquet",
    ]
    counts = extract.reconciliation
    assert counts["rows_read"].tolist() == [2, 1, 2]
    assert (counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"]).all()
    assert counts["spells"].sum() == 5


def test_the_same_file_twice_is_refused(tmp_path, plain_csv, monkeypatch):
    with pytest.raises(ExtractError, match="given twice") as error:
        load_extracts([plain_csv, plain_csv])
    one_line(error)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExtractError, match="given twice"):
        load_extracts([Path("plain.csv"), plain_csv])  # relative and absolute
    with pytest.raises(ExtractError, match="given twice"):
        load_extracts([tmp_path, plain_csv])  # once inside the folder, once by name


def test_the_same_database_twice_is_refused(tmp_path):
    url = write_sqlite(tmp_path / "spells.db", spells_frame())
    with pytest.raises(ExtractError, match="given twice"):
        load_extracts([url, url], query="SELECT * FROM spells")


# ---- databases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [write_sqlite, write_duckdb], ids=["sqlite", "duckdb"])
def test_a_database_url_without_a_query_is_refused(tmp_path, writer):
    url = writer(tmp_path / "spells.db", spells_frame())
    for query in (None, ""):
        with pytest.raises(ExtractError, match="needs a query") as error:
            load_extracts([url], query=query)
        one_line(error)


@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_a_database_url_to_a_missing_file_is_refused_without_creating_it(tmp_path, scheme):
    missing = tmp_path / f"missing.{scheme}"
    with pytest.raises(ExtractError, match="does not exist") as error:
        load_extracts([f"{scheme}:///{missing}"], query="SELECT * FROM spells")
    assert str(missing) in one_line(error)
    assert not missing.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer", [write_sqlite, write_duckdb], ids=["sqlite", "duckdb"])
@pytest.mark.parametrize("query", ["SELEC * FROM spells", "SELECT * FROM no_such_table"])
def test_a_bad_query_is_an_extract_error(tmp_path, writer, query):
    url = writer(tmp_path / "spells.db", spells_frame())
    with pytest.raises(ExtractError, match="the query failed") as error:
        load_extracts([url], query=query)
    one_line(error)


def test_a_query_returning_no_rows_is_refused(tmp_path):
    url = write_sqlite(tmp_path / "spells.db", spells_frame())
    with pytest.raises(ExtractError, match="no rows"):
        load_extracts([url], query="SELECT * FROM spells WHERE 1 = 0")


def test_a_password_in_the_url_is_never_shown(tmp_path):
    # No server listens on port 1, and the psycopg driver may not be installed: either way an
    # ExtractError, and neither its text nor anything recorded may hold the password.
    url = "postgresql://user:secret@localhost:1/db"
    with pytest.raises(ExtractError) as error:
        load_extracts([url], query="SELECT * FROM spells")
    text = one_line(error)
    assert "secret" not in text and "secret" not in repr(error.value)
    assert "postgresql://user:***@localhost:1/db" in text


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user@localhost:1/db?password=secret",
        "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC+Driver+18+for+SQL+Server%7D%3BSERVER%3Dx%3BUID%3Du%3BPWD%3Dsecret",
    ],
    ids=["password-parameter", "odbc_connect-PWD"],
)
def test_a_password_in_the_url_query_is_never_shown(url):
    with pytest.raises(ExtractError) as error:
        load_extracts([url], query="SELECT * FROM spells")
    assert "secret" not in one_line(error)


def test_a_password_holding_an_at_sign_is_never_shown_in_part():
    with pytest.raises(ExtractError) as error:
        load_extracts(["postgresql://user:p@ssword@localhost:1/db"], query="SELECT 1")
    assert "ssword" not in one_line(error)


def test_a_url_with_a_bad_port_is_an_extract_error():
    with pytest.raises(ExtractError) as error:
        load_extracts(["postgresql://user:secret@localhost:port/db"], query="SELECT 1")
    assert "secret" not in one_line(error)


# ---- duplicate column names ------------------------------------------------------------------


def test_a_csv_naming_a_column_twice_is_refused(tmp_path):
    """CSV with a second column administrative_category (a case-only duplicate) holding '99'."""
    path = write_text(tmp_path / "twice.csv", spells_frame().assign(administrative_category="99"))
    with pytest.raises(ExtractError, match="more than once"):
        load_extracts([path])


def duplicate_xlsx(folder: Path):
    """.xlsx with Administrative_Category twice (exactly), the second holding '99'."""
    frame = spells_frame()
    frame.insert(len(COLUMNS), "Administrative_Category_2", "99")
    path = write_xlsx(folder / "twice.xlsx", frame)
    book = openpyxl.load_workbook(path)
    book.active.cell(row=1, column=len(COLUMNS) + 1, value="Administrative_Category")
    book.save(path)
    return path, {}


def duplicate_parquet(folder: Path):
    """Parquet with a second column administrative_category (case-only duplicate) holding '99'."""
    path = folder / "twice.parquet"
    spells_frame().assign(administrative_category="99").to_parquet(path)
    return path, {}


def duplicate_query(folder: Path):
    """SQLite query selecting a second Administrative_Category holding '99'."""
    url = write_sqlite(folder / "spells.db", spells_frame())
    return url, {"query": "SELECT *, '99' AS Administrative_Category FROM spells"}


@pytest.mark.parametrize(
    "form", [duplicate_xlsx, duplicate_parquet, duplicate_query], ids=lambda f: f.__name__
)
def test_a_column_named_twice_is_refused_in_every_form(tmp_path, form):
    source, options = form(tmp_path)
    with pytest.raises(ExtractError, match="more than once"):
        load_extracts([source], **options)
