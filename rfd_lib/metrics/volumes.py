"""How much RFD each provider does, per quarter: coded, counted, and why the rest is not counted.

Every function returns a tidy table with one row per provider and quarter for every quarter
asked for, so a quarter without activity is a 0 rather than a missing row. Counts are raw here;
:mod:`rfd_lib.metrics.disclosure` protects them before anything is circulated.
"""

from __future__ import annotations

import pandas as pd

from rfd_lib.metrics.pathways import interval_bands
from rfd_lib.metrics.periods import financial_quarter, quarter_range


def audit_quarters(classified: pd.DataFrame, date: str = "discharge_date") -> list[str]:
    """Return the quarters an extract covers: from its first to its last quarter of ``date``.

    ``date`` is the date that puts a spell in a quarter (``expectations.period_date``: the
    discharge date by default), so the quarters charted are those the spells are counted in. A
    spell without that date (not yet discharged) is in no quarter. Raises ``ValueError`` when no
    spell has the date.
    """
    dated = classified[date].dropna()
    if dated.empty:
        raise ValueError(f"the spells have no {date.replace('_', ' ')}s, so they cover no quarter")
    first, last = financial_quarter(pd.Series([dated.min(), dated.max()])).tolist()
    return quarter_range(first, last)


def grid(providers: list[str], quarters: list[str]) -> pd.DataFrame:
    """Return every provider × quarter pair, providers and quarters in the order given."""
    return (
        pd.MultiIndex.from_product([providers, quarters], names=["provider_code", "quarter"])
        .to_frame(index=False)
        .astype("string")
    )


def volumes(activity: pd.DataFrame, quarters: list[str], providers: list[str] | None = None) -> pd.DataFrame:
    """Return, per provider and quarter, RFD-coded and counted spells and patients.

    ``activity`` is :func:`rfd_lib.metrics.activity.label_activity`'s output. Columns: ``rfd_coded``,
    ``counted``, ``not_counted`` (spells), ``patients_coded`` and ``patients_counted`` (distinct
    patients; ``<NA>`` when the extract has no patient identifier), and ``day_cases`` (counted
    RFDs done as day cases). ``providers`` defaults to every provider in ``activity``.
    """
    rfd = activity[activity["kind"].eq("rfd") & activity["quarter"].isin(quarters)]
    keys = ["provider_code", "quarter"]
    rfd = rfd.assign(counted_day_case=rfd["counted"] & rfd["day_case"].fillna(False).astype(bool))
    spells = rfd.groupby(keys, observed=True).agg(
        rfd_coded=("counted", "size"), counted=("counted", "sum"), day_cases=("counted_day_case", "sum")
    )
    has_patients = activity["patient_id"].notna().any()
    patients_coded = rfd.groupby(keys, observed=True)["patient_id"].nunique()
    patients_counted = rfd[rfd["counted"]].groupby(keys, observed=True)["patient_id"].nunique()
    table = grid(providers or sorted(activity["provider_code"].dropna().unique()), quarters)
    table = table.merge(spells.reset_index(), on=keys, how="left")
    table = table.merge(patients_coded.rename("patients_coded").reset_index(), on=keys, how="left")
    table = table.merge(patients_counted.rename("patients_counted").reset_index(), on=keys, how="left")
    counts = ["rfd_coded", "counted", "day_cases", "patients_coded", "patients_counted"]
    table[counts] = table[counts].fillna(0).astype("Int64")
    if not has_patients:
        table[["patients_coded", "patients_counted"]] = pd.NA
    table["not_counted"] = table["rfd_coded"] - table["counted"]
    return table[
        [*keys, "rfd_coded", "counted", "not_counted", "patients_coded", "patients_counted", "day_cases"]
    ]


def waterfall(
    activity: pd.DataFrame, quarters: list[str], labels: dict[str, str], providers: list[str] | None = None
) -> pd.DataFrame:
    """Return, per provider and quarter, RFD-coded spells split into counted and each first failure.

    Each RFD-coded spell not counted is put under the first restriction it does not meet, in the
    rule's published order (a spell failing two is under the first), so the steps add up to the
    RFD-coded total. Columns: ``provider_code``, ``quarter``, ``step`` (0 for RFD-coded, then one
    per restriction in order, last ``counted``), ``label`` (from ``labels``, the restriction names'
    report labels) and ``spells``.
    """
    rfd = activity[activity["kind"].eq("rfd") & activity["quarter"].isin(quarters)]
    steps = ["RFD-coded spells", *labels.values(), "counted as 2K_RFD_back"]
    step_of = pd.Series(range(1, len(labels) + 1), index=list(labels), dtype="Int64")
    step = rfd["first_failure"].map(step_of).astype("Int64").fillna(len(labels) + 1)
    counted = rfd.assign(step=step).groupby(["provider_code", "quarter", "step"], observed=True).size()
    coded = rfd.groupby(["provider_code", "quarter"], observed=True).size()
    table = grid(providers or sorted(activity["provider_code"].dropna().unique()), quarters)
    table = table.merge(pd.DataFrame({"step": range(len(steps))}), how="cross")
    both = pd.concat([counted, coded.to_frame().assign(step=0).set_index("step", append=True)[0]])
    table = table.merge(
        both.rename("spells").reset_index(), on=["provider_code", "quarter", "step"], how="left"
    )
    table["spells"] = table["spells"].fillna(0).astype("Int64")
    table["label"] = pd.Series(steps, dtype="string").iloc[table["step"]].to_numpy()
    return table[["provider_code", "quarter", "step", "label", "spells"]]


def repeat_intervals(
    activity: pd.DataFrame, quarters: list[str], providers: list[str] | None = None
) -> pd.DataFrame:
    """Return, per provider, counted RFDs in ``quarters`` by months since the patient's previous RFD.

    One row per provider and band of :data:`rfd_lib.metrics.pathways.INTERVAL_BANDS`, every band present;
    a patient's first RFD in the extract has no interval and is not counted here.
    """
    counted = activity[activity["kind"].eq("rfd") & activity["counted"] & activity["quarter"].isin(quarters)]
    bands = interval_bands(counted["days_since_previous"])
    counts = counted.assign(band=bands).groupby(["provider_code", "band"], observed=False).size()
    table = counts.rename("spells").reset_index()
    every = providers or sorted(activity["provider_code"].dropna().unique())
    frame = pd.MultiIndex.from_product(
        [every, bands.cat.categories], names=["provider_code", "band"]
    ).to_frame(index=False)
    frame = frame.merge(table, on=["provider_code", "band"], how="left")
    frame["spells"] = frame["spells"].fillna(0).astype("Int64")
    frame["provider_code"] = frame["provider_code"].astype("string")
    frame["band"] = frame["band"].astype("string")
    return frame
