"""Speed of the whole demo audit run, printed as figures (never asserted): ``make bench``.

Runs ``rfd-audit run params/demo.yaml`` (20 synthetic providers and the summary, HTML and PDF)
into a temporary folder with each of ``--jobs`` (default 1 and 2 workers) and prints, per run, the
wall time, the time to read, classify and audit, the mean cost of one report, and the speed-up of
the most jobs over one. Targets (issue 5): the two-job run under 90 s on a 2-core machine, and
two jobs at least 1.6 times as fast as one.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from rfd_lib.pipeline.params import load_params
from rfd_lib.pipeline.runner import run_audit

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Print the run's figures for each number of jobs asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    parser.add_argument("--providers", nargs="+", help="only these providers (a quick run)")
    parser.add_argument("--formats", default="html,pdf", help="html, pdf or html,pdf")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    walls: dict[int, float] = {}
    for jobs in args.jobs:
        with tempfile.TemporaryDirectory(prefix="rfd-bench-") as folder:
            params = load_params(ROOT / "params" / "demo.yaml", output=folder)
            started = time.perf_counter()
            result = run_audit(
                params, jobs=jobs, providers=args.providers, formats=args.formats.split(","), progress=False
            )
            walls[jobs] = time.perf_counter() - started
        reports = [report.seconds for report in result.reports]
        audit = result.seconds["classify_and_audit"]
        print(
            f"jobs {jobs}: {walls[jobs]:.1f} s for {len(reports)} reports "
            f"({len(result.failures)} failed); read + classify + audit {audit:.1f} s; "
            f"one report {statistics.mean(reports):.2f} s on average (execute, HTML, PDF)"
        )
    if len(walls) > 1:
        fewest, most = min(walls), max(walls)
        print(f"speed-up of {most} jobs over {fewest}: {walls[fewest] / walls[most]:.2f}x (target >= 1.6)")


if __name__ == "__main__":
    main()
