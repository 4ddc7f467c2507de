"""A run's extracts read, checked and classified, and what the run says of them.

:func:`read_run_extracts` reads the parameter file's extracts a batch at a time — files, folders
and databases through :func:`rfd_lib.pipeline.streaming.classify_extracts`, a Spark source
through :func:`rfd_lib.pipeline.spark_source.classify_spark` — keeping what the audit uses.
The rest words what was read for the run's summary and index: counts only, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rfd_lib.engine.rule import Rule
from rfd_lib.extracts.sources import expand_sources, query_text
from rfd_lib.extracts.writing import Written
from rfd_lib.metrics.activity import audit_prefilter
from rfd_lib.metrics.code_lists import CodeLists
from rfd_lib.metrics.expectations import Expectations
from rfd_lib.pipeline.params import RunParams
from rfd_lib.pipeline.streaming import Streamed, classify_extracts
from rfd_lib.wording import say


@dataclass(frozen=True)
class RunInputs:
    """What a run reads: the sources given to the reader, the files among them (hashed), the populations."""

    sources: list[str | Path]
    files: list[Path]
    populations: Path | None


def run_inputs(params: RunParams, internal: Path) -> RunInputs:
    """Return the extracts to read (writing the synthetic set first when asked) and their files."""
    if params.extracts.synthetic:
        from rfd_lib.synthetic import write_extracts

        made = write_extracts(internal / "synthetic-extracts")
        return RunInputs(list(made.extracts), list(made.extracts), made.populations)
    if params.extracts.database:
        return RunInputs([params.extracts.database.url], [], None)
    if params.extracts.spark:
        return RunInputs([], [], None)
    paths = [Path(file) for file in params.extracts.files]
    # The files the reader will read, folders expanded as it expands them: these are hashed.
    return RunInputs(list(paths), [Path(file) for file in expand_sources(paths)], None)


def database_source(params: RunParams) -> tuple[str, str] | None:
    """Return the database URL and the SQL its query ran, for the provenance (a Spark source likewise).

    A Spark source is recorded as a database is: its name (``spark table <name>`` or the path)
    and, as the "query", what Spark was asked to read (format and option names; no option values,
    which may hold a key).
    """
    spark = params.extracts.spark
    if spark is not None:
        read = f"format={spark.format}; options={','.join(sorted(spark.options))}; master={spark.master}"
        return f"spark {spark.shown}" if spark.table is None else spark.shown, read
    database = params.extracts.database
    if database is None:
        return None
    return database.url, query_text(database.query, "")[0]


def read_run_extracts(
    params: RunParams,
    sources: list[str | Path],
    internal: Path,
    rule: Rule,
    code_lists: CodeLists,
    expectations: Expectations,
) -> tuple[Streamed, list[str]]:
    """Return the run's extracts read and classified (the audit's spells kept), and notes for the index.

    The batches' parts are written under ``internal/parts`` until the run puts them together.
    """
    keep, parts = audit_prefilter(rule, code_lists), internal / "parts"
    if params.extracts.spark is not None:
        from rfd_lib.pipeline.spark_source import classify_spark  # pyspark only for a Spark source

        # Read, checked and classified by Spark's workers, batch by batch, with the same steps.
        extract = classify_spark(
            params.extracts.spark,
            rule=rule,
            keep=keep,
            parts=parts,
            period_date=expectations.period_date,
            profile=params.extracts.profile,
            allow_duplicate_spells=params.extracts.allow_duplicate_spells,
        )
        return extract, [say("run_index.spark_kept_only")]
    # Read a batch at a time: only the spells the audit uses stay in memory (pipeline/streaming.py).
    extract = classify_extracts(
        sources,
        rule=rule,
        keep=keep,
        parts=parts,
        period_date=expectations.period_date,
        profile=params.extracts.profile,
        delimiter=params.extracts.delimiter,
        encoding=params.extracts.encoding,
        sheet=params.extracts.sheet,
        query=database_query(params),
        allow_duplicate_spells=params.extracts.allow_duplicate_spells,
    )
    return extract, []


def database_query(params: RunParams) -> str | None:
    """Return the query of the run's database source (None for any other source)."""
    database = params.extracts.database
    return None if database is None else database.query


def unread_sources(extract: Streamed) -> list[str]:
    """Return a note for each source none of whose rows could be used (its provider is missing)."""
    table = extract.reconciliation
    empty = table[(table["rows_accepted"] == 0) & (table["rows_read"] > 0)]
    return [
        f"{Path(str(source)).name}: all {rows:,} rows were quarantined, so none of its spells is in this "
        "audit (reasons in the quarantine file in internal/)."
        for source, rows in zip(empty["source"], empty["rows_read"], strict=True)
    ]


def files_read(extract: Streamed, *, given: bool) -> tuple[str, ...]:
    """Return one line per extract read: its profile (detected or given) and its rows, counts only."""
    how = "as given in the parameter file" if given else "detected from the header"
    lines = []
    for row in extract.reconciliation.itertuples(index=False):
        spells = "" if row.spells == row.rows_accepted else f" ({row.spells:,} spells)"
        lines.append(
            f"{row.source}: profile {row.profile} ({how}); {row.rows_read:,} rows read = "
            f"{row.rows_accepted:,} accepted{spells} + {row.rows_quarantined:,} quarantined"
        )
    return tuple(lines)


def reconciliation_line(extract: Streamed, written: Written) -> str:
    """Return rows read = accepted + quarantined, with where the quarantined rows are."""
    totals = extract.reconciliation[["rows_read", "rows_accepted", "rows_quarantined"]].sum()
    return (
        f"{totals['rows_read']:,} rows read = {totals['rows_accepted']:,} accepted + "
        f"{totals['rows_quarantined']:,} quarantined"
        + (f" (reasons in {written.quarantine})" if written.quarantine is not None else "")
    )
