"""What an analyst adds to a report notebook, and the guard that keeps it within disclosure control.

A report notebook's ``page`` (:class:`~rfd_lib.report.pages.ProviderPage` or
:class:`~rfd_lib.report.summary_page.SummaryPage`) carries, from :class:`AnalystTools`:

* ``page.spells``: the spells behind the report (one provider's, or every provider's on the
  summary) as a plain DataFrame, one row per classified spell (:func:`analysis_spells` lists
  its columns). It is **patient level**: work with it, never show it.
* ``page.tables``: the published tables, tidy, exactly as ``tables/`` holds them
  (:func:`rfd_lib.report.table_files.tidy_tables`), for reuse in a calculation.
* ``page.publish(table)``: an analyst's own table of counts, protected by the run's disclosure
  policy (:func:`publish_table`), and ``page.publish_chart(table)``, the same counts as a bar
  chart in the house style (:func:`publish_chart`).

The guard. In a circulation run, creating the page installs a check on everything a cell shows
(:func:`guard_displays`, in the kernel's display formatter: both a cell's last value and
``display()`` go through it). A pandas table or series, a numpy array, a bare number, a
matplotlib figure or axes not made by the house's chart functions, a pyarrow table: each raises
:class:`UnprotectedOutputError` before anything of it is formatted, so the cell fails, papermill
stops the notebook, and the report is not made; the run's failure listing names the cell
(:func:`unprotected_cell`). The page's own sections, :func:`publish_table` and
:func:`publish_chart` return a :class:`~rfd_lib.report.tables.Fragment` or a
:class:`~rfd_lib.charts.house_style.Chart`, which pass. Not caught: text a cell prints
(``print(table)``) or builds itself (an f-string holding a count, ``HTML(table.to_html())``):
publish counts, never print them. In internal mode the guard is off and every page carries
the internal banner.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rfd_lib.charts.counts import count_bar_chart
from rfd_lib.charts.house_style import Chart
from rfd_lib.engine.expressions import columns_of
from rfd_lib.engine.rule import Rule, load_rule
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.disclosure import FLAG_SUFFIX, Disclosure, DisclosureError, add_totals, as_text, protect
from rfd_lib.metrics.periods import financial_quarter
from rfd_lib.report.saved_audit import AuditRun
from rfd_lib.report.tables import Fragment, table
from rfd_lib.wording import say

# Columns of page.spells that identify a spell or a patient: never a table's grouping.
IDENTIFIERS = ("spell_id", "patient_id")
# Extract columns page.spells keeps, by the name it gives them (when the extract has them).
SPELL_COLUMNS = {
    "provider_code": "provider",
    "spell_id": "spell_id",
    "patient_id": "patient_id",
    "admission_date": "admission_date",
    "discharge_date": "discharge_date",
    "patient_classification": "patient_classification",
    "Admission_Method": "admission_method",
    "Administrative_Category": "administrative_category",
    "Primary_Spell_Procedure": "primary_procedure",
    "Primary_Spell_Diagnosis": "primary_diagnosis",
}
# What a circulated report may not show as it is, by the package of its type (or a base type's).
DATA_KINDS = {
    "pandas": "a pandas table or series",
    "numpy": "a numpy array or number",
    "matplotlib": "a matplotlib figure",
    "pyarrow": "a pyarrow table",
    "polars": "a polars table",
}
# The ages the rule reads, first one given (its ISNULL(...)).
AGE_COLUMNS = ("Age_At_Start_of_Spell_SUS", "Der_Age_at_CDS_Activity_Date")


class UnprotectedOutputError(DisclosureError):
    """A cell of a circulated report tried to show data that has not been through disclosure control."""


class PublishedTable(Fragment):
    """An analyst's table as a report shows it (HTML), with its protected counts in :attr:`data`."""

    data: pd.DataFrame
    counts: tuple[str, ...]


# --- page.spells -----------------------------------------------------------------------------


def analysis_spells(run: AuditRun, provider: str | None = None) -> pd.DataFrame:
    """Return the run's classified spells (``provider``'s only, when given) as a plain DataFrame.

    One row per spell, columns: ``provider``, ``spell_id``, ``patient_id``, ``admission_date``,
    ``discharge_date``, ``quarter`` (the financial quarter the audit puts the spell in: of its
    ``period_date``, ``<NA>`` when it has none), ``age`` (at the start of the spell, as the rule
    reads it), ``rfd_coded`` (True when the spell is coded as RFD: it meets the rule's scope),
    ``counted`` (True when the rule counts it), ``label`` (the rule's category, e.g.
    ``2K_RFD_back``, where counted), ``reason`` (why a spell was not counted, as text), the codes
    (``primary_procedure``, ``primary_diagnosis``, ``admission_method``,
    ``administrative_category``, ``patient_classification``; those the extract has), then one
    column per restriction of the rule, named by :func:`criterion_names` (True / False / ``<NA>``,
    SQL's TRUE / FALSE / UNKNOWN). Raises :class:`RfdAuditError` when the run saved no spells.
    """
    path = Path(run.spells_file) if run.spells_file else None
    if path is None or not path.is_file():
        raise RfdAuditError(
            f"this audit has no classified spells saved{f' ({path})' if path else ''}",
            hint="open a run made by `make report` or rfd-audit run (its internal/ folder holds them)",
        )
    spells = _spells(
        str(path), path.stat().st_mtime_ns, run.rule, run.audit.expectations.period_date, provider
    )
    return spells.copy()  # the analyst's to change: the cached copy stays as read


@functools.lru_cache(maxsize=4)
def _spells(
    path: str, _mtime_ns: int, rule_name: str, period_date: str, provider: str | None
) -> pd.DataFrame:
    filters = [("provider_code", "==", provider)] if provider else None
    classified = pd.read_parquet(path, filters=filters)
    rule = load_rule(rule_name)
    frame = pd.DataFrame(index=classified.index)
    for column, name in SPELL_COLUMNS.items():
        if column in classified.columns and name in ("provider", "spell_id", "patient_id"):
            frame[name] = classified[column]
    for column in ("admission_date", "discharge_date"):
        if column in classified.columns:
            frame[column] = classified[column]
    frame["quarter"] = financial_quarter(classified[period_date])
    ages = [classified[column].astype("Int64") for column in AGE_COLUMNS if column in classified.columns]
    frame["age"] = functools.reduce(lambda first, then: first.fillna(then), ages) if ages else pd.NA
    scope = [classified[criterion.name].fillna(False).to_numpy(dtype=bool) for criterion in rule.scope]
    frame["rfd_coded"] = np.logical_and.reduce(scope) if scope else False
    frame["counted"] = classified["ebi_category"].notna().to_numpy()
    frame["label"] = classified["ebi_category"].astype("string")
    frame["reason"] = classified["reason"].astype("string")
    for column, name in SPELL_COLUMNS.items():
        if column in classified.columns and name not in frame.columns:
            frame[name] = classified[column].astype("string")
    for criterion, name in criterion_names(rule).items():
        frame[name] = classified[criterion].astype("boolean")
    return frame.reset_index(drop=True)


def criterion_names(rule: Rule) -> dict[str, str]:
    """Return each restriction of ``rule`` (as classify names it) → its short column name in page.spells.

    A criterion named by its comment (``-- Age between 19 and 120``) is that comment in snake
    case (``age_between_19_and_120``); one named by its SQL, the columns it reads
    (``primary_spell_diagnosis``). A name already taken gets the criterion's number.
    """
    names: dict[str, str] = {}
    for number, criterion in enumerate(rule.restrictions, start=1):
        words = (
            criterion.name if criterion.name != criterion.sql else " ".join(columns_of(criterion.expression))
        )
        name = re.sub(r"[^0-9a-z]+", "_", words.lower()).strip("_")[:40].strip("_") or f"criterion_{number}"
        taken = {*names.values(), *SPELL_COLUMNS.values(), "quarter", "age", "rfd_coded", "counted", "label"}
        names[criterion.name] = name if name not in taken else f"{name}_{number}"
    return names


# --- page.publish ----------------------------------------------------------------------------


def publish_table(
    data: pd.DataFrame | pd.Series,
    policy: Disclosure,
    counts: Sequence[str] | str | None = None,
    *,
    title: str | None = None,
    caption: str | None = None,
    within: Sequence[str] = (),
) -> PublishedTable:
    """Return ``data``'s counts protected by ``policy`` as a report table, with a total row and the notes.

    ``data`` is a table of counts by some grouping: a DataFrame whose grouping is its columns or
    its index (``spells.groupby(["quarter", "age_band"]).size()`` too, a Series). Its count
    columns are ``counts`` or else its integer columns; any other column of numbers is refused
    (a mean or a share of true counts is not protected), and so is a grouping by an identifier.
    The counts are protected (:func:`~rfd_lib.metrics.disclosure.protect`: 1–7 suppressed,
    others rounded, complementary suppression) within each group of ``within`` (default: the
    whole table), and a total row follows each group: the sum of the counts shown. Suppressed
    counts print ``*``; the table's note is ``caption`` then the disclosure footnote (in internal
    mode, the banner: true counts, not to circulate).
    """
    frame, counts, labels = _counts_table(data, counts)
    within = list(within)
    unknown = [column for column in within if column not in labels]
    if unknown:
        raise DisclosureError(f"within: {unknown[0]!r} is not a grouping column of the table")
    protected = protect(frame, counts, within=within, policy=policy)
    free = [column for column in labels if column not in within]
    label = {free[0]: say("analyst.total")} if free else {}
    with_totals = add_totals(protected, counts, within=within, label=label) if free else protected
    shown = pd.DataFrame(
        {
            **{column: with_totals[column].astype("string").fillna("") for column in labels},
            **{
                column: as_text(with_totals[column], with_totals[f"{column}{FLAG_SUFFIX}"])
                for column in counts
            },
        }
    )
    classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
    classes[list(counts)] = "count"
    note = " ".join(part for part in (caption, policy.footnote or policy.banner) if part)
    published = PublishedTable(table(shown, classes=classes, caption=title, footnote=note or None))
    published.data, published.counts = with_totals, tuple(counts)
    return published


def publish_chart(
    data: pd.DataFrame | pd.Series,
    policy: Disclosure,
    counts: str | None = None,
    *,
    title: str,
    caption: str = "",
) -> Chart:
    """Return a bar chart of ``data``'s counts as :func:`publish_table` protects them (no total bar).

    One bar per row of ``data`` (its grouping, joined, labels the bar), of its one count column
    (``counts``, or its only integer column); a suppressed count is no bar and a ``*``. The
    caption is ``caption``, every figure as published, and the disclosure footnote when one is
    suppressed; in internal mode, the true counts and the internal banner.
    """
    frame, names, labels = _counts_table(data, counts)
    if len(names) != 1:
        raise DisclosureError(
            f"a chart draws one count column and the table has {len(names)}: {', '.join(names)}",
            hint="name it: page.publish_chart(table, counts='spells', title=...)",
        )
    (column,) = names
    protected = protect(frame, names, within=[], policy=policy)
    values = protected[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    bars = frame[labels].astype("string").fillna("").agg(" / ".join, axis=1) if labels else frame.index
    footnote = policy.footnote
    text = caption if policy.circulating else " ".join(part for part in (caption, policy.banner) if part)
    return count_bar_chart(
        list(bars), values, title=title, caption=text, value_label=column, footnote=footnote
    )


def _counts_table(
    data: pd.DataFrame | pd.Series, counts: Sequence[str] | str | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Return ``data`` as a flat table, its count columns and its grouping (label) columns."""
    if isinstance(data, pd.Series):
        data = data.to_frame(data.name if data.name is not None else "spells")
    if not isinstance(data, pd.DataFrame):
        raise DisclosureError(
            f"page.publish takes a pandas DataFrame or Series of counts, not {type(data).__name__}"
        )
    frame = data if isinstance(data.index, pd.RangeIndex) else data.reset_index()
    frame = frame.reset_index(drop=True)
    frame.columns = [str(column) for column in frame.columns]
    if counts is None:
        counts = [
            column
            for column in frame.columns
            if pd.api.types.is_integer_dtype(frame[column].dtype)
            and not pd.api.types.is_bool_dtype(frame[column].dtype)
        ]
    counts = [counts] if isinstance(counts, str) else list(counts)
    if not counts:
        raise DisclosureError(
            "the table has no count column (a column of whole numbers)",
            hint="name it: page.publish(table, counts=['spells'])",
        )
    missing = [column for column in counts if column not in frame.columns]
    if missing:
        raise DisclosureError(f"the table has no column {missing[0]!r}")
    labels = [column for column in frame.columns if column not in counts]
    for column in labels:
        kind = frame[column].dtype
        if pd.api.types.is_float_dtype(kind):
            raise DisclosureError(
                f"column {column!r} holds numbers that are not counts: only counts can be published",
                hint="publish the counts; a share or a mean worked out from true counts is not protected",
            )
        if column.lower() in IDENTIFIERS:
            raise DisclosureError(
                f"column {column!r} identifies spells or patients: a table may not be grouped by it",
                hint="group by a quarter, a band or a code",
            )
    frame[labels] = frame[labels].astype("string")
    return frame, counts, labels


# --- the guard -----------------------------------------------------------------------------


def _unprotected_kind(value: object) -> str | None:
    """Return what ``value`` is when a circulated report may not show it as it is, else None."""
    if isinstance(value, Fragment | Chart | str | bool | type(None)):
        return None
    for cls in type(value).__mro__:
        kind = DATA_KINDS.get((cls.__module__ or "").split(".")[0])
        if kind:
            return kind
    if isinstance(value, int | float | complex):
        return "a number"
    return None


def guard_displays(policy: Disclosure) -> bool:
    """Install (circulation) or remove (internal) the display guard in this IPython kernel; return whether on.

    Outside IPython (a script, a test) there is nothing to guard and this returns False.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks' kernel
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter
    if not policy.circulating:
        formatter.__dict__.pop("format", None)
        return False
    # An instance attribute over the class's method: display() and a cell's last value both call
    # display_formatter.format, outside IPython's catch-all for failing formatters, so the cell fails.
    formatter.format = _guarded(type(formatter).format.__get__(formatter))
    return True


def _guarded(format_: Callable) -> Callable:
    def format(obj, include=None, exclude=None):
        kind = _unprotected_kind(obj)
        if kind is not None:
            raise UnprotectedOutputError(
                f"the cell shows {kind} that has not been through disclosure control; show counts "
                "with page.publish(table) or page.publish_chart(table, title=...)"
            )
        return format_(obj, include=include, exclude=exclude)

    return format


def unprotected_cell(notebook) -> str | None:
    """Return the one-line failure of an executed notebook whose cell the guard stopped, else None.

    ``notebook`` is an executed notebook (a path or nbformat node). The line names the cell by
    its number in the notebook as the analyst edits it (from 1, markdown cells too, papermill's
    parameters cell left out) and its first line, and says what it showed; never a value.
    """
    import nbformat

    if not isinstance(notebook, nbformat.NotebookNode):
        try:
            notebook = nbformat.read(notebook, as_version=4)
        except (OSError, ValueError):
            return None
    # papermill adds its parameters cell and, on an error, marker cells: not the analyst's.
    added = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [cell for cell in notebook.cells if not added & set(cell.metadata.get("tags", []))]
    for number, cell in enumerate(cells, start=1):
        for output in cell.get("outputs", []):
            if (
                output.get("output_type") == "error"
                and output.get("ename") == UnprotectedOutputError.__name__
            ):
                lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
                first = lines[0] if lines else ""
                first = first if len(first) <= 60 else first[:59] + "…"
                reason = str(output.get("evalue", "")).splitlines()[0] if output.get("evalue") else ""
                what = reason.removeprefix("the cell ")
                return f"{UnprotectedOutputError.__name__}: cell {number} ({first}): {what}"
    return None


# --- on the page ---------------------------------------------------------------------------


class AnalystTools:
    """What a report page gives an analyst's own cells: spells, published tables, publishing."""

    run: AuditRun

    def _open_for_analysis(self) -> None:
        """Install the display guard of the run's policy (called when the page is made)."""
        guard_displays(self.run.audit.policy)

    @property
    def spells(self) -> pd.DataFrame:
        """Return the page's classified spells, patient level (:func:`analysis_spells`): never show them."""
        return analysis_spells(self.run, getattr(self, "code", None))

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the run's published tables, tidy, by name, as the table files hold them."""
        from rfd_lib.report.table_files import tidy_tables

        return tidy_tables(self.run.audit, self.run.provider_names)

    def publish(
        self,
        table: pd.DataFrame | pd.Series,
        counts: Sequence[str] | str | None = None,
        *,
        title: str | None = None,
        caption: str | None = None,
        within: Sequence[str] = (),
    ) -> PublishedTable:
        """Return ``table``'s counts protected by the run's disclosure policy, shown as a report table.

        See :func:`publish_table`: counts found (integer columns) or named, 1–7 shown ``*``,
        others rounded to 5, a total row, the disclosure note.
        """
        return publish_table(
            table, self.run.audit.policy, counts, title=title, caption=caption, within=within
        )

    def publish_chart(
        self,
        table: pd.DataFrame | pd.Series,
        counts: str | None = None,
        *,
        title: str,
        caption: str = "",
    ) -> Chart:
        """Return a bar chart of ``table``'s protected counts (:func:`publish_chart`, the run's policy)."""
        return publish_chart(table, self.run.audit.policy, counts, title=title, caption=caption)
