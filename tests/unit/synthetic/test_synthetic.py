"""The synthetic extract set: deterministic, readable as recorded, and with something to find.

The archetype tests audit the frames with plain pandas (no rfd_lib code) so that they show the
set itself has what the story (``pathways.STORY``) says: a heavy user, a bad coder, a clean
provider, and one provider each for the other designed problems.
"""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import rfd_lib
from rfd_lib.synthetic import extract_frames, national_quarter, write_extracts
from rfd_lib.synthetic.sus_columns import COLUMNS

RFD = ["V485", "V487"]
BLOCK = ["A577", "A735"]
LUMBAR = r"Z67[567]|Z993"
BACK_PAIN = ["M512", "M518", "M519", "M545", "M549"]
CANCER = r"C[0-9][0-9]|D0|D3[789]|D4[0-8]"
CODE_LIST = r"^(\|\|\s*[A-Za-z0-9.]+\s*(,\s*[A-Za-z0-9.]+\s*)*)+$"
PERIOD = (pd.Timestamp("2024-10-01"), pd.Timestamp("2026-09-30"))
MIDPOINT = pd.Timestamp("2025-10-01")  # first four quarters before it, last four from it
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_extracts(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def manifest(written):
    return json.loads(written.manifest.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def frames():
    return extract_frames()


@pytest.fixture(scope="module")
def providers(manifest):
    return manifest["providers"]


def read_back(path, entry) -> pa.Table:
    """Read a file as an analyst would, every column as text, with what the manifest records."""
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=entry["encoding"]),
        parse_options=pacsv.ParseOptions(delimiter=entry["delimiter"]),
        convert_options=pacsv.ConvertOptions(
            column_types={column: pa.string() for column in COLUMNS},
            null_values=[entry["null_marker"]],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def code(values: pd.Series) -> pd.Series:
    """Codes as the rule would like them: upper case, no dot, no blanks."""
    return values.str.upper().str.replace(".", "", regex=False).str.strip()


def admitted(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["Admission_Date"], format="%Y-%m-%d", errors="coerce")


def is_rfd(frame: pd.DataFrame) -> pd.Series:
    return code(frame["Der_Primary_Procedure_Code"]).isin(RFD).fillna(False).astype(bool)


def has_lumbar_site(frame: pd.DataFrame) -> pd.Series:
    return frame["Der_Procedure_All"].str.upper().str.contains(LUMBAR).fillna(False).astype(bool)


def rfd_pathways(frame: pd.DataFrame) -> pd.DataFrame:
    """Each RFD spell with its patient's last lumbar block before it and the previous RFD."""
    spells = pd.DataFrame({"patient": frame["Der_Pseudo_NHS_Number"], "admitted": admitted(frame)})
    procedures = frame["Der_Procedure_All"].fillna("")
    # Sides (OPCS Z94): a left-only RFD, then a right-only one, is staged treatment.
    spells["left"] = procedures.str.contains("Z943") & ~procedures.str.contains("Z94[12]")
    spells["right"] = procedures.str.contains("Z942") & ~procedures.str.contains("Z94[13]")
    block = code(frame["Der_Primary_Procedure_Code"]).isin(BLOCK).fillna(False) & has_lumbar_site(frame)
    rfd = spells[is_rfd(frame)].dropna().sort_values("admitted")
    blocks = (
        spells[block.astype(bool)][["patient", "admitted"]]
        .dropna()
        .rename(columns={"admitted": "blocked"})
        .sort_values("blocked")
    )
    rfd = pd.merge_asof(
        rfd, blocks, left_on="admitted", right_on="blocked", by="patient", direction="backward"
    )
    rfd["no_block_6m"] = ~(rfd["blocked"] >= rfd["admitted"] - pd.DateOffset(months=6))
    previous = rfd.groupby("patient")["admitted"].shift()
    # Staged treatment (left side, then right weeks later: OPCS Z94.3 then Z94.2) is not a repeat.
    staged = rfd.groupby("patient")["left"].shift(fill_value=False).astype(bool) & rfd["right"]
    rfd["repeat_within_16m"] = (
        previous.notna() & (rfd["admitted"] < previous + pd.DateOffset(months=16)) & ~staged
    )
    return rfd


@pytest.fixture(scope="module")
def audit(frames, providers) -> pd.DataFrame:
    """One row per provider: what an auditor would compute from its extract."""
    rows = []
    for provider, frame in frames.items():
        rfd, pathways = is_rfd(frame), rfd_pathways(frame)
        when = admitted(frame)[rfd]
        rows.append(
            {
                "provider": provider,
                "archetype": providers[provider]["archetype"],
                "rfd_per_100k": rfd.sum() / providers[provider]["catchment_population"] * 100_000,
                "no_block_share": pathways["no_block_6m"].mean(),
                "quick_repeat_share": pathways["repeat_within_16m"].mean(),
                "growth": (when >= MIDPOINT).sum() / (when < MIDPOINT).sum(),
                "no_site_share": (~has_lumbar_site(frame)[rfd]).mean(),
                "off_list_share": (~code(frame["Der_Primary_Diagnosis_Code"]).str[:4].isin(BACK_PAIN))[
                    rfd
                ].mean(),
                "age_999_share": (frame["Der_Age_at_CDS_Activity_Date"] == 999).mean(),
                "lower_case_share": frame["Der_Primary_Procedure_Code"]
                .str.contains("[a-z]")
                .fillna(False)
                .mean(),
            }
        )
    return pd.DataFrame(rows).set_index("provider")


def one(audit: pd.DataFrame, archetype: str) -> str:
    (provider,) = audit.index[audit["archetype"] == archetype]
    return provider


# --- the files -------------------------------------------------------------------------------


def test_the_same_seed_writes_byte_identical_files(written, tmp_path):
    again = write_extracts(tmp_path / "again" / "nested")  # the folder is created
    names = sorted(p.name for p in written.folder.iterdir())
    assert names == sorted(p.name for p in again.folder.iterdir())
    assert not [name for name in names if name.endswith(".partial")]
    for name in names:
        assert (written.folder / name).read_bytes() == (again.folder / name).read_bytes(), name


def test_another_seed_writes_other_spells(tmp_path):
    one_set = write_extracts(tmp_path / "a", seed=1, scale=0.05)
    other = write_extracts(tmp_path / "b", seed=2, scale=0.05)
    assert one_set.extracts[0].read_bytes() != other.extracts[0].read_bytes()


def test_layout_populations_and_manifest(written, manifest, providers):
    codes = sorted(providers)
    assert [p.name for p in written.extracts] == [f"{c}.csv" for c in codes]
    assert len(codes) >= 15
    assert all(re.fullmatch(r"Z[A-Z][0-9]", c) for c in codes)  # cannot be a real trust's code
    populations = pd.read_csv(written.populations, dtype={"provider_code": str})
    assert list(populations.columns) == [
        "provider_code",
        "provider_name",
        "catchment_population",
        "adult_population",
    ]
    assert populations["provider_code"].tolist() == codes
    assert populations["provider_name"].str.startswith("Synthetic").all()
    assert populations["catchment_population"].min() <= 200_000
    assert populations["catchment_population"].max() >= 1_200_000
    # Adults (19+) are 76 % to 82 % of each catchment, a whole number, the same in the manifest.
    adult_share = populations["adult_population"] / populations["catchment_population"]
    assert adult_share.between(0.76, 0.82).all() and adult_share.nunique() > 10
    assert populations["adult_population"].tolist() == [providers[c]["adult_population"] for c in codes]
    assert manifest["generator"] == "rfd_lib.synthetic.write_extracts"
    assert manifest["rfd_lib_version"] == rfd_lib.__version__
    assert (manifest["seed"], manifest["last_quarter"], manifest["quarters"], manifest["scale"]) == (
        2025,
        "2026/27 Q2",
        8,
        1.0,
    )
    assert manifest["first_quarter"] == "2024/25 Q3"
    assert manifest["period"] == {"start": "2024-10-01", "end": "2026-09-30"}
    assert manifest["synthetic"] is True and "synthetic" in manifest["note"].lower()
    assert 40_000 <= manifest["total_rows"] <= 120_000
    assert manifest["total_rows"] == sum(entry["rows"] for entry in providers.values())
    assert sorted(entry["archetype"] for entry in providers.values() if entry["archetype"] != "typical") == [
        "bad_coder",
        "clean",
        "early_repeater",
        "facet_injector",
        "heavy_user",
        "rising",
        "therapeutic_blocker",
        "unblocked",
    ]
    for entry in providers.values():
        assert set(entry) >= {
            "name",
            "archetype",
            "catchment_population",
            "adult_population",
            "file",
            "encoding",
            "delimiter",
        }
        assert "null_marker" in entry


def test_every_file_reads_back_as_recorded_and_as_the_frames(written, providers, frames):
    for provider, entry in providers.items():
        table = read_back(written.folder / entry["file"], entry)
        assert table.column_names == list(COLUMNS)
        assert table.num_rows == entry["rows"] == len(frames[provider])
        for column in COLUMNS:
            expected = pa.chunked_array(pa.array(frames[provider][column].astype("string"))).cast(pa.string())
            assert table.column(column).combine_chunks().equals(expected.combine_chunks()), (provider, column)


def test_the_format_variants_are_present_as_recorded(written, providers):
    variants = {"bom": [], "cp1252": [], "tab": [], "NULL": []}
    for provider, entry in providers.items():
        raw = (written.folder / entry["file"]).read_bytes()
        assert raw.startswith(BOM) == (entry["encoding"] == "utf-8-sig")
        if entry["encoding"] == "utf-8-sig":
            variants["bom"].append(provider)
        if entry["encoding"] == "cp1252":
            variants["cp1252"].append(provider)
            assert b"\x92" in raw or b"\xe9" in raw  # ’ or é as cp1252 bytes
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        else:
            raw.decode("utf-8")
        header = raw.removeprefix(BOM).split(b"\n", 1)[0].decode("ascii")
        assert header.rstrip("\r").split(entry["delimiter"]) == list(COLUMNS)
        if entry["delimiter"] == "\t":
            variants["tab"].append(provider)
        if entry["null_marker"] == "NULL":
            variants["NULL"].append(provider)
            assert re.search(rb"(^|,)NULL(,|\r?$)", raw, re.MULTILINE)
        else:
            assert b"NULL" not in raw
        lines = raw.count(b"\n")
        assert raw.count(entry["line_terminator"].encode()) == lines == entry["rows"] + 1
    assert {kind: len(found) for kind, found in variants.items()} == {
        "bom": 1,
        "cp1252": 1,
        "tab": 1,
        "NULL": 1,
    }
    assert len({found[0] for found in variants.values()}) == 4  # four different providers


def test_a_field_holding_the_delimiter_is_quoted(written, providers, frames):
    quoted = 0
    for provider, entry in providers.items():
        if entry["delimiter"] != ",":
            continue
        text = (written.folder / entry["file"]).read_bytes().decode(entry["encoding"])
        for site in frames[provider]["Site_Name"].dropna().unique():
            if "," in site:
                assert f',"{site}"' in text  # Site_Name is the last field
                assert f",{site}\n" not in text and f",{site}\r\n" not in text
                quoted += 1
    assert quoted >= 2


# --- the values ------------------------------------------------------------------------------


def test_apcs_ident_is_unique_except_the_recorded_duplicates(frames, providers):
    for provider, frame in frames.items():
        counts = frame["APCS_Ident"].value_counts()
        assert frame["APCS_Ident"].str.fullmatch(r"[0-9]+").all()
        duplicated = sorted(counts.index[counts > 1])
        assert duplicated == providers[provider].get("anomalies", {}).get("duplicated_apcs_ident", [])
        assert (counts[counts > 1] == 2).all()
    bad = [p for p, e in providers.items() if e["archetype"] == "bad_coder"]
    assert len(providers[bad[0]]["anomalies"]["duplicated_apcs_ident"]) == 2
    everyone = pd.concat([frame["APCS_Ident"].drop_duplicates() for frame in frames.values()])
    assert everyone.is_unique  # no spell id is shared between providers


def test_code_shapes_except_the_recorded_anomalies(frames, providers):
    for provider, frame in frames.items():
        anomalies = providers[provider].get("anomalies", {})
        shaped = frame["Der_Procedure_All"].dropna()
        misshapen = shaped[~shaped.str.fullmatch(CODE_LIST)]
        expected = anomalies.get("procedure_list_shape", [])
        assert sorted(frame.loc[misshapen.index, "APCS_Ident"]) == sorted(expected), provider
        assert frame["Der_Diagnosis_All"].dropna().str.fullmatch(CODE_LIST).all(), provider
        primary = frame["Der_Primary_Procedure_Code"].dropna()
        assert primary.str.fullmatch(r"[A-Za-z][0-9]{2}\.?[0-9] ?").all(), provider
        diagnosis = frame["Der_Primary_Diagnosis_Code"].dropna()
        assert diagnosis.str.fullmatch(r"[A-Za-z][0-9]{2}[0-9Xx][0-9]?").all(), provider
        assert (frame["Der_Provider_Code"] == provider).all()
        assert frame["Der_Pseudo_NHS_Number"].dropna().str.fullmatch(r"P[0-9]{9}").all()
        assert (
            frame["Admission_Method"]
            .isin(["11", "12", "13", "21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "31", "32", "81"])
            .all()
        )
        assert frame["Patient_Classification"].isin(["1", "2"]).all()
        category = frame["Administrative_Category"].dropna()
        one_char = category[category.str.len() == 1]
        assert sorted(frame.loc[one_char.index, "APCS_Ident"]) == sorted(
            anomalies.get("one_character_administrative_category", [])
        )
        assert category[category.str.len() == 2].isin(["01", "02", "03", "04"]).all()


def test_dates_spread_over_the_eight_quarters(frames, providers):
    for provider, frame in frames.items():
        anomalies = providers[provider].get("anomalies", {})
        start, end = admitted(frame), pd.to_datetime(frame["Discharge_Date"], format="%Y-%m-%d")
        assert sorted(frame.loc[start.isna(), "APCS_Ident"]) == sorted(
            anomalies.get("unparseable_admission_date", [])
        )
        assert start.dropna().between(*PERIOD).all()
        assert start.dropna().dt.to_period("Q-MAR").nunique() == 8
        stay = (end - start).dt.days
        backwards = frame.loc[stay < 0, "APCS_Ident"]
        assert sorted(backwards) == sorted(anomalies.get("discharge_before_admission", []))
        assert stay.dropna().le(10).all()
        day_case = (frame["Patient_Classification"] == "2") & (stay >= 0)
        assert (stay[day_case] == 0).all()


def test_spells_still_in_hospital_when_the_extract_ends_have_no_discharge_date(frames):
    # As in SUS+: a spell not finished by the extract's last day (30 September 2026) has no end yet.
    still_in = 0
    for frame in frames.values():
        start, end = admitted(frame), pd.to_datetime(frame["Discharge_Date"], format="%Y-%m-%d")
        assert end.dropna().le(PERIOD[1]).all()
        open_spells = end.isna()
        # Stays are at most 10 days, so only spells admitted in the last 10 days can be open.
        assert start[open_spells].between(PERIOD[1] - pd.Timedelta(days=9), PERIOD[1]).all()
        still_in += int(open_spells.sum())
    assert 20 <= still_in <= 2_000


def test_the_same_patient_keeps_their_pseudonym(frames):
    for frame in frames.values():
        patients = frame["Der_Pseudo_NHS_Number"].dropna()
        assert patients.duplicated().mean() > 0.2  # pathways: several spells per patient
    everyone = pd.concat(
        [frame["Der_Pseudo_NHS_Number"].dropna().drop_duplicates() for frame in frames.values()]
    )
    assert everyone.is_unique  # patients are treated by one provider each


def test_the_awkward_values_are_all_there(frames):
    spells = pd.concat(frames.values(), ignore_index=True)
    procedures, diagnoses = spells["Der_Primary_Procedure_Code"], spells["Der_Diagnosis_All"]
    assert procedures.str.contains("[a-z]").fillna(False).any()  # lower case
    assert procedures.str.contains(".", regex=False).fillna(False).any()  # dotted V48.5
    assert spells["Der_Procedure_All"].str.contains(r" ,|, | \|\|").fillna(False).any()  # blanks
    assert spells["Der_Procedure_All"].str.count(r"\|\|").fillna(0).max() >= 2  # two episodes
    assert spells["Der_Primary_Diagnosis_Code"].isin(["M5450"]).any()  # 5-character
    assert spells["Der_Primary_Diagnosis_Code"].str.endswith("X").fillna(False).any()  # X-padded
    assert diagnoses.str.contains(CANCER).fillna(False).any()
    assert (spells["Der_Age_at_CDS_Activity_Date"] == 999).any()
    assert (spells["Der_Age_at_CDS_Activity_Date"] >= 7000).sum() in range(1, 50)  # very rarely
    assert (spells["Age_At_Start_of_Spell_SUS"] < 19).any()
    assert spells["Age_At_Start_of_Spell_SUS"].isna().any()
    assert spells["Admission_Method"].str.startswith("2").any()
    assert (spells["Administrative_Category"] == "02").any()
    for column in ("Der_Pseudo_NHS_Number", "Der_Procedure_All", "Der_Diagnosis_All", "Site_Name"):
        assert spells[column].isna().any(), column
    rfd = is_rfd(spells)
    assert rfd.mean() > 0.1 and (spells["Patient_Classification"][rfd] == "2").mean() > 0.8
    sites = spells["Site_Name"].dropna()
    assert sites.str.contains("’").any() and sites.str.contains("é").any()


# --- the archetypes: something to find -------------------------------------------------------


def test_each_problem_provider_shows_its_problem_and_no_other(audit, frames):
    heavy, others = one(audit, "heavy_user"), audit[audit["archetype"] != "heavy_user"]
    assert audit["rfd_per_100k"].idxmax() == heavy
    assert audit.loc[heavy, "rfd_per_100k"] > 2.5 * others["rfd_per_100k"].median()
    assert abs(audit.loc[heavy, "growth"] - 1) < 0.2  # steady: high, not rising
    rising = one(audit, "rising")
    assert audit["growth"].idxmax() == rising and audit.loc[rising, "growth"] > 1.4
    assert audit.drop(index=rising)["growth"].max() < 1.25
    early = one(audit, "early_repeater")
    assert audit["quick_repeat_share"].idxmax() == early
    assert (
        audit.loc[early, "quick_repeat_share"] > 0.1 > 5 * audit.drop(index=early)["quick_repeat_share"].max()
    )
    unblocked = one(audit, "unblocked")
    assert audit["no_block_share"].idxmax() == unblocked
    assert audit.loc[unblocked, "no_block_share"] > 1.5 * others["no_block_share"].median()
    facet = one(audit, "facet_injector")
    injections = {p: code(f["Der_Primary_Procedure_Code"]).isin(["V544"]).sum() for p, f in frames.items()}
    assert injections[facet] > 100 and {p for p, n in injections.items() if n} == {facet}


def test_the_bad_coder_codes_badly(audit, frames, providers):
    bad = one(audit, "bad_coder")
    for signature in ("no_site_share", "off_list_share", "age_999_share", "lower_case_share"):
        assert audit[signature].idxmax() == bad, signature
    frame = frames[bad]
    assert (
        (frame["Administrative_Category"].str.len() == 1).sum()
        == len(providers[bad]["anomalies"]["one_character_administrative_category"])
        > 0
    )
    assert frame["Administrative_Category"].isin(["2"]).any()  # '02' that lost its zero
    assert code(frame["Der_Primary_Diagnosis_Code"])[is_rfd(frame)].isin(["M478", "M533"]).any()
    assert set(frame["Admission_Date"]) >= {"31/02/2025", "unknown"}
    for other, entry in providers.items():
        if other != bad:
            assert not entry.get("anomalies")
            assert not (frames[other]["Administrative_Category"].str.len() == 1).any()


def test_the_clean_provider_follows_the_policy(audit, frames):
    clean = one(audit, "clean")
    frame = frames[clean]
    pathways = rfd_pathways(frame)
    assert len(pathways) == is_rfd(frame).sum() > 100  # every RFD has a patient and a date
    # An RFD in the first six months may have had its block before the extract began.
    looked_back = pathways["admitted"] >= admitted(frame).min() + pd.DateOffset(months=6)
    assert looked_back.sum() > 100 and not pathways.loc[looked_back, "no_block_6m"].any()
    assert not code(frame["Der_Primary_Procedure_Code"]).isin(["V544"]).any()  # no facet joint injections
    assert not pathways["repeat_within_16m"].any()
    procedure = frame["Der_Primary_Procedure_Code"]
    injections = procedure.isin(RFD + BLOCK).fillna(False).astype(bool)
    treated = frame[injections]
    assert treated["Admission_Method"].isin(["11", "12", "13"]).all()
    assert (treated["Administrative_Category"] == "01").all()
    assert (treated["Patient_Classification"] == "2").all()
    assert (treated["Admission_Date"] == treated["Discharge_Date"]).all()
    assert treated["Age_At_Start_of_Spell_SUS"].between(19, 120).all()
    assert treated["Der_Age_at_CDS_Activity_Date"].between(19, 120).all()
    assert has_lumbar_site(treated).all()
    rfd = frame[is_rfd(frame)]
    assert rfd["Der_Primary_Procedure_Code"].isin(RFD).all()  # upper case, no dot, no blank
    assert rfd["Der_Primary_Diagnosis_Code"].str[:4].isin(BACK_PAIN).all()
    assert not rfd["Der_Diagnosis_All"].str.contains(CANCER).any()


def test_typical_providers_vary_within_the_policy(audit):
    typical = audit[audit["archetype"] == "typical"]
    assert len(typical) >= 12
    assert typical["rfd_per_100k"].max() > 1.5 * typical["rfd_per_100k"].min()
    # Some RFDs look unblocked (their block before the extract, a repeat without a fresh block),
    # more at some providers than others; repeats within 16 months are all but none.
    assert (typical["no_block_share"] > 0).all() and typical["no_block_share"].max() < 0.25
    assert typical["no_block_share"].max() > 1.3 * typical["no_block_share"].min()
    assert typical["quick_repeat_share"].max() < 0.01


# --- arguments and the national quarter -------------------------------------------------------


def test_the_period_follows_the_financial_quarters():
    frames = extract_frames(last_quarter="2025/26 Q4", quarters=1, scale=0.05)
    days = pd.concat([admitted(frame) for frame in frames.values()]).dropna()
    assert days.min() >= pd.Timestamp("2026-01-01") and days.max() <= pd.Timestamp("2026-03-31")
    for bad in ("2025/27 Q1", "2025 Q1", "2025/26 Q5"):
        with pytest.raises(ValueError, match="financial quarter"):
            extract_frames(last_quarter=bad)
    with pytest.raises(ValueError, match="scale"):
        extract_frames(scale=0)


def test_scale_multiplies_volumes():
    small = sum(len(frame) for frame in extract_frames(scale=0.1).values())
    assert 4_000 <= small <= 12_000


def test_national_quarter():
    spells = national_quarter(10_000)
    assert spells.shape == (10_000, len(COLUMNS))
    assert list(spells.columns) == list(COLUMNS)
    assert spells["APCS_Ident"].is_unique
    assert str(spells["Der_Age_at_CDS_Activity_Date"].dtype) == "Int64"
    assert all(str(spells[c].dtype) == "string" for c in COLUMNS if not c.startswith(("Age", "Der_Age")))
    start = pd.to_datetime(spells["Admission_Date"], format="%Y-%m-%d")
    end = pd.to_datetime(spells["Discharge_Date"], format="%Y-%m-%d")
    assert start.min() >= pd.Timestamp("2026-07-01") and start.max() <= pd.Timestamp("2026-09-30")
    assert ((end - start).dt.days.between(0, 10)).all()
    assert 0.0005 < is_rfd(spells).mean() < 0.005
    assert spells["Der_Provider_Code"].nunique() > 50
    assert national_quarter(1_000, seed=3).equals(national_quarter(1_000, seed=3))
    assert not national_quarter(1_000, seed=3).equals(national_quarter(1_000, seed=4))
    assert national_quarter(0).shape == (0, len(COLUMNS))


# --- read back through the real reader ---------------------------------------------------------


def test_the_real_reader_reads_the_set_and_quarantines_only_the_broken_rows(written, providers):
    from rfd_lib.extracts.reading import QuarantineWarning, load_extracts

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuarantineWarning)
        extract = load_extracts(written.extracts)
    reconciliation = extract.reconciliation.set_index(
        extract.reconciliation["source"].map(lambda s: s[-7:-4])
    )
    assert reconciliation["rows_read"].to_dict() == {p: e["rows"] for p, e in providers.items()}
    (bad,) = [p for p, e in providers.items() if e["archetype"] == "bad_coder"]
    anomalies = providers[bad]["anomalies"]
    assert sorted(extract.quarantine["APCS_Ident"]) == sorted(
        anomalies["one_character_administrative_category"] + anomalies["unparseable_admission_date"]
    )
