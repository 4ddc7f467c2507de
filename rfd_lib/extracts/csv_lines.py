r"""Find the file line each row of a delimited file starts on, as an analyst would look for it.

pyarrow numbers no rows, skips blank lines, ends a line at ``\n``, ``\r\n`` or a lone ``\r``, and
lets a quoted value run over several lines. So rows are numbered here from the bytes themselves:
every line break (vectorised over the file in chunks), blank lines left out, and — only when some
row spans lines — the line breaks inside quotes left out too (a quote counts only where it can
open or close a quoted value: next to a delimiter or a line end, as pyarrow reads it). A row that
could not be split into fields is found by its exact text at the start of a row, never as a prefix
of a longer one.
"""

from __future__ import annotations

import codecs
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rfd_lib.errors import ExtractError

CHUNK = 64 << 20
LF, CR, QUOTE = ord("\n"), ord("\r"), ord('"')


@dataclass(frozen=True)
class _Rows:
    """Where each row (header first) starts and ends in the file, and the line it starts on."""

    starts: np.ndarray  # int64 byte offset of each row's first byte
    ends: np.ndarray  # int64 byte offset just past each row's last byte (before its line break)
    lines: np.ndarray  # int64 file line (from 1) each row starts on


def row_lines(
    path: Path, rows_read: int, rejected: list[str], encoding: str, delimiter: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return the file line of each accepted row and of each ``rejected`` row text, in order given.

    ``rows_read`` counts the data rows pyarrow met (accepted and rejected), the header aside.
    Raises :class:`ExtractError` when the rows cannot be numbered (a stray quote in a value and a
    value over several lines), rather than name the wrong rows.
    """
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return row_lines_in(data, path, rows_read, rejected, encoding, delimiter)


def row_lines_in(
    data: mmap.mmap | bytes,
    where: Path | str,
    rows_read: int,
    rejected: list[str],
    encoding: str,
    delimiter: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Return what :func:`row_lines` returns, for the bytes of a file (or of its header and a run of rows).

    ``where`` names the file in an error.
    """
    if not rejected and _one_row_per_line(data, rows_read + 1):
        return np.arange(2, rows_read + 2, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = _rows(data, rows_read + 1, ord(delimiter))
    # Raised outside _rows: a live view of the mapped file would stop the file closing.
    at = None if rows is None else _rejected_rows(data, rows, rejected, encoding)
    if rows is None or at is None:
        raise ExtractError(
            f"{where}: its rows cannot be numbered (a value holds a line break, and a quote in a "
            "value neither opens nor closes it)",
            hint="export it again with text values quoted, or without line breaks inside values",
        )
    data_lines = rows.lines[1:]
    return np.delete(data_lines, at - 1), rows.lines[at]


def open_quote(path: Path, delimiter: str, longest: int) -> tuple[int, int] | None:
    """Return the line of the first quote opening a value over lines, and the lines it runs over.

    Such a value runs over a line break for more than ``longest`` bytes (or to the end of the
    file); None if there is none. Quotes are paired in order, as a reader pairs them: each
    opening quote is closed by the next.
    """
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        bytes_ = np.frombuffer(data, dtype=np.uint8)
        quotes = _quote_marks(bytes_, ord(delimiter))
        breaks = _line_breaks(bytes_)[0]
        opens = quotes[0::2]
        closes = np.concatenate((quotes[1::2], [len(bytes_)] * (len(opens) - len(quotes[1::2]))))
        # The line (from 1) each quote is on; a file's last line break ends a line, opens none.
        lines = len(breaks) + int(len(breaks) == 0 or breaks[-1] != len(bytes_) - 1)
        first, last = (
            np.searchsorted(breaks, opens) + 1,
            np.minimum(np.searchsorted(breaks, closes) + 1, lines),
        )
        runaway = np.flatnonzero((last > first) & (closes - opens > longest))
        del bytes_  # a live view of the mapped file would stop it closing
    if not len(runaway):
        return None
    at = runaway[0]
    return int(first[at]), int(last[at] - first[at]) + 1


def _one_row_per_line(data: mmap.mmap | bytes, expected: int) -> bool:
    """Return whether the file has ``expected`` lines, each ended by LF or CRLF (no lone CR).

    A row takes at least one line and a blank line none, so then each row is one line and row
    n is line n: the common case, told by counting bytes, a chunk at a time, without the arrays of
    offsets that numbering every line needs.
    """
    if isinstance(data, bytes) and data and data[0] not in (LF, CR) and data.find(b"\r") < 0:
        # No carriage return at all: count the line feeds in one pass of C (bytes.count).
        return data.count(b"\n") + int(data[-1] != LF) == expected
    bytes_ = np.frombuffer(data, dtype=np.uint8)
    size = len(bytes_)
    if not size or bytes_[0] in (LF, CR):
        return False
    line_feeds = 0
    for start in range(0, size, CHUNK):
        piece = bytes_[start : start + CHUNK]
        line_feeds += int(np.count_nonzero(piece == LF))
        returns = np.flatnonzero(piece == CR) + start
        # A CR not followed by LF ends a line of its own (old Mac files): number every line.
        if len(returns) and not np.all(bytes_[np.minimum(returns + 1, size - 1)] == LF):
            return False
    lines = line_feeds + int(bytes_[-1] != LF)
    return lines == expected


def _rows(data: mmap.mmap | bytes, expected: int, delimiter: int) -> _Rows | None:
    """Return the ``expected`` non-blank rows: one per line, or per quote-balanced run of lines.

    Returns None when neither way gives ``expected`` rows.
    """
    bytes_ = np.frombuffer(data, dtype=np.uint8)
    breaks, content_ends = _line_breaks(bytes_)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((content_ends, [len(bytes_)]))
    lines = np.arange(1, len(starts) + 1, dtype=np.int64)
    blank = ends <= starts
    if np.count_nonzero(~blank) != expected:
        # Some row spans lines: a break is inside quotes when an odd number of quotes precede it.
        quotes = np.searchsorted(_quote_marks(bytes_, delimiter), breaks)
        inside = np.concatenate(([False], quotes % 2 == 1))
        first = np.flatnonzero(~inside)
        last = np.concatenate((first[1:] - 1, [len(starts) - 1]))
        starts, ends, lines = starts[first], ends[last], lines[first]
        blank = ends <= starts
        if np.count_nonzero(~blank) != expected:
            return None
    keep = ~blank
    return _Rows(starts[keep], ends[keep], lines[keep])


def _line_breaks(bytes_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the offset of each line break's last byte and of the end of the line it closes."""
    lf = _positions(bytes_, LF)
    cr = _positions(bytes_, CR)
    follows = np.zeros(len(cr), dtype=bool)
    inside = cr + 1 < len(bytes_)
    follows[inside] = bytes_[cr[inside] + 1] == LF
    lone = cr[~follows]
    # The two never share an offset, so a sort merges them (np.union1d is ten times slower here).
    breaks = np.sort(np.concatenate((lf, lone)), kind="stable") if len(lone) else lf
    before = np.zeros(len(breaks), dtype=bool)
    after_first = breaks > 0
    before[after_first] = bytes_[breaks[after_first] - 1] == CR
    return breaks, breaks - (before & (bytes_[breaks] == LF))


def _positions(bytes_: np.ndarray, value: int) -> np.ndarray:
    """Return the offsets of ``value`` in ``bytes_``, a chunk at a time to bound memory."""
    found = [
        np.flatnonzero(bytes_[start : start + CHUNK] == value) + start
        for start in range(0, len(bytes_), CHUNK)
    ]
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, dtype=np.int64)


def _quote_marks(bytes_: np.ndarray, delimiter: int) -> np.ndarray:
    """Return the offsets of the quotes that can open or close a quoted value.

    A quote inside an unquoted value (``O"Brien``) is text to pyarrow, so it must not be counted.
    """
    quotes = _positions(bytes_, QUOTE)
    last = len(bytes_) - 1
    before_byte = bytes_[np.maximum(quotes - 1, 0)]
    after_byte = bytes_[np.minimum(quotes + 1, last)]
    # Three comparisons, not np.isin (which sorts): this runs over every quote of a big extract.
    before = (before_byte == delimiter) | (before_byte == LF) | (before_byte == CR) | (quotes == 0)
    after = (after_byte == delimiter) | (after_byte == LF) | (after_byte == CR) | (quotes == last)
    return quotes[before | after]


def _rejected_rows(
    data: mmap.mmap | bytes, rows: _Rows, rejected: list[str], encoding: str
) -> np.ndarray | None:
    """Return the row index (header = 0) of each rejected row text, matching whole rows only.

    Returns None when a text is not the whole of any row (the rows were split wrongly).
    """
    byte_encoding = "utf-8" if codecs.lookup(encoding).name.startswith("utf-8") else encoding
    found = np.zeros(len(rejected), dtype=np.int64)
    resume: dict[str, int] = {}
    # At most TOO_MANY_REJECTED texts: the file's reader stops before this loop grows.
    for number, text in enumerate(rejected):
        needle = text.encode(byte_encoding)
        at = data.find(needle, resume.get(text, int(rows.ends[0])))
        while at >= 0:
            row = int(np.searchsorted(rows.starts, at))
            if row < len(rows.starts) and rows.starts[row] == at and rows.ends[row] == at + len(needle):
                break
            at = data.find(needle, at + 1)
        if at < 0:
            return None
        found[number] = row
        resume[text] = at + 1
    return found


def last_line_end(data: bytes) -> int:
    """Return the offset just past the last line break of ``data`` (0 if none), quotes ignored.

    A carriage return as the last byte is not taken: the line feed of its CRLF may come next.
    """
    return max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1


def last_row_end(data: bytes, delimiter: str) -> int:
    """Return the offset just past the last line break in ``data`` that ends a row; 0 if none does.

    ``data`` starts at the start of a row. A line break ends a row when an even number of quotes
    (those that can open or close a value, as :func:`_quote_marks` finds them) come before it.
    A carriage return as the last byte is not taken: the line feed of its CRLF may come next.
    """
    if b'"' not in data:
        return last_line_end(data)
    quotes = _quote_marks(np.frombuffer(data, dtype=np.uint8), ord(delimiter))
    # From the last line break back: the first with an even count of quotes before it.
    lf, cr = data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)
    while True:
        end = max(lf, cr)
        if end < 0:
            return 0
        crlf = end == cr and end + 1 < len(data) and data[end + 1] == LF  # its LF was looked at already
        if not crlf and np.searchsorted(quotes, end) % 2 == 0:
            return end + 1
        if end == lf:
            lf = data.rfind(b"\n", 0, end)
        else:
            cr = data.rfind(b"\r", 0, end)


def count_lines(data: bytes) -> int:
    """Return how many line breaks (LF, CRLF or a lone CR) ``data`` holds."""
    if b"\r" not in data:
        return data.count(b"\n")
    return len(_line_breaks(np.frombuffer(data, dtype=np.uint8))[0])
