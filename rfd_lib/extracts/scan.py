"""Read extracts of any size a batch at a time, accounting for every row: :class:`ExtractScan`.

Two halves, so that the work on a batch can run anywhere (here, or on a Spark worker):

* :func:`read_batch` — pure: one batch of rows (a :class:`~rfd_lib.extracts.csv_source.RawTable`)
  typed, checked and split into usable spells and quarantined rows, with its share of the
  reconciliation, its findings and its identifiers (:class:`BatchRead`);
* :class:`ScanTally` — adds batches up: rows read = accepted + quarantined per source, findings
  counted with their first example rows, identifiers repeated anywhere (spilled to disk beyond
  two million: :mod:`rfd_lib.extracts.duplicate_ids`), and at the end the :class:`ScanSummary`.

:class:`ExtractScan` joins them for files and databases: it yields a :class:`SpellBatch` per
batch and keeps only the tallies. :func:`rfd_lib.extracts.reading.load_extracts` is a scan with
every batch kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.errors import ExtractError
from rfd_lib.extracts.csv_source import RawTable, concat_raw
from rfd_lib.extracts.duplicate_ids import Noted, RepeatedValues, note
from rfd_lib.extracts.profiles import Profile, load_profile
from rfd_lib.extracts.read_ahead import read_ahead
from rfd_lib.extracts.reading import (
    DQ_PREFIX,
    EXAMPLE_ROWS,
    FINDINGS_COLUMNS,
    SPELL_COLUMNS,
    TRACE_COLUMNS,
    _profile_for,
    _read_one,
    _require,
    _stamp,
    _to_pandas,
)
from rfd_lib.extracts.sources import BATCH_ROWS, expand_sources, header_of, iter_source
from rfd_lib.extracts.spell_schema import SpellSchema, load_spell_schema
from rfd_lib.extracts.validate import NORMALISED, findings, lost_every_zero

RECONCILED = ("rows_read", "rows_accepted", "rows_quarantined", "spells")


@dataclass(frozen=True)
class SpellBatch:
    """One batch of one source, read and checked.

    ``spells``: its usable spells as :class:`~rfd_lib.extracts.reading.Extract` describes them,
    as an Arrow table (``source`` a dictionary of the source's name; a ``dq_<check>`` column for
    each check flagging one of them, the duplicate checks aside: :attr:`ScanSummary.repeated`
    says which identifiers are repeated); ``quarantine``: its rows set aside, as
    :class:`~rfd_lib.extracts.reading.Extract` describes them.
    """

    spells: pa.Table
    quarantine: pa.Table


@dataclass(frozen=True)
class BatchRead:
    """What :func:`read_batch` makes of one batch: the batch, and its share of every tally.

    ``reconciliation``: its rows read, accepted and quarantined and spells; ``findings``: per
    (check, column, description) the spells flagged and the first few as ``source:row``;
    ``lost_zeros``: per code column, values that lost a leading zero and values present;
    ``names``: each canonical column's name in the extract; ``ids``: the values of each column
    that must be unique, with the file row of each (:func:`~rfd_lib.extracts.duplicate_ids.note`).
    """

    batch: SpellBatch
    reconciliation: dict[str, int]
    findings: dict[tuple[str, str, str], tuple[int, list[str]]]
    lost_zeros: dict[str, tuple[int, int]]
    names: dict[str, str]
    ids: dict[str, Noted] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanSummary:
    """What a scan found once every batch was read.

    ``findings``, ``reconciliation`` and ``notes`` as in :class:`~rfd_lib.extracts.reading.Extract`;
    ``repeated``: for each column that must be unique (``spell_id``), its values given to more
    than one spell.
    """

    findings: pd.DataFrame
    reconciliation: pd.DataFrame
    notes: tuple[str, ...]
    repeated: dict[str, pa.Array]


def read_batch(
    raw: RawTable, profile: Profile, schema: SpellSchema, names: dict[str, str] | None = None
) -> BatchRead:
    """Return one batch of ``raw`` rows typed, checked and split, with its share of the tallies.

    ``names`` gives the extract's name of each canonical column for the findings' words (those
    of the first source, when several are read); by default this batch's own.
    """
    read = _read_one(raw, profile, schema)
    names = {**read.names, **(names or {})}
    spells = read.spells
    source = str(read.reconciliation["source"])
    found = findings({name: spells.column(name) for name in spells.column_names}, schema, names, unique=False)
    rows = spells.column("source_row").to_numpy()
    counted: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
    for finding in found:
        flagged = np.flatnonzero(finding.spells)
        counted[(finding.check, finding.column, finding.description)] = (
            len(flagged),
            [f"{source}:{row}" for row in rows[flagged[:EXAMPLE_ROWS]]],
        )
    ids = {
        canonical: note(spells.column(canonical), rows)
        for canonical, spec in schema.columns.items()
        if spec.unique and canonical in spells.column_names
    }
    spells = spells.drop_columns([n for n in spells.column_names if n.startswith(NORMALISED)])
    spells = spells.append_column(
        "source",
        pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(spells.num_rows, np.int32)), pa.array([source], pa.large_string())
        ),
    )
    order = [n for n in SPELL_COLUMNS if n in spells.column_names]
    order += [n for n in schema.columns if n in spells.column_names and n not in order]
    order += [n for n in spells.column_names if n not in order and n not in TRACE_COLUMNS]
    spells = spells.select([*order, *TRACE_COLUMNS])
    for check in sorted({finding.check for finding in found}):
        flagged = np.zeros(spells.num_rows, dtype=bool)
        for finding in found:
            if finding.check == check:
                flagged |= finding.spells
        spells = spells.append_column(f"{DQ_PREFIX}{check}", pa.array(flagged))
    return BatchRead(
        batch=SpellBatch(spells, read.quarantine),
        reconciliation={key: int(read.reconciliation[key]) for key in RECONCILED},
        findings=counted,
        lost_zeros=read.lost_zeros,
        names=read.names,
        ids=ids,
    )


class ScanTally:
    """Add up the :class:`BatchRead` of every batch of every source; :meth:`summary` at the end."""

    def __init__(self, schema: SpellSchema, *, allow_duplicate_spells: bool = False) -> None:
        self.notes: list[str] = []
        self.names: dict[str, str] = {}
        self._allow_duplicates = allow_duplicate_spells
        self._reconciliation: list[dict[str, object]] = []
        self._current: dict[str, int] = dict.fromkeys(RECONCILED, 0)
        self._lost_zeros: dict[str, list[int]] = {}
        self._found: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
        self._repeated = {
            canonical: RepeatedValues() for canonical, spec in schema.columns.items() if spec.unique
        }

    def add(self, number: int, read: BatchRead) -> None:
        """Add one batch of source number ``number`` (sources numbered in the order they end)."""
        for canonical, name in read.names.items():
            self.names.setdefault(canonical, name)
        for key in RECONCILED:
            self._current[key] += read.reconciliation[key]
        for column, (lost, present) in read.lost_zeros.items():
            before = self._lost_zeros.get(column, [0, 0])
            self._lost_zeros[column] = [before[0] + lost, before[1] + present]
        for key, (count, examples) in read.findings.items():
            before, shown = self._found.get(key, (0, []))
            self._found[key] = (before + count, shown + examples[: EXAMPLE_ROWS - len(shown)])
        for canonical, noted in read.ids.items():
            self._repeated[canonical].add(noted, number)

    def end_source(self, source: str, profile: Profile) -> None:
        """Close the source whose batches were added last: check it and record its reconciliation.

        Raises ExtractError for a source with no rows, or one whose every value of a code
        column has lost its leading zero (read as numbers on the way).
        """
        tally, lost_zeros = self._current, self._lost_zeros
        self._current, self._lost_zeros = dict.fromkeys(RECONCILED, 0), {}
        for column, (lost, present) in lost_zeros.items():
            if lost and lost == present:
                raise lost_every_zero(column, source)
        if tally["rows_read"] == 0:
            raise ExtractError(f"{source}: the extract has a header but no rows", hint="export it again")
        self._reconciliation.append({"source": source, "profile": profile.name, **tally})
        if profile.episodes is not None:
            self.notes.append(f"{source}: episodes rolled up to spells — {profile.episodes.method}")

    def summary(self) -> ScanSummary:
        """Return the findings, reconciliation, notes and repeated identifiers of every batch added.

        Raises ExtractError when two sources share spell identifiers (unless allowed).
        """
        sources = [str(row["source"]) for row in self._reconciliation]
        repeated: dict[str, pa.Array] = {}
        duplicates = []
        for canonical, collector in self._repeated.items():
            found = collector.finish()
            if canonical == "spell_id" and found.shared and not self._allow_duplicates:
                one, other, count = found.shared[0]
                raise ExtractError(
                    f"{sources[one]} and {sources[other]} share {count:,} spell identifiers: "
                    "their spells would be counted twice (the same extract under two names?)",
                    hint="give each spell once; if the files really hold different spells with the same "
                    "identifiers, allow it (--allow-duplicate-spells; in a parameter file, extracts: "
                    "allow_duplicate_spells: true)",
                )
            repeated[canonical] = found.values
            if found.rows:
                name = self.names.get(canonical, canonical)
                duplicates.append(
                    {
                        "check": f"duplicate_{canonical}",
                        "column": name,
                        "description": f"{name} shared with another spell",
                        "spells": found.rows,
                        "example_rows": ", ".join(
                            f"{sources[source]}:{row}" for source, row in found.examples
                        ),
                    }
                )
        rows = [
            {
                "check": check,
                "column": column,
                "description": description,
                "spells": count,
                "example_rows": ", ".join(examples),
            }
            for (check, column, description), (count, examples) in self._found.items()
        ]
        return ScanSummary(
            findings=pd.DataFrame(rows + duplicates, columns=list(FINDINGS_COLUMNS)),
            reconciliation=pd.DataFrame(self._reconciliation),
            notes=tuple(self.notes),
            repeated=repeated,
        )


class ExtractScan:
    """Read extracts a batch at a time, keeping only the tallies: iterate it, then :meth:`summary`.

    Iterating yields a :class:`SpellBatch` per batch of each source (``batch_rows`` rows, or a run
    of a CSV about that long; an episode-level source is read whole, as its episodes must be
    rolled up together). Memory holds one batch and the tallies (:class:`ScanTally`). Arguments
    as :func:`~rfd_lib.extracts.reading.load_extracts`, which raises the same errors; spells
    shared by two sources are refused once the last batch is read, so a caller writing batches
    out writes them somewhere it can throw away.
    """

    def __init__(
        self,
        sources: Iterable[str | os.PathLike[str]],
        profile: str | os.PathLike[str] | None = None,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        sheet: str | None = None,
        query: str | None = None,
        allow_duplicate_spells: bool = False,
        skip: Iterable[str | os.PathLike[str]] = (),
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self._schema = load_spell_schema()
        self._chosen = None if profile is None else load_profile(profile)
        self._options = {"delimiter": delimiter, "encoding": encoding, "sheet": sheet, "query": query}
        self._batch_rows = batch_rows
        self._tally = ScanTally(self._schema, allow_duplicate_spells=allow_duplicate_spells)
        self._paths = expand_sources(sources, skip=skip, notes=self._tally.notes)
        if not self._paths:
            raise ExtractError("no extract given")
        self._done = False

    def __iter__(self) -> Iterator[SpellBatch]:
        for number, path in enumerate(self._paths):
            yield from self._source(number, path)
        self._done = True

    def summary(self) -> ScanSummary:
        """Return what :meth:`ScanTally.summary` returns, once every batch has been read."""
        if not self._done:
            raise RuntimeError("read every batch of the scan before asking for its summary")
        return self._tally.summary()

    def _source(self, number: int, path: str | os.PathLike[str]) -> Iterator[SpellBatch]:
        """Yield the batches of one source and close it in the tally."""
        chosen, notes = self._chosen, self._tally.notes
        before = _stamp(path)
        header, head = header_of(path, **self._options)
        used = _profile_for(chosen, header, str(path), notes) if header else chosen
        pieces = iter_source(
            path,
            head=head,
            null_values=(used or chosen or load_profile("canonical")).null_values,
            batch_rows=self._batch_rows,
            **self._options,
        )
        # The next run is parsed, and the one after it checked, while this one is used.
        pieces = read_ahead(pieces)
        first = next(pieces, None)  # a source yields at least one batch, empty or not
        if first is None:
            raise ExtractError(f"{path}: the extract has no rows", hint="export it again")
        if used is None:
            used = _profile_for(chosen, first.table.column_names, first.source, notes)
        elif not header:
            _require(used, first.table.column_names, first.source)
        notes += first.notes
        if used.episodes is not None:
            # Episodes of one spell may be anywhere in the file: they are rolled up together.
            first, pieces = concat_raw([first, *pieces]), iter(())
        # The names the findings use are those of the first source: fixed before any batch is read.
        names, profile = dict(self._tally.names), used
        reads = read_ahead(read_batch(raw, profile, self._schema, names) for raw in chain([first], pieces))
        for read in reads:
            self._tally.add(number, read)
            yield read.batch
        if _stamp(path) != before:
            raise ExtractError(
                f"{first.source}: the file changed while it was being read",
                hint="wait until the export or copy has finished, then run again",
            )
        self._tally.end_source(first.source, used)


def combine_spells(batches: list[pa.Table], summary: ScanSummary) -> pd.DataFrame:
    """Return the spells of ``batches`` as one pandas frame, every ``dq_<check>`` column on every row.

    A check that flagged no spell of a batch is FALSE there; the duplicate checks are flagged
    here from ``summary.repeated``; the ``dq_`` columns come last, in the order of their checks' names.
    """
    checks = {name for batch in batches for name in batch.column_names if name.startswith(DQ_PREFIX)}
    flags = {
        check: np.concatenate(
            [
                batch.column(check).to_numpy()
                if check in batch.column_names
                else np.zeros(batch.num_rows, bool)
                for batch in batches
            ]
        )
        for check in checks
    }
    table = pa.concat_tables(
        [batch.select([n for n in batch.column_names if not n.startswith(DQ_PREFIX)]) for batch in batches],
        promote_options="permissive",
    ).unify_dictionaries()
    for canonical, values in summary.repeated.items():
        if len(values) and canonical in table.column_names:
            flagged = pc.is_in(pc.cast(table.column(canonical), pa.large_string()), values)
            flags[f"{DQ_PREFIX}duplicate_{canonical}"] = np.asarray(
                pc.fill_null(flagged, False).to_numpy(zero_copy_only=False), dtype=bool
            )
    frame = _to_pandas(table)
    for check in sorted(flags):
        frame[check] = flags[check]
    return frame
