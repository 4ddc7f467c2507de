"""Every report section works on unusual extracts: quiet quarters, one provider, all suppressed.

Each case cuts a small classified frame from the built-in synthetic set (a few providers, or a
twin of one) and runs :func:`audit_metrics` and every section a report notebook shows: the
summary page's, and every provider page's. Each must return a table with a row per provider,
a chart, or a note that says why there is none; never raise. The table files are written too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import pandas as pd
import pytest
from matplotlib.figure import Figure

from rfd_lib.charts.house_style import TITLE_WIDTH, Chart, data_text
from rfd_lib.engine.rule import load_rule
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.audit import AuditMetrics, audit_metrics
from rfd_lib.metrics.periods import financial_quarter
from rfd_lib.report.pages import ProviderPage
from rfd_lib.report.saved_audit import AuditRun, provider_names
from rfd_lib.report.summary_page import SummaryPage
from rfd_lib.report.table_files import TABLES, table_files
from rfd_lib.report.tables import Fragment

AUDITED = "2026/27 Q2"  # the synthetic set's last quarter
PROVIDER_SECTIONS = (
    "headline",
    "summary",
    "volume_chart",
    "waterfall_chart",
    "funnel_chart",
    "spc_chart",
    "checks_table",
    "interval_chart",
    "facet_injection_chart",
    "notes",
)
ONE_PROVIDER = "Only one provider can be compared in 2026/27 Q2"
NONE_COMPARED = "No provider has both a published count of counted RFDs and a population in 2026/27 Q2"


@dataclass(frozen=True)
class Case:
    """A classified frame and populations made from the synthetic set, and what its audit shows."""

    name: str
    make: Callable[[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]
    providers: tuple[str, ...]
    compared: int  # providers on the funnel plot (0: there is none)
    note: str | None = None  # a note the audit must carry
    no_status: tuple[str, ...] = ()  # statuses nowhere in the audited quarter


def _of(classified: pd.DataFrame, *codes: str) -> pd.DataFrame:
    return classified[classified["provider_code"].isin(codes)]


def _populations(populations: pd.DataFrame, *codes: str) -> pd.DataFrame:
    return populations[populations["provider_code"].isin(codes)].reset_index(drop=True)


def _rfd(classified: pd.DataFrame) -> pd.Series:
    """Return which spells are RFD-coded (in the rule's scope)."""
    scope = [criterion.name for criterion in load_rule().scope]
    return classified[scope].fillna(False).all(axis=1)


def _quarter(classified: pd.DataFrame) -> pd.Series:
    return financial_quarter(classified["discharge_date"])


def no_rfd(classified, populations):
    spells = _of(classified, "ZA1", "ZB2")
    return spells[~_rfd(spells)], _populations(populations, "ZA1", "ZB2")


def single(classified, populations):
    return _of(classified, "ZK1"), _populations(populations, "ZK1")


def no_red(classified, populations):
    # The clean provider and its twin: two providers, nothing red.
    clean = _of(classified, "ZH8")
    twin = clean.assign(
        provider_code="ZX1", spell_id="T" + clean["spell_id"], patient_id="T" + clean["patient_id"]
    )
    named = _populations(populations, "ZH8")
    return pd.concat([clean, twin], ignore_index=True), pd.concat(
        [named, named.assign(provider_code="ZX1", provider_name="Twin")], ignore_index=True
    )


def no_amber(classified, populations):
    return _of(classified, "ZB2", "ZF6", "ZJ0"), _populations(populations, "ZB2", "ZF6", "ZJ0")


def all_suppressed(classified, populations):
    # At most three RFD-coded spells a provider and quarter: every count is 1 to 7, or 0.
    spells = _of(classified, "ZA1", "ZB2", "ZC3")
    rfd = _rfd(spells)
    nth = rfd.groupby([spells["provider_code"], _quarter(spells)]).cumsum()
    return spells[~rfd | (nth <= 3)], _populations(populations, "ZA1", "ZB2", "ZC3")


def earlier_only(classified, populations):
    spells = _of(classified, "ZA1", "ZB2", "ZC3")
    late = spells["provider_code"].eq("ZC3") & _quarter(spells).ge(AUDITED).fillna(True)
    return spells[~late], _populations(populations, "ZA1", "ZB2", "ZC3")


HOSTILE = {"$x^$": "\\frac{1}{2} Trust", "_": "_", "R" * 300: "<script>alert(1)</script>"}


def hostile(classified, populations):
    # Twins of the clean provider whose codes and names matplotlib or HTML would interpret.
    clean = _of(classified, "ZH8")
    twins = [
        clean.assign(
            provider_code=code, spell_id=f"{n}-" + clean["spell_id"], patient_id=f"{n}-" + clean["patient_id"]
        )
        for n, code in enumerate(HOSTILE)
    ]
    named = _populations(populations, "ZH8")
    names = [named.assign(provider_code=code, provider_name=name) for code, name in HOSTILE.items()]
    return pd.concat(twins, ignore_index=True), pd.concat(names, ignore_index=True)


def no_match(classified, populations):
    return _of(classified, "ZA1", "ZB2"), _populations(populations, "ZC3")


def no_population(classified, populations):
    return _of(classified, "ZA1", "ZB2", "ZC3"), _populations(populations, "ZA1", "ZB2")


CASES = (
    Case("no RFD spells at all", no_rfd, ("ZA1", "ZB2"), compared=2, no_status=("amber",)),
    Case("a single provider", single, ("ZK1",), compared=1, note=ONE_PROVIDER),
    Case("no red anywhere", no_red, ("ZH8", "ZX1"), compared=2, no_status=("red", "amber")),
    Case("no amber anywhere", no_amber, ("ZB2", "ZF6", "ZJ0"), compared=3, no_status=("amber",)),
    Case("every count suppressed", all_suppressed, ("ZA1", "ZB2", "ZC3"), compared=0, note=NONE_COMPARED),
    Case("a provider with no spells this quarter", earlier_only, ("ZA1", "ZB2", "ZC3"), compared=3),
    Case("a provider with no population", no_population, ("ZA1", "ZB2", "ZC3"), compared=2),
    Case("populations matching no provider", no_match, ("ZA1", "ZB2"), compared=0, note=NONE_COMPARED),
    Case("hostile provider codes and names", hostile, tuple(sorted(HOSTILE)), compared=3),
)


@pytest.fixture(scope="module", params=CASES, ids=[case.name for case in CASES])
def case_run(request, synthetic_set) -> tuple[Case, AuditRun]:
    case: Case = request.param
    classified, populations = case.make(synthetic_set.classified, synthetic_set.populations)
    audit = audit_metrics(classified, populations=populations)
    return case, AuditRun(audit, case.name, provider_names(populations), (), "1 April 2027")


class _Cells(HTMLParser):
    """The text of each row of an HTML table, header row first."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(fragment: Fragment) -> pd.DataFrame:
    """Return the table in ``fragment`` as text cells, with its header as the columns."""
    parser = _Cells()
    parser.feed(str(fragment))
    header, *rows = parser.rows
    return pd.DataFrame(rows, columns=header)


def latest_statuses(audit: AuditMetrics) -> pd.DataFrame:
    checks = audit.checks[audit.checks["quarter"] == audit.quarter]
    return checks.groupby("provider_code")["status"].value_counts().unstack(fill_value=0)


def test_the_audit_covers_every_provider_and_says_what_it_could_not_compare(case_run):
    case, run = case_run
    audit = run.audit
    assert audit.quarter == AUDITED and tuple(audit.providers) == case.providers
    for status in case.no_status:
        assert status not in set(audit.checks.loc[audit.checks["quarter"] == AUDITED, "status"])
    if case.compared:
        assert len(audit.funnel.providers) == case.compared and audit.funnel_missing is None
        assert set(audit.funnel.providers["provider_code"]) | set(audit.funnel.excluded) == set(
            case.providers
        )
    else:
        assert audit.funnel is None and audit.funnel_missing.startswith(NONE_COMPARED)
    if case.note:
        assert any(note.startswith(case.note) for note in audit.notes)


def test_the_league_table_has_a_row_per_provider_with_its_red_and_amber_checks(case_run):
    case, run = case_run
    league = table_rows(SummaryPage(run).league_table())
    names = [f"{run.provider_name(code)} ({code})" for code in case.providers]
    assert league["Provider"].tolist() == names
    tally = latest_statuses(run.audit).reindex(columns=["red", "amber"], fill_value=0)
    assert league["Red"].tolist() == tally["red"].astype(str).tolist()
    assert league["Amber"].tolist() == tally["amber"].astype(str).tolist()
    assert "nan" not in league.to_numpy() and "–––" not in league.to_numpy()


def test_every_summary_section_is_a_chart_or_a_table_or_a_note_saying_why(case_run):
    case, run = case_run
    page = SummaryPage(run)
    headline = page.headline()
    assert (
        f'<span class="value">{len(case.providers)}</span><span class="label">providers audited' in headline
    )
    matrix = table_rows(page.check_matrix())
    assert len(matrix) == len(case.providers)
    funnel = page.funnel_chart()
    if case.compared:
        assert isinstance(funnel, Chart) and isinstance(funnel.figure, Figure) and funnel.png()
    else:
        assert isinstance(funnel, Fragment) and NONE_COMPARED in funnel
    trend = page.trend_chart()
    assert (isinstance(trend, Chart) and trend.png()) or "No trend chart" in trend
    notes = page.notes()
    assert all(note.replace("'", "&#x27;") in notes for note in run.audit.notes)


def test_every_provider_page_section_is_a_chart_or_a_table_or_a_note(case_run):
    case, run = case_run
    for code in case.providers:
        page = ProviderPage(run, code)
        for section in PROVIDER_SECTIONS:
            shown = getattr(page, section)()
            if isinstance(shown, Chart):
                assert shown.png()[:4] == b"\x89PNG"
                assert code in shown.alt_text or data_text(code) in shown.alt_text
                drawn = shown.figure.axes[0].get_title(loc="left")
                assert all(len(line) <= TITLE_WIDTH for line in drawn.split("\n"))
                assert code not in drawn or code == data_text(code)  # a long code is cut
            else:
                assert isinstance(shown, Fragment) and len(shown) > 20, (code, section)
        position = page.funnel_position()
        assert position in {
            "within the limits",
            "above the limits",
            "below the limits",
        } or position.startswith("not compared")


def test_the_table_files_are_written_and_hold_no_small_count(case_run, tmp_path):
    case, run = case_run
    written = table_files(run.audit, run.provider_names, tmp_path)
    assert len(written) == len(TABLES) + 1
    for table in TABLES:
        rows = pd.read_csv(tmp_path / f"{table}.csv", dtype=str, keep_default_na=False)
        counts = pd.to_numeric(rows.loc[rows["unit"].eq("spells"), "value"].replace("", None))
        assert not counts.between(1, 7).any(), (case.name, table)
        assert rows.loc[rows["suppressed"].eq("True"), "value"].eq("").all(), (case.name, table)
    codes = set(pd.read_csv(tmp_path / "volumes.csv", dtype=str, keep_default_na=False)["provider_code"])
    assert codes == set(case.providers)
    # the all-provider trend is in spc.csv (blank code), not added up a second time in volumes.csv
    spc = pd.read_csv(tmp_path / "spc.csv", dtype=str, keep_default_na=False)
    assert set(spc["provider_code"]) == {*case.providers, ""}


def test_every_count_suppressed_shows_stars_not_zeros(synthetic_set):
    classified, populations = all_suppressed(synthetic_set.classified, synthetic_set.populations)
    audit = audit_metrics(classified, populations=populations)
    run = AuditRun(audit, "quiet", provider_names(populations), (), "1 April 2027")
    assert audit.volumes.loc[audit.volumes["quarter"] == AUDITED, "counted_suppressed"].all()
    headline = SummaryPage(run).headline()
    assert '<span class="value">*</span><span class="label">counted RFDs' in headline
    league = table_rows(SummaryPage(run).league_table())
    assert set(league["Counted RFDs"]) == {"*"}
    # The trend is charted from the true counts, every suppressed quarter drawn as a band "1–7".
    assert "no chart" not in set(league["Trend (XmR)"])
    chart = ProviderPage(run, "ZA1").spc_chart()
    labels = [t.get_text() for t in chart.figure.axes[0].texts if t.get_gid() == "suppressed_label"]
    assert labels == ["1–7"] * len(audit.quarters)
    assert ProviderPage(run, "ZA1").funnel_position() == "not compared"


@pytest.fixture(scope="module")
def self_audit(synthetic_set) -> AuditRun:
    """Return the run of a trust auditing itself (one provider)."""
    classified, populations = single(synthetic_set.classified, synthetic_set.populations)
    audit = audit_metrics(classified, populations=populations)
    return AuditRun(audit, "self audit", provider_names(populations), (), "1 April 2027")


def test_a_single_provider_gets_unadjusted_limits_and_a_note(self_audit):
    funnel = self_audit.audit.funnel
    assert funnel.overdispersion == "none" and not funnel.adjusted
    assert "not adjusted for overdispersion" in funnel.method
    assert ONE_PROVIDER in ProviderPage(self_audit, "ZK1").notes()


def test_a_provider_not_in_the_audit_is_a_short_error_however_many_there_are(self_audit):
    run = self_audit
    many = run.audit.volumes.head(1).merge(
        pd.DataFrame({"code": [f"{n:05d}" + "R" * 300 for n in range(5000)]}), how="cross"
    )
    crowded = AuditRun(
        dataclasses.replace(run.audit, volumes=many.assign(provider_code=many["code"])), "x", {}, (), ""
    )
    with pytest.raises(
        RfdAuditError, match=r"^provider ZZ9 is not in the audit HINT: the audit has 00000R"
    ) as error:
        ProviderPage(crowded, "ZZ9")
    assert len(str(error.value)) < 400 and str(error.value).endswith("and 4,990 more")


def test_a_provider_without_population_is_named_as_not_compared(synthetic_set):
    classified, populations = no_population(synthetic_set.classified, synthetic_set.populations)
    audit = audit_metrics(classified, populations=populations)
    run = AuditRun(audit, "quiet", provider_names(populations), (), "1 April 2027")
    assert audit.funnel.excluded == {"ZC3": "no population"}
    page = ProviderPage(run, "ZC3")
    assert page.funnel_position() == "not compared (no population)"
    assert "not compared with its peers" in page.summary()
