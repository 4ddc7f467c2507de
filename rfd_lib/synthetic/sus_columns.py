"""The SUS+ columns of synthetic spells, and one large national quarter of them for the benchmarks.

``render_columns`` turns planned spells (a kind, an admission day and a patient each) into the
SUS+ columns of :data:`COLUMNS`: procedure and diagnosis codes, admission method, category,
classification, discharge dates, ages and NULLs, each drawn from the pools of
:mod:`.spell_codes` with a provider's style setting the shares. ``assemble_frame`` joins rendered
chunks into one frame; ``with_laterality`` sets a spell's laterality code. The multi-provider set
(:mod:`.extract_set`) renders the spells its pathways plan; ``national_quarter`` renders spells
drawn at random, with no pathways, for the speed benchmarks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from rfd_lib.synthetic import pathways
from rfd_lib.synthetic.draws import (
    blank_out,
    concatenate,
    day_dates,
    draw,
    draw_by,
    miscode,
    only,
    pseudo_numbers,
    where,
)
from rfd_lib.synthetic.spell_codes import (
    ADMINISTRATIVE_CATEGORY,
    ADMISSION_METHOD,
    BACK_ADMISSION,
    BACK_LIST,
    BACK_PAIN,
    BACK_SURGERY,
    CANCER,
    COMORBIDITY,
    DIAGNOSIS,
    ELECTIVE,
    EMERGENCY,
    EPIDURAL,
    FJI,
    IMAGING,
    INJECTIONS,
    LATERALITY,
    LUMBAR,
    MATERNITY,
    MBB,
    NECK,
    NHS,
    NO_SITE,
    NOISE,
    NOT_LUMBAR,
    OTHER_CATEGORY,
    OTHER_DENERVATION,
    PRIMARY_PROCEDURE,
    PRIVATE,
    RFD,
    SECOND_EPISODE,
    SITE,
    SPINE_SURGERY,
    TRANSFER,
    UNRELATED,
    UPPER_SPINE,
)

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


def national_quarter(n: int, *, seed: int = 2025) -> pd.DataFrame:
    """Return ``n`` synthetic spells of one national quarter (2026/27 Q2) in the SUS+ columns.

    For speed benchmarks: about 130 made-up providers, admission dates inside the quarter, the
    value mixes of :func:`.extract_set.extract_frames` (about 0.2 % RFD-coded, emergency, private, cancer,
    NULLs, 999 ages) but no patient pathways. Column types as :func:`.extract_set.extract_frames`.
    """
    if n < 0:
        raise ValueError(f"n must be zero or more, not {n}")
    window = pathways.quarter_window(NATIONAL_QUARTER, 1)
    rng = np.random.default_rng([seed, 1_000_003])
    codes = np.array([f"Z{letter}{digit}" for letter in "ABCDEFGHIJKLM" for digit in range(10)])
    size = rng.lognormal(0.0, 0.6, len(codes))
    provider_code = pa.array(codes, pa.large_string())
    site_name = pa.array([f"Synthetic {code} Hospital" for code in codes], pa.large_string())
    patients = max(1, n * 7 // 10)  # about 1.4 spells a patient in a quarter
    people = pathways.draw_people(
        rng, pathways.TYPICAL, np.ones(patients, bool), window, key_offset=500_000_000
    )
    # The share of each kind: ~0.2 % RFD-coded; spinal injections and back pain a few per cent more.
    mix = np.array([0.002, 0.002, 0.001, 0.002, 0.0003, 0.006, 0.002, 0.0])
    mix[NOISE] = 1 - mix.sum()
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
        columns = render_columns(
            sub, pathways.TYPICAL, kind, admitted, patient, people, ids,
            provider_code.take(pa.array(provider)), site_name.take(pa.array(provider)),
        )  # fmt: skip
        for column, values in columns.items():
            parts[column].append(values)
    return assemble_frame(parts)


def render_columns(
    rng: np.random.Generator,
    style: pathways.Style,
    kind: np.ndarray,
    admitted: np.ndarray,
    patient: np.ndarray,
    people: pathways.People,
    ids: np.ndarray,
    provider: pa.Array,
    site_name: pa.Array,
    *,
    extract_end: int | None = None,
) -> dict[str, pa.Array | tuple[np.ndarray, np.ndarray]]:
    """Return the SUS+ columns of the planned spells: text as Arrow arrays, ages as (values, missing).

    A spell discharged on or after ``extract_end`` (a day) was still in hospital when the extract
    was taken: its discharge date is NULL.
    """
    n = len(kind)
    injection = np.isin(kind, INJECTIONS)
    pathway = np.isin(kind, (MBB, RFD, FJI))

    # Procedures: the primary code, then site, laterality and imaging codes in the same episode.
    primary = miscode(rng, style, draw_by(rng, kind, PRIMARY_PROCEDURE), dot=True)
    lumbar = np.where(rng.random(n) < style.lumbar_site, LUMBAR, NOT_LUMBAR)
    site_kind = np.select(
        [pathway, kind == EPIDURAL, kind == OTHER_DENERVATION, kind == BACK_SURGERY],
        [lumbar, np.where(rng.random(n) < 0.6, LUMBAR, NO_SITE), UPPER_SPINE,
         np.where(rng.random(n) < 0.3, LUMBAR, NO_SITE)],
        NO_SITE,
    )  # fmt: skip
    site = miscode(rng, style, draw_by(rng, site_kind, SITE))
    laterality = only(rng, injection, 0.5, draw(rng, LATERALITY, n))
    imaging = only(rng, injection, 0.6, draw(rng, IMAGING, n))
    second = only(rng, np.ones(n, bool), 0.04, draw(rng, SECOND_EPISODE, n))
    procedures = concatenate(rng, primary, [site, laterality, imaging], second)

    diagnosis_kind = np.select(
        [pathway, np.isin(kind, (EPIDURAL, BACK_PAIN)), kind == BACK_SURGERY, kind == OTHER_DENERVATION],
        [np.where(rng.random(n) < style.back_diagnosis, BACK_LIST, style.off_list), BACK_ADMISSION,
         SPINE_SURGERY, NECK],
        UNRELATED,
    )  # fmt: skip
    diagnosis = miscode(rng, style, draw_by(rng, diagnosis_kind, DIAGNOSIS))
    diagnosis = blank_out(rng, diagnosis, style.null_diagnoses / 5)
    cancer = only(rng, people.cancer[patient], 0.8, draw(rng, CANCER, n))
    count = rng.choice(4, size=n, p=[0.35, 0.3, 0.2, 0.15])
    others = [only(rng, count > slot, 1.0, draw(rng, COMORBIDITY, n)) for slot in range(3)]
    second = only(rng, np.ones(n, bool), 0.05, draw(rng, COMORBIDITY, n))
    diagnoses = concatenate(rng, diagnosis, [cancer, *others], second)
    diagnoses = blank_out(rng, diagnoses, style.null_diagnoses)

    # Admission: emergency, maternity (unrelated spells only) or transfer, otherwise elective.
    emergency_share = np.select(
        [injection, kind == BACK_PAIN, kind == BACK_SURGERY],
        [style.emergency, 0.8, 0.08],
        0.45,
    )
    emergency = rng.random(n) < emergency_share
    maternity = ~emergency & (kind == NOISE) & (rng.random(n) < 0.05)
    transfer = ~emergency & ~maternity & (rng.random(n) < style.transfer)
    method = draw_by(
        rng, np.select([emergency, maternity, transfer], [EMERGENCY, MATERNITY, TRANSFER], ELECTIVE),
        ADMISSION_METHOD,
    )  # fmt: skip
    day_share = np.select(
        [injection, kind == BACK_PAIN, kind == BACK_SURGERY],
        [style.day_case, 0.3, 0.1],
        0.5,
    )
    day_case = ~emergency & ~maternity & (rng.random(n) < day_share)
    # Ordinary admissions stay 1-10 days (a few leave the same day); day cases leave the same day.
    stay = np.where(rng.random(n) < 0.05, 0, np.minimum(rng.geometric(0.35, n), 10))
    discharged = admitted + np.where(day_case, 0, stay)
    category = np.select(
        [people.private[patient], rng.random(n) < style.other_category],
        [PRIVATE, OTHER_CATEGORY],
        NHS,
    )
    category_text = blank_out(rng, draw_by(rng, category, ADMINISTRATIVE_CATEGORY), style.null_category)

    # Ages: whole years at admission; CDS age 999 when not known, 7000+ for infants.
    age = np.floor((admitted - people.birth[patient]) / pathways.DAYS_PER_YEAR).astype(np.int64)
    infant = age <= 0
    age = np.maximum(age, 0)
    cds_age = np.where(infant, rng.integers(7001, 7008, n), age)
    cds_age = np.where(rng.random(n) < style.age_999, 999, cds_age)

    return {
        "APCS_Ident": pa.array(ids, pa.int64()).cast(pa.large_string()),
        "Der_Provider_Code": provider,
        "Der_Pseudo_NHS_Number": blank_out(
            rng, pseudo_numbers(patient + people.key_offset), style.null_patient
        ),
        "Admission_Date": day_dates(admitted),
        "Discharge_Date": day_dates(discharged)
        if extract_end is None
        else where(discharged >= extract_end, pa.nulls(n, pa.large_string()), day_dates(discharged)),
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


def assemble_frame(parts: dict[str, list]) -> pd.DataFrame:
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


def with_laterality(procedures: pd.Series, side: str) -> pd.Series:
    """Return SUS+ procedure strings with any laterality code (Z94) replaced by ``side`` after the primary."""
    bare = procedures.str.replace(r"[ ,]*Z94\d", "", regex=True)
    return bare.str.replace(r"^(\|\|[^,|]+)", r"\1," + side, regex=True).astype(procedures.dtype)
