"""Bad inputs, as a table: each gives one clear line naming the file (and column or row), or sets
the bad rows aside with their reasons — and no row is ever lost.

Every fixture is built here from ``GOOD`` (three plausible SUS+ spells, made up) by the function
named in its row. ``ERRORS`` rows must stop the read with the given message fragments;
``QUARANTINED`` rows must read, put exactly the listed rows in the quarantine with the reason,
and keep rows read = rows accepted + rows quarantined.
"""

from __future__ import annotations

import csv as csv_module
import io
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rfd_lib.cli import main
from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.reading import load_extracts

HEADER = (
    "APCS_Ident,Der_Provider_Code,Der_Pseudo_NHS_Number,Admission_Date,Discharge_Date,Admission_Method,"
    "Administrative_Category,Patient_Classification,Age_At_Start_of_Spell_SUS,Der_Age_at_CDS_Activity_Date,"
    "Der_Primary_Procedure_Code,Der_Procedure_All,Der_Primary_Diagnosis_Code,Der_Diagnosis_All"
)
GOOD = [
    '101,ZA1,P000000001,2025-04-02,2025-04-02,11,01,2,54,54,V485,"||V485,Z676",M545,||M545',
    '102,ZA1,P000000002,2025-04-03,2025-04-05,21,02,1,71,71,W401,"||W401,Z845",M170,"||M170,I10X"',
    '103,ZA1,P000000003,2025-05-01,2025-05-01,12,01,2,,45,A577,"||A577 ,Z675",M545,||M545',
]


def csv(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def write(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        return path

    return make


def replace(row: int, column: str, value: str) -> list[str]:
    """Return GOOD with one field of one row (0-based) replaced."""
    names = HEADER.split(",")
    frame = pd.read_csv(io.StringIO(csv(*GOOD)), dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    assert list(frame.columns) == names
    return frame.to_csv(index=False, lineterminator="\n").splitlines()[1:]


def without(column: str) -> str:
    frame = pd.read_csv(io.StringIO(csv(*GOOD)), dtype=str, keep_default_na=False)
    return frame.drop(columns=[column]).to_csv(index=False, lineterminator="\n")


def renamed(old: str, new: str) -> str:
    return csv(*GOOD, header=HEADER.replace(old, new))


def two_sheets(folder: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Spells"
    for line in csv(*GOOD).splitlines():
        book.active.append(next(csv_module.reader([line])))
    book.create_sheet("Notes").append(["made up"])
    path = folder / "two_sheets.xlsx"
    book.save(path)
    return path


def workbook(name: str, rows: list[list[object]]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        openpyxl = pytest.importorskip("openpyxl")
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(folder / name)
        return folder / name

    return make


GOOD_CELLS = [next(csv_module.reader([line])) for line in GOOD]


def sqlite_database(folder: Path) -> Path:
    path = folder / "spells.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE spells (APCS_Ident TEXT)")
    return path


def duckdb_database(folder: Path) -> str:
    duckdb = pytest.importorskip("duckdb")
    path = folder / "spells.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE spells (APCS_Ident VARCHAR, Der_Pseudo_NHS_Number VARCHAR)")
        connection.execute("INSERT INTO spells VALUES ('101', 'P000000001')")
    return f"duckdb:///{path}"


def empty_folder(folder: Path) -> Path:
    (folder / "nothing").mkdir()
    (folder / "nothing" / "notes.md").write_text("not an extract")
    return folder / "nothing"


def late_cp1252(folder: Path) -> Path:
    """A UTF-8 file whose first megabyte is plain ASCII and whose last row holds a cp1252 byte."""
    filler = [GOOD[0].replace("101", str(1000 + i), 1) for i in range(20000)]
    body = csv(*filler).encode() + GOOD[2].replace("ZA1", "Z\xe91").encode("cp1252") + b"\n"
    path = folder / "late.csv"
    path.write_bytes(body)
    return path


def parquet_with(name: str, column: str, values: pa.Array) -> Callable[[Path], Path]:
    """Return a maker of a Parquet file of GOOD whose ``column`` holds ``values`` instead."""

    def make(folder: Path) -> Path:
        table = pa.Table.from_pandas(
            pd.read_csv(io.StringIO(csv(*GOOD)), dtype=str, keep_default_na=False), preserve_index=False
        )
        where = table.column_names.index(column)
        path = folder / name
        pq.write_table(table.set_column(where, column, values), path)
        return path

    return make


def sqlite_with_bytes(folder: Path) -> str:
    path = folder / "blob.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE spells (APCS_Ident, Der_Provider_Code)")
        connection.execute("INSERT INTO spells VALUES ('101', ?)", (b"\xff\x00",))
    return f"sqlite:///{path}"


# GOOD without quoted values: an unmatched quote then runs on until the end of the file.
PLAIN = [",".join(value.replace(",", " ") for value in cells) for cells in GOOD_CELLS]


def stray_quote(name: str, delimiter: str) -> Callable[[Path], Path]:
    """Return a maker of 1,500 rows with one opening quote before the provider on data line 100."""

    def make(folder: Path) -> Path:
        rows = [
            PLAIN[i % 3].replace(",", delimiter).replace(PLAIN[i % 3][:3], str(1000 + i), 1)
            for i in range(1500)
        ]
        rows[99] = rows[99].replace(f"{delimiter}ZA1", f'{delimiter}"ZA1', 1)
        path = folder / name
        path.write_text(csv(*rows, header=HEADER.replace(",", delimiter)))
        return path

    return make


def same_extract_twice(folder: Path) -> Path:
    """Return a folder holding one extract under two names (the second without its last spell)."""
    (folder / "q2").mkdir()
    (folder / "q2" / "spells.csv").write_text(csv(*GOOD))
    (folder / "q2" / "spells_copy.csv").write_text(csv(*GOOD[:2]))
    return folder / "q2"


def symlink_loop(folder: Path) -> Path:
    """Return a folder holding a good extract and two links named .csv that lead to each other."""
    (folder / "loop").mkdir()
    (folder / "loop" / "good.csv").write_text(csv(*GOOD))
    (folder / "loop" / "a.csv").symlink_to(folder / "loop" / "b.csv")
    (folder / "loop" / "b.csv").symlink_to(folder / "loop" / "a.csv")
    return folder / "loop"


def many_short_rows(folder: Path) -> Path:
    path = folder / "short.csv"
    path.write_text(csv(*["101,ZA1"] * 1200))
    return path


# (case, make the fixture, extra arguments, fragments the one-line error must contain)
ERRORS = [
    ("path that does not exist", lambda d: d / "missing.csv", {}, ["missing.csv", "no such file"]),
    ("empty file", write("empty.csv", b""), {}, ["empty.csv", "empty"]),
    ("only blank lines", write("blank.csv", "\n\n  \n"), {}, ["blank.csv", "empty"]),
    ("header only", write("header.csv", csv()), {}, ["header.csv", "header but no rows"]),
    (
        "missing column",
        write("missing_col.csv", without("Der_Procedure_All")),
        {},
        ["Der_Procedure_All", "missing"],
    ),
    (
        "misspelt column, closest name suggested",
        write("misspelt.csv", renamed("Der_Diagnosis_All", "Der_Diagnoses_All")),
        {},
        ["misspelt.csv", "Der_Diagnosis_All", "Der_Diagnoses_All?"],
    ),
    (
        "wrong delimiter given",
        write("commas.csv", csv(*GOOD)),
        {"delimiter": ";"},
        ["commas.csv", "delimiter"],
    ),
    ("delimiter of two characters", write("d.csv", csv(*GOOD)), {"delimiter": "||"}, ["one character"]),
    (
        "not a spell extract at all",
        write("populations.csv", "provider_code,population\nZA1,250000\n"),
        {},
        ["populations.csv", "no column profile fits"],
    ),
    (
        "unknown profile",
        write("good.csv", csv(*GOOD)),
        {"profile": "sus"},
        ["no column profile called 'sus'", "sus_apcs"],
    ),
    (
        "profile that does not fit the file",
        write("good.csv", csv(*GOOD)),
        {"profile": "hes_apc"},
        ["good.csv", "profile 'hes_apc'", "PROCODE3"],
    ),
    (
        "cp1252 with a UTF-8 byte-order mark",
        write("bom1252.csv", b"\xef\xbb\xbf" + csv(GOOD[0].replace("ZA1", "Z\xe91")).encode("cp1252")),
        {},
        ["bom1252.csv", "byte-order mark", "line 2", "cp1252"],
    ),
    ("UTF-16", write("utf16.csv", csv(*GOOD).encode("utf-16")), {}, ["utf16.csv", "UTF-16"]),
    (
        "neither UTF-8 nor cp1252",
        write("binary.csv", csv(*GOOD).encode() + b"\x81\x8d\x90\n"),
        {},
        ["binary.csv", "neither UTF-8 nor cp1252"],
    ),
    (
        "not UTF-8 after the first megabyte",
        late_cp1252,
        {},
        ["late.csv", "not valid UTF-8", "--encoding cp1252"],
    ),
    ("unknown encoding", write("good.csv", csv(*GOOD)), {"encoding": "klingon"}, ["unknown encoding"]),
    (
        "a column named twice",
        write("twice.csv", csv(*[g + ",x" for g in GOOD], header=HEADER + ",apcs_ident")),
        {},
        ["twice.csv", "apcs_ident", "more than once"],
    ),
    (
        "'02' read as a number: every administrative category lost its zero",
        write("numbers.csv", csv(*(line.replace(",01,", ",1,").replace(",02,", ",2,") for line in GOOD))),
        {},
        ["numbers.csv", "Administrative_Category", "leading zero"],
    ),
    ("Excel with two sheets", two_sheets, {}, ["two_sheets.xlsx", "2 sheets", "Spells, Notes", "--sheet"]),
    ("Excel sheet that is not there", two_sheets, {"sheet": "Data"}, ["no sheet called 'Data'"]),
    (
        "Excel sheet with a blank row above the header",
        workbook("gap.xlsx", [[], HEADER.split(","), *GOOD_CELLS]),
        {},
        ["gap.xlsx", "row 1", "blank where the header should be"],
    ),
    ("text file posing as .xlsx", write("fake.xlsx", csv(*GOOD)), {}, ["fake.xlsx", "not a readable .xlsx"]),
    ("old .xls workbook", write("old.xls", b"\xd0\xcf\x11\xe0"), {}, ["old.xls", ".xlsx"]),
    (
        "workbook renamed .csv",
        write("renamed.csv", b"PK\x03\x04\x14\x00\x06\x00"),
        {},
        ["renamed.csv", "zip file", ".xlsx", "not delimited text"],
    ),
    (
        "Parquet renamed .txt",
        write("renamed.txt", b"PAR1\x15\x04\x15"),
        {},
        ["renamed.txt", "Parquet", "not delimited text"],
    ),
    ("unknown kind of file", write("spells.json", "{}"), {}, ["spells.json", "unknown kind of extract"]),
    ("corrupt Parquet", write("broken.parquet", b"PAR1 not really"), {}, ["broken.parquet", "Parquet"]),
    (
        "unreadable database URL",
        lambda d: "nosuchdb://host/db",
        {"query": "SELECT 1"},
        ["cannot open the database"],
    ),
    (
        "database file that does not exist",
        lambda d: f"sqlite:///{d / 'absent.db'}",
        {"query": "SELECT * FROM spells"},
        ["absent.db", "does not exist"],
    ),
    ("database without a query", lambda d: f"sqlite:///{sqlite_database(d)}", {}, ["needs a query"]),
    (
        "query that fails",
        lambda d: f"sqlite:///{sqlite_database(d)}",
        {"query": "SELECT * FROM no_such_table"},
        ["query failed", "no_such_table"],
    ),
    ("folder with no extracts", empty_folder, {}, ["nothing", "holds no CSV"]),
    (
        "query failing on a value (the value is not shown)",
        duckdb_database,
        {"query": "SELECT CAST(Der_Pseudo_NHS_Number AS INTEGER) FROM spells"},
        ["spells.duckdb", "query failed", "Conversion Error", "'…'"],
    ),
    (
        "extract without its header row (and no value of it is shown)",
        write("headless.csv", csv(*GOOD[1:], header=GOOD[0])),
        {},
        ["headless.csv", "column 1", "the header row missing?"],
    ),
    (
        "Parquet column of lists",
        parquet_with("lists.parquet", "Der_Procedure_All", pa.array([["V485"], ["W401"], ["A577"]])),
        {},
        ["lists.parquet", "column Der_Procedure_All", "lists or records"],
    ),
    (
        "Parquet column of records",
        parquet_with("records.parquet", "APCS_Ident", pa.array([{"id": 1}, {"id": 2}, {"id": 3}])),
        {},
        ["records.parquet", "column APCS_Ident", "lists or records"],
    ),
    (
        "Parquet column of bytes that are not text",
        parquet_with("bytes.parquet", "Der_Provider_Code", pa.array([b"ZA1", b"\xff\xfe", b"ZA1"])),
        {},
        ["bytes.parquet", "column Der_Provider_Code", "not UTF-8 text"],
    ),
    (
        "database column of bytes that are not text",
        sqlite_with_bytes,
        {"query": "SELECT * FROM spells"},
        ["blob.db", "column Der_Provider_Code", "not UTF-8 text"],
    ),
    (
        "blank line above the header",
        write("blank_first.csv", "\n" + csv(*GOOD)),
        {},
        ["blank_first.csv", "line 1 is blank", "header"],
    ),
    (
        "a value quoted in part and a value over two lines: rows cannot be numbered",
        write("stray.csv", csv(GOOD[0].replace("ZA1", '"Z"A1'), GOOD[1].replace("M170,", 'M170,"a\nb",', 1))),
        {},
        ["stray.csv", "cannot be numbered"],
    ),
    (
        "a stray quote on data line 100 of a tab-separated extract swallows the 1,400 lines after it",
        stray_quote("stray.tsv", "\t"),
        {},
        ["stray.tsv", "line 101", "quote", "1,401 lines", "would be lost"],
    ),
    (
        "a stray quote on data line 100 of a CSV swallows the 1,400 lines after it",
        stray_quote("stray.csv", ","),
        {},
        ["stray.csv", "line 101", "quote", "1,401 lines", "would be lost"],
    ),
    (
        "the same extract under two names",
        same_extract_twice,
        {},
        ["spells.csv and ", "spells_copy.csv share 2 spell identifiers", "--allow-duplicate-spells"],
    ),
    ("a symbolic link loop in a folder", symlink_loop, {}, ["a.csv", "loop of links"]),
    (
        "UTF-16 without a byte-order mark",
        write("utf16le.csv", csv(*GOOD).encode("utf-16-le")),
        {},
        ["utf16le.csv", "UTF-16 without a byte-order mark"],
    ),
    (
        "big-endian UTF-16 without a byte-order mark",
        write("utf16be.csv", csv(*GOOD).encode("utf-16-be")),
        {},
        ["utf16be.csv", "UTF-16 without a byte-order mark"],
    ),
    (
        "rows with the wrong delimiter throughout",
        many_short_rows,
        {},
        ["short.csv", "1,200 rows", "delimiter"],
    ),
]


@pytest.mark.parametrize(("case", "make", "options", "fragments"), ERRORS, ids=[row[0] for row in ERRORS])
def test_a_bad_input_stops_with_one_clear_line(tmp_path, case, make, options, fragments):
    source = make(tmp_path)
    with pytest.raises(RfdAuditError) as raised:
        load_extracts([source], options.pop("profile", None), **options)
    message = str(raised.value)
    assert "\n" not in message
    shown = {value for line in GOOD for value in next(csv_module.reader([line])) if len(value) > 3}
    assert not [value for value in shown if value in message], f"{case}: a value of the extract is shown"
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"


def test_there_are_at_least_thirty_bad_inputs():
    assert len(ERRORS) + len(QUARANTINED) >= 30


# (case, rows of the file, rows (spreadsheet numbering) expected in quarantine, reason fragment)
QUARANTINED = [
    ("truncated last row", [*GOOD[:2], GOOD[2][:25]], [4], "fields where the header has 14"),
    (
        "row with an extra field",
        [GOOD[0], GOOD[1] + ",surplus", GOOD[2]],
        [3],
        "15 fields where the header has 14",
    ),
    (
        "date that is not a date",
        replace(1, "Admission_Date", "31/02/2025"),
        [3],
        "Admission_Date is not a date",
    ),
    ("date that is a word", replace(2, "Discharge_Date", "unknown"), [4], "Discharge_Date is not a date"),
    (
        "age that is not a number",
        replace(0, "Der_Age_at_CDS_Activity_Date", "fifty"),
        [2],
        "not a whole number",
    ),
    ("age with a fraction", replace(0, "Age_At_Start_of_Spell_SUS", "54.5"), [2], "not a whole number"),
    ("one code that lost its zero", replace(1, "Administrative_Category", "2"), [3], "lost a leading zero"),
    ("spell without an identifier", replace(2, "APCS_Ident", ""), [4], "APCS_Ident is empty"),
    ("spell without a provider", replace(0, "Der_Provider_Code", ""), [2], "Der_Provider_Code is empty"),
    ("code with a non-ASCII character", replace(0, "Der_Diagnosis_All", "||M545,C5O9é"), [2], "not ASCII"),
    (
        "NUL byte in a code",
        replace(2, "Admission_Method", "1\x001"),
        [4],
        "Admission_Method holds a control character",
    ),
    (
        "admission date 0001-01-01",
        replace(0, "Admission_Date", "0001-01-01"),
        [2],
        "Admission_Date is before 1948-07-05 or after",
    ),
    (
        "discharge date 9999-12-31 (a 'no date' marker)",
        replace(1, "Discharge_Date", "9999-12-31"),
        [3],
        "Discharge_Date is before 1948-07-05 or after",
    ),
    (
        "provider code of 300 characters",
        replace(0, "Der_Provider_Code", "Z" * 300),
        [2],
        "Der_Provider_Code is not shaped like an organisation code",
    ),
    (
        "provider code holding a NUL byte",
        replace(0, "Der_Provider_Code", "ZA\x001"),
        [2],
        "Der_Provider_Code is not shaped like an organisation code",
    ),
    (
        "provider code $x^$ (chart mathtext)",
        replace(0, "Der_Provider_Code", "$x^$"),
        [2],
        "Der_Provider_Code is not shaped like an organisation code",
    ),
    (
        "provider code ../../../ESCAPED (a path)",
        replace(0, "Der_Provider_Code", "../../../ESCAPED"),
        [2],
        "Der_Provider_Code is not shaped like an organisation code",
    ),
    (
        "provider code a/b (a folder)",
        replace(0, "Der_Provider_Code", "a/b"),
        [2],
        "Der_Provider_Code is not shaped like an organisation code",
    ),
    (
        "provider code {x} (a template)",
        replace(0, "Der_Provider_Code", "{x}"),
        [2],
        "Der_Provider_Code is not shaped like an organisation code",
    ),
]


@pytest.mark.parametrize(
    ("case", "rows", "quarantined", "reason"), QUARANTINED, ids=[r[0] for r in QUARANTINED]
)
def test_an_unusable_row_is_quarantined_with_its_reason_and_counted(
    tmp_path, case, rows, quarantined, reason
):
    path = tmp_path / "extract.csv"
    path.write_text(csv(*rows))
    extract = load_extracts([path])
    assert extract.quarantine["source_row"].tolist() == quarantined
    assert all(reason in text for text in extract.quarantine["reason"]), extract.quarantine["reason"].tolist()
    (totals,) = extract.reconciliation.to_dict("records")
    assert totals["rows_read"] == len(rows) == totals["rows_accepted"] + totals["rows_quarantined"]
    assert len(extract.spells) == len(rows) - len(quarantined)
    assert set(extract.spells["source_row"]) == set(range(2, len(rows) + 2)) - set(quarantined)


def test_a_parquet_spell_identifier_that_is_nan_or_huge_is_quarantined_or_kept_not_a_traceback(tmp_path):
    make = parquet_with("floats.parquet", "APCS_Ident", pa.array([1e20, float("nan"), 103.0]))
    extract = load_extracts([make(tmp_path)])
    assert extract.quarantine["source_row"].tolist() == [2]
    assert extract.quarantine["reason"].tolist() == ["APCS_Ident is empty"]
    assert extract.spells["source_row"].tolist() == [1, 3]
    assert "nan" not in extract.spells["spell_id"].tolist()


@pytest.mark.parametrize("kind", [pa.int64(), pa.int32(), pa.float64()])
def test_a_parquet_date_stored_as_a_number_is_read_as_written(tmp_path, kind):
    dates = pa.array([20250402, 20250403, 20250501]).cast(kind)
    extract = load_extracts([parquet_with("numbers.parquet", "Admission_Date", dates)(tmp_path)])
    assert extract.spells["admission_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-04-02",
        "2025-04-03",
        "2025-05-01",
    ]


def test_a_blank_column_name_does_not_clash_with_a_column_named_like_it(tmp_path):
    path = tmp_path / "blank_name.csv"
    path.write_text(csv(*(line + ",x,y" for line in GOOD), header=HEADER + ",,column_15"))
    extract = load_extracts([path])
    assert extract.spells["source_row"].tolist() == [2, 3, 4]
    assert extract.quarantine.empty


def test_blank_header_cells_of_a_workbook_keep_their_own_columns(tmp_path):
    rows = [[*HEADER.split(","), "", ""], *([*cells, "x", "y"] for cells in GOOD_CELLS)]
    rows[2][0] = ""  # no spell identifier: the row is quarantined with every cell it had
    extract = load_extracts([workbook("blank_names.xlsx", rows)(tmp_path)])
    assert extract.quarantine[["column_15", "column_16"]].values.tolist() == [["x", "y"]]


# (case, file text, file lines of the accepted rows, file lines of the quarantined rows)
ROW_NUMBERS = [
    ("truncated row that starts like an earlier row", csv(*GOOD, GOOD[0][:20]), [2, 3, 4], [5]),
    ("blank line between rows", csv(GOOD[0], "", GOOD[1], GOOD[2][:25]), [2, 4], [5]),
    ("blank lines at the end", csv(*GOOD) + "\n\n", [2, 3, 4], []),
    (
        "quoted value over two lines",
        csv(GOOD[0].replace(",||M545", ',"||M545\n"'), GOOD[1], GOOD[2][:25]),
        [4],
        [2, 3, 5],
    ),
    (
        "a quote inside a value, and a value over two lines",
        csv(
            GOOD[0].replace("P000000001", 'P000"000001'),
            GOOD[2].replace(",||M545", ',"||M545\n"'),
            GOOD[1][:25],
        ),
        [2],
        [3, 4, 5],
    ),
    (
        "a stray quote swallows the next row: both set aside, each line counted",
        csv(PLAIN[0], PLAIN[1].rsplit(",", 1)[0] + ',"M545', PLAIN[2] + '"', PLAIN[0].replace("101", "104")),
        [2, 5],
        [3, 4],
    ),
    ("Windows line ends", csv(GOOD[0][:20], *GOOD).replace("\n", "\r\n"), [3, 4, 5], [2]),
    ("Mac line ends (carriage return alone)", csv(*GOOD, GOOD[2][:25]).replace("\n", "\r"), [2, 3, 4], [5]),
]


@pytest.mark.parametrize(
    ("case", "text", "accepted", "quarantined"), ROW_NUMBERS, ids=[r[0] for r in ROW_NUMBERS]
)
def test_every_row_is_numbered_by_the_file_line_it_starts_on(tmp_path, case, text, accepted, quarantined):
    path = tmp_path / "extract.csv"
    path.write_bytes(text.encode())
    extract = load_extracts([path])
    assert extract.spells["source_row"].tolist() == accepted
    assert extract.quarantine["source_row"].tolist() == quarantined
    (totals,) = extract.reconciliation.to_dict("records")
    assert (
        totals["rows_read"]
        == len(accepted) + len(quarantined)
        == totals["rows_accepted"] + totals["rows_quarantined"]
    )


def test_the_cli_gives_one_line_status_2_and_writes_nothing_for_a_bad_input(tmp_path, capsys):
    bad = tmp_path / "header.csv"
    bad.write_text(csv())
    output = tmp_path / "out" / "classified.parquet"
    assert main(["classify", str(bad), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rfd-audit: error: ") and "header.csv" in err and err.count("\n") == 1
    assert not output.exists() and not list(tmp_path.rglob("*.partial"))


def test_an_age_written_with_a_plus_sign_is_read(tmp_path):
    path = tmp_path / "plus.csv"
    path.write_text(csv(*replace(0, "Age_At_Start_of_Spell_SUS", "+45")))
    extract = load_extracts([path])
    assert extract.spells["Age_At_Start_of_Spell_SUS"].tolist()[:2] == [45, 71]
    assert extract.quarantine.empty


def test_a_populations_file_in_the_folder_of_extracts_is_passed_over_and_said(tmp_path):
    (tmp_path / "spells.csv").write_text(csv(*GOOD))
    (tmp_path / "populations.csv").write_text(
        "provider_code,provider_name,catchment_population\nZA1,A,250000\n"
    )
    extract = load_extracts([tmp_path])
    assert extract.reconciliation["source"].tolist() == [str(tmp_path / "spells.csv")]
    assert any("populations.csv" in note and "populations file" in note for note in extract.notes)


def test_classify_never_reads_its_own_output_as_an_extract(tmp_path, capsys):
    (tmp_path / "spells.csv").write_text(csv(*GOOD))
    output = tmp_path / "out.parquet"
    for _ in range(2):
        assert main(["classify", str(tmp_path), "-o", str(output)]) == 0
    out = capsys.readouterr().out
    assert "out.parquet: not read as an extract (it is this command's output)" in out
    assert len(pd.read_parquet(output)) == 3


def test_classify_refuses_an_output_that_is_one_of_its_inputs(tmp_path, capsys):
    (tmp_path / "spells.csv").write_text(csv(*GOOD))
    assert main(["classify", str(tmp_path / "spells.csv"), "-o", str(tmp_path / "x.parquet")]) == 0
    before = (tmp_path / "x.parquet").read_bytes()
    capsys.readouterr()
    assert (
        main(
            [
                "classify",
                str(tmp_path / "x.parquet"),
                "-o",
                str(tmp_path / ".." / tmp_path.name / "x.parquet"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "x.parquet: is the output being written" in err and err.count("\n") == 1
    assert (tmp_path / "x.parquet").read_bytes() == before


def test_a_bad_second_input_leaves_no_output_from_the_first(tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(csv(*GOOD))
    bad.write_text("")
    output = tmp_path / "classified.parquet"
    assert main(["classify", str(good), str(bad), "-o", str(output)]) == 2
    assert "bad.csv" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [good, bad] or sorted(tmp_path.iterdir()) == sorted([good, bad])
