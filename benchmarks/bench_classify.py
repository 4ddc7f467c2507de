"""Speed of the rule engine, printed as figures (never asserted): ``make bench``.

1. ``classify`` on an in-memory national-quarter frame (default 5 million synthetic spells, 0.2 %
   RFD-coded): spells per second, best of ``--repeat`` runs. Target: at least 20 million/s.
2. From a CSV file on disk: read (pyarrow, every code column as text) + ``classify``, against DuckDB
   reading the same file and executing the published rule in its CASE WHEN shape (the view
   ``classified`` of ``tests/oracle/2K_RFD_back.duckdb.sql``, DuckDB's fastest form) into an Arrow
   table. Target: ours / DuckDB at most 1.0. Both must count the same spells.

The CSV is written once to ``--data-dir`` (git-ignored) and reused while its size matches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

import rfd_lib
from rfd_lib import classify
from rfd_lib.synthetic import example_spells

ROOT = Path(__file__).resolve().parents[1]
ORACLE = (ROOT / "tests" / "oracle" / "2K_RFD_back.duckdb.sql").read_text()
AGES = ("Age_At_Start_of_Spell_SUS", "Der_Age_at_CDS_Activity_Date")
SEED = 2025


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """Return the shortest wall time of ``repeat`` runs of ``run`` and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def csv_for(spells: pd.DataFrame, folder: Path) -> Path:
    """Return the CSV of ``spells`` in ``folder``, writing it unless an identical one is there."""
    folder.mkdir(parents=True, exist_ok=True)
    path, stamp = folder / "spells.csv", folder / "spells.json"
    wanted = {"spells": len(spells), "seed": SEED, "columns": list(spells.columns)}
    if path.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return path
    pacsv.write_csv(pa.Table.from_pandas(spells, preserve_index=False), path)
    stamp.write_text(json.dumps(wanted))
    return path


def read_and_classify(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read the CSV as rfd-audit reads text extracts (codes as text, never inferred) and classify."""
    types = {c: (pa.int64() if c in AGES else pa.large_string()) for c in columns}
    types["spell_id"] = pa.int64()
    # An unquoted empty field is NULL and a quoted "" an empty string, as the CSV writer wrote them.
    options = pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    table = pacsv.read_csv(path, convert_options=options)
    return classify(table.to_pandas(types_mapper=pd.ArrowDtype))


def duckdb_read_and_classify(path: Path, columns: list[str]) -> pa.Table:
    """DuckDB reads the same CSV and runs the transcribed published SQL into an Arrow table."""
    types = {c: ("BIGINT" if c in AGES or c == "spell_id" else "VARCHAR") for c in columns}
    connection = duckdb.connect()
    try:
        connection.execute(
            f"CREATE VIEW spells AS SELECT * FROM read_csv('{path}', header = true, columns = {types})"
        )
        connection.execute(ORACLE)
        return connection.sql("SELECT * FROM classified").to_arrow_table()
    finally:
        connection.close()


def in_memory(spells: pd.DataFrame, repeat: int) -> None:
    """Print the in-memory classify throughput."""
    seconds, result = best_of(repeat, lambda: classify(spells))
    counted = int(result["ebi_category"].notna().sum())
    print(
        f"in-memory classify: {seconds:.3f} s for {len(spells):,} spells = "
        f"{len(spells) / seconds / 1e6:.1f} million spells/s (target >= 20); {counted:,} counted"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spells", type=int, default=5_000_000, help="spells in the frame (default 5,000,000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure; the best is shown (default 3)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / "benchmarks" / "data", help="where the CSV goes"
    )
    args = parser.parse_args(argv)

    print(
        f"rfd_lib {rfd_lib.__version__} | Python {platform.python_version()} | pandas {pd.__version__} | "
        f"pyarrow {pa.__version__} | duckdb {duckdb.__version__} | {os.cpu_count()} cores"
    )
    start = time.perf_counter()
    spells = example_spells(args.spells, seed=SEED, rfd_share=0.002)
    print(
        f"generated {len(spells):,} synthetic spells in {time.perf_counter() - start:.1f} s (not timed below)"
    )

    in_memory(spells, args.repeat)
    path = csv_for(spells, args.data_dir)
    columns = list(spells.columns)
    del spells  # the CSV comparison starts from the file, with this frame's memory returned
    ours_s, ours = best_of(args.repeat, lambda: read_and_classify(path, columns))
    duck_s, duck = best_of(args.repeat, lambda: duckdb_read_and_classify(path, columns))
    ours_counted = int(ours["ebi_category"].notna().sum())
    duck_counted = duck.num_rows - duck.column("ebi_category").null_count
    print(
        f"CSV read + classify ({path.stat().st_size / 1e6:,.0f} MB): rfd_lib {ours_s:.2f} s, "
        f"DuckDB {duck_s:.2f} s, ratio rfd_lib/DuckDB = {ours_s / duck_s:.2f} (target <= 1.0)"
    )
    print(f"counted spells: rfd_lib {ours_counted:,}, DuckDB {duck_counted:,}")
    if ours_counted != duck_counted:
        print("MISMATCH: rfd_lib and DuckDB count different spells", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
