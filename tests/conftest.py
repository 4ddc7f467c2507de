"""Fixtures shared by the test modules, and the marker each test gets from its folder.

The folders mirror the package: ``spec/`` (truth tables), ``unit/<layer>/``, ``integration/``
(several layers, the command line, the project's files) and ``browser/`` (reports opened or
printed by Chromium). Each test is marked with its folder's name, so ``-m "spec or unit"`` (``make
test-fast``) runs the quick ones.
"""

from __future__ import annotations

import pytest

from rfd_lib.pipeline.demo import DemoData, demo_data

KINDS = ("spec", "unit", "integration", "browser", "spark")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the kind its folder holds (tests/<kind>/...)."""
    for item in items:
        parts = item.path.relative_to(item.config.rootpath / "tests").parts
        if parts[0] in KINDS:
            item.add_marker(parts[0])


@pytest.fixture(scope="session")
def synthetic_set(tmp_path_factory) -> DemoData:
    """Return the default synthetic set (seed 2025) written to a temp folder and read back for real."""
    return demo_data(tmp_path_factory.mktemp("synthetic-set"))
