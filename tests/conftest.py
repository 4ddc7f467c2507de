"""Fixtures shared by the test modules: the built-in synthetic set, written, read and classified once."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from rfd_lib.engine.classification import classify
from rfd_lib.extracts.populations import read_populations
from rfd_lib.extracts.reading import load_extracts
from rfd_lib.synthetic import SyntheticSet, write_extracts


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
