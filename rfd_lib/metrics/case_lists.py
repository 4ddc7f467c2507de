"""The spells behind each check's flag, per provider and quarter: case lists for local review.

A provider's clinical lead reviews a red or amber check case by case, so for every check of the
checks table :func:`case_lists` lists the spells its count is made of, with their identifier,
dates and codes and, for a pathway check, the related spell (the previous RFD of a repeat). It
selects from :func:`rfd_lib.metrics.activity.label_activity`'s output — the labelled activity the
checks count — with the same masks, so a check's rows in a quarter are exactly its true count:

* where a smaller share is better (``good: low``: a repeat, a facet joint injection, a coding
  question), the spells of its numerator (for therapeutic blocks, which count patients, the
  block spells that completed a patient's repeated blocks);
* where a larger share is better (``good: high``: a block coded before the RFD, a day case), the
  rest of its denominator — the RFDs with no block coded in the look-back, those not done as a
  day case.

A rise against the baseline flags a provider's quarter, not a spell: its list is the quarter's
counted RFDs, the spells behind the count. The expected-rate check has no list yet. Each kind of
check is one entry of :data:`SELECTIONS`; a new kind needs one line there. Patient level: the
lists are written under a run's ``internal/`` only (:mod:`rfd_lib.report.case_lists`) and never
circulated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.expectations import Expectations
from rfd_lib.wording import say

# A mask over the labelled activity.
Mask = Callable[[pd.DataFrame], pd.Series]
# The classified spells' columns a case list shows, and its own name for each.
SPELL_COLUMNS = {
    "spell_id": "spell_id",
    "admission_date": "admission_date",
    "discharge_date": "discharge_date",
    "Primary_Spell_Procedure": "primary_procedure",
    "Any_Spell_Procedure": "procedures",
    "Primary_Spell_Diagnosis": "primary_diagnosis",
    "Any_Spell_Diagnosis": "diagnoses",
}
COLUMNS = [
    "provider_code",
    "quarter",
    "check",
    "check_label",
    "why",
    *SPELL_COLUMNS.values(),
    "patient_id",
    "related_spells",
]


@dataclass(frozen=True)
class Selection:
    """How a kind of check counts spells: ``over`` which (its denominator), ``counts`` which (its numerator).

    ``related``, when the check links spells, returns pairs of positions in the classified spells
    (columns ``spell_row`` and ``related_row``): for each spell, the spells a reviewer needs beside it.
    """

    over: Mask
    counts: Mask
    related: Callable[[pd.DataFrame], pd.DataFrame] | None = None


def _rfd(activity: pd.DataFrame) -> pd.Series:
    return activity["kind"].eq("rfd")


def _counted(activity: pd.DataFrame) -> pd.Series:
    return _rfd(activity) & activity["counted"]


def _flag(column: str) -> Mask:
    """Return a mask of spells whose ``column`` is true (missing counts as false, as the checks count it)."""
    return lambda activity: activity[column].fillna(False).astype(bool)


def _assessed(column: str) -> Mask:
    """Return a mask of counted RFDs a pathway check could assess (its ``column`` is known)."""
    return lambda activity: _counted(activity) & activity[column].notna()


def _day_cases_known(activity: pd.DataFrame) -> pd.Series:
    # With no patient classification at all the check is not assessable: nothing to list.
    return _counted(activity) & bool(activity["day_case"].notna().any())


def _primary_rfd(activity: pd.DataFrame) -> pd.Series:
    return activity["kind"].isin(["rfd", "rfd_no_site"])


def _no_site(activity: pd.DataFrame) -> pd.Series:
    return activity["kind"].eq("rfd_no_site")


def _blocks_of_known_patients(activity: pd.DataFrame) -> pd.Series:
    return activity["kind"].eq("block") & activity["patient_id"].notna()


def _injections(activity: pd.DataFrame) -> pd.Series:
    return activity["kind"].isin(["block", "facet_injection"])


def _facet_injections(activity: pd.DataFrame) -> pd.Series:
    return activity["kind"].eq("facet_injection")


def previous_rfd(activity: pd.DataFrame) -> pd.DataFrame:
    """Return each RFD spell's row with the row of the patient's previous RFD at the provider.

    The order is :func:`rfd_lib.metrics.pathways.intervals`'s (admission date, then the spells'
    order), so the previous RFD is the one the repeat check measured the interval from.
    """
    rfd = activity[_rfd(activity) & activity["patient_id"].notna()]
    ordered = rfd.sort_values(["provider_code", "patient_id", "admission_date", "spell_row"])
    previous = ordered.groupby(["provider_code", "patient_id"], sort=False)["spell_row"].shift()
    pairs = pd.DataFrame({"spell_row": ordered["spell_row"], "related_row": previous}).dropna()
    return pairs.astype("int64")


# Each kind of check whose count is of spells, as checks.py counts it (one line per kind).
SELECTIONS: dict[CheckKind, Selection] = {
    CheckKind.PRIOR_BLOCK: Selection(_assessed("prior_block"), _flag("prior_block")),
    CheckKind.REPEAT: Selection(_assessed("repeat"), _flag("repeat"), related=previous_rfd),
    CheckKind.FACET_JOINT_INJECTION: Selection(_injections, _facet_injections),
    CheckKind.DAY_CASE: Selection(_day_cases_known, _flag("day_case")),
    # Patients are counted; the list has the block spells that completed repeated blocks.
    CheckKind.THERAPEUTIC_BLOCK: Selection(_blocks_of_known_patients, _flag("therapeutic_block")),
    CheckKind.RFD_WITHOUT_LUMBAR_SITE: Selection(_primary_rfd, _no_site),
    CheckKind.RFD_DIAGNOSIS_OUTSIDE_LIST: Selection(_rfd, _flag("diagnosis_outside_list")),
    # A rise against the baseline flags a provider's quarter: the spells behind it are its counted RFDs.
    CheckKind.CHANGE_FROM_BASELINE: Selection(_counted, _counted),
}


def case_lists(
    activity: pd.DataFrame, classified: pd.DataFrame, checks: pd.DataFrame, expectations: Expectations
) -> pd.DataFrame:
    """Return one row per spell behind a check's count, per provider and quarter (:data:`COLUMNS`).

    ``activity`` is :func:`~rfd_lib.metrics.activity.label_activity`'s output for ``classified``;
    ``checks`` is the checks table (raw or published: its ``kind``, ``check``, ``label``,
    ``provider_code`` and ``quarter`` say which checks, providers and quarters to list). Rows
    are in the checks table's order of checks, then by provider, quarter and admission date; a
    spell flagged by two checks is listed under each. Dates are kept as dates; ``why`` says in
    words why the spell is listed; ``related_spells`` names the related spells as ``<spell id>
    (<admission date>)``, joined by "; " (``<NA>`` where there are none).
    """
    in_scope = activity["quarter"].isin(checks["quarter"].unique()) & activity["provider_code"].isin(
        checks["provider_code"].unique()
    )
    parts = []
    for (kind, check), label in checks.drop_duplicates("check").set_index(["kind", "check"])["label"].items():
        selection = SELECTIONS.get(CheckKind(kind))
        if selection is None:
            continue
        counts = selection.counts(activity).astype(bool)
        low = expectations.checks.of(kind).good == "low"
        listed = in_scope & selection.over(activity) & (counts if low else ~counts)
        why = say("case_lists.why.counted" if low else "case_lists.why.not_counted", check=label)
        part = activity.loc[listed, ["provider_code", "quarter", "patient_id", "spell_row"]]
        part = part.assign(check=check, check_label=label, why=why)
        if selection.related is not None:
            part = part.merge(_related(selection.related(activity), classified), on="spell_row", how="left")
        parts.append(part)
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype="string") for column in COLUMNS})
    listed = pd.concat(parts, ignore_index=True)
    if "related_spells" not in listed:
        listed["related_spells"] = pd.NA
    spells = classified.iloc[listed["spell_row"].to_numpy()]
    for source, name in SPELL_COLUMNS.items():
        listed[name] = spells[source].to_numpy() if source in spells else pd.NA
    listed["related_spells"] = listed["related_spells"].astype("string")
    order = {check: n for n, check in enumerate(dict.fromkeys(checks["check"]))}
    listed = listed.assign(_order=listed["check"].map(order)).sort_values(
        ["provider_code", "quarter", "_order", "admission_date", "spell_id"], kind="stable"
    )
    return listed[COLUMNS].reset_index(drop=True)


def _related(pairs: pd.DataFrame, classified: pd.DataFrame) -> pd.DataFrame:
    """Return per ``spell_row`` its related spells as text: ``<spell id> (<admission date>)``, "; "."""
    if pairs.empty:
        return pd.DataFrame(
            {"spell_row": pd.Series(dtype="int64"), "related_spells": pd.Series(dtype="string")}
        )
    related = classified.iloc[pairs["related_row"].to_numpy()].reset_index(drop=True)
    dates = pd.to_datetime(related["admission_date"]).dt.strftime("%Y-%m-%d").fillna("?")
    text = related["spell_id"].astype("string") + " (" + dates.astype("string") + ")"
    named = pairs.assign(text=text.to_numpy())
    joined = named.groupby("spell_row")["text"].agg("; ".join)
    return joined.rename("related_spells").reset_index()
