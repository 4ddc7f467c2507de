"""``extract_sql``: the T-SQL an analyst runs on SUS+ selects what the pre-filter keeps, and all the audit uses.

The printed query must parse as T-SQL; translated by sqlglot to DuckDB and run on the synthetic
SUS+ spells held in a table typed as SUS+ types them (dates as dates), it must return exactly
the rows the pre-filter's mask keeps, in the profile's columns, and every spell the local engine
counts or uses (``classify`` then ``label_activity`` on the same spells read through the real
reader). Read back through the reader from a DuckDB file, the pull gives those spells the same
labels.
"""

import datetime as dt
from collections import Counter

import duckdb
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from rfd_lib import classify, load_rule
from rfd_lib.errors import ExtractError
from rfd_lib.extracts.profiles import load_profile
from rfd_lib.extracts.reading import load_extracts
from rfd_lib.metrics.activity import audit_prefilter, label_activity
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.expectations import load_expectations
from rfd_lib.pipeline.extract_sql import DEFAULT_TABLE, extract_sql
from rfd_lib.synthetic.extract_set import extract_frames
from tests.paths import TESTS

RULE = load_rule("2K_RFD_back")
PROFILE = load_profile("sus_apcs")
PREFILTER = audit_prefilter(RULE, load_code_lists())
START, END = dt.date(2025, 4, 1), dt.date(2025, 9, 30)


@pytest.fixture(scope="module")
def sus() -> pd.DataFrame:
    """The synthetic SUS+ spells as the extract files hold them (text, YYYY-MM-DD dates)."""
    return pd.concat(extract_frames().values(), ignore_index=True)


@pytest.fixture(scope="module")
def database(sus, tmp_path_factory):
    """A DuckDB file holding the spells in a table typed as SUS+ types it (dates are dates)."""
    path = tmp_path_factory.mktemp("sus") / "sus.duckdb"
    connection = duckdb.connect(str(path))
    connection.register("frame", sus)
    connection.execute(
        f"CREATE TABLE {DEFAULT_TABLE} AS SELECT * REPLACE ("
        "TRY_CAST(Admission_Date AS DATE) AS Admission_Date, "
        "TRY_CAST(Discharge_Date AS DATE) AS Discharge_Date) FROM frame"
    )
    connection.close()
    return path


def in_duckdb(sql: str) -> str:
    [translated] = sqlglot.transpile(sql, read="tsql", write="duckdb")
    return translated


def pull(database, sql: str) -> pd.DataFrame:
    """Return what the T-SQL ``sql`` selects from the DuckDB file, translated by sqlglot."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return connection.sql(in_duckdb(sql)).df()
    finally:
        connection.close()


def used_spells(classified: pd.DataFrame) -> pd.DataFrame:
    """Return each spell the audit counts or uses: its identifier, kind, counted flag and period date."""
    activity = label_activity(classified, RULE, load_code_lists(), load_expectations(rule=RULE))
    spells = classified.iloc[activity["spell_row"].to_numpy()]
    return pd.DataFrame(
        {
            "spell_id": spells["spell_id"].to_numpy(),
            "kind": activity["kind"].to_numpy(),
            "counted": activity["counted"].to_numpy(),
            "discharge_date": spells["discharge_date"].to_numpy(),
        }
    )


def test_the_query_is_one_t_sql_select_of_the_profile_s_columns():
    sql = extract_sql(start=START, end=END, table="NHSE_SUSPlus_Live.dbo.tbl_Data_SEM_APCS")
    [statement] = sqlglot.parse(sql, read="tsql")
    assert isinstance(statement, exp.Select)
    assert [column.name for column in statement.expressions] == list(PROFILE.columns.values())
    assert statement.find(exp.Table).sql("tsql") == "NHSE_SUSPlus_Live.dbo.tbl_Data_SEM_APCS"
    assert "[Discharge_Date] >= CAST('2025-04-01' AS DATE)" in sql
    assert "[Discharge_Date] < CAST('2025-10-01' AS DATE)" in sql  # the last day whole
    assert sql.startswith("-- rfd-audit extract-sql")


def test_duckdb_returns_exactly_the_rows_the_pre_filter_keeps(sus, database):
    result = pull(database, extract_sql())
    assert list(result.columns) == list(PROFILE.columns.values())
    kept = PREFILTER.mask(sus, PROFILE.columns)
    assert sorted(result["APCS_Ident"]) == sorted(sus.loc[kept, "APCS_Ident"])
    assert 0 < kept.sum() < len(sus)


def test_with_a_date_range_duckdb_returns_the_kept_rows_discharged_in_it(sus, database):
    result = pull(database, extract_sql(start=START, end=END))
    discharged = pd.to_datetime(sus["Discharge_Date"], format="%Y-%m-%d", errors="coerce")
    inside = discharged.between(pd.Timestamp(START), pd.Timestamp(END)).to_numpy()
    kept = PREFILTER.mask(sus, PROFILE.columns) & inside
    assert sorted(result["APCS_Ident"]) == sorted(sus.loc[kept, "APCS_Ident"])


@pytest.mark.parametrize("bounded", [False, True], ids=["any date", "a date range"])
def test_every_spell_the_local_audit_counts_or_uses_is_pulled(synthetic_set, database, bounded):
    sql = extract_sql(start=START, end=END) if bounded else extract_sql()
    pulled = set(pull(database, sql)["APCS_Ident"])
    used = used_spells(synthetic_set.classified)
    if bounded:
        used = used[used["discharge_date"].between(pd.Timestamp(START), pd.Timestamp(END))]
    assert len(used) > 100 and used["counted"].sum() > 10
    assert set(used["spell_id"]) <= pulled


def test_the_pull_read_back_gives_the_audit_s_spells_the_same_labels(synthetic_set, database):
    pulled = load_extracts([f"duckdb:///{database}"], "sus_apcs", query=in_duckdb(extract_sql()))
    mine = used_spells(classify(pulled.spells, RULE))
    full = used_spells(synthetic_set.classified)
    assert len(pulled.spells) < len(synthetic_set.classified) / 1.5

    def labels(used: pd.DataFrame) -> Counter:
        return Counter(used[["spell_id", "kind", "counted"]].itertuples(index=False, name=None))

    # Every spell the audit of the whole extract uses, as often and labelled the same (a row the
    # CSV's reader quarantined for its unreadable date was NULL in the typed table, so may be extra).
    assert labels(full) - labels(mine) == Counter()


def test_a_rule_whose_scope_gives_no_condition_pulls_every_spell_in_the_range(tmp_path):
    path = tmp_path / "anything.sql"
    path.write_text("WHEN (LEN(Primary_Spell_Procedure) >= 4)\nTHEN 'T'\n", encoding="utf-8")
    sql = extract_sql(rule=str(path), start=START)
    where = sqlglot.parse_one(sql, read="tsql").args["where"].this
    assert where.sql("tsql") == "[Discharge_Date] >= CAST('2025-04-01' AS DATE)"
    assert "Selects every spell from 2025-04-01" in sql


def test_the_made_up_rule_s_codes_join_the_audit_s():
    sql = extract_sql(rule=str(TESTS / "rules" / "2X_made_up_shoulder.sql"))
    assert "LIKE '%O29%'" in sql and "LIKE '%Z812%'" in sql and "LIKE '%V485%'" in sql


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"profile": "hes_apc"}, "reads episodes"),
        ({"start": END, "end": START}, "ends (2025-04-01) before it starts (2025-09-30)"),
    ],
    ids=["episodes", "reversed range"],
)
def test_what_cannot_be_pulled_is_refused_in_one_line(arguments, words):
    with pytest.raises(ExtractError, match=words.replace("(", r"\(").replace(")", r"\)")) as caught:
        extract_sql(**arguments)
    assert "\n" not in str(caught.value)
