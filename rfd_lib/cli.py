"""``rfd-audit``: the command line, a thin wrapper over rfd_lib's functions.

Every error an analyst can cause is printed as one line (with its hint) and exits with status 2;
nothing is written when a command fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from rfd_lib import config
from rfd_lib.classify import classify
from rfd_lib.errors import RfdAuditError
from rfd_lib.rule import load_rule
from rfd_lib.synthetic import example_spells


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv``); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (RfdAuditError, OSError) as error:
        print(f"rfd-audit: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rfd-audit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    example = commands.add_parser("example", help="classify the built-in synthetic spells and summarise")
    example.add_argument("--spells", type=int, default=20_000, help="how many spells (default 20000)")
    example.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    example.add_argument("--rule", default="2K_RFD_back", help="packaged rule name or rule file path")
    example.add_argument("-o", "--out", type=Path, default=config.EXAMPLE_DIR, help="output folder")
    example.set_defaults(run=_run_example)

    rule = commands.add_parser("rule", help="show a rule's criteria and provenance")
    rule.add_argument("rule", nargs="?", default="2K_RFD_back", help="packaged rule name or rule file path")
    rule.set_defaults(run=_run_rule)
    return parser


def _run_example(args: argparse.Namespace) -> int:
    spells = example_spells(args.spells, seed=args.seed)
    classified = classify(spells, args.rule)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "classified_spells.parquet"
    partial = target.with_suffix(".parquet.partial")
    classified.to_parquet(partial, index=False)
    partial.replace(target)
    print(summarise(classified).to_string())
    print(f"\n{len(classified):,} synthetic spells classified; written to {target}")
    return 0


def summarise(classified: pd.DataFrame) -> pd.Series:
    """Return how many spells were counted and, for the rest, how many per reason."""
    reasons = classified["reason"].cat.add_categories(["counted"]).fillna("counted")
    return reasons.value_counts(sort=False).rename("spells").rename_axis("outcome")


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
