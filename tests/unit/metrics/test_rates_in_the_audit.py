"""The audit's rates on the synthetic set: per adults (19+) a year, the same in the funnel and the checks.

The synthetic populations file gives every provider an adult population (76 % to 82 % of its
catchment), so every rate, the funnel plot and the expected-rate check divide by adults; a
quarter's rate is its published count × 4 per 100,000; its interval spans every true count the
published (rounded) count allows. Take the adult figure away from one provider and every rate
uses the catchment instead, and the notes say why.
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.expectations import load_expectations
from rfd_lib.metrics.rates import exact_poisson_interval

HEAVY = "ZK1"


@pytest.fixture(scope="module")
def audit(synthetic_set):
    return audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)


def latest(audit) -> pd.DataFrame:
    return audit.rates[audit.rates["quarter"] == audit.quarter].set_index("provider_code")


def test_rates_are_the_published_count_times_four_per_100000_adults(audit, synthetic_set):
    assert audit.rate_denominator == "adult_population"
    rates = latest(audit)
    adults = synthetic_set.populations.set_index("provider_code")["adult_population"]
    assert (rates["population"] == adults[rates.index]).all()
    assert set(rates["denominator"]) == {"adult_population"}
    counted = rates["counted"].astype(float)
    assert rates["rate"].astype(float).tolist() == pytest.approx(
        (counted * 4 / rates["population"] * 1e5).tolist()
    )
    # The heavy user: a published 555 in 2026/27 Q2 over 345,123 adults is 643.2 a year per 100,000.
    heavy = rates.loc[HEAVY]
    assert heavy["rate"] == pytest.approx(heavy["counted"] * 4 / 345_123 * 1e5)
    assert any(
        note.startswith("Rates are counted RFDs per 100,000 adults (19+) per year") for note in audit.notes
    )
    assert any("annualised from the quarter (the quarter's count × 4)" in note for note in audit.notes)


def test_each_interval_spans_the_true_counts_its_published_count_allows(audit):
    rates = latest(audit)
    person_years = rates["population"].astype(float) / 4 / 1e5
    lower, _ = exact_poisson_interval(rates["counted"] - 2)  # every count here is 10 or more
    _, upper = exact_poisson_interval(rates["counted"] + 2)
    assert rates["rate_lower"].astype(float).tolist() == pytest.approx((lower / person_years).tolist())
    assert rates["rate_upper"].astype(float).tolist() == pytest.approx((upper / person_years).tolist())


def test_the_funnel_compares_the_same_rates_on_the_same_populations(audit):
    funnel = audit.funnel.providers.set_index("provider_code")
    rates = latest(audit)
    assert (funnel["population"] == rates.loc[funnel.index, "population"]).all()
    assert funnel["rate"].tolist() == pytest.approx(rates.loc[funnel.index, "rate"].astype(float).tolist())
    # The peer rate is a year's too: all counted RFDs x 4 over all adults.
    assert audit.funnel.target == pytest.approx(rates["counted"].sum() * 4 / rates["population"].sum() * 1e5)
    curve = audit.funnel.curve["population"]
    assert curve.min() == pytest.approx(rates["population"].min()) and curve.max() == pytest.approx(
        rates["population"].max()
    )
    assert audit.funnel.outside == {HEAVY: "above"}


def test_the_expected_rate_check_is_in_the_same_unit(synthetic_set, audit):
    expected = load_expectations().model_copy(update={"expected_rate_per_100000": 50.0})
    checked = audit_metrics(
        synthetic_set.classified, populations=synthetic_set.populations, expectations=expected
    )
    rows = checked.checks[
        (checked.checks["kind"] == "expected_rate") & (checked.checks["quarter"] == audit.quarter)
    ]
    rows = rows.set_index("provider_code")
    rates = latest(audit)
    # Share: the rate the report shows against 50 a year per 100,000 adults, minus one.
    assert rows["share"].astype(float).tolist() == pytest.approx(
        (rates.loc[rows.index, "rate"] / 50 - 1).tolist()
    )
    assert rows.loc[HEAVY, "status"] == "red"
    assert rows.loc[HEAVY, "denominator"] == pytest.approx(345_123 / 4)  # adult person-years in the quarter
    assert "person-years in the quarter, adults (19+) × ¼" in rows.loc[HEAVY, "note"]


def test_with_an_adult_population_missing_for_one_provider_every_rate_uses_the_catchment(synthetic_set):
    populations = synthetic_set.populations.copy()
    populations.loc[populations["provider_code"] == "ZB2", "adult_population"] = pd.NA
    audit = audit_metrics(synthetic_set.classified, populations=populations)
    assert audit.rate_denominator == "catchment_population"
    rates = latest(audit)
    catchment = populations.set_index("provider_code")["catchment_population"]
    assert (rates["population"] == catchment[rates.index]).all()
    funnel = audit.funnel.providers.set_index("provider_code")
    assert (funnel["population"] == catchment[funnel.index]).all()
    note = next(note for note in audit.notes if note.startswith("Rates are"))
    assert note.startswith(
        "Rates are counted RFDs per 100,000 population (all ages) per year. The populations file "
        "gives no adult population for ZB2, so every rate uses the whole catchment population"
    )


def test_without_an_adult_column_rates_are_per_the_catchment_and_say_so(synthetic_set):
    populations = synthetic_set.populations.drop(columns="adult_population")
    audit = audit_metrics(synthetic_set.classified, populations=populations)
    assert audit.rate_denominator == "catchment_population"
    assert any(
        note.startswith(
            "Rates are counted RFDs per 100,000 population (all ages) per year. The populations "
            "file gives no adult population, so rates use the whole catchment"
        )
        for note in audit.notes
    )
