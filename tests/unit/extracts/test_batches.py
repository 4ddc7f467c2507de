"""Reading an extract a batch at a time gives what reading it whole gives, row for row.

The synthetic set (every column profile, cp1252, a BOM, quarantined rows, findings, duplicate
identifiers) and hostile CSVs (CRLF, lone CR, values over several lines, rows of the wrong width,
blank lines) are read in tiny batches and compared with one batch per source.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from rfd_lib.extracts.csv_source import iter_csv, read_head
from rfd_lib.extracts.duplicate_ids import RepeatedValues, bucket_of, note
from rfd_lib.extracts.reading import QuarantineWarning, load_extracts
from rfd_lib.synthetic.extract_set import write_extracts
from tests.unit.extracts.test_bad_inputs import GOOD, HEADER

WHOLE = 10**9


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_extracts(tmp_path_factory.mktemp("batches"))


def _read(sources, batch_rows, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuarantineWarning)
        return load_extracts(sources, batch_rows=batch_rows, **options)


@pytest.mark.parametrize("batch_rows", [613, 2_000])
def test_the_synthetic_set_read_in_batches_is_the_set_read_whole(written, batch_rows):
    whole, batched = _read(written.extracts, WHOLE), _read(written.extracts, batch_rows)
    pd.testing.assert_frame_equal(batched.spells, whole.spells)
    pd.testing.assert_frame_equal(batched.quarantine, whole.quarantine)
    pd.testing.assert_frame_equal(batched.reconciliation, whole.reconciliation)
    key = ["check", "column", "description"]
    pd.testing.assert_frame_equal(
        batched.findings.sort_values(key, ignore_index=True),
        whole.findings.sort_values(key, ignore_index=True),
    )
    assert batched.notes == whole.notes
    assert (whole.reconciliation["rows_read"] > batch_rows).any()  # some source really is cut


HOSTILE = {
    "crlf": "\r\n".join([HEADER, *GOOD]) + "\r\n",
    "lone carriage returns": "\r".join([HEADER, *GOOD]) + "\r",
    "no line break at the end": "\n".join([HEADER, *GOOD]),
    "blank lines between rows": "\n".join([HEADER, GOOD[0], "", "", GOOD[1], "", GOOD[2]]) + "\n\n",
    "a value over three lines": "\n".join(
        [HEADER, GOOD[0], GOOD[1].replace("M170,", 'M170,"a\nb\nc",', 1), GOOD[2], GOOD[0]]
    )
    + "\n",
    "rows of the wrong width": "\n".join([HEADER, GOOD[0], "1,2,3", GOOD[1], "x", GOOD[2]]) + "\n",
    "quotes without line breaks": "\n".join([HEADER, *[row.replace("ZA1", '"ZA1"') for row in GOOD]]) + "\n",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("chunk_bytes", [1, 7, 64, 200])
def test_a_csv_cut_in_runs_numbers_and_splits_its_rows_as_when_read_whole(tmp_path, text, chunk_bytes):
    path = tmp_path / "extract.csv"
    path.write_bytes(text.encode())
    head = read_head(path)
    whole = list(iter_csv(path, head, ("",), chunk_bytes=1 << 30))
    cut = list(iter_csv(path, head, ("",), chunk_bytes=chunk_bytes))
    assert len(whole) == 1
    assert len(cut) > 1
    assert pa.concat_tables([piece.table for piece in cut]).equals(whole[0].table)
    assert np.concatenate([piece.rows for piece in cut]).tolist() == whole[0].rows.tolist()
    assert pa.concat_tables([piece.rejected for piece in cut]).sort_by("source_row").equals(whole[0].rejected)


def test_repeated_identifiers_spilled_to_disk_are_those_found_in_memory():
    rng = np.random.default_rng(7)
    batches = [pa.array([f"S{n:06d}" for n in rng.integers(0, 3_000, 1_000)]) for _ in range(6)]
    held, spilled = RepeatedValues(), RepeatedValues(in_memory_rows=500, buckets=5)
    for number, batch in enumerate(batches):
        rows = np.arange(2, 2 + len(batch))
        held.add(note(batch, rows), number % 2)
        spilled.add(note(batch, rows), number % 2)
    one, other = held.finish(), spilled.finish()
    assert sorted(one.values.to_pylist()) == sorted(other.values.to_pylist())
    assert (one.rows, one.examples, one.shared) == (other.rows, other.examples, other.shared)
    everything = pd.Series(pa.concat_arrays(batches).to_pylist())
    assert one.rows == int(everything.duplicated(keep=False).sum())


def test_equal_identifiers_always_fall_in_the_same_bucket():
    values = pa.array(["S1", "S1", "", "ABCDEFGHIJKLMN", "ABCDEFGHIJKLMN", "x" * 40, "x" * 40, None])
    buckets = bucket_of(values, 7)
    assert buckets[0] == buckets[1] and buckets[3] == buckets[4] and buckets[5] == buckets[6]
    assert ((buckets >= 0) & (buckets < 7)).all()


@pytest.mark.parametrize("spilled", [False, True], ids=["in memory", "spilled"])
def test_identifiers_in_order_repeat_nothing_until_a_batch_breaks_the_order(spilled):
    options = {"in_memory_rows": 3, "buckets": 2} if spilled else {}
    rising = RepeatedValues(**options)
    for batch in (["5001", "5003", None], ["5004", "5010"]):
        rising.add(note(pa.array(batch), np.arange(2, 2 + len(batch))), 0)
    assert rising.finish().rows == 0

    broken = RepeatedValues(**options)
    for batch in (["5001", "5003"], ["5004", "5010"], ["5003", "6000"]):
        broken.add(note(pa.array(batch), np.arange(2, 2 + len(batch))), 0)
    found = broken.finish()
    assert found.values.to_pylist() == ["5003"] and found.rows == 2


def test_identifiers_equal_as_numbers_but_not_as_text_are_not_repeated():
    repeated = RepeatedValues()
    repeated.add(note(pa.array(["007", "7", "8"]), np.arange(2, 5)), 0)
    assert repeated.finish().rows == 0
    equal = RepeatedValues()
    equal.add(note(pa.array(["7", "8", "7"]), np.arange(2, 5)), 0)
    assert equal.finish().values.to_pylist() == ["7"]


def test_an_identifier_is_found_repeated_between_a_batch_of_digits_and_one_with_letters():
    # A batch of digits alone is hashed as numbers, one with letters value by value: the same
    # identifier must meet itself across the two.
    repeated = RepeatedValues()
    repeated.add(note(pa.array(["9123", "9001", "0042"]), np.arange(2, 5)), 0)
    repeated.add(note(pa.array(["X1", "9123", "42"]), np.arange(5, 8)), 0)
    found = repeated.finish()
    assert found.values.to_pylist() == ["9123"] and found.rows == 2
    assert bucket_of(pa.array(["9123", "9001"]), 7)[0] == bucket_of(pa.array(["X1", "9123"]), 7)[1]
