"""Reading extracts: profiles, NULLs, findings, the reconciliation, and the classify command."""

from __future__ import annotations

import csv as csv_module
import warnings

import pandas as pd
import pytest

import rfd_lib.extracts.reading
import rfd_lib.extracts.scan
from rfd_lib import config
from rfd_lib.cli import main
from rfd_lib.errors import ExtractError, ReconciliationError
from rfd_lib.extracts.reading import QuarantineWarning, load_extracts, read_extract
from rfd_lib.extracts.spell_schema import SchemaError
from tests.unit.extracts.test_bad_inputs import GOOD, HEADER, csv, replace

PROFILES = config.PROFILES_DIR


def write_csv(tmp_path, rows, name="extract.csv", header=HEADER):
    path = tmp_path / name
    path.write_text(csv(*rows, header=header))
    return path


def test_the_profile_is_detected_and_said(tmp_path):
    extract = load_extracts([write_csv(tmp_path, GOOD)])
    assert any(
        "column profile 'sus_apcs'" in note and "detected from the header" in note for note in extract.notes
    )
    assert extract.reconciliation["profile"].tolist() == ["sus_apcs"]


def test_canonical_columns_and_types(tmp_path):
    spells = read_extract(write_csv(tmp_path, GOOD))
    assert list(spells.columns[:6]) == [
        "spell_id",
        "provider_code",
        "patient_id",
        "admission_date",
        "discharge_date",
        "patient_classification",
    ]
    assert spells["Administrative_Category"].tolist() == ["01", "02", "01"]  # text, zeros kept
    assert str(spells["Der_Age_at_CDS_Activity_Date"].dtype) == "Int64"
    assert spells["Age_At_Start_of_Spell_SUS"].isna().tolist() == [False, False, True]
    assert spells["admission_date"].tolist() == [
        pd.Timestamp(d) for d in ("2025-04-02", "2025-04-03", "2025-05-01")
    ]
    assert spells["source_row"].tolist() == [2, 3, 4]


def test_null_markers_follow_the_profile_and_quoted_empty_text_stays_text(tmp_path):
    rows = replace(0, "Der_Diagnosis_All", "NA")  # a value, never a NULL marker
    rows = [rows[0], rows[1].replace(",M170,", ",NULL,"), rows[2].replace(",12,", ',"",')]
    spells = read_extract(write_csv(tmp_path, rows))
    assert spells["Any_Spell_Diagnosis"].iat[0] == "NA"
    assert pd.isna(spells["Primary_Spell_Diagnosis"].iat[1])  # SUS+: SSMS writes NULL as NULL
    assert spells["Admission_Method"].iat[2] == ""  # quoted "" is an empty string, not NULL


def test_the_canonical_profile_keeps_the_text_null(tmp_path):
    canonical = "spell_id,provider_code,admission_date,discharge_date,Primary_Spell_Procedure,Any_Spell_Procedure,Primary_Spell_Diagnosis,Any_Spell_Diagnosis,Age_At_Start_of_Spell_SUS,Der_Age_at_CDS_Activity_Date,Admission_Method,Administrative_Category"
    path = write_csv(tmp_path, ["1,ZA1,2025-04-02,2025-04-02,V485,NULL,M545,,50,50,11,01"], header=canonical)
    spells = read_extract(path)
    assert spells["Any_Spell_Procedure"].iat[0] == "NULL"
    assert pd.isna(spells["Any_Spell_Diagnosis"].iat[0])
    assert "patient_id" not in spells.columns  # optional and absent: left out, not filled


def test_implausible_values_are_kept_and_flagged(tmp_path):
    rows = replace(0, "Der_Age_at_CDS_Activity_Date", "999")
    rows = [rows[0], rows[1].replace(",71,71,", ",7002,7002,").replace("2025-04-05", "2025-04-01"), GOOD[0]]
    rows[2] = rows[2].replace("V485,", "V48.5,", 1)
    extract = load_extracts([write_csv(tmp_path, rows)])
    spells = extract.spells
    assert len(spells) == 3 and len(extract.quarantine) == 0
    assert spells["dq_age_unknown"].tolist() == [True, False, False]
    assert spells["dq_age_infant_code"].tolist() == [False, True, False]
    assert spells["dq_discharge_before_admission"].tolist() == [False, True, False]
    assert spells["dq_duplicate_spell_id"].tolist() == [True, False, True]  # rows 1 and 3 share 101
    assert spells["dq_code_shape"].tolist() == [False, False, True]  # V48.5: the rule's LIKE misses it
    table = extract.findings.set_index(["check", "column"])["spells"]
    assert table[("duplicate_spell_id", "APCS_Ident")] == 2
    assert table[("code_shape", "Der_Primary_Procedure_Code")] == 1
    assert "extract.csv:2" in extract.findings.set_index("check").at["age_unknown", "example_rows"]


def test_provider_codes_are_compared_as_sql_server_compares_them_and_the_fix_is_a_finding(tmp_path):
    rows = [GOOD[0].replace("ZA1", "ZT0 "), GOOD[1].replace("ZA1", " ZT0"), GOOD[2].replace("ZA1", "zt0")]
    extract = load_extracts(
        [write_csv(tmp_path, [*rows, GOOD[0].replace("ZA1", "ZT0").replace("101", "104")])]
    )
    assert extract.spells["provider_code"].tolist() == ["ZT0"] * 4
    assert extract.spells["dq_code_normalised"].tolist() == [True, True, True, False]
    (finding,) = extract.findings[extract.findings["check"] == "code_normalised"].to_dict("records")
    assert finding["column"] == "Der_Provider_Code" and finding["spells"] == 3


def test_spells_shared_by_two_files_are_read_when_allowed_and_flagged(tmp_path, capsys):
    first = write_csv(tmp_path, GOOD, name="first.csv")
    second = write_csv(tmp_path, GOOD[:1], name="second.csv")
    extract = load_extracts([first, second], allow_duplicate_spells=True)
    assert extract.spells["dq_duplicate_spell_id"].tolist() == [True, False, False, True]
    output = tmp_path / "out.parquet"
    assert main(["classify", str(first), str(second), "-o", str(output)]) == 2
    assert "share 1 spell identifiers" in capsys.readouterr().err and not output.exists()
    assert main(["classify", str(first), str(second), "-o", str(output), "--allow-duplicate-spells"]) == 0
    assert len(pd.read_parquet(output)) == 4


def test_extract_columns_named_like_the_quarantines_own_are_kept_apart(tmp_path):
    header = HEADER + ",reason,SOURCE,line,source_row"
    rows = [row + ",r,s,l,9" for row in replace(1, "Admission_Date", "never")]
    quarantine = load_extracts([write_csv(tmp_path, rows, header=header)]).quarantine
    assert quarantine["source"].tolist() == [str(tmp_path / "extract.csv")]
    assert quarantine["source_row"].tolist() == [3]
    assert quarantine["reason"].str.contains("Admission_Date is not a date").all()
    assert quarantine["line"].isna().all()
    own = ["extract:reason", "extract:SOURCE", "extract:line", "extract:source_row"]
    assert quarantine[own].values.tolist() == [["r", "s", "l", "9"]]


def test_kept_columns_named_like_the_spells_own_are_kept_apart(tmp_path):
    profile = tmp_path / "keeps.yaml"
    profile.write_text(
        (PROFILES / "sus_apcs.yaml")
        .read_text()
        .replace("name: sus_apcs", "name: keeps")
        .replace("keep: [Site_Name,", "keep: [source, Source_Row, dq_code_shape, provider_code,")
    )
    header = HEADER + ",source,Source_Row,dq_code_shape,provider_code"
    rows = [row + ",s,9,no,XX9" for row in GOOD]
    spells = load_extracts([write_csv(tmp_path, rows, header=header)], profile).spells
    assert spells["source"].astype(str).tolist() == [str(tmp_path / "extract.csv")] * 3
    assert spells["source_row"].tolist() == [2, 3, 4]
    assert spells["provider_code"].tolist() == ["ZA1"] * 3
    assert (
        spells[
            ["extract:source", "extract:Source_Row", "extract:dq_code_shape", "extract:provider_code"]
        ].values.tolist()
        == [["s", "9", "no", "XX9"]] * 3
    )


def test_read_extract_warns_with_the_count_of_quarantined_rows(tmp_path):
    path = write_csv(tmp_path, replace(1, "Admission_Date", "soon"))
    with pytest.warns(QuarantineWarning, match=r"1 rows quarantined: 1 × Admission_Date is not a date"):
        spells = read_extract(path)
    assert len(spells) == 2


def test_a_clean_read_gives_no_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_extract(write_csv(tmp_path, GOOD))


def test_a_lost_row_stops_the_run(tmp_path, monkeypatch):
    """The reconciliation is a real check: if the quarantine lost its rows, the run must stop."""
    real = rfd_lib.extracts.reading._quarantine
    monkeypatch.setattr(rfd_lib.extracts.reading, "_quarantine", lambda *a: real(*a).slice(0, 0))
    with pytest.raises(ReconciliationError, match=r"3 rows read but 2 accepted and 0 quarantined"):
        load_extracts([write_csv(tmp_path, replace(0, "Admission_Date", "never"))])


def test_an_extract_still_being_written_stops_the_run(tmp_path, monkeypatch):
    """An export still running when the read starts would give some of its spells, silently."""
    path = write_csv(tmp_path, GOOD[:2])
    real = rfd_lib.extracts.scan.iter_source

    def read_while_exporting(source, **options):
        with open(source, "a") as handle:
            handle.write(GOOD[2] + "\n")
        return real(source, **options)

    monkeypatch.setattr(rfd_lib.extracts.scan, "iter_source", read_while_exporting)
    with pytest.raises(ExtractError, match=r"extract\.csv: the file changed while it was being read HINT"):
        load_extracts([path])


def test_an_analyst_adds_a_profile_with_yaml_alone(tmp_path):
    local = {"APCS_Ident": "SpellRef", "Der_Provider_Code": "Trust", "Der_Procedure_All": "AllProcs"}
    header = HEADER
    for old, new in local.items():
        header = header.replace(old, new)
    path = write_csv(tmp_path, GOOD, header=header)
    profile = tmp_path / "local_trust.yaml"
    sus = (rfd_lib.extracts.scan.load_profile("sus_apcs").path).read_text()
    for old, new in local.items():
        sus = sus.replace(f": {old}\n", f": {new}\n")
    profile.write_text(sus.replace("name: sus_apcs", "name: local_trust"))
    spells = read_extract(path, profile)
    assert spells["spell_id"].tolist() == ["101", "102", "103"]
    assert spells["Any_Spell_Procedure"].iat[0] == "||V485,Z676"


def test_a_profile_naming_a_column_that_does_not_exist_fails_when_loaded(tmp_path):
    profile = tmp_path / "typo.yaml"
    profile.write_text("name: typo\ndescription: x\ncolumns:\n  spell_idd: APCS_Ident\n")
    with pytest.raises(SchemaError, match=r"typo.yaml: .*not canonical columns: spell_idd"):
        read_extract(write_csv(tmp_path, GOOD), profile)


def test_classify_writes_spells_quarantine_and_findings_and_prints_the_reconciliation(tmp_path, capsys):
    first = write_csv(tmp_path, GOOD, name="za1.csv")
    rows = [row.replace("10", "20", 1) for row in replace(2, "Admission_Date", "31/02/2025")]
    second = write_csv(tmp_path, rows, name="zb2.csv")
    output = tmp_path / "out" / "classified.parquet"
    assert main(["classify", str(first), str(second), "-o", str(output)]) == 0
    printed = capsys.readouterr().out
    written = pd.read_parquet(output)
    assert len(written) == 5
    assert (written["ebi_category"] == "2K_RFD_back").sum() == 2  # 101 and 201
    quarantine = pd.read_csv(output.with_name("classified.quarantine.csv"), dtype=str)
    assert quarantine[["source_row", "reason"]].values.tolist() == [
        ["4", "Admission_Date is not a date (expected e.g. 2025-01-31)"]
    ]
    assert (output.with_name("classified.findings.csv")).exists()
    assert "total" in printed and " 6 " in printed and "quarantined rows by reason" in printed
    for line in printed.splitlines():  # no patient identifier is ever printed
        assert "P00000000" not in line


def test_no_cell_of_the_quarantine_or_findings_starts_a_spreadsheet_formula(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = '=HYPERLINK("x.example","y")'
    rows = [row + ",+1,@SUM(A1)" for row in replace(1, "Admission_Date", hostile)]
    rows[0] = rows[0].replace("V485,", "-V48.5,", 1)  # a code-shape finding, and a cell starting '-'
    write_csv(tmp_path, rows, name=f"{hostile}.csv", header=HEADER + ",-extra,@Tab")
    assert main(["classify", f"{hostile}.csv", "-o", "out.parquet"]) == 0
    for name in ("out.quarantine.csv", "out.findings.csv"):
        with (tmp_path / name).open(newline="") as handle:
            cells = [cell for row in csv_module.reader(handle) for cell in row]
        assert cells and not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], name
    quarantine = pd.read_csv(tmp_path / "out.quarantine.csv", dtype=str)
    assert quarantine["Admission_Date"].tolist() == ["'" + hostile]
    assert quarantine["source"].tolist() == [f"'{hostile}.csv"]
    assert quarantine[["'-extra", "'@Tab"]].values.tolist() == [["'+1", "'@SUM(A1)"]]


def test_a_clean_rerun_removes_an_old_quarantine_file(tmp_path):
    output = tmp_path / "classified.parquet"
    assert (
        main(["classify", str(write_csv(tmp_path, replace(0, "Admission_Date", "x"))), "-o", str(output)])
        == 0
    )
    assert output.with_name("classified.quarantine.csv").exists()
    assert main(["classify", str(write_csv(tmp_path, GOOD, name="clean.csv")), "-o", str(output)]) == 0
    assert not output.with_name("classified.quarantine.csv").exists()


def test_parquet_written_by_classify_reads_back_with_the_canonical_profile(tmp_path):
    output = tmp_path / "classified.parquet"
    assert main(["classify", str(write_csv(tmp_path, GOOD)), "-o", str(output)]) == 0
    again = load_extracts([output])
    assert again.reconciliation["profile"].tolist() == ["canonical"]
    assert again.spells["Administrative_Category"].tolist() == ["01", "02", "01"]
    assert again.spells["spell_id"].tolist() == ["101", "102", "103"]
