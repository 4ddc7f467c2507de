"""The multi-provider synthetic extract set: ``write_extracts``, ``extract_frames``, ``national_quarter``.

``write_extracts`` writes the files an analyst would receive for a multi-provider audit: one SUS+
admitted-patient-care CSV per provider (``APCS_Ident`` … ``Site_Name``), ``populations.csv`` and
``manifest.json``; ``extract_frames`` returns the same spells as frames, and ``national_quarter``
makes one large quarter of spells for the speed benchmarks.

How this set is made
--------------------
It is a test fixture, not a model of the NHS. Twenty made-up providers (codes ZA1 … ZT0, names
beginning "Synthetic", catchments of 150,000 to 1,480,000 people) each get their own random stream
from ``(seed, provider number)``. For each, patients are drawn from Poisson counts at rates per
100,000 a year and walked through a pathway in vectorised steps: sometimes a facet joint injection
(V54.4) first; a medial branch block (A57.7 / A73.5 with a lumbar site code), sometimes two; RFD
(V48.5 / V48.7) 1-5 months later for those who respond, or with no block at all; repeat RFDs 6-15
months later (against the 16-month policy) or 16-30 months later, with or without a fresh block.
Alongside come epidurals, back-pain admissions with or without procedures, back surgery, other V48
codes and about 3 % unrelated spells. Pathways start up to ``_LOOKBACK_DAYS`` before the extract so
that repeats are in steady state; only spells inside the quarters are kept, so (as in real
extracts) some RFDs early in the period have their block before it. Each spell's codes, admission
method, category, classification, ages and NULLs are then drawn from pools by kind of spell, with
the provider's style setting the shares: a heavy user (far more RFD per 100,000, rising, many
without a block, many quick repeats), a bad coder (missing site codes, off-list diagnoses, lower
case, 999 ages, and a handful of broken rows listed in the manifest), a clean provider (every RFD
after a block within 6 months, no repeat within 16 months, no facet joint injections, elective NHS
adult day cases, correct codes) and typical providers, each
varied at random. Rates, shares and code pools are plausible guesses for a fixture, not estimates;
the procedure codes besides the rule's and those of the field notes are illustrative. Nothing comes
from real data: numbers, identifiers and names are random or invented.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.synthetic.draws import SEPARATORS, blank_out, draw, join, where
from rfd_lib.version import __version__

COLUMNS = (
    "APCS_Ident",
    "Der_Provider_Code",
    "Der_Pseudo_NHS_Number",
    "Admission_Date",
    "Discharge_Date",
    "Admission_Method",
    "Administrative_Category",
    "Patient_Classification",
    "Age_At_Start_of_Spell_SUS",
    "Der_Age_at_CDS_Activity_Date",
    "Der_Primary_Procedure_Code",
    "Der_Procedure_All",
    "Der_Primary_Diagnosis_Code",
    "Der_Diagnosis_All",
    "Site_Name",
)
AGE_COLUMNS = ("Age_At_Start_of_Spell_SUS", "Der_Age_at_CDS_Activity_Date")
NATIONAL_QUARTER = "2026/27 Q2"

Pool = tuple[list[str | None], list[float] | None]


@dataclass(frozen=True)
class SyntheticSet:
    """What :func:`write_extracts` wrote: the folder, one CSV per provider, the populations, the manifest."""

    folder: Path
    extracts: tuple[Path, ...]  # one CSV per provider, sorted by provider code
    populations: Path  # populations.csv
    manifest: Path  # manifest.json


@dataclass(frozen=True)
class _Format:
    """How one provider's file is written (recorded in the manifest so a test can read it back)."""

    encoding: str = "utf-8"  # Python codec name; "utf-8-sig" writes a byte-order mark
    delimiter: str = ","
    null_marker: str = ""
    line_terminator: str = "\n"


@dataclass(frozen=True)
class _Provider:
    code: str
    name: str
    catchment_population: int
    archetype: str
    sites: tuple[str, ...]
    file_format: _Format = _Format()


# Fake providers: codes start with Z so they cannot be mistaken for a real trust's, names with
# "Synthetic". Sizes span 150,000 to 1,480,000 people. Some site names carry a comma (the writer
# must quote it), a curly apostrophe or an e-acute (the encoding matters).
_PROVIDERS = (
    _Provider("ZA1", "Synthetic Ashcombe Hospitals", 1_480_000, "typical",
              ("Synthetic Ashcombe General Hospital", "Synthetic St Aldhelm’s Hospital"),
              _Format(encoding="utf-8-sig")),
    _Provider("ZB2", "Synthetic Brackenford Healthcare", 1_210_000, "typical",
              ("Synthetic Brackenford Royal Infirmary", "Synthetic Brackenford Hospital, Spinal Day Unit")),
    _Provider("ZC3", "Synthetic Caldermoor Hospitals", 1_050_000, "typical",
              ("Synthetic Caldermoor Hospital",)),
    _Provider("ZD4", "Synthetic Dunmere Teaching Hospitals", 940_000, "typical",
              ("Synthetic Dunmere Infirmary", "Synthetic Renée Clarke Treatment Centre")),
    _Provider("ZE5", "Synthetic Eastwold Hospitals", 820_000, "typical",
              ("Synthetic Eastwold District Hospital", "Synthetic Eastwold Hospital, Day Case Unit"),
              _Format(null_marker="NULL", line_terminator="\r\n")),
    _Provider("ZF6", "Synthetic Fenbridge Hospitals", 760_000, "bad_coder",
              ("Synthetic Fenbridge General Hospital", "Synthetic Fenbridge Community Hospital")),
    _Provider("ZG7", "Synthetic Greyhollow Healthcare", 690_000, "typical",
              ("Synthetic Greyhollow Hospital",)),
    _Provider("ZH8", "Synthetic Hartleigh Hospitals", 610_000, "clean",
              ("Synthetic Hartleigh Hospital", "Synthetic Hartleigh Spinal Centre")),
    _Provider("ZI9", "Synthetic Ivelmouth Hospitals", 560_000, "typical",
              ("Synthetic Ivelmouth Hospital", "Synthetic St Bride’s Day Hospital"),
              _Format(encoding="cp1252", line_terminator="\r\n")),
    _Provider("ZJ0", "Synthetic Jessop Vale Hospitals", 480_000, "typical",
              ("Synthetic Jessop Vale Hospital",)),
    _Provider("ZK1", "Synthetic Kestrel Bay Hospitals", 430_000, "heavy_user",
              ("Synthetic Kestrel Bay Hospital", "Synthetic Kestrel Bay Pain Clinic, Orchard Wing")),
    _Provider("ZL2", "Synthetic Longmarsh Hospitals", 390_000, "typical",
              ("Synthetic Longmarsh Hospital",)),
    _Provider("ZM3", "Synthetic Millbeck Hospitals", 350_000, "typical",
              ("Synthetic Millbeck Hospital", "Synthetic Millbeck Treatment Centre"),
              _Format(delimiter="\t")),
    _Provider("ZN4", "Synthetic Northwray Hospitals", 320_000, "typical",
              ("Synthetic Northwray Hospital",)),
    _Provider("ZO5", "Synthetic Oakhurst Hospitals", 290_000, "typical",
              ("Synthetic Oakhurst Hospital", "Synthetic Our Lady’s Hospital")),
    _Provider("ZP6", "Synthetic Pelham Cross Hospitals", 260_000, "typical",
              ("Synthetic Pelham Cross Hospital",)),
    _Provider("ZQ7", "Synthetic Quenby Hospitals", 230_000, "typical",
              ("Synthetic Quenby Hospital",)),
    _Provider("ZR8", "Synthetic Redmarley Hospitals", 200_000, "typical",
              ("Synthetic Redmarley Hospital", "Synthetic Redmarley Café Court Clinic")),
    _Provider("ZS9", "Synthetic Saltley Moor Hospitals", 175_000, "typical",
              ("Synthetic Saltley Moor Hospital",)),
    _Provider("ZT0", "Synthetic Thornwick Hospitals", 150_000, "typical",
              ("Synthetic Thornwick Community Hospital",)),
)  # fmt: skip

# Kinds of spell. A pathway (MBB -> RFD -> repeat RFD) is built from the first three.
_MBB, _RFD, _FJI, _EPIDURAL, _OTHER_DENERVATION, _BACK_PAIN, _BACK_SURGERY, _NOISE = range(8)
_INJECTIONS = (_MBB, _RFD, _FJI, _EPIDURAL, _OTHER_DENERVATION)

# Primary procedure by kind (OPCS-4, no dot). MBB, RFD and FJI codes are those of the field notes;
# the rest are illustrative codes of the right shape, chosen so that no V48[57] appears by accident.
_PRIMARY_PROCEDURE: tuple[Pool, ...] = (
    (["A577", "A735"], [0.6, 0.4]),  # medial branch block
    (["V485", "V487"], [0.7, 0.3]),  # radiofrequency denervation: the rule's V48[57]
    (["V544"], None),  # facet joint injection
    (["A521", "A522", "A528", "A529"], [0.35, 0.45, 0.1, 0.1]),  # epidural and other spinal injections
    (["V481", "V482", "V483", "V484", "V488"], None),  # V48 codes the rule does not count
    ([None, "U051", "U211"], [0.8, 0.1, 0.1]),  # back-pain admission: mostly no procedure
    (["V331", "V338", "V382", "V254"], [0.4, 0.2, 0.25, 0.15]),  # back surgery
    (["W401", "W371", "H229", "T201", "K559", "Q074", "W821", "C751", "J183", "X481", "E481"], None),
)
# Site codes after the primary procedure: lumbar (the rule's Z67[567] / Z993), missing, upper spine.
_LUMBAR, _NOT_LUMBAR, _NO_SITE, _UPPER_SPINE = range(4)
_SITE: tuple[Pool, ...] = (
    (["Z675", "Z676", "Z677", "Z993"], [0.3, 0.3, 0.2, 0.2]),
    ([None, "Z671", "Z672"], [0.7, 0.15, 0.15]),
    ([None], None),
    (["Z671", "Z672", "Z673", "Z674"], None),
)
_LATERALITY: Pool = (["Z941", "Z942", "Z943"], [0.6, 0.2, 0.2])
_IMAGING: Pool = (["Y534"], None)
_SECOND_EPISODE: Pool = (["X998", "U051", "Y534", "A529", "Z676"], None)
# Primary diagnosis by kind of diagnosis (ICD-10, no dot, three-character codes X-padded).
_BACK_LIST, _BACK_OFF_LIST, _BACK_MISCODED, _BACK_ADMISSION, _SPINE_SURGERY, _NECK, _UNRELATED = range(7)
_DIAGNOSIS: tuple[Pool, ...] = (
    (["M545", "M549", "M512", "M518", "M519", "M5450"], [0.5, 0.12, 0.08, 0.08, 0.07, 0.15]),  # rule's list
    (["M479", "M478", "M471", "M544", "M511"], [0.35, 0.25, 0.1, 0.2, 0.1]),  # plausible, off the list
    (["M478", "M533", "M479", "M539", "M549"], [0.35, 0.3, 0.15, 0.1, 0.1]),  # the bad coder's habits
    (["M545", "M544", "M511", "M549", "M4806", "M5450"], [0.4, 0.2, 0.15, 0.1, 0.1, 0.05]),
    (["M511", "M4806", "M512", "M431"], [0.4, 0.3, 0.1, 0.2]),
    (["M542", "M479", "M4782"], [0.6, 0.3, 0.1]),
    (["H251", "I10X", "K802", "M170", "M161", "N390", "J181", "S7200", "R104", "K358", "I209"], None),
)
_COMORBIDITY: Pool = (["I10X", "E119", "J459", "F329", "E669", "K219", "G473", "M797", "Z864", "F419"], None)
# Cancer co-diagnoses: C00-C97, D00-D09 and D37-D48, the rule's exclusions.
_CANCER: Pool = (["C509", "C61X", "C189", "C349", "D051", "D090", "D374", "D410", "D473", "D489"], None)
_ELECTIVE, _EMERGENCY, _MATERNITY, _TRANSFER = range(4)
_ADMISSION_METHOD: tuple[Pool, ...] = (
    (["11", "12", "13"], [0.6, 0.36, 0.04]),
    (
        ["21", "22", "23", "24", "25", "2A", "2B", "2C", "2D"],
        [0.55, 0.18, 0.02, 0.06, 0.01, 0.06, 0.07, 0.005, 0.045],
    ),
    (["31", "32"], [0.6, 0.4]),
    (["81"], None),
)
_NHS, _PRIVATE, _OTHER_CATEGORY = range(3)
_ADMINISTRATIVE_CATEGORY: tuple[Pool, ...] = ((["01"], None), (["02"], None), (["03", "04"], [0.7, 0.3]))
_EPISODE_SEPARATORS: Pool = (["||", " ||"], [0.8, 0.2])
_UNPARSEABLE_DATES = ("31/02/2025", "unknown", "2025-13-01", "31/02/2025")
# Pathways may start before the extract, as real ones do: long enough for repeats to be steady.
_LOOKBACK_DAYS = 1000
_DAYS_PER_YEAR = 365.2425
_PATIENTS_PER_PROVIDER = 10_000_000  # each provider's block of pseudonym keys, so none is shared


@dataclass(frozen=True)
class _Style:
    """How a provider treats and codes: rates are per 100,000 catchment a year, the rest are shares."""

    pathway_rate: float = 70.0  # patients starting a block / RFD pathway
    trend: float = 0.0  # growth of pathway starts over the span (1 = doubles)
    no_block: float = 0.08  # pathway patients whose first RFD has no block before it
    respond: float = 0.6  # blocked patients who go on to RFD
    repeat: float = 0.3  # treated patients with a repeat RFD (a second repeat is rarer)
    short_repeat: float = 0.2  # repeats sooner than 16 months
    reblock: float = 0.5  # repeats with a fresh block first
    fji_first: float = 0.2  # pathway patients with a facet joint injection first
    fji_rate: float = 20.0  # patients with facet joint injections only
    epidural_rate: float = 50.0
    back_pain_rate: float = 90.0
    surgery_rate: float = 25.0
    other_denervation_rate: float = 4.0
    lumbar_site: float = 0.97  # injection and RFD spells with a lumbar site code
    back_diagnosis: float = 0.88  # pathway spells with a primary diagnosis on the rule's list
    off_list: int = _BACK_OFF_LIST  # where the others come from
    emergency: float = 0.015  # of injection and RFD spells
    transfer: float = 0.005
    day_case: float = 0.92
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


_TYPICAL = _Style()
_ARCHETYPES = {
    "typical": _TYPICAL,
    # Much more RFD than peers and rising; many straight to RFD and many quick repeats.
    "heavy_user": replace(
        _TYPICAL, pathway_rate=110.0, trend=4.0, no_block=0.5, respond=0.8, repeat=0.65,
        short_repeat=0.7, reblock=0.1, fji_first=0.45, fji_rate=70.0, private=0.06,
    ),
    # Treats like its peers but codes badly: no site codes, off-list diagnoses, lower case, 999s.
    "bad_coder": replace(
        _TYPICAL, pathway_rate=75.0, lumbar_site=0.6, back_diagnosis=0.5, off_list=_BACK_MISCODED,
        emergency=0.05, under_19=0.02, age_null=0.25, age_999=0.1, lower=0.12, dotted=0.03, blank=0.02,
        null_category=0.01, null_patient=0.01, null_diagnoses=0.02, null_site=0.05,
    ),
    # Follows the policy: a block within 6 months before every RFD, repeats after 16 months, no
    # facet joint injections, and every injection an elective NHS day case of an adult, coded
    # correctly. As in any extract, the blocks of its earliest RFDs may predate the period.
    "clean": replace(
        _TYPICAL, pathway_rate=60.0, no_block=0.0, respond=0.6, repeat=0.2, short_repeat=0.0,
        reblock=1.0, fji_first=0.0, fji_rate=0.0, lumbar_site=1.0, back_diagnosis=1.0,
        emergency=0.0, transfer=0.0, day_case=1.0, private=0.0, other_category=0.0, cancer=0.0,
        under_19=0.0, age_null=0.0, age_999=0.0, lower=0.0, dotted=0.0, null_category=0.0,
        null_patient=0.0, null_diagnoses=0.0, null_site=0.0,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class _Window:
    """The extract's span in days since 1970-01-01: ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int
    first_quarter: str
    last_quarter: str


class _Plan:
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
class _People:
    key_offset: int  # patient i's Der_Pseudo_NHS_Number is made from key_offset + i
    birth: np.ndarray  # day of birth, days since 1970-01-01
    private: np.ndarray  # bool
    cancer: np.ndarray  # bool


def write_extracts(
    folder: str | Path,
    *,
    seed: int = 2025,
    last_quarter: str = "2026/27 Q2",
    quarters: int = 8,
    scale: float = 1.0,
) -> SyntheticSet:
    """Write the synthetic multi-provider SUS+ extract set into ``folder`` and return where it went.

    Writes one CSV per provider (``<code>.csv``; a few in other encodings, delimiters and NULL
    markers, as recorded), ``populations.csv`` and ``manifest.json``. The same arguments always
    write byte-identical files. Creates ``folder`` if needed; each file appears whole or not at all.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    window = _window(last_quarter, quarters)
    frames, anomalies = _make_set(seed, window, scale)
    extracts = []
    providers: dict[str, dict[str, object]] = {}
    for provider in _PROVIDERS:
        frame, fmt = frames[provider.code], provider.file_format
        path = folder / f"{provider.code}.csv"
        _atomic(path, lambda target, frame=frame, fmt=fmt: _to_csv(frame, target, fmt))
        extracts.append(path)
        providers[provider.code] = {
            "name": provider.name,
            "archetype": provider.archetype,
            "catchment_population": provider.catchment_population,
            "file": path.name,
            "encoding": fmt.encoding,
            "bom": fmt.encoding == "utf-8-sig",
            "delimiter": fmt.delimiter,
            "null_marker": fmt.null_marker,
            "line_terminator": fmt.line_terminator,
            "rows": len(frame),
            "anomalies": anomalies.get(provider.code, {}),
        }
    populations = folder / "populations.csv"
    table = pd.DataFrame(
        {
            "provider_code": [p.code for p in _PROVIDERS],
            "provider_name": [p.name for p in _PROVIDERS],
            "catchment_population": [p.catchment_population for p in _PROVIDERS],
        }
    )
    _atomic(populations, lambda target: table.to_csv(target, index=False, lineterminator="\n"))
    manifest = {
        "synthetic": True,
        "note": (
            "Synthetic data made by a seeded random generator: no real patient, spell or provider. "
            "Providers, sites, identifiers and rates are invented."
        ),
        "generator": "rfd_lib.synthetic.write_extracts",
        "rfd_lib_version": __version__,
        "seed": seed,
        "last_quarter": window.last_quarter,
        "first_quarter": window.first_quarter,
        "quarters": quarters,
        "period": {"start": _day_text(window.start), "end": _day_text(window.end - 1)},
        "scale": float(scale),
        "columns": list(COLUMNS),
        "populations": populations.name,
        "total_rows": sum(len(f) for f in frames.values()),
        "providers": providers,
    }
    path = folder / "manifest.json"
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    _atomic(path, lambda target: target.write_text(text, encoding="utf-8"))
    return SyntheticSet(folder=folder, extracts=tuple(extracts), populations=populations, manifest=path)


def extract_frames(
    *, seed: int = 2025, last_quarter: str = "2026/27 Q2", quarters: int = 8, scale: float = 1.0
) -> dict[str, pd.DataFrame]:
    """Return provider code -> that provider's spells, exactly as :func:`write_extracts` writes them.

    Columns are :data:`COLUMNS` (SUS+ names). Text columns are Arrow-backed strings holding the
    text that is written (codes, ``YYYY-MM-DD`` dates, the bad coder's broken values); the two age
    columns are ``Int64``. NULL is ``<NA>``. Keys are in provider-code order.
    """
    return _make_set(seed, _window(last_quarter, quarters), scale)[0]


def national_quarter(n: int, *, seed: int = 2025) -> pd.DataFrame:
    """Return ``n`` synthetic spells of one national quarter (2026/27 Q2) in the SUS+ columns.

    For speed benchmarks: about 130 made-up providers, admission dates inside the quarter, the
    value mixes of :func:`extract_frames` (about 0.2 % RFD-coded, emergency, private, cancer,
    NULLs, 999 ages) but no patient pathways. Column types as :func:`extract_frames`.
    """
    if n < 0:
        raise ValueError(f"n must be zero or more, not {n}")
    window = _window(NATIONAL_QUARTER, 1)
    rng = np.random.default_rng([seed, 1_000_003])
    codes = np.array([f"Z{letter}{digit}" for letter in "ABCDEFGHIJKLM" for digit in range(10)])
    size = rng.lognormal(0.0, 0.6, len(codes))
    provider_code = pa.array(codes, pa.large_string())
    site_name = pa.array([f"Synthetic {code} Hospital" for code in codes], pa.large_string())
    patients = max(1, n * 7 // 10)  # about 1.4 spells a patient in a quarter
    people = _people(rng, _TYPICAL, np.ones(patients, bool), window, key_offset=500_000_000)
    # The share of each kind: ~0.2 % RFD-coded; spinal injections and back pain a few per cent more.
    mix = np.array([0.002, 0.002, 0.001, 0.002, 0.0003, 0.006, 0.002, 0.0])
    mix[_NOISE] = 1 - mix.sum()
    parts: dict[str, list] = {column: [] for column in COLUMNS}
    chunk = 250_000  # bounds the temporary arrays; each chunk has its own random stream
    for number, lo in enumerate(range(0, n, chunk)):
        m = min(chunk, n - lo)
        sub = np.random.default_rng([seed, 1_000_003, number])
        kind = sub.choice(len(mix), size=m, p=mix).astype(np.int8)
        provider = sub.choice(len(codes), size=m, p=size / size.sum())
        admitted = sub.integers(window.start, window.end, m)
        patient = sub.integers(0, patients, m)
        ids = 5_000_000_000 + lo * 3 + np.cumsum(sub.integers(1, 4, m))  # unique: gaps of 1-3
        columns = _render(
            sub, _TYPICAL, kind, admitted, patient, people, ids,
            provider_code.take(pa.array(provider)), site_name.take(pa.array(provider)),
        )  # fmt: skip
        for column, values in columns.items():
            parts[column].append(values)
    return _assemble(parts)


def _make_set(seed: int, window: _Window, scale: float) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Return every provider's frame and the deliberate anomalies made in each (by provider code)."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    frames, anomalies = {}, {}
    for index, provider in enumerate(_PROVIDERS):
        # One random stream per provider: a provider's spells do not depend on the others'.
        rng = np.random.default_rng([seed, index])
        style = _ARCHETYPES[provider.archetype]
        if provider.archetype == "typical":
            style = _vary(rng, style)
        frame = _provider_frame(rng, index, provider, style, window, scale)
        if provider.archetype == "bad_coder":
            frame, anomalies[provider.code] = _spoil(rng, frame)
        frames[provider.code] = frame
    return dict(sorted(frames.items())), anomalies


def _vary(rng: np.random.Generator, style: _Style) -> _Style:
    """Return a typical provider's own style: volumes, trend, pathway and coding habits vary a little."""
    volume = rng.lognormal(0.0, 0.25)
    return replace(
        style,
        pathway_rate=style.pathway_rate * volume,
        fji_rate=style.fji_rate * rng.lognormal(0.0, 0.4),
        epidural_rate=style.epidural_rate * rng.lognormal(0.0, 0.3),
        back_pain_rate=style.back_pain_rate * rng.lognormal(0.0, 0.2),
        trend=rng.uniform(-0.2, 0.35),
        no_block=rng.uniform(0.03, 0.15),
        respond=rng.uniform(0.5, 0.7),
        repeat=rng.uniform(0.2, 0.4),
        short_repeat=rng.uniform(0.1, 0.35),
        reblock=rng.uniform(0.3, 0.7),
        lumbar_site=rng.uniform(0.93, 0.99),
        back_diagnosis=rng.uniform(0.8, 0.95),
        emergency=rng.uniform(0.005, 0.03),
        day_case=rng.uniform(0.85, 0.97),
        private=rng.uniform(0.005, 0.05),
        age_null=rng.uniform(0.01, 0.06),
        age_999=rng.uniform(0.001, 0.008),
        lower=rng.uniform(0.0, 0.008),
    )


def _provider_frame(
    rng: np.random.Generator,
    index: int,
    provider: _Provider,
    style: _Style,
    window: _Window,
    scale: float,
) -> pd.DataFrame:
    """Return one provider's spells in the extract's window, ordered by admission date."""
    plan = _plan(rng, style, provider.catchment_population * scale, window)
    kind, patient, day = plan.spells()
    inside = (day >= window.start) & (day < window.end)
    kind, patient, day = kind[inside], patient[inside], day[inside]
    # Unrelated spells the extract query also catches, each its own patient.
    noise = rng.poisson(style.noise * len(kind))
    noise_patients = plan.new_patients(noise, general=True)
    kind = np.concatenate([kind, np.full(noise, _NOISE, np.int8)])
    patient = np.concatenate([patient, noise_patients])
    day = np.concatenate([day, rng.integers(window.start, window.end, noise)])
    order = np.lexsort((patient, day))
    kind, patient, day = kind[order], patient[order], day[order]

    general = plan.general()
    if len(general) >= _PATIENTS_PER_PROVIDER:
        raise ValueError(f"scale {scale} is too large: {provider.code} would have {len(general):,} patients")
    people = _people(rng, style, general, window, key_offset=index * _PATIENTS_PER_PROVIDER)
    # SUS+ numbers spells roughly in the order they arrive: increasing, with gaps.
    gap = max(1, min(20, 40_000_000 // max(1, 2 * len(kind))))
    ids = 4_100_000_000 + index * 40_000_000 + np.cumsum(rng.integers(1, gap + 1, len(kind)))
    sites = (list(provider.sites), [0.7, 0.3] if len(provider.sites) == 2 else None)
    columns = _render(
        rng, style, kind, day, patient, people, ids,
        pa.array([provider.code], pa.large_string()).take(np.zeros(len(kind), np.int64)),
        draw(rng, sites, len(kind)),
    )  # fmt: skip
    return _assemble({column: [values] for column, values in columns.items()})


def _plan(rng: np.random.Generator, style: _Style, population: float, window: _Window) -> _Plan:
    """Return the planned spells of one provider: pathways step by step, then single-kind cohorts.

    Pathways start from ``_LOOKBACK_DAYS`` before the window to its end, more of them later when
    the trend is positive; spells outside the window are dropped by the caller.
    """
    plan = _Plan()
    n = _how_many(rng, style.pathway_rate, population, window, style.trend)
    who = plan.new_patients(n)
    start = _spread(rng, n, window, style.trend)
    # Some were given a facet joint injection first (no longer recommended, still done).
    fji = rng.random(n) < style.fji_first
    plan.add(_FJI, who[fji], start[fji] - rng.integers(60, 241, n)[fji])
    # Some presented with back pain as an emergency before being referred.
    ill = rng.random(n) < 0.1
    plan.add(_BACK_PAIN, who[ill], start[ill] - rng.integers(30, 401, n)[ill])
    # Medial branch block, sometimes two (a second diagnostic block 2-8 weeks later).
    blocked = rng.random(n) >= style.no_block
    plan.add(_MBB, who[blocked], start[blocked])
    second = blocked & (rng.random(n) < 0.3)
    second_day = start + rng.integers(14, 57, n)
    plan.add(_MBB, who[second], second_day[second])
    # RFD 1-5 months after the last block for those who responded; at once for the unblocked.
    last_block = np.where(second, second_day, start)
    treated = ~blocked | (rng.random(n) < style.respond)
    rfd_day = np.where(blocked, last_block + rng.integers(30, 151, n), start)
    plan.add(_RFD, who[treated], rfd_day[treated])
    # Repeats: short ones (6-15 months) break the 16-month policy, long ones (16-30) keep it.
    repeat = treated
    for chance in (style.repeat, style.repeat * 0.6):
        repeat = repeat & (rng.random(n) < chance)
        short = rng.random(n) < style.short_repeat
        rfd_day = rfd_day + np.where(short, rng.integers(180, 456, n), rng.integers(500, 901, n))
        reblock = repeat & (rng.random(n) < style.reblock)
        block_day = rfd_day - rng.integers(30, 151, n)
        plan.add(_MBB, who[reblock], block_day[reblock])
        plan.add(_RFD, who[repeat], rfd_day[repeat])

    # Cohorts of one kind: one spell each, some a second one 6-40 weeks later.
    for kind, rate, again_share in (
        (_FJI, style.fji_rate, 0.3),
        (_EPIDURAL, style.epidural_rate, 0.3),
        (_BACK_PAIN, style.back_pain_rate, 0.15),
        (_BACK_SURGERY, style.surgery_rate, 0.05),
        (_OTHER_DENERVATION, style.other_denervation_rate, 0.2),
    ):
        m = _how_many(rng, rate, population, window, style.trend / 4)
        who = plan.new_patients(m)
        first = _spread(rng, m, window, style.trend / 4)
        plan.add(kind, who, first)
        again = rng.random(m) < again_share
        plan.add(kind, who[again], (first + rng.integers(42, 281, m))[again])
    return plan


def _people(
    rng: np.random.Generator, style: _Style, general: np.ndarray, window: _Window, *, key_offset: int
) -> _People:
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
    birth = window.start - np.floor(age * _DAYS_PER_YEAR).astype(np.int64)
    return _People(
        key_offset=key_offset,
        birth=birth,
        private=rng.random(n) < np.where(general, 0.02, style.private),
        cancer=rng.random(n) < np.where(general, 0.03, style.cancer),
    )


def _render(
    rng: np.random.Generator,
    style: _Style,
    kind: np.ndarray,
    admitted: np.ndarray,
    patient: np.ndarray,
    people: _People,
    ids: np.ndarray,
    provider: pa.Array,
    site_name: pa.Array,
) -> dict[str, pa.Array | tuple[np.ndarray, np.ndarray]]:
    """Return the SUS+ columns of the planned spells: text as Arrow arrays, ages as (values, missing)."""
    n = len(kind)
    injection = np.isin(kind, _INJECTIONS)
    pathway = np.isin(kind, (_MBB, _RFD, _FJI))

    # Procedures: the primary code, then site, laterality and imaging codes in the same episode.
    primary = _miscode(rng, style, _draw_by(rng, kind, _PRIMARY_PROCEDURE), dot=True)
    lumbar = np.where(rng.random(n) < style.lumbar_site, _LUMBAR, _NOT_LUMBAR)
    site_kind = np.select(
        [pathway, kind == _EPIDURAL, kind == _OTHER_DENERVATION, kind == _BACK_SURGERY],
        [lumbar, np.where(rng.random(n) < 0.6, _LUMBAR, _NO_SITE), _UPPER_SPINE,
         np.where(rng.random(n) < 0.3, _LUMBAR, _NO_SITE)],
        _NO_SITE,
    )  # fmt: skip
    site = _miscode(rng, style, _draw_by(rng, site_kind, _SITE))
    laterality = _only(rng, injection, 0.5, draw(rng, _LATERALITY, n))
    imaging = _only(rng, injection, 0.6, draw(rng, _IMAGING, n))
    second = _only(rng, np.ones(n, bool), 0.04, draw(rng, _SECOND_EPISODE, n))
    procedures = _concatenate(rng, primary, [site, laterality, imaging], second)

    diagnosis_kind = np.select(
        [pathway, np.isin(kind, (_EPIDURAL, _BACK_PAIN)), kind == _BACK_SURGERY, kind == _OTHER_DENERVATION],
        [np.where(rng.random(n) < style.back_diagnosis, _BACK_LIST, style.off_list), _BACK_ADMISSION,
         _SPINE_SURGERY, _NECK],
        _UNRELATED,
    )  # fmt: skip
    diagnosis = _miscode(rng, style, _draw_by(rng, diagnosis_kind, _DIAGNOSIS))
    diagnosis = blank_out(rng, diagnosis, style.null_diagnoses / 5)
    cancer = _only(rng, people.cancer[patient], 0.8, draw(rng, _CANCER, n))
    count = rng.choice(4, size=n, p=[0.35, 0.3, 0.2, 0.15])
    others = [_only(rng, count > slot, 1.0, draw(rng, _COMORBIDITY, n)) for slot in range(3)]
    second = _only(rng, np.ones(n, bool), 0.05, draw(rng, _COMORBIDITY, n))
    diagnoses = _concatenate(rng, diagnosis, [cancer, *others], second)
    diagnoses = blank_out(rng, diagnoses, style.null_diagnoses)

    # Admission: emergency, maternity (unrelated spells only) or transfer, otherwise elective.
    emergency_share = np.select(
        [injection, kind == _BACK_PAIN, kind == _BACK_SURGERY], [style.emergency, 0.8, 0.08], 0.45
    )
    emergency = rng.random(n) < emergency_share
    maternity = ~emergency & (kind == _NOISE) & (rng.random(n) < 0.05)
    transfer = ~emergency & ~maternity & (rng.random(n) < style.transfer)
    method = _draw_by(
        rng, np.select([emergency, maternity, transfer], [_EMERGENCY, _MATERNITY, _TRANSFER], _ELECTIVE),
        _ADMISSION_METHOD,
    )  # fmt: skip
    day_share = np.select(
        [injection, kind == _BACK_PAIN, kind == _BACK_SURGERY], [style.day_case, 0.3, 0.1], 0.5
    )
    day_case = ~emergency & ~maternity & (rng.random(n) < day_share)
    # Ordinary admissions stay 1-10 days (a few leave the same day); day cases leave the same day.
    stay = np.where(rng.random(n) < 0.05, 0, np.minimum(rng.geometric(0.35, n), 10))
    discharged = admitted + np.where(day_case, 0, stay)
    category = np.select(
        [people.private[patient], rng.random(n) < style.other_category], [_PRIVATE, _OTHER_CATEGORY], _NHS
    )
    category_text = blank_out(rng, _draw_by(rng, category, _ADMINISTRATIVE_CATEGORY), style.null_category)

    # Ages: whole years at admission; CDS age 999 when not known, 7000+ for infants.
    age = np.floor((admitted - people.birth[patient]) / _DAYS_PER_YEAR).astype(np.int64)
    infant = age <= 0
    age = np.maximum(age, 0)
    cds_age = np.where(infant, rng.integers(7001, 7008, n), age)
    cds_age = np.where(rng.random(n) < style.age_999, 999, cds_age)

    return {
        "APCS_Ident": pa.array(ids, pa.int64()).cast(pa.large_string()),
        "Der_Provider_Code": provider,
        "Der_Pseudo_NHS_Number": blank_out(
            rng, _pseudo_numbers(patient + people.key_offset), style.null_patient
        ),
        "Admission_Date": _dates(admitted),
        "Discharge_Date": _dates(discharged),
        "Admission_Method": method,
        "Administrative_Category": category_text,
        "Patient_Classification": where(
            day_case, pa.scalar("2", pa.large_string()), pa.scalar("1", pa.large_string())
        ),
        "Age_At_Start_of_Spell_SUS": (age, rng.random(n) < style.age_null),
        "Der_Age_at_CDS_Activity_Date": (cds_age, np.zeros(n, bool)),
        "Der_Primary_Procedure_Code": primary,
        "Der_Procedure_All": procedures,
        "Der_Primary_Diagnosis_Code": diagnosis,
        "Der_Diagnosis_All": diagnoses,
        "Site_Name": blank_out(rng, site_name, style.null_site),
    }


def _spoil(rng: np.random.Generator, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Return the bad coder's frame with a few broken rows, and the APCS_Ident of each, by kind.

    Each kind of anomaly has rows of its own, so the lists never overlap. A frame too small to
    spare the rows (a tiny ``scale``) is returned as it is, with no anomalies.
    """
    has_list = np.flatnonzero(
        frame["Der_Procedure_All"].str.contains(",", regex=False).fillna(False).to_numpy()
    )
    if len(has_list) < 3 or len(frame) < 40:
        return frame, {}
    shape_rows = rng.choice(has_list, size=3, replace=False)
    rest = np.setdiff1d(np.arange(len(frame)), shape_rows)
    rows = rng.choice(rest, size=17, replace=False)
    one_char, swapped, undated, copied, clash = rows[:6], rows[6:10], rows[10:14], rows[14], rows[15:17]
    frame = frame.copy()
    column = frame.columns.get_loc
    ident = frame["APCS_Ident"]

    # A spreadsheet dropped the leading zero of the administrative category ('01' -> '1', '02' -> '2').
    frame.iloc[one_char, column("Administrative_Category")] = np.array(["2", "1"] * 3, dtype=object)
    admitted = pd.to_datetime(frame["Admission_Date"].iloc[swapped], format="%Y-%m-%d")
    before = admitted - pd.to_timedelta(rng.integers(1, 6, len(swapped)), unit="D")
    frame.iloc[swapped, column("Discharge_Date")] = before.dt.strftime("%Y-%m-%d").to_numpy()
    frame.iloc[undated, column("Admission_Date")] = np.array(_UNPARSEABLE_DATES[: len(undated)], dtype=object)
    # Procedure lists: one without its leading '||', two with ';' for ','.
    lists = frame["Der_Procedure_All"].iloc[shape_rows]
    frame.iloc[shape_rows, column("Der_Procedure_All")] = np.concatenate(
        [lists.iloc[:1].str.slice(2).to_numpy(), lists.iloc[1:].str.replace(",", ";", regex=False).to_numpy()]
    )
    # Two duplicated APCS_Ident values: a spell sent twice, and two spells given the same id.
    frame.iloc[clash[1], column("APCS_Ident")] = ident.iloc[clash[0]]
    frame = pd.concat([frame, frame.iloc[[copied]]], ignore_index=True)

    def idents(where: np.ndarray) -> list[str]:
        return [str(value) for value in ident.iloc[where].tolist()]

    return frame, {
        "duplicated_apcs_ident": sorted(idents(np.array([copied, clash[0]]))),
        "one_character_administrative_category": idents(one_char),
        "discharge_before_admission": idents(swapped),
        "unparseable_admission_date": idents(undated),
        "procedure_list_shape": idents(shape_rows),
    }


def _window(last_quarter: str, quarters: int) -> _Window:
    """Return the days spanned by ``quarters`` NHS financial quarters ending with ``last_quarter``."""
    found = re.fullmatch(r"(\d{4})/(\d{2}) Q([1-4])", last_quarter.strip())
    if not found or (int(found[1]) + 1) % 100 != int(found[2]):
        raise ValueError(f"last_quarter {last_quarter!r}: expected a financial quarter such as '2026/27 Q2'")
    if quarters < 1:
        raise ValueError(f"quarters must be 1 or more, not {quarters}")
    # Months since 1970-01; the financial year starts in April, so Q1 is April to June.
    last = (int(found[1]) - 1970) * 12 + 3 + 3 * (int(found[3]) - 1)
    first = last - 3 * (quarters - 1)
    return _Window(
        start=_month_day(first), end=_month_day(last + 3), first_quarter=_quarter_label(first),
        last_quarter=_quarter_label(last),
    )  # fmt: skip


def _month_day(month: int) -> int:
    return int(np.datetime64(month, "M").astype("datetime64[D]").astype(np.int64))


def _quarter_label(month: int) -> str:
    year, month_of_year = divmod(month, 12)  # month_of_year 0 = January
    year += 1970
    financial_year = year if month_of_year >= 3 else year - 1
    return f"{financial_year}/{(financial_year + 1) % 100:02d} Q{(month_of_year - 3) % 12 // 3 + 1}"


def _day_text(day: int) -> str:
    return str(np.datetime64(day, "D"))


def _how_many(rng: np.random.Generator, rate: float, population: float, window: _Window, trend: float) -> int:
    """Return how many patients start in :func:`_spread`'s span at ``rate`` per 100,000 a year."""
    days = _LOOKBACK_DAYS + (window.end - window.start) * (1 + trend / 2)
    return int(rng.poisson(rate * population / 100_000 * days / _DAYS_PER_YEAR))


def _spread(rng: np.random.Generator, n: int, window: _Window, trend: float) -> np.ndarray:
    """Return ``n`` days from ``_LOOKBACK_DAYS`` before ``window`` to its end.

    The density is flat before the window, then grows linearly across it by ``trend`` (1 = doubles
    from its first day to its last).
    """
    before, inside = _LOOKBACK_DAYS, window.end - window.start
    # Inverse of the CDF of density 1 + trend * x on [0, 1].
    u = rng.random(n)
    x = u if trend == 0 else (np.sqrt(1 + trend * (2 + trend) * u) - 1) / trend
    early = rng.random(n) < before / (before + inside * (1 + trend / 2))
    day = np.where(early, window.start - before + np.floor(u * before), window.start + np.floor(x * inside))
    return day.astype(np.int64)


def _draw_by(rng: np.random.Generator, kind: np.ndarray, pools: tuple[Pool, ...]) -> pa.Array:
    """Return one code per row from the pool of that row's kind (``pools[kind]``), with its weights.

    All pools are laid end to end on one axis, pool k over [k, k + 1), so a single searchsorted
    draws every row from its own pool.
    """
    codes: list[str | None] = []
    edges, last = [], []
    for k, (pool, weights) in enumerate(pools):
        w = np.ones(len(pool)) if weights is None else np.asarray(weights, dtype=float)
        cumulative = np.cumsum(w) / w.sum()
        cumulative[-1] = 1.0
        edges.append(k + cumulative)
        codes += pool
        last.append(len(codes) - 1)
    pick = np.searchsorted(np.concatenate(edges), kind + rng.random(len(kind)), side="right")
    pick = np.minimum(pick, np.asarray(last)[kind])  # k + u can round up to k + 1
    return pa.array(codes, pa.large_string()).take(pa.array(pick))


def _miscode(rng: np.random.Generator, style: _Style, codes: pa.Array, *, dot: bool = False) -> pa.Array:
    """Return ``codes`` with the style's share in lower case, and (procedures) dotted or blank-padded."""
    n = len(codes)
    codes = pc.if_else(pa.array(rng.random(n) < style.lower), pc.utf8_lower(codes), codes)
    if dot:
        four = pc.fill_null(pc.equal(pc.utf8_length(codes), 4), False).to_numpy(zero_copy_only=False)
        dotted = join(pc.utf8_slice_codeunits(codes, 0, 3), ".", pc.utf8_slice_codeunits(codes, 3))
        codes = pc.if_else(pa.array(four & (rng.random(n) < style.dotted)), dotted, codes)
        codes = pc.if_else(pa.array(rng.random(n) < style.blank), join(codes, " "), codes)
    return codes


def _only(rng: np.random.Generator, eligible: np.ndarray, share: float, codes: pa.Array) -> pa.Array:
    """Return ``codes`` where ``eligible`` and a draw falls under ``share``, NULL elsewhere."""
    keep = eligible & (rng.random(len(codes)) < share)
    return pc.if_else(pa.array(keep), codes, pa.scalar(None, codes.type))


def _concatenate(
    rng: np.random.Generator, first: pa.Array, more: list[pa.Array], episode: pa.Array
) -> pa.Array:
    """Return SUS+ concatenations, NULL where ``first`` is NULL.

    Each is '||' + first, then each present code of ``more`` after a ',' (blanks optional), then
    the ``episode`` code, when present, as a second episode after '||'.
    """
    n = len(first)
    empty = pa.scalar("", pa.large_string())
    parts = [join(draw(rng, SEPARATORS, n), code) for code in more]
    parts.append(join(draw(rng, _EPISODE_SEPARATORS, n), episode))
    joined = pc.binary_join_element_wise(
        pa.scalar("||", pa.large_string()), first, *parts, empty, null_handling="replace"
    )
    return pc.if_else(pc.is_null(first), pa.scalar(None, pa.large_string()), joined)


def _pseudo_numbers(keys: np.ndarray) -> pa.Array:
    """Return 'P' + 9 digits for each key: a bijection mod 10^9, so distinct keys never collide."""
    digits = (keys * 387_420_489 + 271_828_182) % 1_000_000_000  # 3^18 is coprime to 10^9
    text = pc.utf8_lpad(pa.array(digits, pa.int64()).cast(pa.large_string()), width=9, padding="0")
    return join("P", text)


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype("datetime64[D]")).cast(pa.large_string())


def _assemble(parts: dict[str, list]) -> pd.DataFrame:
    """Return a frame of the SUS+ columns from chunks of Arrow text and of (values, missing) ages."""
    columns: dict[str, pd.api.extensions.ExtensionArray] = {}
    for column in COLUMNS:
        chunks = parts.pop(column)  # let each column's chunks go as soon as they are joined
        if column in AGE_COLUMNS:
            # Ages come as (values, missing) pairs: one concatenation each, no per-chunk pandas objects.
            values = np.concatenate([values for values, _ in chunks] or [np.zeros(0, np.int64)])
            missing = np.concatenate([missing for _, missing in chunks] or [np.zeros(0, bool)])
            columns[column] = pd.arrays.IntegerArray(values, missing)
        else:
            columns[column] = pd.arrays.ArrowStringArray(pa.chunked_array(chunks, pa.large_string()))
    return pd.DataFrame(columns, columns=list(COLUMNS), copy=False)


def _to_csv(frame: pd.DataFrame, path: Path, fmt: _Format) -> None:
    # QUOTE_MINIMAL quotes exactly the fields holding the delimiter, a quote or a line break.
    frame.to_csv(
        path, sep=fmt.delimiter, na_rep=fmt.null_marker, index=False, encoding=fmt.encoding,
        lineterminator=fmt.line_terminator, quoting=csv.QUOTE_MINIMAL,
    )  # fmt: skip


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary name and rename, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    write(partial)
    partial.replace(path)
