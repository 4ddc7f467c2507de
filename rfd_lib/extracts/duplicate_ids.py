"""Find identifiers given to more than one spell, across an extract of any size: :class:`RepeatedValues`.

A spell identifier repeated anywhere in the extract is a data-quality finding, and one shared by
two sources stops the run (:mod:`rfd_lib.extracts.reading`). Finding them needs every identifier
at once, which a national extract read batch by batch never holds. So each batch's identifiers
(with where each came from) are kept in memory up to ``in_memory_rows`` and beyond that written
to disk in ``buckets`` files by a hash of the text: equal identifiers always share a bucket, so
each bucket is then checked on its own, exactly, and memory holds one bucket at a time.
Identifiers are compared as text, exactly as written (after the reader's trimming).

An extract in identifier order (whole numbers rising strictly from row to row and batch to
batch, as a query ordered by its identifier gives) can repeat none: equal texts are equal
numbers. Its values are still held, in case a later batch breaks the order, but are hashed and
compared only if one does (or when they are spilled to disk).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from rfd_lib.arrow_text import any_byte

BUCKETS = 32
# About 175 MB: one national quarter's identifiers are checked without touching the disk.
IN_MEMORY_ROWS = 5_000_000
EXAMPLES = 5
# Bytes from the end of an identifier that choose its bucket (the end varies most: S000123, S000124).
HASHED_BYTES = 8
# A value of at most this many digits is hashed as its number (it fits in 64 bits).
DIGITS = 18


@dataclass(frozen=True)
class Repeated:
    """What :meth:`RepeatedValues.finish` found: the values given to more than one row.

    ``values``: each repeated value once; ``rows``: how many rows carry one; ``examples``: the
    first few such rows as (source number, row) in source then row order; ``shared``: for each
    pair of sources (lower number first) that both hold a value, how many values they share, the
    pairs in order.
    """

    values: pa.Array
    rows: int
    examples: list[tuple[int, int]]
    shared: list[tuple[int, int, int]]


@dataclass(frozen=True)
class Noted:
    """One batch's values of a column, made ready for :meth:`RepeatedValues.add` by :func:`note`.

    ``table``: each value (NULLs left out) with its file ``row``, and its ``hash`` unless the
    values rise; ``rising``: whether they are whole numbers rising strictly from row to row,
    ``first`` and ``last`` the first and last of them; ``hashes``: the hashes, sorted (None
    when the values rise: they are hashed only if a later batch breaks the order).
    """

    table: pa.Table
    rising: bool
    first: int | None = None
    last: int | None = None
    hashes: np.ndarray | None = None


def note(values: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> Noted:
    """Return one batch's ``values`` (at file ``rows``) ready to add, hashed and sorted unless they rise.

    Pure, so that it runs in the thread that reads the batch, beside the others.
    """
    text = pc.cast(values, pa.large_string())
    table = pa.table({"value": text, "row": pa.array(rows, pa.int64())}).filter(pc.is_valid(text))
    try:
        numbers = pc.cast(table.column("value"), pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = None
    if numbers is not None and not len(numbers):
        return Noted(table, rising=True)
    if numbers is not None and bool(np.all(numbers[1:] > numbers[:-1])):
        return Noted(table, rising=True, first=int(numbers[0]), last=int(numbers[-1]))
    hashes = _hashed(table.column("value"))
    return Noted(table.add_column(1, "hash", pa.array(hashes)), rising=False, hashes=np.sort(hashes))


class RepeatedValues:
    """Collect a column's values batch by batch and find those given to more than one row."""

    def __init__(self, *, in_memory_rows: int = IN_MEMORY_ROWS, buckets: int = BUCKETS) -> None:
        self._held: list[pa.Table] = []
        self._sorted: list[np.ndarray | None] = []  # each held table's hashes, sorted, if made
        self._held_rows = 0
        self._in_memory_rows = in_memory_rows
        self._buckets = buckets
        self._folder: Path | None = None
        self._parts = 0
        # Whether every value so far is a whole number above the one before it, and the last.
        self._rising = True
        self._last: int | None = None

    def add(self, noted: Noted, source: int) -> None:
        """Add one batch's values of source number ``source``, made ready by :func:`note`."""
        table = noted.table
        table = table.add_column(
            table.column_names.index("row"), "source", pa.array(np.full(table.num_rows, source, np.int32))
        )
        if self._rising and table.num_rows:
            after = self._last is None or (noted.first is not None and noted.first > self._last)
            self._rising = noted.rising and after
            self._last = noted.last
        self._held.append(table)
        self._sorted.append(noted.hashes)
        self._held_rows += table.num_rows
        if self._held_rows > self._in_memory_rows:
            self._spill()

    def finish(self) -> Repeated:
        """Return the repeated values and where they are; the files written on the way are removed."""
        try:
            if self._rising:
                found = []
            elif self._folder is None:
                runs = self._sorted
                # Sorted runs are merged (a stable sort finds them), far quicker than one sort of all.
                ordered = (
                    np.sort(np.concatenate(runs), kind="stable") if all(r is not None for r in runs) else None
                )
                found = [_repeated_in(_concat(self._held), ordered)]
            else:
                self._spill()
                found = [
                    _repeated_in(_concat([feather.read_table(part) for part in sorted(bucket.iterdir())]))
                    for bucket in sorted(self._folder.iterdir())
                ]
        finally:
            self._held, self._sorted, self._held_rows = [], [], 0
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
        values = pa.concat_arrays([part[0] for part in found]) if found else pa.array([], pa.large_string())
        rows = sum(part[1] for part in found)
        examples = sorted(example for part in found for example in part[2])[:EXAMPLES]
        shared: dict[tuple[int, int], int] = {}
        for part in found:
            for one, other, count in part[3]:
                shared[(one, other)] = shared.get((one, other), 0) + count
        return Repeated(values, rows, examples, [(*pair, count) for pair, count in sorted(shared.items())])

    def _spill(self) -> None:
        """Write the held values to their buckets' files on disk and let them go."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="rfd-audit-ids-"))
        table = _concat(self._held)
        self._held, self._sorted, self._held_rows = [], [], 0
        if not table.num_rows:
            return
        bucket = (table.column("hash").to_numpy() % np.uint64(self._buckets)).astype(np.int64)
        for number in np.unique(bucket):
            folder = self._folder / f"{number:03d}"
            folder.mkdir(exist_ok=True)
            feather.write_feather(
                table.filter(pa.array(bucket == number)),
                folder / f"{self._parts:06d}.arrow",
                compression="lz4",
            )
        self._parts += 1


def bucket_of(values: pa.ChunkedArray | pa.Array, buckets: int) -> np.ndarray:
    """Return a bucket number in ``[0, buckets)`` for each text value: equal texts, equal buckets."""
    return (_hashed(values) % np.uint64(buckets)).astype(np.int64)


def _hashed(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return a 64-bit hash of each text value: equal texts, equal hashes (unequal ones rarely).

    A value of 1 to 18 digits is its own number (``007`` and ``7`` share one, and are then told
    apart as text); any other, a polynomial hash of its last bytes and its length. Both are
    worked out over all the values at once from Arrow's buffers (no Python per value).
    """
    whole = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    text = pc.cast(whole, pa.large_string())
    array = pc.cast(text, pa.large_binary())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data_buffer = array.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(1, np.uint8)
    if not len(data):
        data = np.zeros(1, np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    # Spell identifiers are usually digits: reading them as numbers is far cheaper than hashing.
    short = len(text) and not text.null_count and lengths.min() >= 1 and lengths.max() <= DIGITS
    if short and not any_byte(text, lambda byte: (byte < 0x30) | (byte > 0x39)):
        return pc.cast(text, pa.int64()).to_numpy().view(np.uint64)
    hashed = _text_hashed(data, starts, ends)
    numeric = pc.fill_null(pc.match_substring_regex(text, f"^[0-9]{{1,{DIGITS}}}$"), False)
    if pc.any(numeric).as_py():
        digits = pc.cast(pc.filter(text, numeric), pa.int64()).to_numpy().view(np.uint64)
        hashed[np.asarray(numeric.to_numpy(zero_copy_only=False), dtype=bool)] = digits
    return hashed


def _text_hashed(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return the polynomial hash of each value ``data[start:end]``: its length and last bytes."""
    hashed = (ends - starts).astype(np.uint64)
    for back in range(1, HASHED_BYTES + 1):
        at = ends - back
        byte = np.where(at >= starts, data[np.clip(at, 0, len(data) - 1)], 0).astype(np.uint64)
        hashed = hashed * np.uint64(1_000_003) + byte
    return hashed


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Return the held ``tables`` as one, with the ``hash`` of each value."""
    if not tables:
        return pa.table(
            {
                "value": pa.array([], pa.large_string()),
                "hash": pa.array([], pa.uint64()),
                "source": pa.array([], pa.int32()),
                "row": pa.array([], pa.int64()),
            }
        )
    # A batch held while the values rose was not hashed: it is now.
    return pa.concat_tables(
        [
            table
            if "hash" in table.column_names
            else table.add_column(1, "hash", pa.array(_hashed(table.column("value"))))
            for table in tables
        ]
    )


def _repeated_in(
    table: pa.Table, ordered: np.ndarray | None = None
) -> tuple[pa.Array, int, list[tuple[int, int]], list[tuple[int, int, int]]]:
    """Return one bucket's repeated values, the rows holding one, the first examples and shared pairs.

    Only values whose hash is repeated can be: those few are then compared as text, exactly.
    ``ordered``: the table's hashes sorted, if known already.
    """
    hashes = table.column("hash").to_numpy()
    ordered = np.sort(hashes) if ordered is None else ordered
    clashing = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    table = table.filter(pa.array(np.isin(hashes, clashing)))
    counted = table.group_by("value").aggregate([("row", "count")])
    repeated = counted.filter(pc.greater(counted.column("row_count"), 1)).column("value").combine_chunks()
    if not len(repeated):
        return repeated, 0, [], []
    rows = table.filter(pc.is_in(table.column("value"), repeated))
    first = rows.sort_by([("source", "ascending"), ("row", "ascending")]).slice(0, EXAMPLES)
    examples = list(zip(first.column("source").to_pylist(), first.column("row").to_pylist(), strict=True))
    holders = rows.group_by(["value", "source"]).aggregate([])
    pairs = holders.join(holders, "value", right_suffix="_other").filter(
        pc.less(pc.field("source"), pc.field("source_other"))
    )
    counted_pairs = pairs.group_by(["source", "source_other"]).aggregate([("value", "count")])
    shared = list(
        zip(
            counted_pairs.column("source").to_pylist(),
            counted_pairs.column("source_other").to_pylist(),
            counted_pairs.column("value_count").to_pylist(),
            strict=True,
        )
    )
    return repeated, rows.num_rows, examples, shared
