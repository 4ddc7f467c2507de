"""The funnel's default allowance for overdispersion: additive τ², read from params/expectations.yaml.

Spiegelhalter (2005b) finds the additive random-effects approach the better founded, and
FunnelPlotR's methods (SHMI, CQC) both add τ²; ``rfd_lib/metrics/funnel.py``'s docstring says why
in full. These tests check that the default is that one wherever it is stated (the parameter file
and the model's fallback), that the audit uses it, and that the setting still switches it.
"""

from __future__ import annotations

import pytest

from rfd_lib.config import EXPECTATIONS
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.disclosure import INTERNAL
from rfd_lib.metrics.expectations import Expectations, load_expectations

HEAVY = "ZK1"


def test_the_default_adjustment_is_additive_in_the_file_and_in_the_model():
    assert load_expectations().funnel_overdispersion == "additive"
    assert Expectations.model_fields["funnel_overdispersion"].default == "additive"
    assert "funnel_overdispersion: additive\n" in EXPECTATIONS.read_text(encoding="utf-8")


def test_the_audit_adjusts_additively_and_still_finds_the_heavy_user(synthetic_set):
    funnel = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations).funnel
    assert funnel.overdispersion == "additive" and funnel.adjusted
    assert funnel.tau2 > 0 and "random-effects" in funnel.method
    assert "never narrower than the exact Poisson limits" in funnel.method
    assert funnel.outside == {HEAVY: "above"}


@pytest.mark.parametrize("mode", ["multiplicative", "none"])
def test_the_setting_still_chooses_the_adjustment(tmp_path, synthetic_set, mode):
    text = EXPECTATIONS.read_text(encoding="utf-8")
    assert "funnel_overdispersion: additive" in text
    path = tmp_path / EXPECTATIONS.name
    path.write_text(text.replace("funnel_overdispersion: additive", f"funnel_overdispersion: {mode}", 1))
    funnel = audit_metrics(
        synthetic_set.classified,
        populations=synthetic_set.populations,
        expectations=load_expectations(path),
        policy=INTERNAL,
    ).funnel
    assert funnel.overdispersion == mode and funnel.tau2 is None
