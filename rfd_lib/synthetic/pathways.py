"""The synthetic patients' pathways: who has which kind of spell, and when.

Each provider has a style (:class:`Style`: rates per 100,000 a year and shares, varied at random
from its archetype); :func:`plan_pathways` draws how many patients start each pathway in the window, and
:func:`draw_people` gives each spell its patient, age and days. What the spells are coded as is the
job of their SUS+ columns (:mod:`.sus_columns`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from rfd_lib.synthetic.spell_codes import (
    BACK_MISCODED,
    BACK_OFF_LIST,
    BACK_PAIN,
    BACK_SURGERY,
    EPIDURAL,
    FJI,
    MBB,
    OTHER_DENERVATION,
    RFD,
)

# Pathways may start before the extract, as real ones do: long enough for repeats to be steady.
LOOKBACK_DAYS = 1000

DAYS_PER_YEAR = 365.2425

PATIENTS_PER_PROVIDER = 10_000_000  # each provider's block of pseudonym keys, so none is shared


@dataclass(frozen=True)
class Style:
    """How a provider treats and codes: rates are per 100,000 catchment a year, the rest are shares.

    The defaults are a provider that follows the policy (``TYPICAL``): a block before nearly every
    RFD and before every repeat, repeats after 16 months, no facet joint injections, coded sites,
    back-pain diagnoses and day cases. Where a typical provider keeps a habit at exactly none
    (short repeats, facet joint injections, a third block without RFD, RFDs without a site code)
    it is because, in circulation, a hidden count of 1-7 is judged at its worst (7 / denominator):
    one such spell would turn a small provider red, which is a story the set is not built to tell.
    """

    pathway_rate: float = 85.0  # patients starting a block / RFD pathway
    trend: float = 0.0  # growth of pathway starts over the span (1 = doubles)
    no_block: float = 0.02  # pathway patients whose first RFD has no block before it
    respond: float = 0.6  # blocked patients who go on to RFD
    repeat: float = 0.3  # treated patients with a repeat RFD (a second repeat is rarer)
    short_repeat: float = 0.0  # repeats sooner than 16 months
    reblock: float = 0.95  # repeats with a fresh block first
    fji_first: float = 0.0  # pathway patients with a facet joint injection first
    fji_rate: float = 0.0  # patients with facet joint injections only
    epidural_rate: float = 50.0
    back_pain_rate: float = 90.0
    surgery_rate: float = 25.0
    other_denervation_rate: float = 4.0
    lumbar_site: float = 1.0  # injection and RFD spells with a lumbar site code
    back_diagnosis: float = 0.95  # pathway spells with a primary diagnosis on the rule's list
    off_list: int = BACK_OFF_LIST  # where the others come from
    emergency: float = 0.015  # of injection and RFD spells
    transfer: float = 0.005
    day_case: float = 0.96
    private: float = 0.03  # patients
    other_category: float = 0.012  # spells with administrative category 03 / 04
    cancer: float = 0.02  # patients with a cancer co-diagnosis
    under_19: float = 0.003  # pathway patients
    age_null: float = 0.04  # spells with no Age_At_Start_of_Spell_SUS
    age_999: float = 0.004  # spells with Der_Age_at_CDS_Activity_Date 999
    lower: float = 0.003  # codes in lower case
    dotted: float = 0.002  # procedure codes with a dot
    blank: float = 0.0  # primary procedures with a trailing blank
    null_category: float = 0.002
    null_patient: float = 0.002
    null_diagnoses: float = 0.005  # Der_Diagnosis_All NULL
    null_site: float = 0.002
    noise: float = 0.03  # unrelated spells, as a share of the rest
    staged: float = 0.08  # RFDs done left side first, the right side 2-6 weeks later (Z94.3, Z94.2)
    repeated_blocks_rate: float = 5.0  # patients given blocks a few months apart and no RFD
    third_block: float = 0.0  # of those, patients given a third block: therapeutic blocks


TYPICAL = Style()

# The story the demo tells: each designed problem at one provider, every other check green or
# amber. Each problem provider is a typical one (varied like its peers) with one departure from
# TYPICAL; the test tests/integration/test_demo_story.py asserts that the demo audit of the
# audited quarter is red exactly at STORY's (provider, check) pairs.
#
# ========  ===================  ==========================================  ============================
# provider  archetype            the problem                                 red in the audited quarter
# ========  ===================  ==========================================  ============================
# ZK1       heavy_user           four times its peers' RFD, steadily:        none (the funnel is not a
#                                above the funnel's limits                   check; no SPC signal)
# ZD4       rising               a real upward trend: SPC special cause      change from baseline
# ZC3       unblocked            RFD without a medial branch block first     prior block
# ZE5       therapeutic_blocker  blocks repeated (three in a year), no RFD   therapeutic blocks
# ZB2       facet_injector       facet joint injections                      facet joint injection
# ZG7       early_repeater       repeat RFD within 16 months                 repeat
# ZF6       bad_coder            no lumbar site codes, off-list diagnoses,   RFD without site code,
#                                no NHS number on some spells                diagnosis outside list,
#                                                                            prior block (see below)
# ZH8       clean                follows the policy in every respect         none
# ========  ===================  ==========================================  ============================
#
# The bad coder's prior block is red from its coding alone: RFDs without an NHS number cannot be
# followed back to a block, and that hidden count (1-7) is judged at its worst. Its off-list
# diagnoses leave half its RFDs outside the definition; it is busy enough that the rest keep it
# within the funnel's limits, so the funnel shows the heavy user alone.
HIGH_VOLUME = "ZK1"
UPWARD_TREND = "ZD4"
NO_PRIOR_BLOCK = "ZC3"
THERAPEUTIC_BLOCKS = "ZE5"
FACET_INJECTIONS = "ZB2"
EARLY_REPEATS = "ZG7"
POOR_CODING = "ZF6"
CLEAN = "ZH8"

STORY: dict[str, frozenset[str]] = {
    HIGH_VOLUME: frozenset(),
    UPWARD_TREND: frozenset({"change_from_baseline"}),
    NO_PRIOR_BLOCK: frozenset({"prior_block"}),
    THERAPEUTIC_BLOCKS: frozenset({"therapeutic_block"}),
    FACET_INJECTIONS: frozenset({"facet_joint_injection"}),
    EARLY_REPEATS: frozenset({"repeat"}),
    POOR_CODING: frozenset({"rfd_without_lumbar_site", "rfd_diagnosis_outside_list", "prior_block"}),
    CLEAN: frozenset(),
}

# The problem archetypes' departures from a typical provider's own (varied) style.
DEPARTURES: dict[str, dict[str, float]] = {
    # About four times its peers' RFD, steadily (no trend): a funnel outlier, not a rising one.
    "heavy_user": {"pathway_rate": 240.0, "respond": 0.8, "trend": 0.0},
    # Pathway starts grow by 160 % across the extract: the latest quarter well above the baseline,
    # its rate still within the funnel's limits.
    "rising": {"trend": 1.6},
    # Four in ten straight to RFD, and repeats without a fresh block.
    "unblocked": {"no_block": 0.4, "reblock": 0.5},
    # Many patients given block after block, a few months apart, with no RFD after.
    "therapeutic_blocker": {"repeated_blocks_rate": 45.0, "third_block": 0.9},
    # Still gives facet joint injections, first on the pathway and on their own.
    "facet_injector": {"fji_first": 0.3, "fji_rate": 30.0},
    # Repeats early and often: most repeats within 6-15 months.
    "early_repeater": {"repeat": 0.5, "short_repeat": 0.8},
    # Busy, and codes badly: no site codes, off-list diagnoses, lower case, 999s, no NHS number.
    "bad_coder": {
        "pathway_rate": 130.0, "lumbar_site": 0.6, "back_diagnosis": 0.5, "off_list": BACK_MISCODED,
        "emergency": 0.05, "under_19": 0.02, "age_null": 0.25, "age_999": 0.1, "lower": 0.12,
        "dotted": 0.03, "blank": 0.02, "null_category": 0.01, "null_patient": 0.01,
        "null_diagnoses": 0.02, "null_site": 0.05,
    },
}  # fmt: skip

ARCHETYPES = {
    "typical": TYPICAL,
    # Follows the policy: a block within 6 months before every RFD, repeats after 16 months, no
    # facet joint injections, and every injection an elective NHS day case of an adult, coded
    # correctly. As in any extract, the blocks of its earliest RFDs may predate the period.
    # Not varied: exactly the policy.
    "clean": replace(
        TYPICAL, pathway_rate=60.0, no_block=0.0, respond=0.6, repeat=0.2, short_repeat=0.0,
        reblock=1.0, fji_first=0.0, fji_rate=0.0, lumbar_site=1.0, back_diagnosis=1.0,
        emergency=0.0, transfer=0.0, day_case=1.0, private=0.0, other_category=0.0, cancer=0.0,
        under_19=0.0, age_null=0.0, age_999=0.0, lower=0.0, dotted=0.0, null_category=0.0,
        null_patient=0.0, null_diagnoses=0.0, null_site=0.0, staged=0.0, repeated_blocks_rate=0.0,
    ),
    **{name: replace(TYPICAL, **departure) for name, departure in DEPARTURES.items()},
}  # fmt: skip


def provider_style(rng: np.random.Generator, archetype: str) -> Style:
    """Return a provider's style: typical and problem ones varied (the problem kept), the clean one as is."""
    if archetype == "clean":
        return ARCHETYPES["clean"]
    return replace(vary(rng, TYPICAL), **DEPARTURES.get(archetype, {}))


@dataclass(frozen=True)
class Window:
    """The extract's span in days since 1970-01-01: ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int
    first_quarter: str
    last_quarter: str


class Plan:
    """Spells planned one pathway step at a time: kind, patient and admission day of each."""

    def __init__(self) -> None:
        self._kinds: list[np.ndarray] = []
        self._patients: list[np.ndarray] = []
        self._days: list[np.ndarray] = []
        self._general: list[np.ndarray] = []

    def new_patients(self, n: int, *, general: bool = False) -> np.ndarray:
        """Return the indices of ``n`` new patients (``general``: any age, not back-pain patients)."""
        start = sum(len(g) for g in self._general)
        self._general.append(np.full(n, general))
        return np.arange(start, start + n, dtype=np.int64)

    def add(self, kind: int, patients: np.ndarray, days: np.ndarray) -> None:
        """Plan a spell of ``kind`` for each patient on the matching day."""
        self._kinds.append(np.full(len(patients), kind, dtype=np.int8))
        self._patients.append(patients)
        self._days.append(np.asarray(days, dtype=np.int64))

    def spells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return kind, patient and day of every planned spell."""
        return np.concatenate(self._kinds), np.concatenate(self._patients), np.concatenate(self._days)

    def general(self) -> np.ndarray:
        """Return, for every patient, whether they come from the general population."""
        return np.concatenate(self._general) if self._general else np.zeros(0, bool)


@dataclass(frozen=True)
class People:
    """The patients of one provider: pseudonym keys, birth days, private cover and cancer history."""

    key_offset: int  # patient i's Der_Pseudo_NHS_Number is made from key_offset + i
    birth: np.ndarray  # day of birth, days since 1970-01-01
    private: np.ndarray  # bool
    cancer: np.ndarray  # bool


def vary(rng: np.random.Generator, style: Style) -> Style:
    """Return a typical provider's own style: volumes, trend, pathway and coding habits vary a little.

    Within the policy: the habits a typical provider keeps at none stay at none (see :class:`Style`).
    """
    volume = rng.lognormal(0.0, 0.25)
    return replace(
        style,
        pathway_rate=style.pathway_rate * volume,
        epidural_rate=style.epidural_rate * rng.lognormal(0.0, 0.3),
        back_pain_rate=style.back_pain_rate * rng.lognormal(0.0, 0.2),
        trend=rng.uniform(-0.1, 0.1),
        no_block=rng.uniform(0.0, 0.03),
        respond=rng.uniform(0.5, 0.7),
        repeat=rng.uniform(0.2, 0.4),
        reblock=rng.uniform(0.9, 1.0),
        back_diagnosis=rng.uniform(0.9, 0.98),
        emergency=rng.uniform(0.005, 0.03),
        day_case=rng.uniform(0.93, 0.99),
        private=rng.uniform(0.005, 0.05),
        age_null=rng.uniform(0.01, 0.06),
        age_999=rng.uniform(0.001, 0.008),
        lower=rng.uniform(0.0, 0.008),
    )


def plan_pathways(rng: np.random.Generator, style: Style, population: float, window: Window) -> Plan:
    """Return the planned spells of one provider: pathways step by step, then single-kind cohorts.

    Pathways start from ``LOOKBACK_DAYS`` before the window to its end, more of them later when
    the trend is positive; spells outside the window are dropped by the caller.
    """
    plan = Plan()
    n = how_many(rng, style.pathway_rate, population, window, style.trend)
    who = plan.new_patients(n)
    start = spread(rng, n, window, style.trend)
    # Some were given a facet joint injection first (no longer recommended, still done).
    fji = rng.random(n) < style.fji_first
    plan.add(FJI, who[fji], start[fji] - rng.integers(60, 241, n)[fji])
    # Some presented with back pain as an emergency before being referred.
    ill = rng.random(n) < 0.1
    plan.add(BACK_PAIN, who[ill], start[ill] - rng.integers(30, 401, n)[ill])
    # Medial branch block, sometimes two (a second diagnostic block 2-8 weeks later).
    blocked = rng.random(n) >= style.no_block
    plan.add(MBB, who[blocked], start[blocked])
    second = blocked & (rng.random(n) < 0.3)
    second_day = start + rng.integers(14, 57, n)
    plan.add(MBB, who[second], second_day[second])
    # RFD 1-5 months after the last block for those who responded; at once for the unblocked.
    last_block = np.where(second, second_day, start)
    treated = ~blocked | (rng.random(n) < style.respond)
    rfd_day = np.where(blocked, last_block + rng.integers(30, 151, n), start)
    plan.add(RFD, who[treated], rfd_day[treated])
    # Repeats: short ones (6-15 months) break the 16-month policy, long ones (16-30) keep it.
    repeat = treated
    for chance in (style.repeat, style.repeat * 0.6):
        repeat = repeat & (rng.random(n) < chance)
        short = rng.random(n) < style.short_repeat
        rfd_day = rfd_day + np.where(short, rng.integers(180, 456, n), rng.integers(500, 901, n))
        reblock = repeat & (rng.random(n) < style.reblock)
        block_day = rfd_day - rng.integers(30, 151, n)
        plan.add(MBB, who[reblock], block_day[reblock])
        plan.add(RFD, who[repeat], rfd_day[repeat])

    # Cohorts of one kind: one spell each, some a second one 6-40 weeks later.
    for kind, rate, again_share in (
        (FJI, style.fji_rate, 0.3),
        (EPIDURAL, style.epidural_rate, 0.3),
        (BACK_PAIN, style.back_pain_rate, 0.15),
        (BACK_SURGERY, style.surgery_rate, 0.05),
        (OTHER_DENERVATION, style.other_denervation_rate, 0.2),
    ):
        m = how_many(rng, rate, population, window, style.trend / 4)
        who = plan.new_patients(m)
        first = spread(rng, m, window, style.trend / 4)
        plan.add(kind, who, first)
        again = rng.random(m) < again_share
        plan.add(kind, who[again], (first + rng.integers(42, 281, m))[again])
    return plan


def draw_people(
    rng: np.random.Generator, style: Style, general: np.ndarray, window: Window, *, key_offset: int
) -> People:
    """Return the patients: pseudonymised number, birth day, private and cancer flags.

    Back-pain patients are adults (a few under 19 as the style says); ``general`` patients are of
    any age, a very few of them infants, whose CDS age becomes a 7000+ code.
    """
    n = len(general)
    adult = np.clip(rng.normal(57, 14, n), 19, 95)
    young = rng.uniform(12, 19, n)
    age = np.where(rng.random(n) < style.under_19, young, adult)
    anyone = np.where(rng.random(n) < 0.2, rng.uniform(1, 19, n), np.clip(rng.normal(55, 20, n), 19, 100))
    anyone = np.where(rng.random(n) < 0.003, rng.uniform(-0.5, 0.3, n), anyone)  # infants, some born later
    age = np.where(general, anyone, age)
    birth = window.start - np.floor(age * DAYS_PER_YEAR).astype(np.int64)
    return People(
        key_offset=key_offset,
        birth=birth,
        private=rng.random(n) < np.where(general, 0.02, style.private),
        cancer=rng.random(n) < np.where(general, 0.03, style.cancer),
    )


def quarter_window(last_quarter: str, quarters: int) -> Window:
    """Return the days spanned by ``quarters`` NHS financial quarters ending with ``last_quarter``."""
    found = re.fullmatch(r"(\d{4})/(\d{2}) Q([1-4])", last_quarter.strip())
    if not found or (int(found[1]) + 1) % 100 != int(found[2]):
        raise ValueError(f"last_quarter {last_quarter!r}: expected a financial quarter such as '2026/27 Q2'")
    if quarters < 1:
        raise ValueError(f"quarters must be 1 or more, not {quarters}")
    # Months since 1970-01; the financial year starts in April, so Q1 is April to June.
    last = (int(found[1]) - 1970) * 12 + 3 + 3 * (int(found[3]) - 1)
    first = last - 3 * (quarters - 1)
    return Window(
        start=month_day(first), end=month_day(last + 3), first_quarter=quarter_label(first),
        last_quarter=quarter_label(last),
    )  # fmt: skip


def month_day(month: int) -> int:
    """Return the first day of ``month`` (months since January 1970) as days since 1970-01-01."""
    return int(np.datetime64(month, "M").astype("datetime64[D]").astype(np.int64))


def quarter_label(month: int) -> str:
    """Return the financial quarter (``2026/27 Q2``) of ``month`` (months since January 1970)."""
    year, month_of_year = divmod(month, 12)  # month_of_year 0 = January
    year += 1970
    financial_year = year if month_of_year >= 3 else year - 1
    return f"{financial_year}/{(financial_year + 1) % 100:02d} Q{(month_of_year - 3) % 12 // 3 + 1}"


def how_many(rng: np.random.Generator, rate: float, population: float, window: Window, trend: float) -> int:
    """Return how many patients start in :func:`spread`'s span at ``rate`` per 100,000 a year."""
    days = LOOKBACK_DAYS + (window.end - window.start) * (1 + trend / 2)
    return int(rng.poisson(rate * population / 100_000 * days / DAYS_PER_YEAR))


def spread(rng: np.random.Generator, n: int, window: Window, trend: float) -> np.ndarray:
    """Return ``n`` days from ``LOOKBACK_DAYS`` before ``window`` to its end.

    The density is flat before the window, then grows linearly across it by ``trend`` (1 = doubles
    from its first day to its last).
    """
    before, inside = LOOKBACK_DAYS, window.end - window.start
    # Inverse of the CDF of density 1 + trend * x on [0, 1].
    u = rng.random(n)
    x = u if trend == 0 else (np.sqrt(1 + trend * (2 + trend) * u) - 1) / trend
    early = rng.random(n) < before / (before + inside * (1 + trend / 2))
    day = np.where(early, window.start - before + np.floor(u * before), window.start + np.floor(x * inside))
    return day.astype(np.int64)
