"""The guidance's restricted-use checks, per provider and quarter, each with its status.

Each check is a share — a numerator of spells out of a denominator — judged red, amber or green
against its threshold in ``params/expectations.yaml``. A check that needs something the extract
lacks (a patient identifier, a patient classification, a population, an expected rate) is
"not assessable" with the reason, never a misleading zero.

=======================  ===============================================  ===========================
check                    numerator                                        denominator
=======================  ===============================================  ===========================
restriction: <name>      RFD-coded spells failing (or UNKNOWN on) it      RFD-coded spells
prior_block              counted RFDs with a block in the look-back       counted RFDs assessable
repeat                   counted RFDs within the repeat window of another counted RFDs assessable
facet_joint_injection    facet joint injection spells                     lumbar injection spells
day_case                 counted RFDs done as day cases                   counted RFDs
change_from_baseline     counted RFDs this quarter                        baseline's mean a quarter
expected_rate            counted RFDs per 100,000 population              the expected rate
=======================  ===============================================  ===========================

For the last two the share is the ratio minus one: +0.25 is a quarter above the baseline. For the
two pathway checks ``unassessed`` counts the counted RFDs left out of the denominator because
they have no patient identifier or their look-back starts before the extract (``<NA>`` for
the other checks).
"""

from __future__ import annotations

import pandas as pd

from rfd_lib.metrics.expectations import Expectations
from rfd_lib.metrics.status import Status
from rfd_lib.metrics.volumes import grid

KEYS = ["provider_code", "quarter"]
COLUMNS = [
    *KEYS,
    "check",
    "label",
    "expected",
    "numerator",
    "denominator",
    "unassessed",
    "share",
    "status",
    "note",
]
# After the number of counted RFDs a pathway check could not be assessed on.
LOOK_BACK_NOTE = "not assessable (no patient identifier, or the look-back starts before the extract)"


def restricted_use_checks(
    activity: pd.DataFrame,
    expectations: Expectations,
    quarters: list[str],
    populations: pd.DataFrame | None = None,
    providers: list[str] | None = None,
) -> pd.DataFrame:
    """Return every check for every provider and quarter, one row each (columns :data:`COLUMNS`).

    ``activity`` is :func:`rfd_lib.metrics.activity.label_activity`'s output; ``populations`` has
    ``provider_code`` and ``catchment_population`` (needed for ``expected_rate`` only). Counts
    are raw: :mod:`rfd_lib.metrics.disclosure` protects them before they are circulated.
    """
    providers = providers or sorted(activity["provider_code"].dropna().unique())
    table = grid(providers, quarters)
    in_range = activity[activity["quarter"].isin(quarters)]
    rfd = in_range[in_range["kind"].eq("rfd")]
    counted = rfd[rfd["counted"]]
    parts = []
    for name, restriction in expectations.restrictions.items():
        parts.append(
            _share(
                table,
                rfd[f"fails: {name}"],
                rfd,
                f"restriction: {name}",
                f"RFD-coded spells: {restriction.label}",
            )
        )
    has_patients = activity["patient_id"].notna().any()
    parts.append(
        _pathway(
            table,
            counted,
            "prior_block",
            "counted RFDs with a medial branch block in the look-back",
            has_patients,
        )
    )
    parts.append(_pathway(table, counted, "repeat", "counted RFDs soon after an earlier RFD", has_patients))
    injections = in_range[in_range["kind"].isin(["block", "facet_injection"])]
    parts.append(
        _share(
            table,
            injections["kind"].eq("facet_injection"),
            injections,
            "facet_joint_injection",
            "lumbar injections that were facet joint injections",
        )
    )
    day_case = _share(
        table,
        counted["day_case"].fillna(False).astype(bool),
        counted,
        "day_case",
        "counted RFDs done as day cases",
    )
    if counted["day_case"].isna().all() and len(counted):
        day_case = _not_assessable(day_case, "the extract has no patient classification")
    parts.append(day_case)
    volumes = _counts(table, counted)
    parts.append(_change_from_baseline(volumes, quarters[: expectations.baseline_quarters]))
    parts.append(_expected_rate(volumes, populations, expectations.expected_rate_per_100000))
    checks = pd.concat(parts, ignore_index=True)
    if "unassessed" not in checks:
        checks["unassessed"] = pd.NA
    checks["unassessed"] = checks["unassessed"].astype("Int64")
    threshold_of = {
        name: getattr(expectations.thresholds, name) for name in type(expectations.thresholds).model_fields
    }
    kind = checks["check"].str.replace(r"^restriction: .*", "restriction", regex=True)
    checks["expected"] = kind.map(
        {name: threshold.expected for name, threshold in threshold_of.items()}
    ).astype("string")
    checks["status"] = checks["status"].astype("string")
    for name, threshold in threshold_of.items():
        judged = kind.eq(name) & checks["status"].isna()
        checks.loc[judged, "status"] = threshold.status(checks.loc[judged, "share"])
    return checks[COLUMNS]


def _counts(table: pd.DataFrame, spells: pd.DataFrame, flag: pd.Series | None = None) -> pd.DataFrame:
    """Return ``table`` with ``numerator`` (flagged spells) and ``denominator`` (all) per row."""
    numerator = (flag if flag is not None else pd.Series(True, index=spells.index)).astype(bool)
    grouped = spells.assign(_flag=numerator.to_numpy()).groupby(KEYS, observed=True)
    counts = pd.DataFrame({"numerator": grouped["_flag"].sum(), "denominator": grouped.size()}).reset_index()
    merged = table.merge(counts, on=KEYS, how="left")
    merged[["numerator", "denominator"]] = merged[["numerator", "denominator"]].fillna(0).astype("Int64")
    return merged


def _share(
    table: pd.DataFrame, flag: pd.Series, spells: pd.DataFrame, check: str, label: str
) -> pd.DataFrame:
    counts = _counts(table, spells, flag)
    share = counts["numerator"].astype("Float64") / counts["denominator"].astype("Float64")
    note = pd.Series(pd.NA, index=counts.index, dtype="string").mask(
        counts["denominator"].eq(0), "none to assess"
    )
    return counts.assign(
        check=check, label=label, share=share.mask(counts["denominator"].eq(0)), status=pd.NA, note=note
    )


def _pathway(
    table: pd.DataFrame, counted: pd.DataFrame, column: str, label: str, has_patients: bool
) -> pd.DataFrame:
    """Return a pathway check over the counted RFDs it can be assessed on, the others noted."""
    assessable = counted[counted[column].notna()]
    result = _share(table, assessable[column].astype(bool), assessable, column, label)
    if not has_patients:
        return _not_assessable(result, "the extract has no patient identifier")
    left_out = _counts(table, counted, counted[column].isna())["numerator"]
    result["unassessed"] = left_out
    result["note"] = result["note"].mask(left_out.gt(0), left_out.astype("string") + " " + LOOK_BACK_NOTE)
    return result


def _change_from_baseline(volumes: pd.DataFrame, baseline: list[str]) -> pd.DataFrame:
    mean = (
        volumes[volumes["quarter"].isin(baseline)]
        .groupby("provider_code")["denominator"]
        .mean()
        .rename("baseline")
    )
    rows = volumes.merge(mean.reset_index(), on="provider_code", how="left")
    share = rows["denominator"].astype("Float64") / rows["baseline"].astype("Float64") - 1
    note = pd.Series(f"baseline: mean of {baseline[0]} to {baseline[-1]}", index=rows.index, dtype="string")
    return rows.assign(
        check="change_from_baseline",
        label="counted RFDs against the baseline quarters' mean",
        numerator=rows["denominator"],
        denominator=rows["baseline"].round(1),
        share=share.mask(rows["baseline"].eq(0)),
        status=pd.NA,
        note=note.mask(rows["baseline"].eq(0), "no RFD in the baseline quarters"),
    )


def _expected_rate(
    volumes: pd.DataFrame, populations: pd.DataFrame | None, expected: float | None
) -> pd.DataFrame:
    rows = volumes.assign(
        check="expected_rate", label="counted RFDs per 100,000 against the expected rate", status=pd.NA
    )
    if expected is None:
        return _not_assessable(rows.assign(share=pd.NA, note=pd.NA), "no expected rate in the parameters")
    if populations is None:
        return _not_assessable(rows.assign(share=pd.NA, note=pd.NA), "no population file")
    population = rows["provider_code"].map(populations.set_index("provider_code")["catchment_population"])
    rate = rows["denominator"].astype("Float64") / population.astype("Float64") * 100_000
    result = rows.assign(
        numerator=rows["denominator"], denominator=population.astype("Int64"), share=rate / expected - 1
    )
    result["note"] = pd.Series(pd.NA, index=rows.index, dtype="string").mask(
        population.isna(), "no population for " + rows["provider_code"]
    )
    result.loc[population.isna(), "status"] = Status.NOT_ASSESSABLE
    return result


def _not_assessable(checks: pd.DataFrame, why: str) -> pd.DataFrame:
    # No counts either: a zero would read as "none found" rather than "could not look".
    missing = pd.array([pd.NA] * len(checks), dtype="Int64")
    return checks.assign(
        numerator=missing, denominator=missing, share=pd.NA, status=Status.NOT_ASSESSABLE, note=why
    )
