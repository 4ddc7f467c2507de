"""The restricted-use checks (the expectations), per provider and quarter, each with its status.

Each check is a share — a numerator of spells out of a denominator — judged red, amber or green
against its threshold in ``params/expectations.yaml`` (once, from the published counts, by
:mod:`rfd_lib.metrics.publish`; this module counts). A check that needs something the extract
lacks (a patient identifier, a patient classification, a population, an expected rate) is
"not assessable" with the reason, never a misleading zero.

==========================  ============================================  ================================
check (kind)                numerator                                     denominator
==========================  ============================================  ================================
prior_block                 counted RFDs with a block coded in the        counted RFDs assessable
                            look-back (or in the same spell)
repeat                      counted RFDs within the repeat window of      counted RFDs assessable
                            another on the same side (any side where
                            either has no side coded)
therapeutic_block           patients whose block in the quarter completes patients with a block spell in
                            repeated blocks with no RFD after them        the quarter
facet_joint_injection       facet joint injection spells                  lumbar injection spells
day_case                    counted RFDs done as day cases                counted RFDs
change_from_baseline        counted RFDs this quarter                     baseline's mean a quarter
expected_rate               counted RFDs per 100,000 a year (annualised)  the expected rate
rfd_without_lumbar_site     spells with an RFD primary procedure and no   those spells and the RFD-coded
                            lumbar site code                              spells
rfd_diagnosis_outside_list  RFD-coded spells failing the rule's primary-  RFD-coded spells
                            diagnosis list
==========================  ============================================  ================================

What each check means and what to ask the provider are in the wording file
(``checks.meaning.<kind>`` and ``checks.ask.<kind>``: :data:`MEANING`), as the ``meaning`` and
``ask`` columns. The repeat check's ``without_side`` counts its repeats judged without a side
(laterality not coded on one or both RFDs; ``<NA>`` for the other checks).

For the last two the share is the ratio minus one: +0.25 is a quarter above the baseline. The
expected-rate check's denominator is the quarter's person-years (the population, adults 19+ when
the populations file gives them for every provider, × ¼ year; see :mod:`rfd_lib.metrics.rates`),
so counted RFDs over it, per 100,000, is the rate the reports show: a year's, annualised from
the quarter, in the unit of ``expected_rate_per_100000``. For the
two pathway checks ``unassessed`` counts the counted RFDs left out of the denominator because
they have no patient identifier or their look-back starts before the extract (``<NA>`` for
the other checks).

Every row also says its ``basis`` (the guidance's sentence in quotation marks, a local policy or
data quality: ``checks.<kind>.basis`` in the expectations file) and its ``thresholds`` in words,
which the reports print beside the status. The national definition's restrictions are not
checks: a spell outside them is not counted, which :mod:`rfd_lib.metrics.definition` shows as
context, never red, amber or green.
"""

from __future__ import annotations

import pandas as pd

from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.expectations import Check, Expectations
from rfd_lib.metrics.rates import QUARTER_YEARS, rate_denominator
from rfd_lib.metrics.status import Status
from rfd_lib.metrics.volumes import grid
from rfd_lib.wording import say

KEYS = ["provider_code", "quarter"]
COLUMNS = [
    *KEYS,
    "kind",
    "check",
    "label",
    "short",
    "basis",
    "thresholds",
    "numerator",
    "denominator",
    "unassessed",
    "without_side",
    "status",
    "note",
    "meaning",
    "ask",
]

# What each kind of check means and what to ask the provider about it (params/wording.yaml).
MEANING: dict[CheckKind, tuple[str, str]] = {
    CheckKind.PRIOR_BLOCK: ("checks.meaning.prior_block", "checks.ask.prior_block"),
    CheckKind.REPEAT: ("checks.meaning.repeat", "checks.ask.repeat"),
    CheckKind.THERAPEUTIC_BLOCK: ("checks.meaning.therapeutic_block", "checks.ask.therapeutic_block"),
    CheckKind.FACET_JOINT_INJECTION: (
        "checks.meaning.facet_joint_injection",
        "checks.ask.facet_joint_injection",
    ),
    CheckKind.DAY_CASE: ("checks.meaning.day_case", "checks.ask.day_case"),
    CheckKind.CHANGE_FROM_BASELINE: (
        "checks.meaning.change_from_baseline",
        "checks.ask.change_from_baseline",
    ),
    CheckKind.EXPECTED_RATE: ("checks.meaning.expected_rate", "checks.ask.expected_rate"),
    CheckKind.RFD_WITHOUT_LUMBAR_SITE: (
        "checks.meaning.rfd_without_lumbar_site",
        "checks.ask.rfd_without_lumbar_site",
    ),
    CheckKind.RFD_DIAGNOSIS_OUTSIDE_LIST: (
        "checks.meaning.rfd_diagnosis_outside_list",
        "checks.ask.rfd_diagnosis_outside_list",
    ),
}


def restricted_use_checks(
    activity: pd.DataFrame,
    expectations: Expectations,
    quarters: list[str],
    populations: pd.DataFrame | None = None,
    providers: list[str] | None = None,
) -> pd.DataFrame:
    """Return the counts of every check for every provider and quarter, one row each (:data:`COLUMNS`).

    ``activity`` is :func:`rfd_lib.metrics.activity.label_activity`'s output; ``populations`` has
    ``provider_code``, ``catchment_population`` and optionally ``adult_population`` (needed for
    ``expected_rate`` only, which divides by the population the rates do). Counts
    are raw, and not yet judged: ``status`` is "not assessable" where the data cannot answer the
    check or there is nothing to judge (the note says why), and ``<NA>`` otherwise.
    :func:`rfd_lib.metrics.publish.published_checks` protects the counts and only then works out
    each share and status, once, from the counts it publishes.
    """
    providers = providers or sorted(activity["provider_code"].dropna().unique())
    table = grid(providers, quarters)
    in_range = activity[activity["quarter"].isin(quarters)]
    rfd = in_range[in_range["kind"].eq("rfd")]
    counted = rfd[rfd["counted"]]
    checks = expectations.checks
    parts = []
    has_patients = activity["patient_id"].notna().any()
    for kind in (CheckKind.PRIOR_BLOCK, CheckKind.REPEAT):
        parts.append(_pathway(table, counted, kind, checks.of(kind).label, has_patients))
    parts.append(_therapeutic(table, in_range, checks.therapeutic_block.label, has_patients))
    injections = in_range[in_range["kind"].isin(["block", "facet_injection"])]
    facet = CheckKind.FACET_JOINT_INJECTION
    parts.append(
        _share(table, injections["kind"].eq("facet_injection"), injections, facet, checks.of(facet).label)
    )
    day_case = _share(
        table,
        counted["day_case"].fillna(False).astype(bool),
        counted,
        CheckKind.DAY_CASE,
        checks.day_case.label,
    )
    if counted["day_case"].isna().all() and len(counted):
        day_case = _not_assessable(day_case, say("checks.notes.no_patient_classification"))
    parts.append(day_case)
    volumes = _counts(table, counted)
    baseline = quarters[: expectations.baseline_quarters]
    parts.append(_change_from_baseline(volumes, baseline, checks.change_from_baseline.label))
    expected_rate = expectations.expected_rate_per_100000
    parts.append(_expected_rate(volumes, populations, expected_rate, checks.expected_rate.label))
    parts += _coding_quality(table, in_range, rfd, expectations)
    result = pd.concat(parts, ignore_index=True)
    for column in ("unassessed", "without_side"):
        if column not in result:
            result[column] = pd.NA
        result[column] = result[column].astype("Int64")
    result["kind"] = result["kind"].astype("string")
    # The index's column name, and the basis and thresholds every report prints beside the status.
    words = {
        "short": lambda kind: checks.of(kind).short,
        "basis": lambda kind: basis_text(checks.of(kind), kind),
        "thresholds": lambda kind: thresholds_text(checks.of(kind), kind),
    }
    for column, said in words.items():
        result[column] = result["kind"].map({kind.value: said(kind) for kind in CheckKind}).astype("string")
    result["status"] = result["status"].astype("string")
    for n, column in enumerate(("meaning", "ask")):
        said = {kind.value: say(keys[n]) for kind, keys in MEANING.items()}
        result[column] = result["kind"].map(said).astype("string")
    return result[COLUMNS]


def _counts(table: pd.DataFrame, spells: pd.DataFrame, flag: pd.Series | None = None) -> pd.DataFrame:
    """Return ``table`` with ``numerator`` (flagged spells) and ``denominator`` (all) per row."""
    numerator = (flag if flag is not None else pd.Series(True, index=spells.index)).astype(bool)
    grouped = spells.assign(_flag=numerator.to_numpy()).groupby(KEYS, observed=True)
    counts = pd.DataFrame({"numerator": grouped["_flag"].sum(), "denominator": grouped.size()}).reset_index()
    merged = table.merge(counts, on=KEYS, how="left")
    merged[["numerator", "denominator"]] = merged[["numerator", "denominator"]].fillna(0).astype("Int64")
    return merged


def _share(
    table: pd.DataFrame,
    flag: pd.Series,
    spells: pd.DataFrame,
    kind: CheckKind,
    label: str,
) -> pd.DataFrame:
    """Return ``table`` with the flagged spells out of all ``spells`` as a check of ``kind``."""
    counts = _counts(table, spells, flag)
    none = counts["denominator"].eq(0)
    note = pd.Series(pd.NA, index=counts.index, dtype="string").mask(none, say("checks.notes.none_to_assess"))
    status = pd.Series(pd.NA, index=counts.index, dtype="string").mask(none, Status.NOT_ASSESSABLE)
    return counts.assign(kind=kind.value, check=kind.check_name(), label=label, status=status, note=note)


def _pathway(
    table: pd.DataFrame, counted: pd.DataFrame, kind: CheckKind, label: str, has_patients: bool
) -> pd.DataFrame:
    """Return a pathway check over the counted RFDs it can be assessed on, the others noted."""
    column = kind.value  # label_activity's flag of the same name
    assessable = counted[counted[column].notna()]
    result = _share(table, assessable[column].astype(bool), assessable, kind, label)
    if not has_patients:
        return _not_assessable(result, say("checks.notes.no_patient_identifier"))
    left_out = _counts(table, counted, counted[column].isna())["numerator"]
    result["unassessed"] = left_out
    result["note"] = result["note"].mask(left_out.gt(0), look_back_notes(left_out.astype("string")))
    if kind is CheckKind.REPEAT:
        # Repeats judged without a side: laterality not coded on the RFD or on the earlier one.
        without = assessable["repeat_without_side"].fillna(False).astype(bool)
        result["without_side"] = _counts(table, assessable, without)["numerator"]
    return result


def _therapeutic(table: pd.DataFrame, spells: pd.DataFrame, label: str, has_patients: bool) -> pd.DataFrame:
    """Return the therapeutic-block check: patients, not spells (see the module's table)."""
    kind = CheckKind.THERAPEUTIC_BLOCK
    blocks = spells[spells["kind"].eq("block") & spells["patient_id"].notna()]
    # One row per patient and quarter: blocked then, and whether a block then completed repeated blocks.
    patients = (
        blocks.assign(_flag=blocks["therapeutic_block"].fillna(False).astype(bool))
        .groupby([*KEYS, "patient_id"], observed=True)["_flag"]
        .any()
        .reset_index()
    )
    result = _share(table, patients["_flag"], patients, kind, label)
    if not has_patients:
        return _not_assessable(result, say("checks.notes.no_patient_identifier"))
    return result


def _coding_quality(
    table: pd.DataFrame, spells: pd.DataFrame, rfd: pd.DataFrame, expectations: Expectations
) -> list[pd.DataFrame]:
    """Return the two coding-quality checks: RFD without a lumbar site code, diagnosis outside the list."""
    checks = expectations.checks
    site = CheckKind.RFD_WITHOUT_LUMBAR_SITE
    primary_rfd = spells[spells["kind"].isin(["rfd", "rfd_no_site"])]
    no_site = _share(table, primary_rfd["kind"].eq("rfd_no_site"), primary_rfd, site, checks.of(site).label)
    outside = CheckKind.RFD_DIAGNOSIS_OUTSIDE_LIST
    diagnosis = _share(
        table, rfd["diagnosis_outside_list"].fillna(False), rfd, outside, checks.of(outside).label
    )
    if len(rfd) and rfd["diagnosis_outside_list"].isna().all():
        diagnosis = _not_assessable(diagnosis, say("checks.notes.no_diagnosis_list"))
    return [no_site, diagnosis]


def _change_from_baseline(volumes: pd.DataFrame, baseline: list[str], label: str) -> pd.DataFrame:
    mean = (
        volumes[volumes["quarter"].isin(baseline)]
        .groupby("provider_code")["denominator"]
        .mean()
        .rename("baseline")
    )
    rows = volumes.merge(mean.reset_index(), on="provider_code", how="left")
    said = say("checks.notes.baseline", first=baseline[0], last=baseline[-1])
    note = pd.Series(said, index=rows.index, dtype="string")
    kind = CheckKind.CHANGE_FROM_BASELINE
    return rows.assign(
        kind=kind.value,
        check=kind.check_name(),
        label=label,
        numerator=rows["denominator"],
        denominator=rows["baseline"].round(1),
        status=pd.Series(pd.NA, index=rows.index, dtype="string").mask(
            rows["baseline"].eq(0), Status.NOT_ASSESSABLE
        ),
        note=note.mask(rows["baseline"].eq(0), say("checks.notes.no_baseline")),
    )


def _expected_rate(
    volumes: pd.DataFrame, populations: pd.DataFrame | None, expected: float | None, label: str
) -> pd.DataFrame:
    kind = CheckKind.EXPECTED_RATE
    rows = volumes.assign(kind=kind.value, check=kind.check_name(), label=label, status=pd.NA)
    if expected is None:
        return _not_assessable(rows.assign(note=pd.NA), say("checks.notes.no_expected_rate"))
    if populations is None:
        return _not_assessable(rows.assign(note=pd.NA), say("checks.notes.no_population_file"))
    denominator = rate_denominator(populations, rows["provider_code"])
    population = rows["provider_code"].map(populations.set_index("provider_code")[denominator.column])
    # Person-years in the quarter: counted RFDs over them, per 100,000, is the annualised rate.
    person_years = population.astype("Float64") * QUARTER_YEARS
    result = rows.assign(numerator=rows["denominator"], denominator=person_years)
    people = say("checks.notes.adults") if denominator.adult else say("checks.notes.all_ages")
    result["note"] = pd.Series(
        say("checks.notes.person_years", people=people), index=rows.index, dtype="string"
    ).mask(population.isna(), say("checks.notes.no_population_for") + " " + rows["provider_code"])
    result.loc[population.isna(), "status"] = Status.NOT_ASSESSABLE
    return result


# What the guidance says beside a check whose basis is local policy: its only word on the subject.
GUIDANCE_ALSO_SAYS = {CheckKind.REPEAT: "checks.basis.repeat_research"}
# A basis that quotes nothing, and the thresholds by which way is better, as the wording file says them.
BASIS_WORDS = {"local_policy": "checks.basis.local_policy", "data_quality": "checks.basis.data_quality"}
THRESHOLD_WORDS = {"low": "checks.thresholds.low", "high": "checks.thresholds.high"}


def basis_text(check: Check, kind: CheckKind | str) -> str:
    """Return a check's basis as the reports print it, from the expectations file's ``checks.<kind>.basis``.

    The guidance's sentence in quotation marks, "local policy (set in params/expectations.yaml)"
    (with, for repeats, the guidance's only word on them) or "data quality".
    """
    kind = CheckKind(kind)
    basis = check.basis
    if basis.kind == "guidance":
        return say("checks.basis.guidance", quote=" ".join(str(basis.quote).split()))
    said = say(BASIS_WORDS[basis.kind])
    also = GUIDANCE_ALSO_SAYS.get(kind)
    return f"{said} {say(also)}" if also else said


def thresholds_text(check: Check, kind: CheckKind | str) -> str:
    """Return a check's thresholds in words, e.g. "green ≤ 5 %, amber ≤ 15 %, red above"."""
    kind = CheckKind(kind)

    def shown(value: float) -> str:
        number = f"{value * 100:+g}" if kind.is_ratio else f"{value * 100:g}"
        return f"{number.replace('-', '−')} %"

    return say(THRESHOLD_WORDS[check.good], green=shown(check.green), amber=shown(check.amber))


def look_back_notes(counts: pd.Series) -> pd.Series:
    """Return, per count (as text), the note on counted RFDs a pathway check could not assess."""
    return counts + " " + say("checks.notes.look_back")


def _not_assessable(checks: pd.DataFrame, why: str) -> pd.DataFrame:
    # No counts either: a zero would read as "none found" rather than "could not look".
    missing = pd.array([pd.NA] * len(checks), dtype="Int64")
    return checks.assign(numerator=missing, denominator=missing, status=Status.NOT_ASSESSABLE, note=why)
