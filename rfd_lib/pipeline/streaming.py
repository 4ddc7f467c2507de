"""Read, check and classify extracts of any size in bounded memory: :func:`classify_extracts`.

The rule is row-wise, so classifying batch by batch is exact. Each batch of
:class:`~rfd_lib.extracts.reading.ExtractScan` is classified and written out (the classified
spells and the quarantine, as Parquet parts in a folder of the run's own); of its spells only
those the audit's pre-filter keeps (:func:`rfd_lib.metrics.activity.audit_prefilter`: a proven
superset of the RFD, block and injection spells the audit counts) stay in memory, and every spell
is counted in the :class:`~rfd_lib.metrics.extent.SpellExtent` (providers, quarters covered,
look-back start). :func:`write_streamed` then puts the parts together into the files a run
writes, a part at a time. Rows read = rows accepted + rows quarantined is checked per source,
as when an extract is read whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from rfd_lib.atomic import WriteError, partial_path
from rfd_lib.engine.classification import classify, classify_table
from rfd_lib.engine.prefilter import Prefilter
from rfd_lib.engine.rule import Rule
from rfd_lib.extracts.reading import DQ_PREFIX
from rfd_lib.extracts.safe_csv import neutralised, write_csv
from rfd_lib.extracts.scan import ExtractScan, ScanSummary, SpellBatch, combine_spells
from rfd_lib.extracts.writing import Written, beside
from rfd_lib.metrics.extent import SpellExtent

# The columns SpellExtent.of reads, besides the period's date.
EXTENT_COLUMNS = ("source", "provider_code", "admission_date")


@dataclass(frozen=True)
class Streamed:
    """Extracts read and classified batch by batch (see :func:`classify_extracts`).

    ``spells``: the classified spells the pre-filter keeps, as :func:`rfd_lib.classify` gives them
    (every ``dq_`` column of the extract, duplicates flagged); ``extent``: every spell counted;
    ``findings``, ``reconciliation``, ``notes`` as in :class:`~rfd_lib.extracts.reading.Extract`;
    ``spells_read``: every accepted spell; ``quarantined``: rows set aside; ``parts``: the folder
    of the written parts (:func:`write_streamed` puts them together, then removes it); ``summary``:
    the scan's :class:`~rfd_lib.extracts.scan.ScanSummary` (its repeated identifiers flag the parts).
    """

    spells: pd.DataFrame
    extent: SpellExtent
    findings: pd.DataFrame
    reconciliation: pd.DataFrame
    notes: tuple[str, ...]
    spells_read: int
    quarantined: int
    parts: Path
    summary: ScanSummary


def classify_extracts(
    sources: Iterable[str | os.PathLike[str]],
    *,
    rule: Rule,
    keep: Prefilter,
    parts: Path,
    period_date: str = "discharge_date",
    **reading: Any,
) -> Streamed:
    """Return ``sources`` read, checked and classified a batch at a time, keeping what ``keep`` keeps.

    ``parts`` is a folder of the caller's own (created; written only by this call) that receives
    each batch's classified spells and quarantined rows. ``reading`` says how the sources are
    read: :class:`~rfd_lib.extracts.scan.ExtractScan`'s keyword arguments (``profile``,
    ``delimiter``, ``encoding``, ``sheet``, ``query``, ``allow_duplicate_spells``, ``skip``,
    ``batch_rows``). Raises as :func:`~rfd_lib.extracts.reading.load_extracts` does; on an error
    ``parts`` is removed.
    """
    parts.mkdir(parents=True, exist_ok=True)
    scan = ExtractScan(sources, **reading)
    gathered = Gathered(parts)
    try:
        for batch in scan:
            gathered.add(classify_batch(batch, rule, keep, period_date))
        return gathered.streamed(scan.summary())
    except OSError as error:
        gathered.abandon()
        raise WriteError(
            f"{parts}: the classified spells cannot be written ({error.strerror or error})",
            hint="check there is space",
        ) from None
    except BaseException:
        gathered.abandon()
        raise


@dataclass(frozen=True)
class ClassifiedBatch:
    """One batch classified: all its spells (to write), those ``keep`` keeps, its extent, its quarantine."""

    classified: pa.Table
    kept: pd.DataFrame
    extent: SpellExtent
    quarantine: pa.Table


def classify_batch(batch: SpellBatch, rule: Rule, keep: Prefilter, period_date: str) -> ClassifiedBatch:
    """Return one batch of read spells classified, with the spells ``keep`` keeps and their extent."""
    spells = batch.spells
    # Every spell is classified in Arrow, for the file; the few the audit keeps are made pandas
    # frames and classified again there (the rule is row-wise: the same verdict, spell for spell).
    kept = classify(combine_spells([spells.filter(pa.array(keep.mask(spells)))], _NO_REPEATS), rule)
    # The period date may be the admission date, which the extent reads anyway: named once.
    present = [name for name in EXTENT_COLUMNS if name in spells.column_names]
    extent = list(dict.fromkeys([*present, period_date]))
    return ClassifiedBatch(
        classified=classify_table(spells, rule),
        kept=kept,
        extent=SpellExtent.of(combine_spells([spells.select(extent)], _NO_REPEATS), period_date),
        quarantine=batch.quarantine,
    )


class Gathered:
    """The classified batches so far: kept spells and extents in memory, the rest written to ``parts``.

    A batch's spells are written in a thread of their own while the next batch is read; an
    error writing them is raised by the next :meth:`add` or by :meth:`streamed`. A caller
    giving up calls :meth:`abandon`.
    """

    def __init__(self, parts: Path) -> None:
        self.parts = parts
        self._kept: list[pd.DataFrame] = []
        self._extents: list[SpellExtent] = []
        self._spells = self._quarantined = self._number = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rfd-parts")
        self._writing: Future[None] | None = None

    def add(self, batch: ClassifiedBatch) -> None:
        """Keep what the audit uses of ``batch``, write all of it to a part, count its extent."""
        self._extents.append(batch.extent)
        self._spells += batch.classified.num_rows
        if batch.classified.num_rows:
            self._wait()
            target = self.parts / f"spells-{self._number:06d}.parquet"
            self._writing = self._writer.submit(pq.write_table, batch.classified, target)
            self._kept.append(batch.kept)
        if batch.quarantine.num_rows:
            self._quarantined += batch.quarantine.num_rows
            pq.write_table(batch.quarantine, self.parts / f"quarantine-{self._number:06d}.parquet")
        self._number += 1

    def add_kept(self, batch: ClassifiedBatch, *, spells_read: int) -> None:
        """Add a batch whose ``classified`` table was left where it was made (a Spark worker).

        Its kept spells are written as the part (so the run's classified spells file holds the
        kept spells only) and ``spells_read`` counts every spell it had.
        """
        kept = pa.Table.from_pandas(batch.kept, preserve_index=False)
        self.add(ClassifiedBatch(kept, batch.kept, batch.extent, batch.quarantine))
        self._spells += spells_read - kept.num_rows
        if spells_read and not kept.num_rows:
            self._kept.append(batch.kept)  # none kept: its columns still say what the spells have

    def _wait(self) -> None:
        """Wait for the part being written; raise what writing it raised."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def abandon(self) -> None:
        """Stop: wait for the part being written (whatever becomes of it), then remove ``parts``."""
        with contextlib.suppress(Exception):
            self._wait()
        self._writer.shutdown(wait=True)
        shutil.rmtree(self.parts, ignore_errors=True)

    def streamed(self, summary: ScanSummary) -> Streamed:
        """Return everything gathered, with the scan's ``summary`` (repeated identifiers flagged).

        Waits for the last part to be written, raising what writing it raised.
        """
        self._wait()
        self._writer.shutdown(wait=True)
        return Streamed(
            spells=_flag_repeated(_concat(self._kept), summary),
            extent=SpellExtent.combine(self._extents),
            findings=summary.findings,
            reconciliation=summary.reconciliation,
            notes=summary.notes,
            spells_read=self._spells,
            quarantined=self._quarantined,
            parts=self.parts,
            summary=summary,
        )


_NO_REPEATS = ScanSummary(findings=pd.DataFrame(), reconciliation=pd.DataFrame(), notes=(), repeated={})


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Return ``frames`` stacked: categories united, ``dq_`` flags FALSE where a batch had none."""
    frames = [frame for frame in frames if len(frame.columns)]
    if not frames:
        return pd.DataFrame()
    checks = sorted({name for frame in frames for name in frame.columns if name.startswith(DQ_PREFIX)})
    frames = [frame.assign(**{check: False for check in checks if check not in frame}) for frame in frames]
    together = pd.concat(frames, ignore_index=True)
    for name in frames[0].columns:
        if all(isinstance(frame[name].dtype, pd.CategoricalDtype) for frame in frames):
            together[name] = pd.Series(
                union_categoricals([frame[name] for frame in frames]), index=together.index
            )
    first = [name for name in frames[0].columns if not name.startswith(DQ_PREFIX)]
    rule_columns = [name for name in first if name not in _read_columns(frames[0])]
    order = [name for name in first if name not in rule_columns]
    order += checks + rule_columns
    order += [name for name in together.columns if name not in order]
    return together[order]


def _read_columns(frame: pd.DataFrame) -> list[str]:
    """Return the columns the reader gave (up to ``source_row``), before the rule's verdict."""
    names = list(frame.columns)
    end = names.index("source_row") + 1 if "source_row" in names else len(names)
    return names[:end]


def _flag_repeated(spells: pd.DataFrame, summary: ScanSummary) -> pd.DataFrame:
    """Return ``spells`` with a ``dq_duplicate_<column>`` flag for each column with repeated values."""
    for canonical, values in summary.repeated.items():
        if len(values) and canonical in spells:
            name = f"{DQ_PREFIX}duplicate_{canonical}"
            text = pa.array(
                spells[canonical].astype("string").to_numpy(dtype=object, na_value=None), pa.large_string()
            )
            spells[name] = np.asarray(
                pc.fill_null(pc.is_in(text, values), False).to_numpy(zero_copy_only=False), bool
            )
    return _dq_in_order(spells)


def _dq_in_order(spells: pd.DataFrame) -> pd.DataFrame:
    """Return ``spells`` with its ``dq_`` columns together after ``source_row``, in name order."""
    if "source_row" not in spells:
        return spells
    read = [name for name in _read_columns(spells) if not name.startswith(DQ_PREFIX)]
    checks = sorted(name for name in spells.columns if name.startswith(DQ_PREFIX))
    rest = [name for name in spells.columns if name not in read and name not in checks]
    return spells[read + checks + rest]


def write_streamed(streamed: Streamed, output: Path) -> Written:
    """Write ``streamed``'s classified spells (Parquet) and quarantine and findings (CSV) beside ``output``.

    The parts are put together a part at a time into files of this call's own, renamed into place
    only when all are complete (as :func:`rfd_lib.extracts.writing.write_classified` does); the
    parts folder is removed. Returns where the files went.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    quarantine = beside(output, "quarantine.csv") if streamed.quarantined else None
    findings = beside(output, "findings.csv")
    # Each file's temporary name is known before it is begun, so a failure part way removes it too.
    pending = [(partial_path(final), final) for final in (output, quarantine, findings) if final is not None]
    try:
        _joined_spells(streamed, pending[0][0])
        if quarantine is not None:
            _joined_quarantine(streamed.parts, pending[1][0])
        write_csv(streamed.findings, pending[-1][0])
    except BaseException as error:
        for partial, _ in pending:
            partial.unlink(missing_ok=True)
        shutil.rmtree(streamed.parts, ignore_errors=True)
        if isinstance(error, OSError):
            raise WriteError(
                f"{output}: cannot be written ({error.strerror or error})", hint="check there is space"
            ) from None
        raise
    for partial, final in pending:
        partial.replace(final)
    if quarantine is None:
        beside(output, "quarantine.csv").unlink(missing_ok=True)
    shutil.rmtree(streamed.parts, ignore_errors=True)
    return Written(output, quarantine, findings)


def _joined_spells(streamed: Streamed, target: Path) -> Path:
    """Write every spells part into ``target`` with one schema: every ``dq_`` column, repeats flagged."""
    files = sorted(streamed.parts.glob("spells-*.parquet"))
    # The columns in the order and with the types (those of pandas: the parts are Arrow's own, a
    # date a date32, not a timestamp) of the spells kept in memory, which has them all.
    pandas_schema = pa.Schema.from_pandas(streamed.spells.iloc[:0], preserve_index=False)
    fields = [
        pa.field(name, pa.bool_()) if name.startswith(DQ_PREFIX) else _plain_field(pandas_schema.field(name))
        for name in streamed.spells.columns
    ]
    schema = pa.schema(fields, metadata=pandas_schema.metadata)
    with pq.ParquetWriter(target, schema) as writer:
        for file in files:
            table = pq.read_table(file)
            columns = []
            for field in schema:
                if field.name in table.column_names:
                    column = table.column(field.name)
                elif field.name.startswith(f"{DQ_PREFIX}duplicate_"):
                    canonical = field.name[len(f"{DQ_PREFIX}duplicate_") :]
                    values = streamed.summary.repeated[canonical]
                    column = pc.fill_null(
                        pc.is_in(pc.cast(table.column(canonical), pa.large_string()), values), False
                    )
                elif field.name.startswith(DQ_PREFIX):
                    column = pa.array(np.zeros(table.num_rows, bool))
                else:
                    column = pa.nulls(table.num_rows, field.type)
                columns.append(pc.cast(column, field.type))
            writer.write_table(pa.table(columns, schema=schema))
    return target


def _plain_field(field: pa.Field) -> pa.Field:
    """Return ``field`` with one index type for a dictionary (each part has its own dictionary)."""
    if pa.types.is_dictionary(field.type):
        return pa.field(field.name, pa.dictionary(pa.int32(), field.type.value_type))
    return field


def _joined_quarantine(parts: Path, target: Path) -> Path:
    """Write every quarantine part into the CSV ``target``: the sources' columns united, header once."""
    files = sorted(parts.glob("quarantine-*.parquet"))
    names: list[str] = []
    for file in files:
        names += [name for name in pq.read_schema(file).names if name not in names]
    with target.open("w", encoding="utf-8", newline="") as handle:
        for number, file in enumerate(files):
            frame = pq.read_table(file).to_pandas(types_mapper=_text).reindex(columns=names)
            write_csv_part(frame, handle, header=number == 0)
    return target


def _text(kind: pa.DataType) -> object:
    return pd.StringDtype("pyarrow") if pa.types.is_string(kind) or pa.types.is_large_string(kind) else None


def write_csv_part(frame: pd.DataFrame, handle: TextIO, *, header: bool) -> None:
    """Write ``frame`` to an open CSV file, safe to open in a spreadsheet, with its header if ``header``."""
    neutralised(frame).to_csv(handle, index=False, header=header)
