"""The benchmark script runs and prints both figures (its timings are never asserted)."""

import subprocess
import sys

import pandas as pd

from tests.paths import ROOT

SCRIPT = ROOT / "benchmarks" / "bench_classify.py"


def test_the_benchmark_prints_both_figures_and_agrees_with_duckdb(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--spells", "20000", "--repeat", "1", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "million spells/s" in done.stdout
    assert "ratio rfd_lib/DuckDB = " in done.stdout
    assert (tmp_path / "spells.csv").is_file()


EXTRACT = SCRIPT.with_name("bench_extract.py")


def test_the_extract_benchmark_prints_ratio_and_memory_and_agrees_with_duckdb(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXTRACT), "--spells", "20000", "--repeat", "1", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ratio rfd_lib/DuckDB = " in done.stdout
    assert "peak memory of one rfd_lib run: " in done.stdout


def test_the_extract_benchmark_shuffled_reads_the_same_spells_in_another_order(tmp_path):
    sys.path.insert(0, str(EXTRACT.parent))
    try:
        from bench_extract import csv_for
    finally:
        sys.path.remove(str(EXTRACT.parent))
    ordered = pd.read_csv(csv_for(2000, tmp_path), dtype=str)
    shuffled = pd.read_csv(csv_for(2000, tmp_path, shuffled=True), dtype=str)
    assert not ordered["APCS_Ident"].equals(shuffled["APCS_Ident"])
    key = list(ordered.columns)
    pd.testing.assert_frame_equal(
        shuffled.sort_values(key, ignore_index=True), ordered.sort_values(key, ignore_index=True)
    )


REPORT = SCRIPT.with_name("bench_report.py")


def test_the_report_benchmark_prints_times_and_the_speed_up():
    done = subprocess.run(
        [sys.executable, str(REPORT), "--jobs", "1", "2", "--providers", "ZH8", "--formats", "html"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "jobs 1: " in done.stdout and "jobs 2: " in done.stdout and "(0 failed)" in done.stdout
    assert "speed-up of 2 jobs over 1: " in done.stdout


NATIONAL = SCRIPT.with_name("bench_national.py")


def test_the_national_benchmark_prints_memory_and_the_same_counts_from_each_engine(tmp_path):
    done = subprocess.run(
        [sys.executable, str(NATIONAL), "--spells", "30000", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "peak memory" in done.stdout and "(target < 1.5)" in done.stdout
    counted = done.stdout.split("counted spells: ")[1].splitlines()[0]
    local, duck = (int(part.split()[1].replace(",", "")) for part in counted.split(", "))
    assert local == duck > 0
    assert (tmp_path / "national_30000.csv").is_file()
