"""One row per spell of the audit's interest, with everything the metrics count (patient level).

:func:`label_activity` reads classified spells (the output of :func:`rfd_lib.classify` over an
extract) and keeps the spells the audit counts — RFD-coded spells, spells with an RFD primary
procedure but no lumbar site code (which the rule does not count), medial branch blocks and facet
joint injections — with their quarter and the flags the volumes and checks add up. It is
internal: it holds patient identifiers and must never be shown in a circulated report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rfd_lib.engine.expressions import columns_of
from rfd_lib.engine.prefilter import Contains, Prefilter, rule_prefilter
from rfd_lib.metrics.code_lists import CodeLists, starts_with_any
from rfd_lib.metrics.expectations import Expectations
from rfd_lib.metrics.pathways import block_before, intervals, therapeutic_blocks
from rfd_lib.metrics.periods import financial_quarter

if TYPE_CHECKING:  # the rule compiler (sqlglot) is not needed to use a compiled rule
    from rfd_lib.engine.rule import Rule


def label_activity(
    classified: pd.DataFrame,
    rule: Rule,
    code_lists: CodeLists,
    expectations: Expectations,
    *,
    data_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Return the RFD, block and facet-injection spells of ``classified`` with what the audit counts.

    Columns: ``provider_code``, ``quarter`` (financial quarter of ``expectations.period_date``;
    ``<NA>`` when that date is missing), ``patient_id`` (``<NA>`` if the extract has none),
    ``admission_date``, ``spell_row`` (the spell's position in ``classified``, where its
    identifier, dates and codes are: the case lists read them there), ``kind`` ('rfd': RFD-coded
    by the rule; 'rfd_no_site': an RFD primary procedure, ``code_lists.rfd``, with no lumbar site
    code; 'block' or 'facet_injection'),
    ``counted`` (the rule counts it), ``fails: <restriction>`` (one per restriction of the rule:
    FALSE or UNKNOWN on it), ``first_failure`` (the first restriction an RFD-coded spell fails or
    is UNKNOWN on, in published order, as the rule names it), ``diagnosis_outside_list`` (RFD-coded
    spells failing the rule's primary-diagnosis restriction, :func:`diagnosis_restriction`; ``<NA>``
    when the rule has none), ``day_case``; for RFD spells ``block_in_spell`` (a medial branch
    block among the spell's own procedures), ``left`` and ``right`` (the sides its laterality
    codes say), ``prior_block``, ``prior_block_note``, ``days_since_previous``, ``repeat`` and
    ``repeat_without_side``; and for block spells ``therapeutic_block`` (see
    :mod:`rfd_lib.metrics.pathways`). Look-backs start at ``data_start``: by default the earliest
    admission date in ``classified``; give the whole extract's when ``classified`` holds only the
    spells the audit uses (:class:`rfd_lib.metrics.extent.SpellExtent`).
    """
    scope = np.logical_and.reduce(
        [classified[criterion.name].fillna(False).to_numpy(dtype=bool) for criterion in rule.scope]
    )
    block = code_lists.matches("medial_branch_block", classified).to_numpy()
    facet = code_lists.matches("facet_joint_injection", classified).to_numpy()
    no_site = (
        code_lists.matches("rfd", classified)
        & ~starts_with_any(classified["Any_Spell_Procedure"], code_lists.lumbar_site.codes)
    ).to_numpy()
    kind = np.select(
        [scope, block, facet, no_site], ["rfd", "block", "facet_injection", "rfd_no_site"], default=""
    )
    keep = kind != ""
    spells = classified.loc[keep]
    patient = (
        spells["patient_id"]
        if "patient_id" in spells
        else pd.Series(pd.NA, index=spells.index, dtype="string")
    )
    day_case = (
        code_lists.day_case.matches(spells["patient_classification"])
        if "patient_classification" in spells
        else pd.Series(pd.NA, index=spells.index, dtype="boolean")
    )
    activity = pd.DataFrame(
        {
            "provider_code": spells["provider_code"].astype("string"),
            "quarter": financial_quarter(spells[expectations.period_date]),
            "patient_id": patient.astype("string"),
            "admission_date": spells["admission_date"],
            "spell_row": np.flatnonzero(keep),
            "kind": pd.Series(kind[keep], index=spells.index, dtype="string"),
            "counted": spells["ebi_category"].notna().to_numpy(),
            "first_failure": _first_failure(spells, rule),
            **{
                f"fails: {criterion.name}": ~spells[criterion.name].fillna(False).to_numpy(dtype=bool)
                for criterion in rule.restrictions
            },
            "diagnosis_outside_list": _diagnosis_outside_list(spells, rule),
            "day_case": day_case.astype("boolean"),
        },
        index=spells.index,
    )
    data_start = classified["admission_date"].min() if data_start is None else data_start
    rfd = activity["kind"].eq("rfd")
    blocks = activity["kind"].eq("block")
    sides = code_lists.laterality.sides(spells[rfd.to_numpy()])
    rfd_spells = activity[rfd].assign(
        block_in_spell=code_lists.anywhere("medial_branch_block", spells[rfd.to_numpy()]).to_numpy(),
        left=sides["left"].to_numpy(),
        right=sides["right"].to_numpy(),
    )
    linked = (
        rfd_spells[["block_in_spell", "left", "right"]]
        .join(
            block_before(
                rfd_spells,
                activity[blocks],
                months=expectations.block_before_rfd_months,
                data_start=data_start,
            )
        )
        .join(intervals(rfd_spells, months=expectations.repeat_within_months, data_start=data_start))
    )
    settings = expectations.therapeutic_block
    therapeutic = therapeutic_blocks(
        activity[blocks],
        activity[activity["kind"].isin(["rfd", "rfd_no_site"])],
        months=settings.window_months,
        min_blocks=settings.min_blocks,
    )
    labelled = activity.join(linked).join(therapeutic.rename("therapeutic_block"))
    return labelled.reset_index(drop=True)


# The code lists label_activity labels spells by, beside the rule's scope: each kind keeps spells
# whose primary procedure is on the list (and, with ``with_any``, that have a site code). Keep in
# step with label_activity: tests/unit/engine/test_prefilter.py checks the pair spell by spell.
ACTIVITY_LISTS = ("medial_branch_block", "facet_joint_injection", "rfd")


def audit_prefilter(rule: Rule, code_lists: CodeLists) -> Prefilter:
    """Return the pre-filter keeping every spell :func:`label_activity` can label (a superset).

    It is the rule's scope pre-filter (:func:`rfd_lib.engine.prefilter.rule_prefilter`) joined with
    one clause per list of ``ACTIVITY_LISTS`` present: the primary procedure holds one of the list's
    codes (``starts_with_any`` finds a code only where the upper-cased value holds it) and, for a
    list with ``with_any``, the procedures hold a site code. An RFD without a site code needs only
    the first: its "no site" is a NOT, which narrows nothing.
    """
    clauses = []
    for name in ACTIVITY_LISTS:
        wanted = getattr(code_lists, name, None)
        if wanted is None:
            continue
        clause = [Contains("Primary_Spell_Procedure", tuple(sorted(wanted.primary_procedure)))]
        if wanted.with_any is not None and name != "rfd":
            sites = getattr(code_lists, wanted.with_any)
            clause.append(Contains("Any_Spell_Procedure", tuple(sorted(sites.codes))))
        clauses.append(tuple(clause))
    # One union, so that clauses another keeps are dropped before like ones are merged.
    return rule_prefilter(rule).union(Prefilter(tuple(clauses)))


def diagnosis_restriction(rule: Rule) -> str | None:
    """Return the name of the rule's restriction on the primary diagnosis (its list), or None."""
    for criterion in rule.restrictions:
        if set(columns_of(criterion.expression)) == {"Primary_Spell_Diagnosis"}:
            return criterion.name
    return None


def _diagnosis_outside_list(spells: pd.DataFrame, rule: Rule) -> pd.Series:
    """Return, per spell, whether it fails the rule's diagnosis restriction (``<NA>``: it has none)."""
    name = diagnosis_restriction(rule)
    if name is None:
        return pd.Series(pd.NA, index=spells.index, dtype="boolean")
    return pd.Series(~spells[name].fillna(False).to_numpy(dtype=bool), index=spells.index, dtype="boolean")


def _first_failure(spells: pd.DataFrame, rule: Rule) -> pd.Series:
    """Return the first restriction each spell does not meet (FALSE or UNKNOWN), in published order."""
    names = [criterion.name for criterion in rule.restrictions]
    met = (
        np.column_stack([spells[name].fillna(False).to_numpy(dtype=bool) for name in names])
        if names
        else None
    )
    if met is None:
        return pd.Series(pd.NA, index=spells.index, dtype="string")
    failing = ~met
    first = np.where(failing.any(axis=1), np.argmax(failing, axis=1), -1)
    labels = np.array([*names, ""], dtype=object)[first]
    result = pd.Series(labels, index=spells.index, dtype="string")
    return result.mask(result.eq(""))
