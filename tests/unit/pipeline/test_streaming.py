"""An audit of an extract read batch by batch, keeping only what the pre-filter keeps, is the audit of it read whole.

The synthetic set (20 providers, every column profile, quarantined rows, findings, the designed
story) is read twice: whole with :func:`load_extracts` + :func:`classify` (holding every spell),
and in batches of 3,001 rows with :func:`classify_extracts` (holding about half of them). Every
figure of the audit, the case lists' source (the labelled activity) and every file written are
compared.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from rfd_lib import classify
from rfd_lib.engine.rule import load_rule
from rfd_lib.extracts.reading import QuarantineWarning, load_extracts
from rfd_lib.extracts.writing import write_classified
from rfd_lib.metrics.activity import audit_prefilter, label_activity
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.expectations import load_expectations
from rfd_lib.metrics.extent import SpellExtent
from rfd_lib.pipeline.streaming import classify_extracts, write_streamed
from rfd_lib.synthetic.extract_set import write_extracts

FIGURES = [
    "volumes",
    "waterfall",
    "intervals",
    "checks",
    "rates",
    "spc_true_counts",
    "definition_codes",
    "spc",
]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streaming")
    written = write_extracts(folder / "extracts")
    rule = load_rule()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuarantineWarning)
        extract = load_extracts(written.extracts)
    classified = classify(extract.spells, rule)
    streamed = classify_extracts(
        written.extracts,
        rule=rule,
        keep=audit_prefilter(rule, load_code_lists()),
        parts=folder / "parts",
        batch_rows=3_001,
    )
    return extract, classified, streamed, folder


def test_the_batches_keep_fewer_spells_but_read_them_all(both):
    extract, classified, streamed, _ = both
    assert streamed.spells_read == len(classified)
    assert len(streamed.spells) < 0.6 * len(classified)
    pd.testing.assert_frame_equal(streamed.reconciliation, extract.reconciliation)
    totals = streamed.reconciliation.sum(numeric_only=True)
    assert totals["rows_read"] == totals["rows_accepted"] + totals["rows_quarantined"]


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_of_the_audit_is_the_whole_extracts(both, name):
    _, classified, streamed, _ = both
    whole = audit_metrics(classified)
    batched = audit_metrics(streamed.spells, extent=streamed.extent)
    pd.testing.assert_frame_equal(getattr(batched, name), getattr(whole, name))
    assert batched.notes == whole.notes
    assert batched.quarters == whole.quarters


def test_the_extent_counts_every_spell_read_not_only_those_kept(both):
    _, classified, streamed, _ = both
    whole = SpellExtent.of(classified)
    pd.testing.assert_frame_equal(streamed.extent.counts, SpellExtent.combine([whole]).counts)
    assert streamed.extent.first_admission == whole.first_admission
    assert streamed.extent.counts["spells"].sum() == len(classified) > len(streamed.spells)


def test_the_labelled_activity_the_case_lists_use_is_the_same(both):
    _, classified, streamed, _ = both
    rule, lists, settings = load_rule(), load_code_lists(), load_expectations()
    whole = label_activity(classified, rule, lists, settings).drop(columns="spell_row")
    batched = label_activity(
        streamed.spells, rule, lists, settings, data_start=streamed.extent.first_admission
    ).drop(columns="spell_row")
    pd.testing.assert_frame_equal(batched, whole)


def test_the_files_written_part_by_part_are_those_written_at_once(both):
    extract, classified, streamed, folder = both
    at_once = write_classified(classified, extract, folder / "whole" / "classified_spells.parquet")
    parts = write_streamed(streamed, folder / "batched" / "classified_spells.parquet")
    pd.testing.assert_frame_equal(
        pd.read_parquet(parts.spells), pd.read_parquet(at_once.spells), check_categorical=False
    )
    assert parts.quarantine.read_bytes() == at_once.quarantine.read_bytes()
    assert sorted(parts.findings.read_text().splitlines()) == sorted(
        at_once.findings.read_text().splitlines()
    )
    assert not streamed.parts.exists()


def test_an_extent_by_admission_date_counts_every_spell_in_its_admission_quarter(both, tmp_path):
    # The period date may be the admission date, which the extent also reads for the look-back.
    extract, classified, _, _ = both
    streamed = classify_extracts(
        sorted({str(path) for path in extract.reconciliation["source"]}),
        rule=load_rule(),
        keep=audit_prefilter(load_rule(), load_code_lists()),
        parts=tmp_path / "parts",
        period_date="admission_date",
        batch_rows=3_001,
    )
    whole = SpellExtent.of(classified, "admission_date")
    pd.testing.assert_frame_equal(streamed.extent.counts, SpellExtent.combine([whole]).counts)
