"""Speed and memory of reading a national quarter, printed as figures (never asserted): ``make bench``.

A 5,000,000-spell SUS+ CSV (``rfd_lib.synthetic.national_quarter``: SUS+ column names, dates,
identifiers) is written once to ``--data-dir`` (git-ignored). Timed, best of ``--repeat``:

* rfd_lib: the file read as a run reads it, a batch at a time (``ExtractScan``: sniff, read every
  column as text, type, validate, quarantine, findings, repeated identifiers), each batch
  labelled by ``classify_table`` (as ``classify_batch`` labels a run's batches), the classified
  batches joined into one Arrow table;
* DuckDB: ``read_csv`` of the same file with every column typed as rfd_lib types it (the SUS+
  profile's columns through ``params/spell_schema.yaml``: dates as DATE, ages as BIGINT, codes and
  identifiers as text) and the published rule in its fastest form
  (``tests/oracle/2K_RFD_back.duckdb.sql``, view ``classified``): every column with its label,
  into an Arrow table — typing and the rule, with no validation.

The file's spells are in identifier order, as an extract ordered by its identifier is (the
reader then knows no identifier can repeat); ``--shuffled`` writes and times a copy in random
order, where every identifier is hashed and compared.

Target: rfd_lib / DuckDB at most 1.5. Peak memory of rfd_lib's run is measured in a fresh child
process (its own peak resident set, VmHWM). Target: under 4 GB. Both must count the same spells.

Also printed, outside the ratio: ``rfd-audit classify``'s whole read (``classify_extracts``: the
same, plus the audit's pre-filtered spells kept as pandas, the extent counted and every batch
written as a Parquet part), and the whole extract read into one pandas frame (``load_extracts``
and ``classify``, the library's in-memory way).
"""

from __future__ import annotations

import argparse
import csv as pycsv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
from bench_national import generator_digest, peak_kb

import rfd_lib
from rfd_lib import classify
from rfd_lib.engine.classification import classify_table
from rfd_lib.engine.rule import load_rule
from rfd_lib.extracts.profiles import fold, load_profile
from rfd_lib.extracts.reading import load_extracts
from rfd_lib.extracts.scan import ExtractScan
from rfd_lib.extracts.spell_schema import load_spell_schema
from rfd_lib.metrics.activity import audit_prefilter
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.pipeline.streaming import classify_extracts

ROOT = Path(__file__).resolve().parents[1]
ORACLE = (ROOT / "tests" / "oracle" / "2K_RFD_back.duckdb.sql").read_text(encoding="utf-8")
SEED = 2025
# DuckDB reads the SUS+ names; the oracle reads the published SQL's names.
RENAMED = """
CREATE VIEW spells AS SELECT
    Der_Primary_Procedure_Code AS Primary_Spell_Procedure, Der_Procedure_All AS Any_Spell_Procedure,
    Der_Primary_Diagnosis_Code AS Primary_Spell_Diagnosis, Der_Diagnosis_All AS Any_Spell_Diagnosis,
    * EXCLUDE (Der_Primary_Procedure_Code, Der_Procedure_All, Der_Primary_Diagnosis_Code, Der_Diagnosis_All)
FROM raw
"""
DUCKDB_TYPES = {"integer": "BIGINT", "date": "DATE"}  # every other type is read as text


def duckdb_types(path: Path) -> dict[str, str]:
    """Return each column of the CSV's header with the DuckDB type rfd_lib gives it.

    The SUS+ profile names each column's canonical column and the spell schema its type; a column
    the schema does not know (one the profile keeps, e.g. Site_Name) is text, as rfd_lib keeps it.
    """
    schema, profile = load_spell_schema(), load_profile("sus_apcs")
    canonical = {fold(name): column for column, name in profile.columns.items()}
    with path.open(encoding="utf-8") as handle:
        header = next(pycsv.reader(handle))
    kinds = {}
    for name in header:
        column = schema.columns.get(canonical.get(fold(name), ""))
        kinds[name] = DUCKDB_TYPES.get(column.type, "VARCHAR") if column else "VARCHAR"
    return kinds


def csv_for(spells: int, folder: Path, *, shuffled: bool = False) -> Path:
    """Return the national-quarter CSV of ``spells`` spells in ``folder``, writing it if needed.

    Its spells are in identifier order (as an extract ordered by its identifier is), or with
    ``shuffled`` in a random order, which makes the reader hash and compare every identifier.
    """
    from rfd_lib.synthetic import national_quarter

    folder.mkdir(parents=True, exist_ok=True)
    name = f"national_quarter_{spells}{'_shuffled' * shuffled}"
    path, stamp = folder / f"{name}.csv", folder / f"{name}.json"
    wanted = {"spells": spells, "seed": SEED, "rfd_lib": rfd_lib.__version__, "generator": generator_digest()}
    if path.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return path
    frame = national_quarter(spells, seed=SEED)
    if shuffled:
        frame = frame.sample(frac=1.0, random_state=SEED, ignore_index=True)
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    stamp.write_text(json.dumps(wanted))
    return path


def ours(path: Path) -> int:
    """Read, validate and classify the CSV a batch at a time into one Arrow table; return spells counted."""
    rule, scan = load_rule("2K_RFD_back"), ExtractScan([path])
    table = pa.concat_tables(
        [classify_table(batch.spells, rule) for batch in scan], promote_options="permissive"
    )
    scan.summary()  # the repeated identifiers, found once every batch is read
    return table.num_rows - table.column("ebi_category").null_count


def ours_run(path: Path) -> int:
    """Read the CSV as ``rfd-audit classify`` does (without joining its parts); return spells counted."""
    rule = load_rule("2K_RFD_back")
    with tempfile.TemporaryDirectory() as folder:
        streamed = classify_extracts(
            [path], rule=rule, keep=audit_prefilter(rule, load_code_lists()), parts=Path(folder) / "parts"
        )
    return int(streamed.spells["ebi_category"].notna().sum())


def ours_pandas(path: Path) -> int:
    """Read the whole CSV into pandas and classify it (``load_extracts`` + ``classify``); return counted."""
    return int(classify(load_extracts([path]).spells)["ebi_category"].notna().sum())


def duckdb_rule(path: Path) -> int:
    """Read the CSV typed and run the published rule over it in DuckDB, into Arrow; return spells counted."""
    with duckdb.connect() as connection:
        classified_view(connection, path)
        table = connection.sql("SELECT * FROM classified").to_arrow_table()
    return table.num_rows - table.column("ebi_category").null_count


def classified_view(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Create the view ``classified``: the CSV read typed, labelled by the published rule."""
    connection.execute("SET enable_progress_bar = false")  # it would print over the figures
    # The SUS+ profile's NULL markers; a quoted empty field is text, as rfd_lib reads it.
    columns = ", ".join(f"{_sql_text(name)}: '{kind}'" for name, kind in duckdb_types(path).items())
    connection.execute(
        f"CREATE VIEW raw AS SELECT * FROM read_csv({_sql_text(str(path))}, header = true, "
        f"columns = {{{columns}}}, nullstr = ['', 'NULL'], allow_quoted_nulls = false)"
    )
    connection.execute(RENAMED)
    connection.execute(ORACLE)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def best_of(repeat: int, run) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spells", type=int, default=5_000_000, help="spells (default 5,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, best shown (default 3)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data", help="CSV folder")
    parser.add_argument(
        "--shuffled", action="store_true", help="spells in random order, not identifier order (another CSV)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # the memory run: one read in a fresh process, peak RSS printed for the parent
        counted = ours(args.child)
        print(json.dumps({"counted": counted, "max_rss_kb": peak_kb()}))
        return 0

    print(
        f"rfd_lib {rfd_lib.__version__} | Python {platform.python_version()} | "
        f"duckdb {duckdb.__version__} | {os.cpu_count()} cores"
    )
    start = time.perf_counter()
    path = csv_for(args.spells, args.data_dir, shuffled=args.shuffled)
    print(
        f"CSV: {path} ({path.stat().st_size / 1e6:,.0f} MB; "
        f"ready in {time.perf_counter() - start:.1f} s, not timed)"
    )
    ours_s, ours_counted = best_of(args.repeat, lambda: ours(path))
    duck_s, duck_counted = best_of(args.repeat, lambda: duckdb_rule(path))
    print(
        f"read + validate + classify: rfd_lib {ours_s:.2f} s, DuckDB (typed read + rule) {duck_s:.2f} s, "
        f"ratio rfd_lib/DuckDB = {ours_s / duck_s:.2f} (target <= 1.5)"
    )
    run_s, run_counted = best_of(args.repeat, lambda: ours_run(path))
    pandas_s, pandas_counted = best_of(1, lambda: ours_pandas(path))
    print(
        f"not in the ratio: rfd-audit classify's read (+ kept spells, extent, Parquet parts) {run_s:.2f} s; "
        f"load_extracts + classify (all in pandas) {pandas_s:.2f} s"
    )
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
    )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"peak memory of one rfd_lib run: {memory['max_rss_kb'] / 1024**2:.2f} GB (target < 4)")
    print(f"counted spells: rfd_lib {ours_counted:,}, DuckDB {duck_counted:,}")
    if not ours_counted == duck_counted == memory["counted"] == run_counted == pandas_counted:
        print("MISMATCH: the counted spells differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
