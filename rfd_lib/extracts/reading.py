"""Read extracts into canonical spells, accounting for every row: :func:`read_extract`, :func:`load_extracts`.

For each source: read its header, choose the column profile (given, or the one the header fits),
read every row, type each column (:mod:`rfd_lib.extracts.validate`), set unusable rows aside in the
quarantine with their reasons, roll episodes up to spells where the profile says so, then flag
data-quality findings on the spells. Each source's reconciliation — rows read = rows accepted +
rows quarantined — is checked, and a run where it does not hold stops. A source is read a batch
at a time (:mod:`rfd_lib.extracts.scan`, built on this module's reading of one batch,
``_read_one``); :func:`load_extracts` keeps every batch, a run keeps what the audit uses.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.arrow_text import join_present
from rfd_lib.errors import ReconciliationError
from rfd_lib.extracts.csv_source import RawTable, may_hold_break
from rfd_lib.extracts.episodes import episode_codes, roll_up
from rfd_lib.extracts.profiles import (
    Profile,
    choose_profile,
    fold,
    missing_columns,
    missing_error,
)
from rfd_lib.extracts.sources import BATCH_ROWS
from rfd_lib.extracts.spell_schema import SpellSchema
from rfd_lib.extracts.validate import NORMALISED, Problem, convert

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
    # Here, not at the top: the scan is built on this module's reading of one batch.
    from rfd_lib.extracts.scan import ExtractScan, combine_spells

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
    if not raw.one_line_each:
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
    accepted = pa.table(typed)
    if unusable.any():  # filtering copies every column: not when every row is usable
        accepted = accepted.filter(pa.array(~unusable))
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
