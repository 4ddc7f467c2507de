"""Label each spell as a rule labels it, with the truth of every criterion and a reason.

``classify`` takes and gives pandas, ``classify_table`` Arrow (a batch of a larger extract, or of a
Spark DataFrame); one implementation, ``_verdict``, works out what both add.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.engine.evaluator import Rows, Spells, Truth, evaluate, plan, sample_rows
from rfd_lib.engine.expressions import Predicate
from rfd_lib.errors import ColumnError, DataError

if TYPE_CHECKING:
    from rfd_lib.engine.rule import Rule

_STATE_TRUE, _STATE_FALSE, _STATE_UNKNOWN = 0, 1, 2


def classify(
    spells: pd.DataFrame,
    rule: Rule | str | os.PathLike[str] = "2K_RFD_back",
    *,
    all_criteria: bool = False,
) -> pd.DataFrame:
    """Return ``spells`` with the rule's verdict on each spell, as SQL Server would give it.

    ``rule`` is the name of a packaged rule (``"2K_RFD_back"``), the path of a rule file in the
    same format, or a :class:`~rfd_lib.engine.rule.Rule` already loaded. ``spells`` must have the
    columns the rule's SQL names (matched ignoring case, as SQL Server does); code columns are
    text with ``<NA>`` for NULL, ages are numbers. The result has the same index, row order and
    columns as ``spells``, and adds:

    * ``ebi_category``: the rule's category (e.g. ``'2K_RFD_back'``) where the spell is counted,
      ``<NA>`` otherwise — a spell is counted only when every WHEN and WHERE criterion is TRUE;
    * one boolean column per criterion, named by the rule's comment or else by its SQL, holding
      TRUE / FALSE / ``<NA>`` (UNKNOWN) as SQL Server evaluates it. The scope criteria (those that
      define the procedure) are evaluated on the spells still in play, most selective first; the
      restrictions on every coded spell. Where a criterion was not needed it is ``<NA>``;
      ``all_criteria=True`` evaluates every criterion on every spell (slower);
    * ``reason`` (categorical): ``<NA>`` for a counted spell; for a coded spell that is not
      counted, ``"fails: "`` and the criteria it does not meet in published order, each marked
      ``(unknown)`` where SQL gave UNKNOWN; for any other spell ``"not coded: "`` and the scope.

    Raises :class:`~rfd_lib.errors.ColumnError` if a column the rule needs is missing or an output
    column already exists, :class:`~rfd_lib.errors.RuleError` if the rule cannot be loaded and
    :class:`~rfd_lib.errors.DataError` where SQL Server would stop with a conversion error on a
    value the evaluation reaches (with ``all_criteria``, every value).
    """
    # Here, not at the top: `import rfd_lib` (every report kernel) need not load the rule compiler.
    from rfd_lib.engine.rule import load_rule

    compiled = load_rule(rule)
    verdict = _verdict(compiled, _spells_for(spells, compiled), all_criteria)
    added = {
        "ebi_category": pd.arrays.ArrowStringArray(verdict.label),
        **{name: pd.arrays.BooleanArray(true, null) for name, (true, null) in verdict.criteria.items()},
        "reason": pd.Categorical.from_codes(verdict.reason_codes, categories=verdict.reasons),
    }
    return pd.concat([spells, pd.DataFrame(added, index=spells.index, copy=False)], axis=1)


def classify_table(
    table: pa.Table | pa.RecordBatch,
    rule: Rule | str | os.PathLike[str] = "2K_RFD_back",
    *,
    all_criteria: bool = False,
) -> pa.Table:
    """Return ``table`` (Arrow) with the columns :func:`classify` adds, worked out without pandas.

    The same compiled rule and evaluation as :func:`classify`, on an Arrow table or record batch
    (one batch of a larger extract, or of a Spark DataFrame): the columns the rule names are
    matched ignoring case, text columns (dictionary-encoded or not) are text, whole numbers and
    decimals are numbers. The result holds ``table``'s columns unchanged and then
    ``ebi_category`` (string, null where not counted), one nullable boolean per criterion and
    ``reason`` (dictionary-encoded string, null where counted), with the values :func:`classify`
    gives. Raises what :func:`classify` raises.
    """
    from rfd_lib.engine.rule import load_rule

    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if not isinstance(table, pa.Table):
        raise TypeError(f"classify_table takes an Arrow table or record batch, not {type(table).__name__}")
    compiled = load_rule(rule)
    resolved = match_columns(table.column_names, compiled)
    source = Spells(
        {name: _normalised(table.column(column), column) for name, column in resolved.items()},
        table.num_rows,
    )
    verdict = _verdict(compiled, source, all_criteria)
    codes = pa.array(verdict.reason_codes, mask=verdict.reason_codes < 0)
    added = {
        "ebi_category": verdict.label,
        **{
            name: pa.array(true, mask=null, type=pa.bool_())
            for name, (true, null) in verdict.criteria.items()
        },
        "reason": pa.DictionaryArray.from_arrays(codes, pa.array(verdict.reasons, pa.string())),
    }
    return pa.Table.from_arrays([*table.columns, *added.values()], names=[*table.column_names, *added])


@dataclass(frozen=True)
class _Verdict:
    """What classify adds, as arrays over all spells, for either of its outputs (pandas or Arrow)."""

    label: pa.Array  # the rule's label where counted, null elsewhere
    criteria: dict[str, tuple[np.ndarray, np.ndarray]]  # per criterion: (TRUE, UNKNOWN) masks
    reason_codes: np.ndarray  # index into ``reasons``; -1 where counted
    reasons: list[str]


def _verdict(compiled: Rule, source: Spells, all_criteria: bool) -> _Verdict:
    """Return the rule's verdict on every spell of ``source``: label, criteria and reasons."""
    truths, coded = _evaluate_criteria(compiled, source, all_criteria)
    size = source.size

    # Only coded spells can be counted or have failures, so the verdict is worked out on them alone.
    state = np.zeros(len(coded), dtype=np.int64)
    for position, criterion in enumerate(compiled.restrictions):
        truth, rows = truths[criterion.name]
        true, null = (truth.true, truth.null) if rows is not None else (truth.true[coded], truth.null[coded])
        state += np.where(null, _STATE_UNKNOWN, np.where(true, _STATE_TRUE, _STATE_FALSE)) * 3**position
    counted = np.zeros(size, dtype=bool)
    counted[coded[state == 0]] = True

    label = pc.if_else(pa.array(counted), pa.scalar(compiled.label), pa.scalar(None, pa.string()))
    codes, categories = _reasons(compiled, coded, state, size)
    criteria = {name: _masks(truth, rows, size) for name, (truth, rows) in truths.items()}
    return _Verdict(label, criteria, codes, categories)


def _spells_for(spells: pd.DataFrame, rule: Rule) -> Spells:
    """Return the rule's columns of ``spells`` as Arrow arrays, checking names and types."""
    if not isinstance(spells, pd.DataFrame):
        raise TypeError(f"classify takes a pandas DataFrame, not {type(spells).__name__}")
    resolved = match_columns([str(column) for column in spells.columns], rule)
    columns = {name: _arrow_column(spells[column], column) for name, column in resolved.items()}
    return Spells(columns, len(spells))


def match_columns(present: Sequence[str], rule: Rule) -> dict[str, str]:
    """Return, for each column the rule reads, the one of ``present`` that holds it (ignoring case).

    Raises ColumnError where a column is missing or matched twice, or where ``present`` already
    has a column classify adds.
    """
    exact = set(present)
    by_folded: dict[str, list[str]] = {}
    for column in present:
        by_folded.setdefault(column.casefold(), []).append(column)
    resolved: dict[str, str] = {}
    missing: list[str] = []
    for name in rule.columns:
        candidates = by_folded.get(name.casefold(), [])
        if len(candidates) == 1:
            resolved[name] = candidates[0]
        elif candidates:
            raise ColumnError(
                f"columns {' and '.join(candidates)} both match {name!r} (SQL Server ignores case)"
            )
        else:
            missing.append(name)
    if missing:
        close = sorted({m for name in missing for m in difflib.get_close_matches(name, present, n=2)})
        raise ColumnError(
            f"the spells have no column {', '.join(missing)}, which rule {rule.name} ({rule.path}) needs",
            hint=f"closest columns present: {', '.join(close)}"
            if close
            else "read the extract with rfd_lib's reader, which names the columns as the rule does",
        )
    from rfd_lib.engine.rule import OUTPUT_COLUMNS

    outputs = {*OUTPUT_COLUMNS, *(c.name for c in rule.criteria)}
    clashes = sorted(outputs & exact)
    if clashes:
        raise ColumnError(
            f"the spells already have a column {clashes[0]!r}, which classify adds",
            hint="drop or rename it first (were these spells classified already?)",
        )
    return resolved


def _arrow_column(series: pd.Series, name: str) -> pa.Array:
    """Return one column as an Arrow array of text or numbers (zero-copy where pandas allows)."""
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ColumnError(
            f"column {name!r} mixes text and numbers; SQL Server columns have one type"
        ) from error
    return _normalised(array, name)


def _normalised(array: pa.Array | pa.ChunkedArray, name: str) -> pa.Array:
    """Return one column as the evaluator takes it: text, int64 or float64 in one chunk."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return array
    if pa.types.is_integer(kind):
        return array.cast(pa.int64())
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return array.cast(pa.float64())
    raise ColumnError(f"column {name!r} holds {kind} values; a rule compares text or numbers")


def _evaluate_criteria(
    rule: Rule, source: Spells, all_criteria: bool
) -> tuple[dict[str, tuple[Truth, Rows]], np.ndarray]:
    """Return each criterion's truth with the rows it was evaluated on, and the coded rows.

    Scope criteria go most selective first, each on the rows the previous ones left in play; the
    restrictions are then evaluated on exactly the coded rows (all rows if ``all_criteria``).
    """
    planned = {c.name: plan(c.expression, source) for c in rule.criteria}
    truths: dict[str, tuple[Truth, Rows]] = {}
    in_play: Rows = None
    sample = sample_rows(source)
    scope = sorted(rule.scope, key=lambda c: _sampled_rate(planned[c.name], source, sample))
    for criterion in scope:
        rows = None if all_criteria else in_play
        truth = evaluate(planned[criterion.name], source, rows)
        truths[criterion.name] = (truth, rows)
        passed = np.flatnonzero(truth.true) if rows is None else rows[truth.true]
        in_play = passed if in_play is None else np.intersect1d(in_play, passed, assume_unique=True)
    coded = in_play if in_play is not None else np.arange(source.size)
    for criterion in rule.restrictions:
        rows = None if all_criteria else coded
        truths[criterion.name] = (evaluate(planned[criterion.name], source, rows), rows)
    return {c.name: truths[c.name] for c in rule.criteria}, coded


def _sampled_rate(expression: Predicate, source: Spells, sample: np.ndarray) -> int:
    """Return how many sampled spells meet ``expression`` (0 if the sample cannot be evaluated)."""
    try:
        return int(evaluate(expression, source, sample).true.sum())
    except DataError:
        return 0


def _masks(truth: Truth, rows: Rows, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a criterion's (TRUE, UNKNOWN) masks over all spells; UNKNOWN where it was not evaluated."""
    if rows is None:
        return truth.true, truth.null
    true = np.zeros(size, dtype=bool)
    null = np.ones(size, dtype=bool)
    true[rows] = truth.true
    null[rows] = truth.null
    return true, null


def _reasons(rule: Rule, coded: np.ndarray, state: np.ndarray, size: int) -> tuple[np.ndarray, list[str]]:
    """Return the reason per spell as codes into the reasons returned with them: -1 when counted.

    ``state`` encodes, for each coded spell, each restriction as a base-3 digit (TRUE, FALSE, UNKNOWN).
    """
    scope = " AND ".join(f"[{c.name}]" for c in rule.scope)
    failing = state != 0
    failing_keys, key_codes = np.unique(state[failing], return_inverse=True)
    categories = [f"not coded: {scope} is not TRUE"] + [_failures(rule, int(key)) for key in failing_keys]
    codes = np.zeros(size, dtype=np.int32)
    codes[coded[failing]] = key_codes + 1
    codes[coded[~failing]] = -1
    return codes, categories


def _failures(rule: Rule, key: int) -> str:
    """Return the reason text for one combination of restriction states."""
    parts = []
    for criterion in rule.restrictions:
        key, state = divmod(key, 3)
        if state == _STATE_FALSE:
            parts.append(criterion.name)
        elif state == _STATE_UNKNOWN:
            parts.append(f"{criterion.name} (unknown)")
    return "fails: " + "; ".join(parts)
