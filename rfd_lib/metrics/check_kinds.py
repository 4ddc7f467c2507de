"""The kinds of restricted-use check, defined once: the checks table carries each row's kind.

A check's kind says how it is counted and judged, so nothing reads it back out of a check's
name: each kind is one row per provider and quarter (its ``check`` is the kind itself). The
thresholds, basis, labels and short names of each kind are in ``params/expectations.yaml`` under
``checks:``, keyed by the same names. The national definition's restrictions are not checks:
they are the definition's scope, shown as context (:mod:`rfd_lib.metrics.definition`).
"""

from __future__ import annotations

from enum import StrEnum


class CheckKind(StrEnum):
    """What a restricted-use check measures (see :mod:`rfd_lib.metrics.checks` for each one)."""

    PRIOR_BLOCK = "prior_block"
    REPEAT = "repeat"
    THERAPEUTIC_BLOCK = "therapeutic_block"
    FACET_JOINT_INJECTION = "facet_joint_injection"
    DAY_CASE = "day_case"
    CHANGE_FROM_BASELINE = "change_from_baseline"
    EXPECTED_RATE = "expected_rate"
    RFD_WITHOUT_LUMBAR_SITE = "rfd_without_lumbar_site"
    RFD_DIAGNOSIS_OUTSIDE_LIST = "rfd_diagnosis_outside_list"

    @property
    def is_ratio(self) -> bool:
        """Return True when the share is a ratio minus one (+0.25: a quarter above), not a proportion."""
        return self in (CheckKind.CHANGE_FROM_BASELINE, CheckKind.EXPECTED_RATE)

    @property
    def counts_spells(self) -> bool:
        """Return True when the denominator is a count of spells (not a mean or a population)."""
        return not self.is_ratio

    @property
    def counts_patients(self) -> bool:
        """Return True when numerator and denominator are patients, not spells (therapeutic blocks)."""
        return self is CheckKind.THERAPEUTIC_BLOCK

    def check_name(self) -> str:
        """Return the ``check`` a row of this kind has: the kind itself."""
        return self.value
