"""Read a delimited text extract into an Arrow table of text columns, losing no row.

Every column is read as text (never inferred: ``02`` stays ``02``); an unquoted empty field, or
a profile's NULL marker, is NULL and a quoted ``""`` is an empty string. The encoding is UTF-8
(with or without a byte-order mark) unless the bytes say cp1252; the delimiter is the commonest of
``, | ; tab`` in the header unless given. A row with the wrong number of fields is not dropped: it
is returned as a rejected row with its file line, for the quarantine file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from rfd_lib.arrow_text import any_byte
from rfd_lib.errors import ExtractError
from rfd_lib.extracts.csv_lines import count_lines, last_line_end, last_row_end, open_quote, row_lines_in

UTF8_BOM = codecs.BOM_UTF8
DELIMITERS = (",", "\t", "|", ";")
SAMPLE_BYTES = 1 << 20
# The rows read at a time: memory holds one run of about this many bytes of the file.
CHUNK_BYTES = 64 << 20
# A run with no row end in this many bytes is rows swallowed by a quote left open.
MAX_ROW_BYTES = 256 << 20
TOO_MANY_REJECTED = 1000
# No real value is longer: SUS's longest column, Der_Procedure_All, is VARCHAR(4000). A value
# holding a line break and longer than this is rows swallowed by a quote left open.
LONGEST_VALUE = 4000
LF, CR = ord("\n"), ord("\r")
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as rfd_lib.extracts.csv_lines counts the lines of a file
_LETTER = re.compile(r"[^\W\d_]")
# The first bytes of files that are sometimes renamed .csv by mistake, and what they are.
NOT_TEXT = {
    b"PK\x03\x04": "a zip file (an Excel .xlsx workbook?)",
    b"PAR1": "a Parquet file",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
    b"\x1f\x8b": "a gzip-compressed file",
}


@dataclass(frozen=True)
class CsvHead:
    """What the start of a CSV file says: encoding, delimiter, header names, and how each was found."""

    encoding: str
    delimiter: str
    header: list[str]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    """An extract as read: its columns as the source names them, the file row of each, and rejects."""

    source: str
    table: pa.Table
    rows: np.ndarray  # int64: the row as the analyst would find it (file line it starts on, header = 1)
    rejected: pa.Table  # source_row, reason, text: rows that could not even be split into fields
    notes: tuple[str, ...] = ()
    # True when each row is one line of the file (counted): no value can hold a line break, so
    # nobody need look for one. False says nothing (a Parquet or database value may hold one).
    one_line_each: bool = False

    @property
    def rows_read(self) -> int:
        """Return every data row met in the source, accepted or rejected."""
        return self.table.num_rows + self.rejected.num_rows


def read_head(path: Path, *, delimiter: str | None = None, encoding: str | None = None) -> CsvHead:
    """Return the encoding, delimiter and header of the CSV at ``path`` (raises ExtractError)."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ExtractError(f"{path}: the file is empty", hint="export the extract again")
    for magic, kind in NOT_TEXT.items():
        if sample.startswith(magic):
            raise ExtractError(
                f"{path}: is {kind}, not delimited text",
                hint="give the file the suffix of what it is (.xlsx, .parquet), or export it as CSV",
            )
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExtractError(
            f"{path}: the file is UTF-16, which rfd-audit does not read", hint="save it as UTF-8 (CSV UTF-8)"
        )
    if _looks_utf16(sample):
        raise ExtractError(
            f"{path}: the file is UTF-16 without a byte-order mark (every other byte is zero), "
            "which rfd-audit does not read",
            hint="save it as UTF-8 (CSV UTF-8)",
        )
    notes = []
    if encoding is None:
        encoding = _sniff_encoding(path, sample)
        if encoding == "cp1252":
            notes.append(f"{path}: not UTF-8, read as cp1252 (Windows Western European)")
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ExtractError(f"unknown encoding {encoding!r}", hint="e.g. utf-8 or cp1252") from None
    start = len(UTF8_BOM) if sample.startswith(UTF8_BOM) else 0
    # A lone carriage return ends a line too (Excel for Mac's CSV): pyarrow reads it so.
    first_line = re.split(rb"\r\n|\r|\n", sample[start:], maxsplit=1)[0]
    if not first_line.strip():
        raise ExtractError(
            f"{path}: line 1 is blank where the header should be", hint="remove the lines above the header"
        )
    try:
        header_text = first_line.decode(encoding)
    except UnicodeDecodeError:
        raise ExtractError(f"{path}: line 1 (the header) is not {encoding}") from None
    if delimiter is None:
        delimiter = _sniff_delimiter(header_text)
    elif len(delimiter) != 1:
        raise ExtractError(f"the delimiter must be one character, not {delimiter!r}")
    header = [name.strip() for name in next(csv.reader(io.StringIO(header_text), delimiter=delimiter))]
    check_header(path, header)
    return CsvHead(encoding, delimiter, header, tuple(notes))


def read_csv(path: Path, head: CsvHead, null_values: tuple[str, ...]) -> RawTable:
    """Return every row of the CSV at ``path`` as text columns, with rejected rows kept aside."""
    return concat_raw(list(iter_csv(path, head, null_values)))


def iter_csv(
    path: Path, head: CsvHead, null_values: tuple[str, ...], chunk_bytes: int = CHUNK_BYTES
) -> Iterator[RawTable]:
    """Yield the rows of the CSV at ``path`` a run of whole rows at a time (about ``chunk_bytes`` each).

    Each run is cut at a line break that ends a row (outside quotes), read as :func:`read_csv`
    reads a file, and numbered with the file's own line numbers, so memory stays that of one run
    whatever the size of the file. Raises :class:`ExtractError` as :func:`read_csv` does.
    """
    names = name_blanks(head.header)
    header = _header_bytes(path)
    rejected_so_far, line = 0, 1
    # Never ask for more than the file holds: a read allocates all it asks for.
    chunk_bytes = max(1, min(chunk_bytes, path.stat().st_size + 1))
    with path.open("rb") as handle:
        handle.seek(len(header))
        carry = b""
        while True:
            # The bytes after what the last run left over are read in behind it, in one buffer
            # that is parsed where it lies: a run is never copied.
            data = bytearray(len(carry) + chunk_bytes)
            data[: len(carry)] = carry
            with memoryview(data)[len(carry) :] as behind:
                got = handle.readinto(behind)
            # A file that fits in one run is read whole, as one piece: only a longer one is cut.
            last = got < chunk_bytes
            if last:
                del data[len(carry) + got :]
            raw, end = None, len(data)
            if not last:
                # First the last line break, as pyarrow itself cuts blocks. It ended a row if the run
                # reads cleanly: no value over lines, no row of the wrong width. Otherwise the cut
                # is made again outside quotes, which needs every quote of the run looked at.
                cut = last_line_end(data)
                if cut:
                    raw = _clean_rows(path, (header, data, cut), head, names, null_values, line - 1)
                if raw is None:
                    cut = last_row_end(data, head.delimiter)
                if cut == 0:
                    if len(data) > MAX_ROW_BYTES:
                        _stop_swallowed_rows(path, head.delimiter, len(data))
                    carry = data
                    continue
                end, carry = cut, data[cut:]
            if end or line == 1:
                raw = raw or _read_rows(path, (header, data, end), head, names, null_values, line - 1)
                rejected_so_far += raw.rejected.num_rows
                if rejected_so_far > TOO_MANY_REJECTED:
                    _too_many_rejected(path, rejected_so_far, len(names), head.delimiter)
                line += raw.table.num_rows if raw.one_line_each else count_lines(data[:end])
                yield raw
            if last:
                return


def _clean_rows(
    path: Path,
    data: tuple[bytes, bytes | bytearray, int],
    head: CsvHead,
    names: list[str],
    null_values: tuple[str, ...],
    lines_before: int,
) -> RawTable | None:
    """Return the rows of ``data`` as :func:`_read_rows` does if every one is whole and fits; else None."""
    try:
        raw = _read_rows(path, data, head, names, null_values, lines_before)
    except ExtractError:
        return None
    return raw if not raw.rejected.num_rows else None


def concat_raw(pieces: list[RawTable]) -> RawTable:
    """Return the runs of rows of one source as one :class:`RawTable`."""
    first = pieces[0]
    if len(pieces) == 1:
        return first
    return RawTable(
        first.source,
        pa.concat_tables([piece.table for piece in pieces]),
        np.concatenate([piece.rows for piece in pieces]),
        pa.concat_tables([piece.rejected for piece in pieces]),
        first.notes,
        all(piece.one_line_each for piece in pieces),
    )


def _header_bytes(path: Path) -> bytes:
    """Return the file's first line with its line break (and byte-order mark)."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    found = re.search(rb"\r\n|\r|\n", sample)
    return sample if found is None else sample[: found.end()]


def _read_rows(
    path: Path,
    data: tuple[bytes, bytes | bytearray, int],
    head: CsvHead,
    names: list[str],
    null_values: tuple[str, ...],
    lines_before: int,
) -> RawTable:
    """Return the rows of a run numbered as file lines.

    ``data`` is the file's header line, the bytes the run starts, and where in them it ends (the
    run is not copied out of them); ``lines_before`` is how many lines of the file come before
    the run, the header's included, less one.
    """
    header, buffer, end = data
    rejected: list[tuple[int, str]] = []

    def reject(row: pacsv.InvalidRow) -> str:
        rejected.append((row.actual_columns, row.text))
        return "skip"

    read = pacsv.ReadOptions(
        encoding="utf8" if head.encoding in ("utf-8", "utf8") else head.encoding,
        column_names=names,
        skip_rows=0,
        block_size=8 << 20,
    )
    parse = pacsv.ParseOptions(delimiter=head.delimiter, invalid_row_handler=reject)
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.large_string()),
        null_values=list(null_values),
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    try:
        # pyarrow calls a run with no bytes an empty file: a header with no rows has no rows.
        table = (
            pa.table({name: pa.array([], pa.large_string()) for name in names})
            if not end
            else pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(buffer).slice(0, end)),
                read_options=read,
                parse_options=parse,
                convert_options=convert,
            )
        )
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error) or "utf-8" in str(error).lower():
            line = _first_non_utf8_line(path)
            raise ExtractError(
                f"{path}: line {line} is not valid UTF-8 although "
                + ("the file starts with a UTF-8 byte-order mark" if _has_bom(path) else "earlier lines are"),
                hint="re-save the file as UTF-8, or give the encoding (--encoding cp1252)",
            ) from None
        # pyarrow's own message may quote a row's content: never show it.
        raise ExtractError(
            f"{path}: cannot be read as delimited text", hint="check the file is a CSV export"
        ) from None
    except UnicodeDecodeError as error:
        raise ExtractError(f"{path}: a byte is not {head.encoding} (byte {error.start} of a block)") from None
    if len(rejected) > TOO_MANY_REJECTED:
        _too_many_rejected(path, len(rejected), len(names), head.delimiter)
    texts = [text for _, text in rejected]
    met = table.num_rows + len(rejected)
    # Each row one line of the run (its line breaks counted): no value holds a line break.
    one_line_each = not rejected and _one_line_each(buffer, end, table)
    breaks, longest = (np.zeros(met, dtype=np.int64), 0) if one_line_each else _breaks_per_row(table)
    rejected_breaks = np.array([len(LINE_BREAK.findall(text)) for text in texts], dtype=np.int64)
    longest = max([longest, *(len(text) for text, n in zip(texts, rejected_breaks, strict=True) if n)])
    if longest > LONGEST_VALUE:
        _stop_swallowed_rows(path, head.delimiter, longest)
    if one_line_each:
        rows, lines = np.arange(2, met + 2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    else:
        rows, lines = row_lines_in(header + buffer[:end], path, met, texts, head.encoding, head.delimiter)
    rows, lines = rows + lines_before, lines + lines_before
    reasons = [
        f"row has {count} field{'s' * (count != 1)} where the header has {len(names)}"
        for count, _ in rejected
    ]
    split_failures = pa.table(
        {
            "source_row": pa.array(lines, pa.int64()),
            "reason": pa.array(reasons, pa.large_string()),
            "text": pa.array(texts, pa.large_string()),
        }
    )
    inside = _lines_inside(np.concatenate((rows, lines)), np.concatenate((breaks, rejected_breaks)))
    rejects = pa.concat_tables([split_failures, inside]).sort_by("source_row")
    return RawTable(str(path), table, rows, rejects, head.notes, one_line_each)


def _one_line_each(buffer: bytes | bytearray, end: int, table: pa.Table) -> bool:
    """Return whether each row of ``table``, read from ``buffer[:end]``, is one LF-ended line of it.

    Blank lines and line breaks inside values each add a line break without a row, so the count
    of line breaks matches the rows only when neither occurs, with one exception: a run cut
    inside a quoted value (pyarrow reads a quote left open at the end of its input as a value to
    the end) whose only line break inside a value is that last byte: the last row says so.
    """
    rows = table.num_rows
    if not end:
        return rows == 0
    if buffer[0] == LF or buffer.find(b"\r", 0, end) >= 0:
        return False
    if buffer.count(b"\n", 0, end) + int(buffer[end - 1] != LF) != rows:
        return False
    last = table.slice(rows - 1).to_pylist()[0].values() if rows else ()
    return not any(isinstance(value, str) and "\n" in value for value in last)


def _too_many_rejected(path: Path, rejected: int, fields: int, delimiter: str) -> None:
    raise ExtractError(
        f"{path}: {rejected:,} rows do not have the header's {fields} fields",
        hint=f"is the delimiter {delimiter!r} right? (--delimiter)",
    )


def _breaks_per_row(table: pa.Table) -> tuple[np.ndarray, int]:
    """Return the line breaks inside each row's values, and the length of the longest value with one."""
    breaks = np.zeros(table.num_rows, dtype=np.int64)
    longest = 0
    for column in table.columns:
        if not may_hold_break(column):
            continue
        broken = pc.fill_null(pc.match_substring_regex(column, "[\r\n]"), False)
        if pc.any(broken).as_py():
            counted = pc.fill_null(pc.count_substring_regex(column, LINE_BREAK.pattern), 0)
            breaks += np.asarray(counted.to_numpy(zero_copy_only=False), dtype=np.int64)
            longest = max(longest, pc.max(pc.utf8_length(pc.filter(column, broken))).as_py())
    return breaks, longest


def may_hold_break(column: pa.ChunkedArray) -> bool:
    """Return False when no value of a text ``column`` can hold a line break (True may be wrong)."""
    return any_byte(column, lambda byte: (byte == LF) | (byte == CR))


def _lines_inside(starts: np.ndarray, breaks: np.ndarray) -> pa.Table:
    """Return one rejected row for each file line read inside a value of the row starting at ``starts``.

    The row itself is set aside for its line break (:mod:`rfd_lib.extracts.reading`); the lines inside it
    are counted here, so that rows read counts the lines of the file, not what a quote made of them.
    """
    spanning = breaks > 0
    counts = breaks[spanning]
    first = np.repeat(starts[spanning], counts)
    step = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    return pa.table(
        {
            "source_row": pa.array(first + step, pa.int64()),
            "reason": pc.binary_join_element_wise(
                pa.scalar("read inside a value of the row on line ", pa.large_string()),
                pc.cast(pa.array(first), pa.large_string()),
                pa.scalar(" (a quote left open there?)", pa.large_string()),
                pa.scalar("", pa.large_string()),
            ),
            "text": pa.nulls(len(first), pa.large_string()),
        }
    )


def _stop_swallowed_rows(path: Path, delimiter: str, longest: int) -> None:
    """Raise ExtractError naming the line of the quote that swallowed the rows after it.

    A value of ``longest`` characters holds a line break: no real value is that long.
    """
    found = open_quote(path, delimiter, LONGEST_VALUE)
    where = (
        f"line {found[0]}: a quote opens a value that runs over {found[1]:,} lines"
        if found
        else "a value runs over several lines"
    )
    raise ExtractError(
        f"{path}: {where}, longer than any real value ({longest:,} characters): the rows in it would be lost",
        hint="close or remove the stray quote, or export again with text values quoted",
    )


def name_blanks(header: list[str]) -> list[str]:
    """Return ``header`` with each blank name made ``column_N`` (N its position), unlike any other."""
    taken = {name.casefold() for name in header}
    names = []
    for position, name in enumerate(header, start=1):
        made = name or f"column_{position}"
        while not name and made.casefold() in taken:
            made = f"_{made}"
        taken.add(made.casefold())
        names.append(made)
    return names


def _looks_utf16(sample: bytes) -> bool:
    """Return whether ``sample`` is UTF-16 text: a zero byte in most even or most odd positions."""
    pairs = len(sample) // 2
    return pairs > 0 and max(sample[0::2].count(0), sample[1::2].count(0)) > pairs // 2


def _sniff_encoding(path: Path, sample: bytes) -> str:
    """Return 'utf-8' or 'cp1252' for the file whose first bytes are ``sample``."""
    # Cut at the last newline so that a multi-byte character split by the sample is not blamed.
    cut = (
        sample if len(sample) < SAMPLE_BYTES else sample[: max(sample.rfind(b"\n"), sample.rfind(b"\r")) + 1]
    )
    try:
        cut.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        line = cut.count(b"\n", 0, error.start) + 1
        if sample.startswith(UTF8_BOM):
            raise ExtractError(
                f"{path}: starts with a UTF-8 byte-order mark but line {line} is not UTF-8 "
                "(it looks like cp1252)",
                hint="re-save the file as UTF-8, or read it as cp1252 (--encoding cp1252)",
            ) from None
    try:
        cut.decode("cp1252")
    except UnicodeDecodeError as error:
        line = cut.count(b"\n", 0, error.start) + 1
        raise ExtractError(
            f"{path}: line {line} is neither UTF-8 nor cp1252", hint="re-save the file as UTF-8"
        ) from None
    return "cp1252"


def _sniff_delimiter(header: str) -> str:
    """Return the commonest candidate delimiter outside quotes in the header line (',' if none)."""
    outside = "".join(part for i, part in enumerate(header.split('"')) if i % 2 == 0)
    counts = Counter(ch for ch in outside if ch in DELIMITERS)
    return counts.most_common(1)[0][0] if counts else ","


def check_header(where: str | Path, header: list[str]) -> None:
    """Raise ExtractError when ``header`` names a column twice or holds a name without a letter.

    Names are compared ignoring case, as SQL Server does. A date or number in the header means the
    header row is missing and the "name" is a patient's value, which is never printed.
    """
    valueless = [
        position for position, name in enumerate(header, start=1) if name and not _LETTER.search(name)
    ]
    if valueless:
        raise ExtractError(
            f"{where}: the name of column {valueless[0]} has no letters (a date or a number?): "
            "is the header row missing?",
            hint="put the column names in the first row, or rename the column",
        )
    folded = Counter(name.casefold() for name in header if name)
    twice = sorted(name for name, count in folded.items() if count > 1)
    if twice:
        raise ExtractError(
            f"{where}: the header names {', '.join(twice)} more than once",
            hint="each column needs its own name",
        )


def _has_bom(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(3) == UTF8_BOM


def _first_non_utf8_line(path: Path) -> int:
    """Return the file line of the first byte that is not UTF-8 (only read when there is one)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(SAMPLE_BYTES), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return line + chunk.count(b"\n", 0, max(error.start, 0))
            line += chunk.count(b"\n")
    return line
