"""Worked examples of the HES roll-up: episodes in, provider spells out, as readable tables.

Each example writes a small HES APC episode table (made up) to a CSV in ``tmp_path`` and reads it
with :func:`rfd_lib.extracts.reading.load_extracts`; the tables below are the whole fixture. In a table a
``.`` is a NULL (an empty field in the CSV). The method under test is the one ``hes_apc.yaml``
states: episodes of one provider, patient and admission date form a spell, ordered by EPIORDER;
the spell takes its fields from the first episode, its discharge date from the last, and joins
every episode's codes in the SUS+ form (``||`` before each episode, ``,`` between codes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from rfd_lib.engine.classification import classify
from rfd_lib.extracts.reading import load_extracts

PLACEHOLDERS = ("-", "&")


def table(text: str) -> pd.DataFrame:
    """Return a whitespace-aligned table (header line first) as a DataFrame of strings; '.' is NULL."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    assert all(len(row) == len(header) for row in rows), "a table row has the wrong number of cells"
    return pd.DataFrame(rows, columns=header, dtype=object).replace({".": None})


def record(text: str) -> dict[str, str | None]:
    """Return a two-column 'name value' table (one spell, read down the page) as a dict; '.' is NULL."""
    pairs = [line.split(None, 1) for line in text.strip().splitlines()]
    return {name: None if value.strip() == "." else value.strip() for name, value in pairs}


def write_episodes(folder: Path, episodes: pd.DataFrame, name: str = "hes_apc.csv") -> Path:
    """Write the episodes as a HES CSV (None as an empty field) and return its path."""
    path = folder / name
    episodes.to_csv(path, index=False, lineterminator="\n")
    return path


def shown(spells: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return ``columns`` of the spells as strings, dates as ISO, NULL as None (to compare with a table)."""

    def text(value: object) -> str | None:
        if pd.isna(value):
            return None
        return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)

    return pd.DataFrame(
        {column: pd.Series([text(v) for v in spells[column]], dtype=object) for column in columns}
    )


def concat_form(episodes: pd.DataFrame) -> pd.DataFrame:
    """Return the episodes with OPERTN_4_CONCAT / DIAG_4_CONCAT in place of the numbered code columns.

    Each concatenation joins the episode's codes with ',' leaving out NULLs and placeholders; an
    episode without an operation gets HES's '-', one without a diagnosis NULL.
    """
    out = episodes.copy()
    for prefix, concat, empty in (("OPERTN_4_", "OPERTN_4_CONCAT", "-"), ("DIAG_4_", "DIAG_4_CONCAT", None)):
        numbered = sorted(c for c in episodes.columns if re.fullmatch(rf"{prefix}\d\d", c))
        codes = [
            [code for code in row if code is not None and code not in PLACEHOLDERS]
            for row in episodes[numbered].itertuples(index=False)
        ]
        out = out.drop(columns=numbered)
        out[concat] = [",".join(found) if found else empty for found in codes]
    return out


def counts(extract) -> list[int]:
    """Return the one source's rows read, accepted, quarantined and spells."""
    [row] = extract.reconciliation.to_dict("records")
    assert row["rows_read"] == row["rows_accepted"] + row["rows_quarantined"]
    return [row["rows_read"], row["rows_accepted"], row["rows_quarantined"], row["spells"]]


# A hip-and-back example: patient H1's spell has two consultant episodes, given in the file in the
# wrong order; the second episode adds X998, a later-noted diagnosis, a birthday and a change of
# administrative category. '-' (no operation) and '&' (not known) are HES placeholders.
TWO_EPISODES = """
PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
RXA      H1    9002   02       2025-04-01 2025-04-03 11       02       1        51       I10X      M545      &         X998        -           &
RXA      H1    9001   01       2025-04-01 2025-04-02 11       01       2        50       M545      .         .         V485        Z676        -
"""


def test_two_episodes_given_out_of_order_make_one_spell(tmp_path):
    extract = load_extracts([write_episodes(tmp_path, table(TWO_EPISODES))])
    assert len(extract.spells) == 1
    spell = shown(extract.spells, list(extract.spells.columns)).iloc[0].to_dict()
    spell.pop("source")
    assert spell == record("""
        spell_id                      9001
        provider_code                 RXA
        patient_id                    H1
        admission_date                2025-04-01
        discharge_date                2025-04-03
        patient_classification        2
        Primary_Spell_Procedure       V485
        Any_Spell_Procedure           ||V485,Z676||X998
        Primary_Spell_Diagnosis       M545
        Any_Spell_Diagnosis           ||M545||I10X,M545
        Age_At_Start_of_Spell_SUS     50
        Der_Age_at_CDS_Activity_Date  .
        Admission_Method              11
        Administrative_Category       01
        source_row                    3
    """)
    # spell_id: the first episode's EPIKEY; discharge: the last episode's; codes: every episode's
    # in EPIORDER, placeholders dropped; the rest (and source_row, the CSV row) from EPIORDER 01.
    assert extract.spells["Der_Age_at_CDS_Activity_Date"].isna().all()
    assert counts(extract) == [2, 2, 0, 1]


def test_two_patients_on_the_same_day_make_two_spells(tmp_path):
    # One episode each: H1 and H2 at RXA on 1 April, H1 again on 10 May, H2 at RXB on 1 April.
    episodes = table("""
        PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
        RXA      H1    9001   01       2025-04-01 2025-04-01 11       01       2        50       M545      .         .         V485        Z676        .
        RXA      H2    9003   01       2025-04-01 2025-04-01 12       01       2        61       M170      .         .         W401        .           .
        RXA      H1    9005   01       2025-05-10 2025-05-10 11       01       2        50       M545      .         .         V487        Z676        .
        RXB      H2    9007   01       2025-04-01 2025-04-02 11       01       1        61       M545      .         .         V485        .           .
    """)
    spells = load_extracts([write_episodes(tmp_path, episodes)]).spells
    columns = [
        "spell_id",
        "provider_code",
        "patient_id",
        "admission_date",
        "Any_Spell_Procedure",
        "source_row",
    ]
    got = shown(spells, columns).sort_values("spell_id", ignore_index=True)
    pd.testing.assert_frame_equal(
        got,
        table("""
            spell_id provider_code patient_id admission_date Any_Spell_Procedure source_row
            9001     RXA           H1         2025-04-01     ||V485,Z676         2
            9003     RXA           H2         2025-04-01     ||W401              3
            9005     RXA           H1         2025-05-10     ||V487,Z676         4
            9007     RXB           H2         2025-04-01     ||V485              5
        """),
    )


def test_episodes_are_ordered_by_number_not_by_text(tmp_path):
    # EPIORDER 9 comes before EPIORDER 10 (as text '10' < '9'), and both after 1.
    episodes = table("""
        PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
        RXA      H1    9010   10       2025-04-01 2025-04-20 11       01       1        50       M545      .         .         X998        .           .
        RXA      H1    9009   9        2025-04-01 2025-04-12 11       01       1        50       M545      .         .         Z676        .           .
        RXA      H1    9001   1        2025-04-01 2025-04-02 11       01       1        50       M545      .         .         V485        .           .
    """)
    spells = load_extracts([write_episodes(tmp_path, episodes)]).spells
    assert shown(
        spells, ["spell_id", "discharge_date", "Primary_Spell_Procedure", "Any_Spell_Procedure"]
    ).iloc[0].tolist() == ["9001", "2025-04-20", "V485", "||V485||Z676||X998"]


# Three spells: H1's two episodes (one with a date that is not a date), H2's one episode.
def test_an_unparseable_date_quarantines_every_episode_of_its_spell(tmp_path):
    episodes = table("""
        PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
        RXA      H1    9002   02       2025-04-01 2025-02-30 11       01       1        50       M545      .         .         X998        .           .
        RXA      H1    9001   01       2025-04-01 2025-04-02 11       01       1        50       M545      .         .         V485        Z676        .
        RXA      H2    9003   01       2025-04-01 2025-04-01 12       01       2        61       M170      .         .         W401        .           .
    """)
    extract = load_extracts([write_episodes(tmp_path, episodes)])
    assert extract.spells["spell_id"].tolist() == ["9003"]
    quarantine = extract.quarantine.sort_values("source_row", ignore_index=True)
    assert quarantine["source_row"].tolist() == [2, 3]
    assert quarantine["EPIKEY"].tolist() == ["9002", "9001"]  # the episodes as read
    assert quarantine["DISDATE"].tolist() == ["2025-02-30", "2025-04-02"]
    assert "DISDATE is not a date" in quarantine["reason"].iat[0]
    assert "another episode of the same spell" in quarantine["reason"].iat[1]
    assert counts(extract) == [3, 1, 2, 1]


def test_an_unparseable_admission_date_quarantines_every_episode_of_its_spell(tmp_path):
    # As above, but the bad date is H1's first episode's ADMIDATE (month-first 01/13/2025).
    episodes = table("""
        PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
        RXA      H1    9002   02       2025-04-01 2025-04-03 11       01       1        50       M545      .         .         X998        .           .
        RXA      H1    9001   01       01/13/2025 2025-04-02 11       01       1        50       M545      .         .         V485        Z676        .
        RXA      H2    9003   01       2025-04-01 2025-04-01 12       01       2        61       M170      .         .         W401        .           .
    """)
    extract = load_extracts([write_episodes(tmp_path, episodes)])
    assert extract.spells["spell_id"].tolist() == ["9003"]
    assert counts(extract) == [3, 1, 2, 1]


def test_two_episodes_of_a_spell_with_the_same_number_quarantine_the_spell(tmp_path):
    # H1's spell has two episodes numbered 01 (and a third, 02): which is first is unknown, so its
    # primary codes would follow the file's order. H2's spell is whole.
    episodes = table("""
        PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
        RXA      H1    9002   01       2025-04-01 2025-04-03 11       01       1        50       I10X      .         .         X998        .           .
        RXA      H1    9001   01       2025-04-01 2025-04-02 11       01       1        50       M545      .         .         V485        Z676        .
        RXA      H1    9004   02       2025-04-01 2025-04-04 11       01       1        50       M545      .         .         .           .           .
        RXA      H2    9003   01       2025-04-01 2025-04-01 12       01       2        61       M170      .         .         W401        .           .
    """)
    extract = load_extracts([write_episodes(tmp_path, episodes)])
    assert extract.spells["spell_id"].tolist() == ["9003"]
    quarantine = extract.quarantine.sort_values("source_row", ignore_index=True)
    assert quarantine["source_row"].tolist() == [2, 3, 4]
    assert quarantine["reason"].tolist() == [
        "another episode of the same spell has the same EPIORDER",
        "another episode of the same spell has the same EPIORDER",
        "another episode of the same spell is unusable",
    ]
    assert counts(extract) == [4, 1, 3, 1]


def test_episodes_without_a_patient_are_not_merged_into_one_spell(tmp_path):
    # Two unidentified patients, each one episode (both EPIORDER 01) at RXA on the same day.
    episodes = table("""
        PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
        RXA      .     9001   01       2025-04-01 2025-04-01 11       01       2        50       M545      .         .         V485        Z676        .
        RXA      .     9003   01       2025-04-01 2025-04-01 12       01       2        61       M170      .         .         W401        .           .
    """)
    extract = load_extracts([write_episodes(tmp_path, episodes)])
    assert counts(extract)[0] == 2
    merged = extract.spells["Any_Spell_Procedure"].str.contains("V485") & extract.spells[
        "Any_Spell_Procedure"
    ].str.contains("W401")
    assert not merged.any()


# Seven episodes, four spells: A (two episodes), B (one), C (two), D (two, one with EPIORDER 'XX').
SEVEN_EPISODES = """
PROCODE3 HESID EPIKEY EPIORDER ADMIDATE   DISDATE    ADMIMETH ADMINCAT CLASSPAT STARTAGE DIAG_4_01 DIAG_4_02 DIAG_4_03 OPERTN_4_01 OPERTN_4_02 OPERTN_4_03
RXA      HA    1001   01       2025-04-01 2025-04-01 11       01       1        50       M545      .         .         V485        Z676        .
RXA      HA    1002   02       2025-04-01 2025-04-02 11       01       1        50       M545      I10X      .         X998        -           .
RXA      HB    2001   01       2025-04-01 2025-04-01 12       01       2        61       M170      .         .         W401        &           .
RXA      HC    3002   02       2025-04-07 2025-04-09 13       01       1        70       C795      .         .         -           .           .
RXA      HC    3001   01       2025-04-07 2025-04-08 13       01       1        70       M549      .         .         V487        Z993        .
RXB      HD    4001   01       2025-04-03 2025-04-03 11       01       2        44       M545      .         .         V485        Z676        .
RXB      HD    4002   XX       2025-04-03 2025-04-04 11       01       2        44       M545      .         .         X998        .           .
"""


def test_the_reconciliation_counts_episodes_and_the_spells_they_make(tmp_path):
    extract = load_extracts([write_episodes(tmp_path, table(SEVEN_EPISODES))])
    assert counts(extract) == [7, 5, 2, 3]  # episodes read, accepted, quarantined; spells
    assert sorted(extract.spells["spell_id"]) == ["1001", "2001", "3001"]
    assert extract.quarantine["source_row"].tolist() == [7, 8]
    assert extract.quarantine["reason"].tolist() == [
        "another episode of the same spell is unusable",
        "EPIORDER is not an episode number",
    ]
    got = shown(extract.spells, ["spell_id", "discharge_date", "Any_Spell_Procedure", "Any_Spell_Diagnosis"])
    pd.testing.assert_frame_equal(
        got.sort_values("spell_id", ignore_index=True),
        table("""
            spell_id discharge_date Any_Spell_Procedure  Any_Spell_Diagnosis
            1001     2025-04-02     ||V485,Z676||X998    ||M545||M545,I10X
            2001     2025-04-01     ||W401               ||M170
            3001     2025-04-09     ||V487,Z993||        ||M549||C795
        """),
    )


def test_the_concatenated_form_gives_the_same_spells(tmp_path):
    numbered = table(SEVEN_EPISODES)
    concat = concat_form(numbered)
    assert "OPERTN_4_CONCAT" in concat.columns and "OPERTN_4_01" not in concat.columns
    assert concat["OPERTN_4_CONCAT"].tolist()[:4] == ["V485,Z676", "X998", "W401", "-"]
    by_number = load_extracts([write_episodes(tmp_path, numbered, "numbered.csv")])
    by_concat = load_extracts([write_episodes(tmp_path, concat, "concat.csv")])
    pd.testing.assert_frame_equal(
        by_concat.spells.drop(columns="source"), by_number.spells.drop(columns="source")
    )
    assert counts(by_concat) == counts(by_number) == [7, 5, 2, 3]
    assert by_concat.reconciliation["profile"].tolist() == ["hes_apc"]


def test_a_placeholder_inside_a_concatenation_is_dropped(tmp_path):
    numbered = table(TWO_EPISODES)
    concat = concat_form(numbered)
    concat["OPERTN_4_CONCAT"] = ["X998,-,&", "V485,Z676,-"]  # as the numbered columns hold them
    by_number = load_extracts([write_episodes(tmp_path, numbered, "numbered.csv")]).spells
    by_concat = load_extracts([write_episodes(tmp_path, concat, "concat.csv")]).spells
    assert by_concat["Any_Spell_Procedure"].tolist() == by_number["Any_Spell_Procedure"].tolist()


@pytest.mark.parametrize("form", ["numbered", "concat"])
def test_the_hes_profile_is_detected_from_the_header(tmp_path, form):
    episodes = table(TWO_EPISODES)
    path = write_episodes(tmp_path, episodes if form == "numbered" else concat_form(episodes))
    extract = load_extracts([path])
    assert extract.reconciliation["profile"].tolist() == ["hes_apc"]
    assert any(
        "column profile 'hes_apc'" in note and "detected from the header" in note for note in extract.notes
    )
    assert any("episodes rolled up to spells" in note and "EPIORDER" in note for note in extract.notes)
    given = load_extracts([path], "hes_apc")
    pd.testing.assert_frame_equal(given.spells, extract.spells)


# The three spells SEVEN_EPISODES accepts, plus three more to show what the roll-up
# decides for the rule: a procedure from a later episode, a category changed after the first
# episode, and a private first episode.
TO_CLASSIFY = (
    SEVEN_EPISODES
    + """
RXC      HE    5001   01       2025-04-02 2025-04-02 11       01       2        50       M545      .         .         V485        .           .
RXC      HE    5002   02       2025-04-02 2025-04-02 11       01       2        50       M545      .         .         Z676        .           .
RXC      HF    6001   01       2025-04-02 2025-04-02 11       01       2        50       M545      .         .         V485        Z676        .
RXC      HF    6002   02       2025-04-02 2025-04-03 11       02       2        50       M545      .         .         .           .           .
RXC      HG    7001   01       2025-04-02 2025-04-02 11       02       2        50       M545      .         .         V485        Z676        .
"""
)


def test_rolled_up_spells_classify_with_the_rule(tmp_path):
    extract = load_extracts([write_episodes(tmp_path, table(TO_CLASSIFY))])
    classified = classify(extract.spells).sort_values("spell_id", ignore_index=True)
    verdicts = shown(classified, ["spell_id", "Age_At_Start_of_Spell_SUS", "ebi_category"])
    pd.testing.assert_frame_equal(
        verdicts,
        table("""
            spell_id Age_At_Start_of_Spell_SUS ebi_category
            1001     50                        2K_RFD_back
            2001     61                        .
            3001     70                        .
            5001     50                        2K_RFD_back
            6001     50                        2K_RFD_back
            7001     50                        .
        """),
    )
    # 1001: V485 + Z676, M545, age 50 (STARTAGE alone: HES has no CDS age), ADMIMETH 11, ADMINCAT 01.
    assert classified["Der_Age_at_CDS_Activity_Date"].isna().all()
    reasons = dict(zip(classified["spell_id"], classified["reason"].astype(object), strict=True))
    assert reasons["2001"].startswith("not coded")  # W401: not the procedure
    assert "Cancer Diagnosis Exclusion" in reasons["3001"]  # C795 from the second episode
    assert "Private Appointment Exclusion" in reasons["7001"]  # ADMINCAT 02 on the first episode
