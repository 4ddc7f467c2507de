"""``rfd-audit``: the command line, a thin wrapper over rfd_lib's functions.

Every error an analyst can cause is printed as one line (with its hint) and exits with status 2;
nothing is written when a command fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from rfd_lib import config
from rfd_lib.atomic import partial_path
from rfd_lib.engine.classification import classify
from rfd_lib.engine.rule import load_rule
from rfd_lib.errors import RfdAuditError, RunInterrupted
from rfd_lib.extracts.reading import Extract
from rfd_lib.extracts.writing import COMPANIONS, Written, beside, reconciliation_text, write_classified
from rfd_lib.metrics.activity import audit_prefilter
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.pipeline.extract_sql import DEFAULT_TABLE, extract_sql
from rfd_lib.pipeline.streaming import classify_extracts, write_streamed
from rfd_lib.synthetic import example_spells


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv``); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("rfd-audit: interrupted before any report was made", file=sys.stderr)
        return INTERRUPTED
    except RunInterrupted as error:
        print(f"rfd-audit: {error}", file=sys.stderr)
        return INTERRUPTED
    except RfdAuditError as error:
        print(f"rfd-audit: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"rfd-audit: error: {_os_error(error)}", file=sys.stderr)
        return 2


def _os_error(error: OSError) -> str:
    """Return an operating-system error as one line that names the file it was about."""
    where = " → ".join(str(name) for name in (error.filename, error.filename2) if name)
    return f"{where}: {error.strerror or error}" if where else str(error.strerror or error)


INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rfd-audit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    example = commands.add_parser("example", help="classify the built-in synthetic spells and summarise")
    example.add_argument("--spells", type=int, default=20_000, help="how many spells (default 20000)")
    example.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    example.add_argument("--rule", default="2K_RFD_back", help="packaged rule name or rule file path")
    example.add_argument("-o", "--out", type=Path, default=config.EXAMPLE_DIR, help="output folder")
    example.set_defaults(run=_run_example)

    run = commands.add_parser(
        "classify", help="read extracts, set unusable rows aside, classify every spell, write Parquet"
    )
    run.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="CSV/Parquet/.xlsx files, folders, or a database URL"
    )
    run.add_argument("-o", "--output", type=Path, required=True, help="the classified spells (.parquet)")
    run.add_argument(
        "--allow-duplicate-spells",
        action="store_true",
        help="read files that share spell identifiers (otherwise refused: the spells would count twice)",
    )
    _reading_options(run)
    run.set_defaults(run=_run_classify)

    demo = commands.add_parser("demo", help="write the built-in synthetic extracts and classify them")
    demo.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    demo.add_argument("--folder", type=Path, default=config.SYNTHETIC_DIR, help="where the extracts go")
    demo.add_argument("-o", "--output", type=Path, default=config.DEMO_OUTPUT, help="the classified spells")
    demo.add_argument("--rule", default="2K_RFD_back", help="packaged rule name or rule file path")
    demo.set_defaults(run=_run_demo)

    audit = commands.add_parser(
        "run", help="run the quarterly audit a parameter file describes: every report, HTML and PDF"
    )
    audit.add_argument("params", type=Path, metavar="PARAMS.yaml", help="the run's parameter file")
    audit.add_argument("--jobs", type=_positive, help="notebooks executed in parallel (default: the file's)")
    audit.add_argument("--providers", nargs="+", metavar="CODE", help="only these providers' reports")
    audit.add_argument("--formats", type=_formats, help="html, pdf or html,pdf (default: the file's)")
    audit.add_argument("--quiet", action="store_true", help="no progress bar")
    audit.set_defaults(run=_run_audit)

    pull = commands.add_parser(
        "extract-sql",
        help="print a T-SQL query that pulls from SUS+ only the spells and columns the audit needs",
    )
    pull.add_argument("--profile", default="sus_apcs", help="column profile of spells (default sus_apcs)")
    pull.add_argument(
        "--from",
        dest="table",
        default=DEFAULT_TABLE,
        help=f"the APCS table or view (default {DEFAULT_TABLE})",
    )
    pull.add_argument("--start", type=_day, help="first period date (discharge date by default), YYYY-MM-DD")
    pull.add_argument("--end", type=_day, help="last period date, included, YYYY-MM-DD")
    pull.add_argument("--rule", default="2K_RFD_back", help="packaged rule name or rule file path")
    pull.add_argument("--code-lists", type=Path, default=config.CODE_LISTS, help="the code lists (.yaml)")
    pull.add_argument("--expectations", type=Path, default=config.EXPECTATIONS, help="its period_date")
    pull.set_defaults(run=_run_extract_sql)

    rule = commands.add_parser("rule", help="show a rule's criteria and provenance")
    rule.add_argument("rule", nargs="?", default="2K_RFD_back", help="packaged rule name or rule file path")
    rule.set_defaults(run=_run_rule)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _formats(text: str) -> list[str]:
    formats = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in formats if part not in ("html", "pdf")]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"{text!r}: formats are html and pdf, e.g. html,pdf")
    return formats


def _run_audit(args: argparse.Namespace) -> int:
    from rfd_lib.pipeline.runner import run_audit

    result = run_audit(
        args.params, jobs=args.jobs, providers=args.providers, formats=args.formats, progress=not args.quiet
    )
    for line in result.extracts:
        print(line)
    print(result.reconciliation)
    for note in result.notes:
        print(note)
    made = [report for report in result.reports if not report.error]
    seconds = result.seconds["total"]
    print(f"{len(made)} of {len(result.reports)} reports written to {result.output} in {seconds:.0f} s")
    if result.kept or result.summary_kept:
        kept = [*result.kept, *(["the summary"] if result.summary_kept else [])]
        print(f"kept from an earlier run of the same inputs: {', '.join(kept)}")
    for line in result.dropped:
        print(line)
    if result.tables:
        print(f"tables for analysts (CSV and .xlsx) in {result.tables[0].parent}")
    if result.case_lists:
        folder = result.case_lists[0].parent
        print(f"case lists for local review (patient level, NOT for circulation) in {folder}")
    print(f"open {result.index}")
    if result.failures:
        print(f"\n{len(result.failures)} report(s) failed:", file=sys.stderr)
        for report in result.failures:
            print(
                f"  {report.name!r}: {report.error}\n    executed notebook: {report.executed}",
                file=sys.stderr,
            )
    if result.pdf_failures:
        print(
            f"\n{len(result.pdf_failures)} PDF(s) not printed (the HTML reports were made):", file=sys.stderr
        )
        for report in result.pdf_failures:
            print(f"  {report.name!r}: {report.pdf_error}", file=sys.stderr)
    return 1 if result.failures or result.pdf_failures else 0


def _reading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--profile", help="column profile name or .yaml path (default: detected)")
    command.add_argument("--delimiter", help="CSV delimiter (default: detected from the header)")
    command.add_argument("--encoding", help="CSV encoding (default: UTF-8, else cp1252)")
    command.add_argument("--sheet", help="the worksheet of an .xlsx workbook that holds the spells")
    command.add_argument("--query", help="the SQL query (or a .sql file) for a database URL")
    command.add_argument("--rule", default="2K_RFD_back", help="packaged rule name or rule file path")


def _run_classify(args: argparse.Namespace) -> int:
    # A batch at a time: memory holds one batch and the audit's pre-filtered spells, whatever the size.
    rule = load_rule(args.rule)
    folder = args.output.parent / f".{args.output.name}.parts-{os.getpid()}"
    streamed = classify_extracts(
        args.inputs,
        rule=rule,
        keep=audit_prefilter(rule, load_code_lists()),
        parts=folder,
        profile=args.profile,
        delimiter=args.delimiter,
        encoding=args.encoding,
        sheet=args.sheet,
        query=args.query,
        allow_duplicate_spells=args.allow_duplicate_spells,
        skip=[*_outputs(args.output), folder],
    )
    written = write_streamed(streamed, args.output)
    reasons = pq.read_table(written.spells, columns=["reason"]).to_pandas()
    quarantined = (
        pd.read_csv(written.quarantine, usecols=["reason"], dtype="string")["reason"]
        if written.quarantine is not None
        else pd.Series(dtype="string")
    )
    _print_read(streamed.notes, streamed.reconciliation, quarantined, streamed.findings)
    _print_written(reasons, written)
    return 0


def _outputs(output: Path) -> list[Path]:
    """Return the files a classify command writes: never to be read as its extracts."""
    return [output, *(beside(output, suffix) for suffix in COMPANIONS)]


def _run_demo(args: argparse.Namespace) -> int:
    from rfd_lib.pipeline.demo import demo_data

    data = demo_data(args.folder, seed=args.seed, rule=args.rule, skip=_outputs(args.output))
    print(f"synthetic extracts (not real patients) written to {data.written.folder}")
    _report(data.extract, data.classified, write_classified(data.classified, data.extract, args.output))
    return 0


def _report(extract: Extract, classified: pd.DataFrame, written: Written) -> None:
    """Print what was read, what was set aside and why, what was found, and where it went."""
    _print_read(extract.notes, extract.reconciliation, extract.quarantine["reason"], extract.findings)
    _print_written(classified, written)


def _print_read(
    notes: Sequence[str], reconciliation: pd.DataFrame, quarantined: pd.Series, findings: pd.DataFrame
) -> None:
    """Print the notes, rows read = accepted + quarantined, the quarantine's reasons and the findings."""
    for note in notes:
        print(note)
    print()
    print(reconciliation_text(reconciliation))
    if len(quarantined):
        print("\nquarantined rows by reason:")
        print(quarantined.value_counts().rename("rows").to_string())
    if len(findings):
        print("\ndata-quality findings (spells kept, flagged in dq_* columns):")
        print(findings[["check", "column", "spells"]].to_string(index=False))


def _print_written(classified: pd.DataFrame, written: Written) -> None:
    """Print the spells per outcome (``classified`` needs its ``reason`` only) and where the files went."""
    print()
    print(summarise(classified).to_string())
    print(f"\n{len(classified):,} spells classified; written to {written.spells}")
    if written.quarantine is not None:
        print(f"quarantined rows (patient-level, keep it as safe as the extract): {written.quarantine}")
    print(f"data-quality findings: {written.findings}")


def _run_example(args: argparse.Namespace) -> int:
    spells = example_spells(args.spells, seed=args.seed)
    classified = classify(spells, args.rule)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "classified_spells.parquet"
    partial = partial_path(target)
    classified.to_parquet(partial, index=False)
    partial.replace(target)
    print(summarise(classified).to_string())
    print(f"\n{len(classified):,} synthetic spells classified; written to {target}")
    return 0


def summarise(classified: pd.DataFrame) -> pd.Series:
    """Return how many spells were counted and, for the rest, how many per reason."""
    reasons = classified["reason"].cat.add_categories(["counted"]).fillna("counted")
    return reasons.value_counts(sort=False).rename("spells").rename_axis("outcome")


def _run_extract_sql(args: argparse.Namespace) -> int:
    print(
        extract_sql(
            profile=args.profile,
            table=args.table,
            start=args.start,
            end=args.end,
            rule=args.rule,
            code_lists=args.code_lists,
            expectations=args.expectations,
        ),
        end="",
    )
    return 0


def _run_rule(args: argparse.Namespace) -> int:
    rule = load_rule(args.rule)
    manifest = rule.manifest
    print(f"{rule.name}: {manifest.title} -> '{rule.label}'")
    print(f"  file: {rule.path}")
    print(f"  source: {manifest.source}")
    print(f"  published {manifest.published or '?'}, last reviewed {manifest.last_reviewed or '?'}")
    for number, criterion in enumerate(rule.criteria, start=1):
        role = "scope" if number <= rule.scope_count else "restriction"
        print(f"  {number}. [{criterion.section}, line {criterion.line}, {role}] {criterion.name}")
        if criterion.name != criterion.sql:
            print(f"       {criterion.sql}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
