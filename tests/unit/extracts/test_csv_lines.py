"""The fast count of rows (one per line) agrees with numbering every line, or declines to answer."""

from __future__ import annotations

import mmap

import numpy as np
import pytest

from rfd_lib.extracts import csv_lines

CASES = [
    # (file bytes, data rows pyarrow reads, whether each row is exactly one line)
    (b"h\na\nb\n", 2, True),
    (b"h\na\nb", 2, True),
    (b"h\r\na\r\nb\r\n", 2, True),
    (b"h\na\n\nb\n", 2, False),  # a blank line is no row
    (b"h\r\na\r\n\r\nb\r\n", 2, False),
    (b"h\ra\rb\r", 2, False),  # old Mac line ends
    (b'h\n"a\nb"\nc\n', 2, False),  # a value over two lines
    (b"\nh\na\n", 1, False),
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 64 << 20])
@pytest.mark.parametrize(("content", "rows", "simple"), CASES)
def test_one_row_per_line_is_told_from_the_bytes_across_any_chunk_boundary(
    tmp_path, monkeypatch, chunk, content, rows, simple
):
    monkeypatch.setattr(csv_lines, "CHUNK", chunk)
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        assert csv_lines._one_row_per_line(data, rows + 1) is simple
        if simple:
            numbered = csv_lines._rows(data, rows + 1, ord(","))
            assert np.array_equal(numbered.lines[1:], np.arange(2, rows + 2))
