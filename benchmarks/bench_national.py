"""A national audit's extract in bounded memory, printed as figures (never asserted).

``python benchmarks/bench_national.py`` writes a 40,000,000-spell SUS+ CSV once to ``--data-dir``
(git-ignored; about 4 GB; made of ``rfd_lib.synthetic.national_quarter`` parts, spell
identifiers made unique across them), then, each in a fresh child process so that its peak
resident memory is its own:

* rfd_lib, as ``rfd-audit run`` reads an extract: :func:`rfd_lib.pipeline.streaming.classify_extracts`
  (batch by batch: read, type, validate, quarantine, classify, keep what the audit's pre-filter keeps)
  and :func:`~rfd_lib.pipeline.streaming.write_streamed` (the classified spells as one Parquet
  file, the quarantine and the findings);
* DuckDB: the same file read with every column typed and labelled by the published rule
  (``tests/oracle/2K_RFD_back.duckdb.sql``), the counted spells only;
* with ``--spark``: Spark ``local[2]`` reading the CSV and labelling it with
  :func:`rfd_lib.spark.classify` (the same compiled rule and evaluator, on Arrow batches).

It prints each one's time and peak memory (target for rfd_lib: under 1.5 GB), rows read =
accepted + quarantined, and the counted spells of each, which must agree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
PART = 2_000_000
SEED = 2026


def generator_digest() -> str:
    """Return a digest of the synthetic generator's code (a CSV it wrote differently is written again)."""
    code = b"".join(part.read_bytes() for part in sorted((ROOT / "rfd_lib" / "synthetic").glob("*.py")))
    return hashlib.sha256(code).hexdigest()[:16]


def csv_for(spells: int, folder: Path) -> Path:
    """Return the national CSV of ``spells`` spells in ``folder``, writing it a part at a time if needed."""
    import rfd_lib
    from rfd_lib.synthetic import national_quarter

    folder.mkdir(parents=True, exist_ok=True)
    path, stamp = folder / f"national_{spells}.csv", folder / f"national_{spells}.json"
    wanted = {
        "spells": spells,
        "seed": SEED,
        "part": PART,
        "rfd_lib": rfd_lib.__version__,
        "generator": generator_digest(),
    }
    if path.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return path
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        for number, start in enumerate(range(0, spells, PART)):
            frame = national_quarter(min(PART, spells - start), seed=SEED + number)
            # Each part numbers its spells alike: shift them so every identifier is unique.
            shifted = frame["APCS_Ident"].astype("int64") + number * 10_000_000_000
            frame["APCS_Ident"] = shifted.astype("string")
            options = pacsv.WriteOptions(include_header=number == 0)
            pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), handle, write_options=options)
    partial.replace(path)
    stamp.write_text(json.dumps(wanted))
    return path


def local(path: Path) -> dict[str, object]:
    """Read, check, classify and write the CSV as a run does; return the figures."""
    from rfd_lib.engine.rule import load_rule
    from rfd_lib.metrics.activity import audit_prefilter
    from rfd_lib.metrics.code_lists import load_code_lists
    from rfd_lib.pipeline.streaming import classify_extracts, write_streamed

    rule = load_rule()
    with tempfile.TemporaryDirectory(prefix="rfd-national-") as folder:
        start = time.perf_counter()
        streamed = classify_extracts(
            [path], rule=rule, keep=audit_prefilter(rule, load_code_lists()), parts=Path(folder) / "parts"
        )
        read = time.perf_counter() - start
        write_streamed(streamed, Path(folder) / "classified_spells.parquet")
        total = time.perf_counter() - start
    rows = streamed.reconciliation[["rows_read", "rows_accepted", "rows_quarantined"]].sum()
    return {
        "seconds": round(total, 1),
        "read_classify_seconds": round(read, 1),
        "counted": int(streamed.spells["ebi_category"].notna().sum()),
        "kept": len(streamed.spells),
        "rows_read": int(rows["rows_read"]),
        "rows_accepted": int(rows["rows_accepted"]),
        "rows_quarantined": int(rows["rows_quarantined"]),
    }


def duck(path: Path) -> dict[str, object]:
    """Count the spells the published rule counts, in DuckDB (the CSV read typed); return the figures."""
    import duckdb
    from bench_extract import classified_view

    start = time.perf_counter()
    with duckdb.connect() as connection:
        classified_view(connection, path)
        counted = connection.execute("SELECT count(ebi_category) FROM classified").fetchall()[0][0]
    return {"seconds": round(time.perf_counter() - start, 1), "counted": int(counted)}


def spark(path: Path) -> dict[str, object]:
    """Label the CSV with rfd_lib.spark.classify on Spark local[2]; return the figures."""
    from pyspark.sql import functions as F

    from rfd_lib.spark import classify, session

    start = time.perf_counter()
    active = session("local[2]")
    frame = active.read.option("header", True).option("inferSchema", False).csv(str(path))
    frame = frame.select(
        F.col("Der_Primary_Procedure_Code").alias("Primary_Spell_Procedure"),
        F.col("Der_Procedure_All").alias("Any_Spell_Procedure"),
        F.col("Der_Primary_Diagnosis_Code").alias("Primary_Spell_Diagnosis"),
        F.col("Der_Diagnosis_All").alias("Any_Spell_Diagnosis"),
        F.col("Age_At_Start_of_Spell_SUS").try_cast("int").alias("Age_At_Start_of_Spell_SUS"),
        F.col("Der_Age_at_CDS_Activity_Date").try_cast("int").alias("Der_Age_at_CDS_Activity_Date"),
        "Admission_Method",
        "Administrative_Category",
    )
    counted = classify(frame).where(F.col("ebi_category").isNotNull()).count()
    return {"seconds": round(time.perf_counter() - start, 1), "counted": int(counted)}


RUNS = {"local": local, "duckdb": duck, "spark": spark}


def peak_kb() -> int:
    """Return this process's peak resident memory in KB, its own alone.

    ``VmHWM`` of its memory since it started this program; ``ru_maxrss`` would not do: Linux
    carries the parent's peak over into a child at exec, so a child would report its parent's.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spells", type=int, default=40_000_000, help="spells (default 40,000,000)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data", help="CSV folder")
    parser.add_argument("--spark", action="store_true", help="also run Spark local[2]")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one run in a fresh process: its figures and peak memory, for the parent
        kind, path = args.child
        figures = RUNS[kind](Path(path))
        figures["peak_gb"] = round(peak_kb() / 1024**2, 2)
        print(json.dumps(figures))
        return 0
    start = time.perf_counter()
    path = csv_for(args.spells, args.data_dir)
    size = path.stat().st_size / 1e9
    ready = time.perf_counter() - start
    print(f"CSV: {path} ({args.spells:,} spells, {size:.1f} GB; ready in {ready:.0f} s)")
    print(f"{os.cpu_count()} cores")
    results = {}
    for kind in ["local", "duckdb", *(["spark"] if args.spark else [])]:
        child = subprocess.run(
            [sys.executable, __file__, "--child", kind, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode:
            print(f"{kind}: failed\n{child.stderr[-2000:]}", file=sys.stderr)
            return 1
        results[kind] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{kind}: {json.dumps(results[kind])}")
    ours = results["local"]
    print(
        f"rfd_lib: {ours['seconds']} s, peak memory {ours['peak_gb']} GB (target < 1.5); rows read "
        f"{ours['rows_read']:,} = {ours['rows_accepted']:,} accepted + "
        f"{ours['rows_quarantined']:,} quarantined"
    )
    counts = {kind: figures["counted"] for kind, figures in results.items()}
    print("counted spells: " + ", ".join(f"{kind} {count:,}" for kind, count in counts.items()))
    reconciled = ours["rows_read"] == ours["rows_accepted"] + ours["rows_quarantined"]
    if len(set(counts.values())) != 1 or not reconciled:
        print("MISMATCH: the counted spells or the reconciliation differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
