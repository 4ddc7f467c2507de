"""Fixtures shared by the test modules, and the marker each test gets from its folder.

The folders mirror the package: ``spec/`` (truth tables), ``unit/<layer>/``, ``integration/``
(several layers, the command line, the project's files) and ``browser/`` (reports opened or
printed by Chromium). Each test is marked with its folder's name, so ``-m "spec or unit"`` (``make
test-fast``) runs the quick ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from rfd_lib.engine.classification import classify
from rfd_lib.extracts.populations import read_populations
from rfd_lib.extracts.reading import load_extracts
from rfd_lib.synthetic import SyntheticSet, write_extracts

KINDS = ("spec", "unit", "integration", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the kind its folder holds (tests/<kind>/...)."""
    for item in items:
        parts = item.path.relative_to(item.config.rootpath / "tests").parts
        if parts[0] in KINDS:
            item.add_marker(parts[0])


@dataclass(frozen=True)
class ClassifiedSet:
    """The synthetic set as the audit sees it: written files, classified spells, populations.

    ``reconciliation`` is the reader's: one row per file with rows read, accepted, quarantined.
    """

    written: SyntheticSet
    classified: pd.DataFrame
    populations: pd.DataFrame
    reconciliation: pd.DataFrame


@pytest.fixture(scope="session")
def synthetic_set(tmp_path_factory) -> ClassifiedSet:
    """Return the default synthetic set (seed 2025) written to a temp folder and read back for real."""
    written = write_extracts(tmp_path_factory.mktemp("synthetic-set"))
    extract = load_extracts(written.extracts)
    return ClassifiedSet(
        written, classify(extract.spells), read_populations(written.populations), extract.reconciliation
    )
