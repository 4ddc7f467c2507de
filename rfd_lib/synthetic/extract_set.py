"""The multi-provider synthetic extract set: ``write_extracts``, ``extract_frames``.

``write_extracts`` writes the files an analyst would receive for a multi-provider audit: one SUS+
admitted-patient-care CSV per provider (``APCS_Ident`` … ``Site_Name``), ``populations.csv`` and
``manifest.json``; ``extract_frames`` returns the same spells as frames. The spells' SUS+ columns
are rendered by :mod:`.sus_columns` (which also makes ``national_quarter`` for the benchmarks).

How this set is made
--------------------
It is a test fixture, not a model of the NHS. Twenty made-up providers (codes ZA1 … ZT0, names
beginning "Synthetic", catchments of 150,000 to 1,480,000 people, of whom 76 to 82 % are adults
aged 19 and over: ``populations.csv`` gives both) each get their own random stream
from ``(seed, provider number)``. For each, patients are drawn from Poisson counts at rates per
100,000 a year and walked through a pathway in vectorised steps: sometimes a facet joint injection
(V54.4) first; a medial branch block (A57.7 / A73.5 with a lumbar site code), sometimes two; RFD
(V48.5 / V48.7) 1-5 months later for those who respond, or with no block at all; repeat RFDs 6-15
months later (against the 16-month policy) or 16-30 months later, with or without a fresh block.
Alongside come epidurals, back-pain admissions with or without procedures, back surgery, other V48
codes and about 3 % unrelated spells. Drawn afterwards from a stream of their own (so the spells
above are the same with or without them): some RFDs staged, the left side first (Z94.3) and
the right (Z94.2) 2-6 weeks later, which is not a repeat; and patients given two medial branch
blocks a few months apart with no RFD after them, and at the therapeutic-block provider a third
(therapeutic blocks). Pathways start up to ``pathways.LOOKBACK_DAYS`` before the extract so
that repeats are in steady state; only spells inside the quarters are kept, so (as in real
extracts) some RFDs early in the period have their block before it. A spell still in hospital
when the extract was taken (discharged after its last day) has no discharge date, as in SUS+.
Each spell's codes, admission method, category, classification, ages and NULLs are then drawn
from pools by kind of spell, with the provider's style setting the shares.

The set tells a designed story (``pathways.STORY``, its table in :mod:`.pathways`): typical
providers follow the policy, each varied at random, and are green or amber on every check; a
clean provider follows it exactly; and one provider each shows one problem (a high-volume
outlier, a real upward trend, RFD without blocks, therapeutic blocks, facet joint injections,
early repeats, poor coding: missing site codes, off-list diagnoses, lower case, 999 ages, and a
handful of broken rows listed in the manifest). Rates, shares and code pools are plausible
guesses for a fixture, not estimates; the procedure codes besides the rule's and those of the
field notes are illustrative. Nothing comes
from real data: numbers, identifiers and names are random or invented.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from rfd_lib.synthetic import pathways
from rfd_lib.synthetic.draws import draw
from rfd_lib.synthetic.spell_codes import MBB, NOISE, RFD
from rfd_lib.synthetic.sus_columns import COLUMNS, assemble_frame, render_columns, with_laterality
from rfd_lib.version import __version__


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
    _Provider("ZB2", "Synthetic Brackenford Healthcare", 1_210_000, "facet_injector",
              ("Synthetic Brackenford Royal Infirmary", "Synthetic Brackenford Hospital, Spinal Day Unit")),
    _Provider("ZC3", "Synthetic Caldermoor Hospitals", 1_050_000, "unblocked",
              ("Synthetic Caldermoor Hospital",)),
    _Provider("ZD4", "Synthetic Dunmere Teaching Hospitals", 940_000, "rising",
              ("Synthetic Dunmere Infirmary", "Synthetic Renée Clarke Treatment Centre")),
    _Provider("ZE5", "Synthetic Eastwold Hospitals", 820_000, "therapeutic_blocker",
              ("Synthetic Eastwold District Hospital", "Synthetic Eastwold Hospital, Day Case Unit"),
              _Format(null_marker="NULL", line_terminator="\r\n")),
    _Provider("ZF6", "Synthetic Fenbridge Hospitals", 760_000, "bad_coder",
              ("Synthetic Fenbridge General Hospital", "Synthetic Fenbridge Community Hospital")),
    _Provider("ZG7", "Synthetic Greyhollow Healthcare", 690_000, "early_repeater",
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


_UNPARSEABLE_DATES = ("31/02/2025", "unknown", "2025-13-01", "31/02/2025")


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
    window = pathways.quarter_window(last_quarter, quarters)
    frames, anomalies = _make_set(seed, window, scale)
    adults = _adult_populations(seed)
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
            "adult_population": int(adults[provider.code]),
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
            "adult_population": [int(adults[p.code]) for p in _PROVIDERS],
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
    return _make_set(seed, pathways.quarter_window(last_quarter, quarters), scale)[0]


def _adult_populations(seed: int) -> dict[str, int]:
    """Return each provider's adults (19+): 76 to 82 % of its catchment, from its own random stream."""
    share = np.random.default_rng([seed, 2_000_029]).uniform(0.76, 0.82, len(_PROVIDERS))
    people = np.array([provider.catchment_population for provider in _PROVIDERS])
    return dict(
        zip([provider.code for provider in _PROVIDERS], np.rint(people * share).astype(int), strict=True)
    )


def _make_set(
    seed: int, window: pathways.Window, scale: float
) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Return every provider's frame and the deliberate anomalies made in each (by provider code)."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    frames, anomalies = {}, {}
    for index, provider in enumerate(_PROVIDERS):
        # One random stream per provider: a provider's spells do not depend on the others'.
        rng = np.random.default_rng([seed, index])
        style = pathways.provider_style(rng, provider.archetype)
        extra = np.random.default_rng([seed, index, 13])
        frame = _provider_frame(rng, index, provider, style, window, scale, extra)
        if provider.archetype == "bad_coder":
            frame, anomalies[provider.code] = _spoil(rng, frame)
        frames[provider.code] = frame
    return dict(sorted(frames.items())), anomalies


def _provider_frame(
    rng: np.random.Generator,
    index: int,
    provider: _Provider,
    style: pathways.Style,
    window: pathways.Window,
    scale: float,
    extra: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Return one provider's spells in the extract's window, ordered by admission date.

    ``extra`` draws the staged RFDs and therapeutic blocks (:func:`_staged_and_repeated_blocks`).
    """
    plan = pathways.plan_pathways(rng, style, provider.catchment_population * scale, window)
    kind, patient, day = plan.spells()
    inside = (day >= window.start) & (day < window.end)
    kind, patient, day = kind[inside], patient[inside], day[inside]
    # Unrelated spells the extract query also catches, each its own patient.
    noise = rng.poisson(style.noise * len(kind))
    noise_patients = plan.new_patients(noise, general=True)
    kind = np.concatenate([kind, np.full(noise, NOISE, np.int8)])
    patient = np.concatenate([patient, noise_patients])
    day = np.concatenate([day, rng.integers(window.start, window.end, noise)])
    order = np.lexsort((patient, day))
    kind, patient, day = kind[order], patient[order], day[order]

    general = plan.general()
    if len(general) >= pathways.PATIENTS_PER_PROVIDER:
        raise ValueError(f"scale {scale} is too large: {provider.code} would have {len(general):,} patients")
    people = pathways.draw_people(
        rng, style, general, window, key_offset=index * pathways.PATIENTS_PER_PROVIDER
    )
    # SUS+ numbers spells roughly in the order they arrive: increasing, with gaps.
    gap = max(1, min(20, 40_000_000 // max(1, 2 * len(kind))))
    ids = 4_100_000_000 + index * 40_000_000 + np.cumsum(rng.integers(1, gap + 1, len(kind)))
    sites = (list(provider.sites), [0.7, 0.3] if len(provider.sites) == 2 else None)
    columns = render_columns(
        rng, style, kind, day, patient, people, ids,
        pa.array([provider.code], pa.large_string()).take(np.zeros(len(kind), np.int64)),
        draw(rng, sites, len(kind)), extract_end=window.end,
    )  # fmt: skip
    frame = assemble_frame({column: [values] for column, values in columns.items()})
    if extra is None:
        return frame
    return _staged_and_repeated_blocks(
        extra, frame, index, provider, style, window, scale, kind, patient, day, people, sites
    )


def _staged_and_repeated_blocks(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    index: int,
    provider: _Provider,
    style: pathways.Style,
    window: pathways.Window,
    scale: float,
    kind: np.ndarray,
    patient: np.ndarray,
    day: np.ndarray,
    people: pathways.People,
    sites: tuple[list[str], list[float] | None],
) -> pd.DataFrame:
    """Return ``frame`` with staged RFDs and therapeutic blocks added, ordered by admission date.

    Staged: a share ``style.staged`` of RFDs is coded left (Z94.3), and the same patient has a
    right-sided RFD (Z94.2) 14-42 days later. Therapeutic: ``style.repeated_blocks_rate`` new
    patients per 100,000 a year get two blocks 60-150 days apart and no RFD, a share
    ``style.third_block`` of them a third.
    """
    staged = np.flatnonzero((kind == RFD) & (rng.random(len(kind)) < style.staged))
    second_day = day[staged] + rng.integers(14, 43, len(staged))
    inside = second_day < window.end
    staged, second_day = staged[inside], second_day[inside]
    procedures = frame["Der_Procedure_All"]
    left = with_laterality(procedures.iloc[staged], "Z943")
    procedures = procedures.copy()
    procedures.iloc[staged] = left.to_numpy()
    frame = frame.assign(Der_Procedure_All=procedures)

    m = pathways.how_many(rng, style.repeated_blocks_rate, provider.catchment_population * scale, window, 0.0)
    offset = people.key_offset + len(people.birth)
    blocked = pathways.draw_people(rng, style, np.zeros(m, bool), window, key_offset=offset)
    first = pathways.spread(rng, m, window, 0.0)
    count = 2 + (rng.random(m) < style.third_block)
    gaps = np.cumsum(rng.integers(60, 151, (m, 2)), axis=1)
    block_days = np.concatenate([first, (first + gaps[:, 0])[count >= 2], (first + gaps[:, 1])[count >= 3]])
    block_who = np.concatenate([np.arange(m), np.arange(m)[count >= 2], np.arange(m)[count >= 3]])
    keep = (block_days >= window.start) & (block_days < window.end)
    block_days, block_who = block_days[keep], block_who[keep]

    base = 4_100_000_000 + index * 40_000_000 + 30_000_000
    parts = [frame]
    for spells_kind, who, days, owners in (
        (RFD, patient[staged], second_day, people),
        (MBB, block_who, block_days, blocked),
    ):
        n = len(days)
        if n == 0:
            continue
        ids = base + np.cumsum(rng.integers(1, 4, n))
        base = int(ids[-1]) + 1
        columns = render_columns(
            rng, style, np.full(n, spells_kind, np.int8), days, who, owners, ids,
            pa.array([provider.code], pa.large_string()).take(np.zeros(n, np.int64)),
            draw(rng, sites, n), extract_end=window.end,
        )  # fmt: skip
        part = assemble_frame({column: [values] for column, values in columns.items()})
        if spells_kind == RFD:
            right = with_laterality(part["Der_Procedure_All"], "Z942")
            part = part.assign(Der_Procedure_All=right.to_numpy())
        parts.append(part)
    combined = pd.concat(parts, ignore_index=True)
    order = np.argsort(combined["Admission_Date"].to_numpy(dtype=str), kind="stable")
    return combined.iloc[order].reset_index(drop=True)


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


def _day_text(day: int) -> str:
    return str(np.datetime64(day, "D"))


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
