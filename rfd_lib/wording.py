"""The reports' sentences, read from one analyst-editable file (``params/wording.yaml``).

Titles, captions, paragraph sentences, notes, headline labels and table headings are templates
in that file, each under a dotted key (``provider_page.summary.volume``) with ``{name}``
placeholders the code fills in. :data:`SENTENCES` declares, in Python, every key and the
placeholders the code supplies for it; the file is checked against it when loaded, and any
problem fails the load with one line naming the file and the key (ehrQL's habit: a typo must
fail loudly, never print a report with a sentence missing):

* a declared key is missing, or a key is there that no report prints (a typo);
* a sentence is not text, or is not a valid template (a stray ``{`` or ``}``);
* a placeholder the code does not supply for that sentence, or one that is more than a plain
  name: ``{provider.__class__}``, ``{a[0]}``, ``{0}``, ``{}``, ``{x!r}`` and ``{x:>9}`` are all
  refused, so a template can only substitute values, never reach into them.

A template may leave out any of its placeholders. Values are inserted as they are, once: a value
holding ``{x}`` or ``</p>`` is never formatted again, and escaping for HTML happens afterwards,
where it always has (:func:`rfd_lib.report.tables.paragraphs` and ``table``).

Use :func:`say` (``say("provider_page.title", provider=name, code=code)``); :func:`wording`
returns the whole checked file.
"""

from __future__ import annotations

import difflib
import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rfd_lib import config
from rfd_lib.errors import RfdAuditError
from rfd_lib.yaml_model import listed, quoted, read_yaml, shortened


class WordingError(RfdAuditError):
    """The wording file cannot be used: a sentence missing, unknown, or not a valid template."""


# Every sentence the reports print: its key in params/wording.yaml → the placeholders the code
# supplies. A declaration table, not logic: add a row here when code starts to `say` a new key.
SENTENCES: dict[str, tuple[str, ...]] = {
    # Said on more than one page.
    "shared.rate_unit": ("per",),
    "shared.rate_per.adult_population": (),
    "shared.rate_per.catchment_population": (),
    "shared.rate_period": ("quarter",),
    "shared.population_axis.adult_population": (),
    "shared.population_axis.catchment_population": (),
    "shared.funnel_not_compared": (),
    "shared.provider_with_code": ("name", "code"),
    # One provider's report (rfd_lib/report/pages.py, ProviderPage).
    "provider_page.title": ("provider", "code"),
    "provider_page.headline.counted": ("quarter",),
    "provider_page.headline.rate": ("per", "quarter"),
    "provider_page.headline.funnel": (),
    "provider_page.headline.red_checks": (),
    "provider_page.comparison.not_compared": ("reason",),
    "provider_page.comparison.position": ("position",),
    "provider_page.summary.volume": ("quarter", "provider", "coded", "counted"),
    "provider_page.summary.trend": ("trend",),
    "provider_page.summary.red_checks": ("checks",),
    "provider_page.summary.no_red_check": (),
    "provider_page.counted_chart.title": ("provider",),
    "provider_page.counted_chart.value_label": (),
    "provider_page.counted_chart.too_few": ("provider",),
    "provider_page.facet_injection_chart.title": ("provider",),
    "provider_page.facet_injection_chart.value_label": (),
    "provider_page.facet_injection_chart.too_few": ("provider",),
    "provider_page.interval_chart.not_shown": ("provider",),
    "provider_page.since_last_quarter.first_quarter": ("quarter",),
    "provider_page.since_last_quarter.counted": ("previous", "previous_quarter", "counted", "quarter"),
    "provider_page.since_last_quarter.statuses": ("previous_quarter", "changes"),
    "provider_page.since_last_quarter.note": (),
    "provider_page.since_last_quarter.check": (),
    "provider_page.since_last_quarter.previous_share": ("quarter",),
    "provider_page.since_last_quarter.previous_status": ("quarter",),
    "provider_page.since_last_quarter.share": ("quarter",),
    "provider_page.since_last_quarter.status": ("quarter",),
    "provider_page.since_last_quarter.change": (),
    # What changed since the previous quarter, in a few words (rfd_lib/metrics/changes.py).
    "changes.new_red": ("count",),
    "changes.new_amber": ("count",),
    "changes.worse": ("count",),
    "changes.resolved": ("count",),
    "changes.better": ("count",),
    "changes.none": (),
    # The summary report (rfd_lib/report/summary_page.py, SummaryPage).
    "summary_page.headline.providers": (),
    "summary_page.headline.counted": ("quarter",),
    "summary_page.headline.outside": (),
    "summary_page.headline.red": (),
    "summary_page.league_table.provider": (),
    "summary_page.league_table.counted": (),
    "summary_page.league_table.last_quarters": ("quarters",),
    "summary_page.league_table.rate": ("per",),
    "summary_page.league_table.interval": (),
    "summary_page.league_table.funnel": (),
    "summary_page.league_table.trend": (),
    "summary_page.league_table.red": (),
    "summary_page.league_table.amber": (),
    "summary_page.league_table.no_trend_chart": (),
    "summary_page.league_table.trend_value.common_cause": (),
    "summary_page.league_table.trend_value.improvement_high": (),
    "summary_page.league_table.trend_value.improvement_low": (),
    "summary_page.league_table.trend_value.concern_high": (),
    "summary_page.league_table.trend_value.concern_low": (),
    "summary_page.league_table.trend_value.neither_high": (),
    "summary_page.league_table.trend_value.neither_low": (),
    "summary_page.league_table.rate_note": ("per", "quarter"),
    "summary_page.check_matrix.provider": (),
    "summary_page.check_matrix.check": ("number",),
    "summary_page.check_matrix.key_check": (),
    "summary_page.check_matrix.key_label": (),
    "summary_page.check_matrix.note": (),
    "summary_page.trend_chart.title": (),
    "summary_page.trend_chart.value_label": (),
    "summary_page.trend_chart.too_few": (),
    "summary_page.trend_chart.totals_note": ("footnote",),
    # The notes of the restricted-use checks (rfd_lib/metrics/checks.py), in every checks table.
    "checks.notes.none_to_assess": (),
    "checks.notes.no_patient_identifier": (),
    "checks.notes.no_patient_classification": (),
    "checks.notes.look_back": (),
    "checks.notes.too_few": (),
    "checks.notes.worst_case": (),
    "checks.notes.worst_denominator": (),
    "checks.notes.not_shown_unassessed": (),
    "checks.notes.counted_less": ("rounding",),
    "checks.notes.baseline": ("first", "last"),
    "checks.notes.no_baseline": (),
    "checks.notes.no_expected_rate": (),
    "checks.notes.no_population_file": (),
    "checks.notes.no_population_for": (),
    "checks.notes.person_years": ("people",),
    "checks.notes.adults": (),
    "checks.notes.all_ages": (),
    "checks.notes.without_side": ("count",),
    "checks.notes.no_diagnosis_list": (),
    "checks.notes.coded_blocks": (),
    # What each kind of check means and what to ask the provider (rfd_lib/metrics/checks.py, MEANING).
    "checks.meaning.prior_block": (),
    "checks.ask.prior_block": (),
    "checks.meaning.repeat": (),
    "checks.ask.repeat": (),
    "checks.meaning.therapeutic_block": (),
    "checks.ask.therapeutic_block": (),
    "checks.meaning.facet_joint_injection": (),
    "checks.ask.facet_joint_injection": (),
    "checks.meaning.day_case": (),
    "checks.ask.day_case": (),
    "checks.meaning.change_from_baseline": (),
    "checks.ask.change_from_baseline": (),
    "checks.meaning.expected_rate": (),
    "checks.ask.expected_rate": (),
    "checks.meaning.rfd_without_lumbar_site": (),
    "checks.ask.rfd_without_lumbar_site": (),
    "checks.meaning.rfd_diagnosis_outside_list": (),
    "checks.ask.rfd_diagnosis_outside_list": (),
    # Each check's basis and thresholds, beside its status (rfd_lib/metrics/checks.py).
    "checks.basis.guidance": ("quote",),
    "checks.basis.local_policy": (),
    "checks.basis.data_quality": (),
    "checks.basis.repeat_research": (),
    "checks.thresholds.low": ("green", "amber"),
    "checks.thresholds.high": ("green", "amber"),
    # The national definition's restrictions: context, not checks (rfd_lib/metrics/definition.py,
    # rfd_lib/report/pages.py, rfd_lib/report/summary_page.py).
    "definition.intro": ("quarter", "provider"),
    "definition.none_outside": ("quarter", "provider"),
    "definition.step": (),
    "definition.spells": (),
    "definition.codes": (),
    "definition.column": ("column",),
    "definition.code_with_count": ("code", "spells"),
    "definition.other_codes": (),
    "definition.no_code_listed": ("least",),
    "definition.no_codes": (),
    "definition.blank_code": (),
    "definition.circulation_note": ("least", "most"),
    "definition.summary.provider": (),
    "definition.summary.coded": (),
    "definition.summary.counted": (),
    "definition.summary.note": (),
    # The audit's notes on the data, at the end of every report (rfd_lib/metrics/audit.py).
    "audit.notes.quarters": ("date", "first", "last"),
    "audit.notes.no_date_yet": ("date", "spells"),
    "audit.notes.after_the_quarter": (),
    "audit.notes.repeat_intervals": ("first", "last"),
    "audit.notes.no_population": (),
    "audit.notes.no_population_funnel": (),
    "audit.notes.no_comparable_provider": ("quarter",),
    "audit.notes.one_comparable_provider": ("quarter", "adjustment", "providers"),
    "audit.notes.rates_per_adult": (),
    "audit.notes.rates_per_person_some_without_adults": ("providers",),
    "audit.notes.rates_per_person_no_adults": (),
    "audit.notes.rates_annualised": (),
    "audit.notes.rate_interval_rounded": ("published", "lowest", "highest"),
    "audit.notes.rate_interval_exact": (),
    # What each status means, in the index's legend (rfd_lib/metrics/status.py).
    "statuses.red": (),
    "statuses.amber": (),
    "statuses.green": (),
    "statuses.not_assessable": (),
    # The checks table of a provider's report (rfd_lib/report/pages.py, checks_table): headings.
    "checks_table.provider": (),
    "checks_table.check": (),
    "checks_table.basis": (),
    "checks_table.thresholds": (),
    "checks_table.spells": (),
    "checks_table.of": (),
    "checks_table.share": (),
    "checks_table.status": (),
    "checks_table.note": (),
    # The run's index.html (rfd_lib/report/index.py).
    "run_index.title": ("quarter", "run"),
    "run_index.subtitle": ("quarter", "guidance"),
    "run_index.headline.counted": (),
    "run_index.headline.rate": ("per",),
    "run_index.headline.funnel": (),
    "run_index.headline.changes": (),
    "run_index.headline.no_previous_quarter": (),
    "run_index.report_failed": ("error", "notebook"),
    "run_index.notes.report_failed": ("report", "error", "notebook"),
    "run_index.notes.no_pdf": ("report", "error"),
    "run_index.notes.interrupted": ("count", "reports"),
    "run_index.notes.dropped": ("provider", "date", "reason"),
    # A partial run (rfd_lib/pipeline/partial.py): reports kept from an earlier run, or dropped.
    "run_index.kept": ("date",),
    "run_index.kept_unknown_date": (),
    "run_index.partial.banner": ("shown", "total", "providers", "missing", "command"),
    "run_index.partial.summary_made": ("count",),
    "run_index.partial.summary_kept": ("date", "count"),
    "run_index.dropped.quarter": ("quarter",),
    "run_index.dropped.disclosure": ("mode",),
    "run_index.dropped.rule": (),
    "run_index.dropped.marking": ("marking",),
    "run_index.dropped.no_marking": (),
    "run_index.dropped.changed": ("file",),
    "run_index.dropped.added": ("file",),
    "run_index.dropped.removed": ("file",),
    "run_index.dropped.missing": (),
    "run_index.dropped.unrecorded": (),
    "run_index.dropped.database": (),
    "run_index.spark_kept_only": (),
    # The tables written for analysts (rfd_lib/report/table_files.py).
    "table_files.all_providers": (),
    "table_files.about.title": (),
    "table_files.about.columns": (),
    # The case lists for local review (rfd_lib/metrics/case_lists.py, rfd_lib/report/case_lists.py).
    "case_lists.why.counted": ("check",),
    "case_lists.why.not_counted": ("check",),
    "case_lists.about.title": (),
    "case_lists.about.columns": (),
    "case_lists.about.counts": (),
    "case_lists.banner": (),
    # Charts (rfd_lib/charts/).
    "charts.suppressed_note": (),
    "charts.volume.title": ("provider",),
    "charts.volume.caption": ("provider", "first", "last", "quarter", "coded", "counted"),
    "charts.volume.coded_legend": (),
    "charts.volume.counted_legend": (),
    "charts.volume.y_axis": (),
    "charts.volume.x_axis": (),
    "charts.waterfall.title": ("provider", "quarter"),
    "charts.waterfall.caption": ("provider", "quarter", "coded", "counted", "reasons"),
    "charts.waterfall.reason": ("label", "count"),
    "charts.waterfall.x_axis": (),
    "charts.interval.title": ("provider",),
    "charts.interval.caption": ("provider", "months", "sooner"),
    "charts.interval.x_axis": (),
    "charts.interval.y_axis": (),
    "charts.funnel.default_rate_unit": (),
    "charts.funnel.title": ("rate_unit", "period", "outside"),
    "charts.funnel.title_none_outside": ("level",),
    "charts.funnel.title_some_outside": ("outside", "compared", "level"),
    "charts.funnel.x_axis": (),
    "charts.funnel.limits_legend": ("level",),
    "charts.funnel.peer_rate_legend": ("rate", "per"),
    "charts.funnel.within_legend": ("level",),
    "charts.funnel.above_legend": ("level",),
    "charts.funnel.below_legend": ("level",),
    "charts.funnel.highlight_legend": ("provider",),
    "charts.funnel.line.solid": (),
    "charts.funnel.line.dashed": (),
    "charts.funnel.line.dotted": (),
    "charts.funnel.line.dashdot": (),
    "charts.funnel.caption.points": ("count",),
    "charts.funnel.caption.one_point": (),
    "charts.funnel.caption.reading": ("points", "rate_unit", "period", "rate", "per", "lines"),
    "charts.funnel.caption.limit_lines": ("line", "level"),
    "charts.funnel.caption.method": ("method",),
    "charts.funnel.caption.above": ("level", "providers"),
    "charts.funnel.caption.below": ("level", "providers"),
    "charts.funnel.caption.outside_provider": ("code", "rate", "per"),
    "charts.funnel.caption.none_outside": ("level",),
    "charts.funnel.caption.not_shown": ("providers",),
    "charts.funnel.caption.not_shown_provider": ("code", "reason"),
    "charts.funnel.caption.highlight": ("provider",),
    "charts.spc.mean_legend": (),
    "charts.spc.limits_legend": (),
    "charts.spc.target_legend": (),
    "charts.spc.baseline_ends": (),
    "charts.spc.legend.improvement": (),
    "charts.spc.legend.concern": (),
    "charts.spc.legend.neither": (),
    "charts.spc.legend.common_cause": (),
    "charts.spc.legend.suppressed": ("threshold",),
    "charts.spc.legend.unpublished_total": (),
    "charts.spc.colour.improvement": (),
    "charts.spc.colour.concern": (),
    "charts.spc.colour.neither": (),
    "charts.spc.colour.common_cause": (),
    "charts.spc.caption.span": ("value_label", "count", "unit", "first", "last"),
    "charts.spc.caption.limits": ("mean", "lower", "upper", "sigmas", "spread", "basis"),
    "charts.spc.caption.limits_published": ("mean", "lower", "upper", "sigmas", "basis", "rounded"),
    "charts.spc.caption.rounded_whole": (),
    "charts.spc.caption.rounded_coarse": ("rounding",),
    "charts.spc.caption.limits_withheld": ("rounding",),
    "charts.spc.caption.shown_counts": ("rounding", "threshold"),
    "charts.spc.caption.shown_totals": ("rounding",),
    "charts.spc.caption.unpublished_totals": ("periods",),
    "charts.spc.caption.basis_baseline": ("count", "unit"),
    "charts.spc.caption.basis_all": (),
    "charts.spc.caption.target": ("target",),
    "charts.spc.caption.colours": ("colours",),
    "charts.spc.caption.variation": ("summary",),
    "charts.spc.caption.assurance": ("assurance",),
    "charts.spc.caption.no_assurance": (),
    "charts.spc.caption.note": ("note",),
    # An analyst's own chart of counts (rfd_lib/charts/counts.py).
    "charts.counts.figure": ("label", "count"),
    "charts.counts.figures": ("figures",),
    # An analyst's own table (rfd_lib/report/analyst.py, page.publish).
    "analyst.total": (),
}

_HINT = "change the words, keep each sentence's {placeholders}; the file's header says how"


@dataclass(frozen=True)
class Template:
    """One checked sentence: its text as written and its pieces (literal text, placeholder or None)."""

    key: str
    text: str
    pieces: tuple[tuple[str, str | None], ...]

    def fill(self, values: Mapping[str, object]) -> str:
        """Return the sentence with each placeholder replaced by its value (``format(value, "")``).

        Only substitution: the pieces were split once when the file was loaded, so a value is
        inserted as it is and never read as a template itself.
        """
        return "".join(
            literal + ("" if name is None else format(values[name], "")) for literal, name in self.pieces
        )


@dataclass(frozen=True)
class Wording:
    """The checked wording file: every declared sentence, by key."""

    path: Path
    templates: Mapping[str, Template]

    def say(self, key: str, **values: object) -> str:
        """Return sentence ``key`` filled in with ``values`` (exactly the placeholders it declares).

        A key that is not in :data:`SENTENCES`, or values other than those it declares, is a bug in
        the calling code and raises ``KeyError`` / ``TypeError``.
        """
        if key not in SENTENCES:
            raise KeyError(f"{key!r} is not a sentence in rfd_lib.wording.SENTENCES")
        expected = set(SENTENCES[key])
        if set(values) != expected:
            raise TypeError(f"say({key!r}) takes the values {sorted(expected)}, was given {sorted(values)}")
        return self.templates[key].fill(values)


def wording(path: str | Path | None = None) -> Wording:
    """Return the wording file at ``path`` (default ``params/wording.yaml``), checked.

    Loaded once until the file changes (cached by path and modification time). Raises
    :class:`WordingError` with one line naming the file and the key at fault.
    """
    path = Path(path) if path is not None else config.WORDING
    return _load(path.resolve(), path.stat().st_mtime_ns if path.is_file() else 0)


def say(key: str, **values: object) -> str:
    """Return the report sentence ``key`` from ``params/wording.yaml``, filled in with ``values``.

    E.g. ``say("provider_page.title", provider="Synthetic Hospitals", code="ZA1")`` returns
    ``"RFD audit: Synthetic Hospitals (ZA1)"``. The text is not escaped: HTML escaping happens
    where the sentence is placed, as it does for every other text.
    """
    return wording().say(key, **values)


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int) -> Wording:
    raw = read_yaml(path, WordingError, "the wording")
    if not isinstance(raw, dict) or not raw:
        raise WordingError(
            f"{path}: the wording file must be groups of sentences (key: text), not "
            f"{'an empty file' if raw is None else type(raw).__name__}",
            hint="compare it with the shipped params/wording.yaml",
        )
    found: dict[str, object] = {}
    _flatten(raw, "", path, found)
    missing = [key for key in SENTENCES if key not in found]
    if missing:
        raise WordingError(
            f"{path}: {missing[0]}: missing (every sentence the reports print must be there"
            f"{f'; {len(missing):,} missing: {listed(missing, 3)}' if len(missing) > 1 else ''})",
            hint="copy it back from the shipped params/wording.yaml",
        )
    return Wording(path, {key: _template(path, key, found[key]) for key in SENTENCES})


def _flatten(group: dict, prefix: str, path: Path, found: dict[str, object]) -> None:
    """Collect the sentences of ``group`` under dotted keys; refuse a key no report prints."""
    for name, value in group.items():
        key = f"{prefix}{name}"
        if key in SENTENCES:
            found[key] = value
        elif isinstance(name, str) and _is_group(key):
            if not isinstance(value, dict):
                raise WordingError(
                    f"{path}: {key}: must be a group of sentences (key: text), not {_kind(value)}",
                    hint="compare it with the shipped params/wording.yaml",
                )
            _flatten(value, f"{key}.", path, found)
        else:
            close = difflib.get_close_matches(key[:200], [*SENTENCES, *_groups()], n=1)
            raise WordingError(
                f"{path}: {shortened(key, 80)}: not a sentence or group the reports use",
                hint=f"did you mean {close[0]}?" if close else _HINT,
            )


def _kind(value: object) -> str:
    """Return what a YAML value is, for a message: "nothing", "int", "list", ..."""
    return "nothing" if value is None else type(value).__name__


@functools.cache
def _groups() -> frozenset[str]:
    return frozenset(key.rsplit(".", n)[0] for key in SENTENCES for n in range(1, key.count(".") + 1))


def _is_group(key: str) -> bool:
    return key in _groups()


def _template(path: Path, key: str, text: object) -> Template:
    """Return ``text`` checked as sentence ``key``'s template (see the module for what is refused)."""
    if not isinstance(text, str):
        raise WordingError(
            f"{path}: {key}: must be text, not {_kind(text)}",
            hint='put the sentence in double quotes (a sentence that starts with "{" must be quoted)',
        )
    supplied = SENTENCES[key]
    offer = f"it can use {', '.join(f'{{{name}}}' for name in supplied)}" if supplied else "it takes none"
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as problem:
        raise WordingError(
            f"{path}: {key}: not a valid template ({problem})",
            hint="write a brace that is not a placeholder twice: {{ or }}",
        ) from None
    pieces = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            pieces.append((literal, None))
            continue
        shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not field.isidentifier() or conversion or spec:
            raise WordingError(
                f"{path}: {key}: placeholder {quoted(shown)} must be a plain {{name}} "
                "(no '.', '[ ]', '!', ':' and no empty or numbered braces)",
                hint=offer,
            )
        if field not in supplied:
            raise WordingError(f"{path}: {key}: unknown placeholder {quoted(shown)}", hint=offer)
        pieces.append((literal, field))
    return Template(key, text, tuple(pieces))
