"""Read extracts into canonical spells, accounting for every row: :func:`read_extract`, :func:`load_extracts`.

For each source: read its header, choose the column profile (given, or the one the header fits),
read every row, type each column (:mod:`rfd_lib.extracts.validate`), set unusable rows aside in the
quarantine with their reasons, roll episodes up to spells where the profile says so, then flag
data-quality findings on the spells. Each source's reconciliation — rows read = rows accepted +
rows quarantined — is checked, and a run where it does not hold stops.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.arrow_text import join_present
from rfd_lib.errors import ExtractError, ReconciliationError
from rfd_lib.extracts.csv_source import RawTable, concat_raw, may_hold_break
from rfd_lib.extracts.duplicate_ids import RepeatedValues
from rfd_lib.extracts.episodes import episode_codes, roll_up
from rfd_lib.extracts.profiles import (
    Profile,
    choose_profile,
    fold,
    load_profile,
    missing_columns,
    missing_error,
)
from rfd_lib.extracts.sources import BATCH_ROWS, expand_sources, header_of, iter_source
from rfd_lib.extracts.spell_schema import SpellSchema, load_spell_schema
from rfd_lib.extracts.validate import NORMALISED, Problem, convert, findings, lost_every_zero

log = logging.getLogger("rfd_lib")

SPELL_COLUMNS = (
    "spell_id",
    "provider_code",
    "patient_id",
    "admission_date",
    "discharge_date",
    "patient_classification",
)
TRACE_COLUMNS = ("source", "source_row")
QUARANTINE_COLUMNS = ("source", "source_row", "reason", "line")
DQ_PREFIX = "dq_"
FINDINGS_COLUMNS = ("check", "column", "description", "spells", "example_rows")
EXAMPLE_ROWS = 5


class QuarantineWarning(UserWarning):
    """Some rows of an extract could not be used and were set aside (see :func:`load_extracts`)."""


@dataclass(frozen=True)
class Extract:
    """Extracts read: the spells, the rows set aside, the data-quality findings and the reconciliation.

    * ``spells``: one row per usable spell — the canonical columns, the profile's kept columns
      (one named like a column of rfd-audit's own is kept as ``extract:<name>``), ``source`` and
      ``source_row`` (where it came from) and one ``dq_<check>`` boolean per finding;
    * ``quarantine``: every unusable row — ``source``, ``source_row``, ``reason`` (all reasons,
      ``; ``-separated), ``line`` (the raw text of a row that could not be split into fields)
      and the row's own columns as text (one named like those four is kept as ``extract:<name>``);
    * ``findings``: one row per check and column — ``check``, ``column``, ``description``,
      ``spells`` flagged and the first few ``example_rows`` as ``source:row``;
    * ``reconciliation``: one row per source — ``source``, ``profile``, ``rows_read``,
      ``rows_accepted``, ``rows_quarantined``, ``spells``;
    * ``notes``: what was detected (profile, encoding) and how episodes became spells.
    """

    spells: pd.DataFrame
    quarantine: pd.DataFrame
    findings: pd.DataFrame
    reconciliation: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Read:
    spells: pa.Table
    quarantine: pa.Table
    reconciliation: dict[str, object]
    names: dict[str, str]
    lost_zeros: dict[str, tuple[int, int]]  # per column: values that lost a leading zero, values present


def read_extract(
    source: str | os.PathLike[str],
    profile: str | os.PathLike[str] | None = None,
    **options: str | None,
) -> pd.DataFrame:
    """Return the usable spells of one extract, in canonical columns (see :class:`Extract`).

    ``source`` is a CSV (``.csv``/``.txt``/``.tsv``), Parquet or ``.xlsx`` file, a folder of them,
    or a SQLAlchemy database URL (with ``query=``). ``profile`` names a column profile in
    ``params/profiles/`` or gives a profile file's path; by default the profile is detected from
    the header. ``options``: ``delimiter``, ``encoding`` (CSV), ``sheet`` (Excel), ``query``
    (database). Rows that cannot be used are left out with a :class:`QuarantineWarning` that
    counts them by reason; :func:`load_extracts` returns them, the findings and the reconciliation.
    Raises :class:`~rfd_lib.errors.ExtractError` or :class:`~rfd_lib.errors.ColumnError` with a
    one-line message naming the file (and column or row).
    """
    extract = load_extracts([source], profile, **options)
    if len(extract.quarantine):
        reasons = extract.quarantine["reason"].value_counts()
        summary = "; ".join(f"{count:,} × {reason}" for reason, count in reasons.items())
        warnings.warn(
            f"{len(extract.quarantine):,} rows quarantined: {summary}", QuarantineWarning, stacklevel=2
        )
    return extract.spells


def load_extracts(
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
) -> Extract:
    """Return every extract in ``sources`` read, checked and combined into one :class:`Extract`.

    Arguments as :func:`read_extract`. Duplicate spell identifiers are looked for across all the
    sources together: within one source they are a finding; shared by two sources they raise
    :class:`~rfd_lib.errors.ExtractError` (the same spells given twice would be counted twice)
    unless ``allow_duplicate_spells``, when they too are a finding. ``skip`` names files never
    read as extracts (the output being written and its companions): passed over in a folder,
    refused when named. Raises
    :class:`~rfd_lib.errors.ReconciliationError` if any source's rows read differ from its rows
    accepted plus quarantined. Everything is held in memory: :class:`ExtractScan` reads an
    extract of any size a batch at a time (``batch_rows`` rows), and this is it with every batch kept.
    """
    scan = ExtractScan(
        sources,
        profile,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
        query=query,
        allow_duplicate_spells=allow_duplicate_spells,
        skip=skip,
        batch_rows=batch_rows,
    )
    batches = list(scan)
    summary = scan.summary()
    frame = combine_spells([batch.spells for batch in batches], summary)
    quarantine = pa.concat_tables([batch.quarantine for batch in batches], promote_options="permissive")
    return Extract(
        spells=frame,
        quarantine=_to_pandas(quarantine),
        findings=summary.findings,
        reconciliation=summary.reconciliation,
        notes=summary.notes,
    )


@dataclass(frozen=True)
class SpellBatch:
    """One batch of one source, read and checked.

    ``spells``: its usable spells as :class:`Extract` describes them, as an Arrow table (``source``
    a dictionary of the source's name; a ``dq_<check>`` column for each check flagging one of
    them, the duplicate checks aside: :attr:`ScanSummary.repeated` says which identifiers are
    repeated); ``quarantine``: its rows set aside, as :class:`Extract` describes them.
    """

    spells: pa.Table
    quarantine: pa.Table


@dataclass(frozen=True)
class ScanSummary:
    """What an :class:`ExtractScan` found once every batch was read.

    ``findings``, ``reconciliation`` and ``notes`` as in :class:`Extract`; ``repeated``: for each
    column that must be unique (``spell_id``), its values given to more than one spell.
    """

    findings: pd.DataFrame
    reconciliation: pd.DataFrame
    notes: tuple[str, ...]
    repeated: dict[str, pa.Array]


class ExtractScan:
    """Read extracts a batch at a time, keeping only the tallies: iterate it, then :meth:`summary`.

    Iterating yields a :class:`SpellBatch` per batch of each source (``batch_rows`` rows, or a run
    of a CSV about that long; an episode-level source is read whole, as its episodes must be
    rolled up together). Memory holds one batch, the reconciliation and findings counts, and
    the spell identifiers (spilled to disk beyond two million:
    :mod:`rfd_lib.extracts.duplicate_ids`). Arguments as :func:`load_extracts`. Errors are raised
    as :func:`load_extracts` raises them; spells shared by two sources are refused once the last
    batch is read, so a caller writing batches out writes them somewhere it can throw away.
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
        self._allow_duplicates = allow_duplicate_spells
        self._batch_rows = batch_rows
        self._notes: list[str] = []
        self._paths = expand_sources(sources, skip=skip, notes=self._notes)
        if not self._paths:
            raise ExtractError("no extract given")
        self._names: dict[str, str] = {}
        self._reconciliation: list[dict[str, object]] = []
        self._found: dict[tuple[str, str, str], list] = {}
        self._repeated = {
            canonical: RepeatedValues() for canonical, spec in self._schema.columns.items() if spec.unique
        }
        self._done = False

    def __iter__(self) -> Iterator[SpellBatch]:
        for number, path in enumerate(self._paths):
            yield from self._source(number, path)
        self._done = True

    def summary(self) -> ScanSummary:
        """Return the findings, reconciliation, notes and repeated identifiers of every batch read.

        Raises ExtractError when two sources share spell identifiers (unless allowed).
        """
        if not self._done:
            raise RuntimeError("read every batch of the scan before asking for its summary")
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
                name = self._names.get(canonical, canonical)
                examples = ", ".join(f"{sources[source]}:{row}" for source, row in found.examples)
                duplicates.append(
                    {
                        "check": f"duplicate_{canonical}",
                        "column": name,
                        "description": f"{name} shared with another spell",
                        "spells": found.rows,
                        "example_rows": examples,
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
            notes=tuple(self._notes),
            repeated=repeated,
        )

    def _source(self, number: int, path: str | os.PathLike[str]) -> Iterator[SpellBatch]:
        """Yield the batches of one source and add up its reconciliation."""
        options = self._options
        chosen = self._chosen
        before = _stamp(path)
        header, head = header_of(path, **options)
        used = _profile_for(chosen, header, str(path), self._notes) if header else chosen
        pieces = iter_source(
            path,
            head=head,
            null_values=(used or chosen or load_profile("canonical")).null_values,
            batch_rows=self._batch_rows,
            **options,
        )
        tally = {"rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "spells": 0}
        lost_zeros: dict[str, list[int]] = {}
        shown = str(path)
        for index, raw in enumerate(pieces):
            shown = raw.source
            if index == 0:
                if used is None:
                    used = _profile_for(chosen, raw.table.column_names, raw.source, self._notes)
                elif not header:
                    _require(used, raw.table.column_names, raw.source)
                self._notes += raw.notes
                if used.episodes is not None:
                    # Episodes of one spell may be anywhere in the file: they are rolled up together.
                    raw = concat_raw([raw, *pieces])
            read = _read_one(raw, used, self._schema)
            for key in tally:
                tally[key] += int(read.reconciliation[key])
            for column, (lost, present) in read.lost_zeros.items():
                lost_zeros[column] = [
                    lost_zeros.get(column, [0, 0])[0] + lost,
                    lost_zeros.get(column, [0, 0])[1] + present,
                ]
            yield self._batch(number, read)
        for column, (lost, present) in lost_zeros.items():
            if lost and lost == present:
                raise lost_every_zero(column, shown)
        if _stamp(path) != before:
            raise ExtractError(
                f"{shown}: the file changed while it was being read",
                hint="wait until the export or copy has finished, then run again",
            )
        if tally["rows_read"] == 0:
            raise ExtractError(f"{shown}: the extract has a header but no rows", hint="export it again")
        assert used is not None
        self._reconciliation.append({"source": shown, "profile": used.name, **tally})
        if used.episodes is not None:
            self._notes.append(f"{shown}: episodes rolled up to spells — {used.episodes.method}")

    def _batch(self, number: int, read: _Read) -> SpellBatch:
        """Return one batch's spells with their per-spell findings flagged, and tally the findings."""
        for canonical, name in read.names.items():
            self._names.setdefault(canonical, name)
        spells = read.spells
        source = read.reconciliation["source"]
        found = findings(
            {name: spells.column(name) for name in spells.column_names},
            self._schema,
            self._names,
            unique=False,
        )
        rows = spells.column("source_row").to_numpy()
        for canonical, collector in self._repeated.items():
            if canonical in spells.column_names:
                collector.add(spells.column(canonical), number, rows)
        for finding in found:
            count, examples = self._found.setdefault(
                (finding.check, finding.column, finding.description), [0, []]
            )
            self._found[(finding.check, finding.column, finding.description)][0] = count + int(
                finding.spells.sum()
            )
            if len(examples) < EXAMPLE_ROWS:
                examples += [
                    f"{source}:{row}"
                    for row in rows[np.flatnonzero(finding.spells)[: EXAMPLE_ROWS - len(examples)]]
                ]
        spells = spells.drop_columns([n for n in spells.column_names if n.startswith(NORMALISED)])
        spells = spells.append_column(
            "source",
            pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(spells.num_rows, np.int32)), pa.array([source], pa.large_string())
            ),
        )
        order = [n for n in SPELL_COLUMNS if n in spells.column_names]
        order += [n for n in self._schema.columns if n in spells.column_names and n not in order]
        order += [n for n in spells.column_names if n not in order and n not in TRACE_COLUMNS]
        spells = spells.select([*order, *TRACE_COLUMNS])
        for check in sorted({finding.check for finding in found}):
            flagged = np.zeros(spells.num_rows, dtype=bool)
            for finding in found:
                if finding.check == check:
                    flagged |= finding.spells
            spells = spells.append_column(f"{DQ_PREFIX}{check}", pa.array(flagged))
        return SpellBatch(spells, read.quarantine)


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


def _stamp(source: str | os.PathLike[str]) -> tuple[int, int] | None:
    """Return a file's size and modification time (None for a database), to see it change."""
    if isinstance(source, str):
        return None
    status = os.stat(source)
    return status.st_size, status.st_mtime_ns


def _profile_for(chosen: Profile | None, header: Sequence[str], source: str, notes: list[str]) -> Profile:
    if chosen is not None:
        _require(chosen, header, source)
        notes.append(f"{source}: column profile '{chosen.name}' ({chosen.description}) as given")
        return chosen
    detected, message = choose_profile(list(header), source)
    notes.append(message)
    log.info(message)
    return detected


def _require(profile: Profile, header: Sequence[str], source: str) -> None:
    if missing_columns(profile, list(header)):
        raise missing_error(profile, list(header), source)


def _read_one(raw: RawTable, profile: Profile, schema: SpellSchema) -> _Read:
    """Return one source's usable spells, its quarantined rows and its reconciliation."""
    columns, names = _canonical(raw.table, profile, schema)
    typed, problems = convert(columns, schema, names, raw.source)
    problems += _line_breaks(raw.table)
    unusable = _any(problems, raw.table.num_rows)
    if profile.episodes is not None:
        typed["_episode_id"] = pc.cast(_column(raw.table, profile.episodes.episode_id), pa.large_string())
        order = pc.utf8_trim_whitespace(
            pc.cast(_column(raw.table, profile.episodes.order), pa.large_string())
        )
        typed["_order"] = pc.cast(
            pc.if_else(pc.match_substring_regex(order, r"^[0-9]{1,6}$"), order, None), pa.int64()
        )
        problems, unusable = _whole_spells(typed, columns, names, problems, unusable, profile)
    typed["source_row"] = pa.array(raw.rows)
    accepted = pa.table(typed).filter(pa.array(~unusable))
    spells = roll_up(accepted, profile)[0] if profile.episodes is not None else accepted
    spells = spells.drop_columns([n for n in spells.column_names if n.startswith("_")])
    quarantine = _quarantine(raw, problems, unusable)
    reconciliation = {
        "source": raw.source,
        "profile": profile.name,
        "rows_read": raw.rows_read,
        "rows_accepted": accepted.num_rows,
        "rows_quarantined": quarantine.num_rows,
        "spells": spells.num_rows,
    }
    if reconciliation["rows_read"] != reconciliation["rows_accepted"] + reconciliation["rows_quarantined"]:
        raise ReconciliationError(
            f"{raw.source}: {raw.rows_read:,} rows read but {accepted.num_rows:,} accepted and "
            f"{quarantine.num_rows:,} quarantined",
            hint="this is a bug in rfd-audit: please report it (no data is needed to reproduce the counts)",
        )
    lost_zeros = {
        problem.column: (int(problem.rows.sum()), problem.present) for problem in problems if problem.column
    }
    return _Read(spells, quarantine, reconciliation, names, lost_zeros)


def _line_breaks(table: pa.Table) -> list[Problem]:
    """Return, per column of the extract, the rows with a value holding a line break.

    No column of a spell holds one: a row with one has run over several lines of the file (a
    quote left open swallows the next row), so it is set aside rather than counted as one spell.
    """
    problems = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if text and may_hold_break(column):
            broken = pc.fill_null(pc.match_substring_regex(column, "[\r\n]"), False)
            if pc.any(broken).as_py():
                rows = np.asarray(broken.to_numpy(zero_copy_only=False), dtype=bool)
                reason = f"{name} holds a line break: the row runs over several lines (a quote left open?)"
                problems.append(Problem(reason, rows))
    return problems


def _canonical(
    table: pa.Table, profile: Profile, schema: SpellSchema
) -> tuple[dict[str, pa.Array], dict[str, str]]:
    """Return the profile's canonical columns from ``table`` and each one's name in the extract."""
    by_fold = {fold(name): name for name in table.column_names}
    columns: dict[str, pa.Array] = {}
    names: dict[str, str] = {}
    for canonical, name in profile.columns.items():
        if fold(name) in by_fold:
            names[canonical] = by_fold[fold(name)]
            columns[canonical] = _column(table, name)
    for canonical in profile.absent:
        kind = pa.int64() if schema.columns[canonical].type == "integer" else pa.large_string()
        columns[canonical] = pa.nulls(table.num_rows, kind)
        names[canonical] = f"{canonical} (absent from {profile.name})"
    if profile.episodes is not None:
        for canonical, values in episode_codes(table, profile).items():
            columns[canonical] = values
            names[canonical] = canonical
    ours = {*schema.columns, *TRACE_COLUMNS}
    for name in profile.keep:
        if fold(name) in by_fold and fold(name) not in {fold(n) for n in names.values()}:
            kept = by_fold[fold(name)]
            columns[_own_name(kept, ours | set(columns), DQ_PREFIX, NORMALISED)] = _column(table, name)
    return columns, names


def _own_name(name: str, taken: set[str], *prefixes: str) -> str:
    """Return ``name`` for an extract's column, or ``extract:name`` if it is one of rfd-audit's own.

    A name is rfd-audit's own when ``taken`` holds it (case ignored) or it starts with one of
    ``prefixes``: those columns must never be overwritten by the extract.
    """
    folded = {fold(other) for other in taken}
    while fold(name) in folded or name.lower().startswith(prefixes):
        name = f"extract:{name}"
    return name


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    by_fold = {fold(n): n for n in table.column_names}
    return table.column(by_fold[fold(name)])


def _any(problems: list[Problem], size: int) -> np.ndarray:
    unusable = np.zeros(size, dtype=bool)
    for problem in problems:
        unusable |= problem.rows
    return unusable


def _whole_spells(
    typed: dict[str, pa.Array],
    raw: dict[str, pa.Array],
    names: dict[str, str],
    problems: list[Problem],
    unusable: np.ndarray,
    profile: Profile,
) -> tuple[list[Problem], np.ndarray]:
    """Return problems and unusable rows widened so a spell with an unusable episode goes whole.

    An episode with an empty spell-key column cannot be put in any spell (Arrow would group all
    such episodes together), so it is unusable on its own. An unusable episode takes with it
    every episode that agrees with it on the spell-key columns it has a readable value for: one
    whose admission date is not a date could belong to any of that patient's spells there.
    """
    assert profile.episodes is not None
    key = list(profile.episodes.spell_key)
    bad_order = np.asarray(pc.is_null(typed["_order"]).to_numpy(zero_copy_only=False), dtype=bool)
    if bad_order.any():
        problems = [*problems, Problem(f"{profile.episodes.order} is not an episode number", bad_order)]
        unusable = unusable | bad_order
    empty = np.zeros(len(unusable), dtype=bool)
    for name in key:
        blank = np.asarray(pc.is_null(_key_text(raw[name])).to_numpy(zero_copy_only=False), dtype=bool)
        if blank.any():
            reason = f"{names.get(name, name)} is empty, so the episode cannot be put in its spell"
            problems = [*problems, Problem(reason, blank)]
            empty |= blank
    unusable = unusable | empty
    tied = _tied(typed, [*key, "_order"], unusable)
    if tied.any():
        reason = f"another episode of the same spell has the same {profile.episodes.order}"
        problems = [*problems, Problem(reason, tied)]
        unusable = unusable | tied
    if not unusable.any():
        return problems, unusable
    keys = pa.table({name: typed[name] for name in key}).append_column(
        "_position", pa.array(np.arange(len(unusable)))
    )
    readable = np.column_stack(
        [np.asarray(pc.is_valid(typed[name]).to_numpy(zero_copy_only=False), dtype=bool) for name in key]
    )
    spreading = unusable & ~empty
    companions = np.zeros(len(unusable), dtype=bool)
    # One join per pattern of readable key columns (at most 2**len(key)), not per episode.
    for pattern in np.unique(readable[spreading], axis=0):
        on = [name for name, known in zip(key, pattern, strict=True) if known]
        if not on:
            continue
        bad = keys.filter(pa.array(spreading & (readable == pattern).all(axis=1))).select(on)
        sharing = keys.join(bad.group_by(on).aggregate([]), on, join_type="left semi")
        companions[sharing.column("_position").to_numpy()] = True
    companions &= ~unusable
    if companions.any():
        problems = [*problems, Problem("another episode of the same spell is unusable", companions)]
    return problems, unusable | companions


def _tied(typed: dict[str, pa.Array], columns: list[str], unusable: np.ndarray) -> np.ndarray:
    """Return the usable episodes that agree with another on every one of ``columns``.

    Two episodes of one spell with the same episode number leave its first episode (and so its
    primary codes and identifier) to the order of the file: the spell cannot be rolled up.
    """
    episodes = pa.table({name: typed[name] for name in columns})
    episodes = episodes.append_column("_position", pa.array(np.arange(len(unusable))))
    episodes = episodes.filter(pa.array(~unusable))
    counted = episodes.group_by(columns).aggregate([("_position", "count")])
    repeated = counted.filter(pc.greater(counted.column("_position_count"), 1)).select(columns)
    tied = np.zeros(len(unusable), dtype=bool)
    if repeated.num_rows:
        shared = episodes.join(repeated, columns, join_type="left semi")
        tied[shared.column("_position").to_numpy()] = True
    return tied


def _key_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Return a spell-key column as trimmed text, NULL where empty (the form the episodes share)."""
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.large_string()))
    return pc.if_else(pc.equal(text, ""), None, text)


def _quarantine(raw: RawTable, problems: list[Problem], unusable: np.ndarray) -> pa.Table:
    """Return the unusable rows as text with their reasons, in the order of the file."""
    size = raw.table.num_rows
    reasons = [
        pc.if_else(pa.array(problem.rows), pa.scalar(problem.reason, pa.large_string()), None)
        for problem in problems
    ]
    joined = join_present(reasons, "; ") if reasons else pa.nulls(size, pa.large_string())
    keep = pa.array(unusable)
    rows = {
        "source": pa.array([raw.source] * int(unusable.sum()), pa.large_string()),
        "source_row": pa.array(raw.rows).filter(keep),
        "reason": joined.filter(keep),
        "line": pa.nulls(int(unusable.sum()), pa.large_string()),
    }
    for name in raw.table.column_names:
        rows[_own_name(name, set(rows))] = (
            pc.cast(raw.table.column(name), pa.large_string()).filter(keep).combine_chunks()
        )
    bad = pa.table(rows)
    rejected = raw.rejected
    split_failures = pa.table(
        {
            "source": pa.array([raw.source] * rejected.num_rows, pa.large_string()),
            "source_row": rejected.column("source_row"),
            "reason": rejected.column("reason"),
            "line": rejected.column("text"),
            **{
                name: pa.nulls(rejected.num_rows, pa.large_string())
                for name in list(rows)[len(QUARANTINE_COLUMNS) :]
            },
        }
    )
    return pa.concat_tables([split_failures, bad]).sort_by("source_row")


def _flat(values: pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Return ``table`` in pandas: text as Arrow strings, whole numbers as Int64, dates as datetime64[s]."""
    table = pa.table(
        {
            name: pc.cast(column, pa.timestamp("s")) if pa.types.is_date(column.type) else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
    )

    def mapper(kind: pa.DataType) -> object:
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return pd.StringDtype("pyarrow")
        if pa.types.is_integer(kind):
            return pd.Int64Dtype()
        return None

    return table.to_pandas(types_mapper=mapper)
