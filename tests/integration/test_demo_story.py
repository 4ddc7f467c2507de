"""The demo finds the story the synthetic set was built to tell, and nothing else red.

The set (:mod:`rfd_lib.synthetic.pathways`, its ``STORY`` table) gives each designed problem to
one provider; every other provider follows the policy. These tests audit it as ``make report``
does (``params/demo.yaml``: its quarter, in circulation) and check that the red statuses of the
audited quarter are exactly the story's, and that the funnel and the SPC charts show the two
problems no check is red for.
"""

from __future__ import annotations

import pytest

from rfd_lib import config
from rfd_lib.metrics.audit import AuditMetrics, audit_metrics
from rfd_lib.metrics.disclosure import CIRCULATION
from rfd_lib.pipeline.params import load_params
from rfd_lib.synthetic import pathways
from rfd_lib.synthetic.pathways import CLEAN, HIGH_VOLUME, STORY, UPWARD_TREND


@pytest.fixture(scope="module")
def demo(synthetic_set) -> AuditMetrics:
    params = load_params(config.REPOSITORY / "params" / "demo.yaml")
    assert params.extracts.synthetic and params.disclosure == "circulation"
    return audit_metrics(
        synthetic_set.classified,
        quarter=params.quarter,
        populations=synthetic_set.populations,
        policy=CIRCULATION,
    )


def red_pairs(audit: AuditMetrics) -> set[tuple[str, str]]:
    checks = audit.checks[audit.checks["quarter"] == audit.quarter]
    red = checks[checks["status"] == "red"]
    return set(zip(red["provider_code"], red["kind"], strict=True))


def test_the_demo_is_red_exactly_where_the_story_puts_a_problem(demo):
    story = {(provider, kind) for provider, kinds in STORY.items() for kind in kinds}
    assert demo.quarter == "2026/27 Q2"
    assert red_pairs(demo) == story


def test_most_providers_are_green_on_most_checks(demo):
    checks = demo.checks[
        (demo.checks["quarter"] == demo.quarter) & (demo.checks["status"] != "not assessable")
    ]
    assert checks["status"].eq("green").mean() > 0.85
    clean = checks[checks["provider_code"] == CLEAN]
    assert (clean["status"] == "green").all() and len(clean) >= 8


def test_every_problem_provider_was_built_as_the_story_says(synthetic_set):
    import json

    manifest = json.loads(synthetic_set.written.manifest.read_text(encoding="utf-8"))
    archetypes = {code: entry["archetype"] for code, entry in manifest["providers"].items()}
    built = {code for code, archetype in archetypes.items() if archetype != "typical"}
    assert built == set(STORY)
    assert set(pathways.DEPARTURES) | {"clean"} == {archetypes[code] for code in STORY}


def test_the_heavy_user_alone_is_outside_the_funnel(demo):
    # The heavy user's volume is the funnel's story, not a check's: no check of it is red.
    assert demo.funnel.outside == {HIGH_VOLUME: "above"}
    rates = demo.rates[demo.rates["quarter"] == demo.quarter].set_index("provider_code")["rate"]
    peers = rates.drop(HIGH_VOLUME)
    assert rates[HIGH_VOLUME] > 1.5 * peers.max() and rates[HIGH_VOLUME] > 3 * peers.median()


def test_the_rising_provider_shows_special_cause_and_the_steady_heavy_user_none(demo):
    assert demo.expectations.trends.counted == "neither"  # a rise is special cause, neither good nor bad
    spc = demo.spc.set_index("provider_code")
    assert spc.loc[UPWARD_TREND, "variation_icon"] == "neither_high"
    xmr = demo.counted_xmr(UPWARD_TREND)
    assert xmr.points["special_cause"].iloc[-1]
    assert spc.loc[HIGH_VOLUME, "variation_icon"] == "common_cause"
    assert not demo.counted_xmr(HIGH_VOLUME).points["special_cause"].any()
