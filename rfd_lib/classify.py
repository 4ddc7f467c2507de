"""``classify``: label each spell as a rule labels it, with the truth of every criterion and a reason."""

from __future__ import annotations

import difflib
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.errors import ColumnError
from rfd_lib.evaluator import Rows, Spells, Truth, evaluate, plan, sample_rows
from rfd_lib.rule import Rule, load_rule

_STATE_TRUE, _STATE_FALSE, _STATE_UNKNOWN = 0, 1, 2


def classify(
    spells: pd.DataFrame,
    rule: str | os.PathLike[str] = "2K_RFD_back",
    *,
    all_criteria: bool = False,
) -> pd.DataFrame:
    """Return ``spells`` with the rule's verdict on each spell, as SQL Server would give it.

    ``rule`` is the name of a packaged rule (``"2K_RFD_back"``) or the path of a rule file in the
    same format. ``spells`` must have the columns the rule's SQL names (matched ignoring case, as
    SQL Server does); code columns are text with ``<NA>`` for NULL, ages are numbers. The result
    has the same index, row order and columns as ``spells``, and adds:

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
    :class:`~rfd_lib.errors.DataError` where SQL Server would stop with a conversion error.
    """
    compiled = load_rule(rule)
    source = _spells_for(spells, compiled)
    truths = _evaluate_criteria(compiled, source, all_criteria)
    size = len(spells)

    in_scope = np.ones(size, dtype=bool)
    for criterion in compiled.scope:
        in_scope &= _full(truths[criterion.name], size).true
    state = np.zeros(size, dtype=np.int64)
    for position, criterion in enumerate(compiled.restrictions):
        truth = _full(truths[criterion.name], size)
        state += np.where(truth.null, _STATE_UNKNOWN, np.where(truth.true, _STATE_TRUE, _STATE_FALSE)) * (
            3**position
        )
    counted = in_scope & (state == 0)

    added: dict[str, object] = {name: _boolean_column(*truths[name], size) for name in truths}
    label = pc.if_else(pa.array(counted), pa.scalar(compiled.label), pa.scalar(None, pa.string()))
    added = {"ebi_category": pd.arrays.ArrowStringArray(label), **added}
    added["reason"] = _reasons(compiled, in_scope, counted, state)

    result = spells.copy(deep=False)
    for name, column in added.items():
        result[name] = column
    return result


def _spells_for(spells: pd.DataFrame, rule: Rule) -> Spells:
    """Return the rule's columns of ``spells`` as Arrow arrays, checking names and types."""
    if not isinstance(spells, pd.DataFrame):
        raise TypeError(f"classify takes a pandas DataFrame, not {type(spells).__name__}")
    present = [str(column) for column in spells.columns]
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
    outputs = {"ebi_category", "reason", *(c.name for c in rule.criteria)}
    clashes = sorted(outputs & exact)
    if clashes:
        raise ColumnError(
            f"the spells already have a column {clashes[0]!r}, which classify adds",
            hint="drop or rename it first (were these spells classified already?)",
        )
    columns = {name: _arrow_column(spells[column], column) for name, column in resolved.items()}
    return Spells(columns, len(spells))


def _arrow_column(series: pd.Series, name: str) -> pa.Array:
    """Return one column as an Arrow array of text or numbers (zero-copy where pandas allows)."""
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ColumnError(
            f"column {name!r} mixes text and numbers; SQL Server columns have one type"
        ) from error
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return array
    if pa.types.is_integer(kind):
        return array.cast(pa.int64())
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return array.cast(pa.float64())
    raise ColumnError(f"column {name!r} holds {kind} values; a rule compares text or numbers")


def _evaluate_criteria(rule: Rule, source: Spells, all_criteria: bool) -> dict[str, tuple[Truth, Rows]]:
    """Return each criterion's truth and the rows it was evaluated on, keyed by criterion name."""
    planned = {c.name: plan(c.expression, source) for c in rule.criteria}
    if all_criteria:
        return {name: (evaluate(expression, source), None) for name, expression in planned.items()}
    truths: dict[str, tuple[Truth, Rows]] = {}
    in_play: Rows = None
    sample = sample_rows(source)
    scope = sorted(rule.scope, key=lambda c: evaluate(planned[c.name], source, sample).true.sum())
    for criterion in scope:
        truth = evaluate(planned[criterion.name], source, in_play)
        truths[criterion.name] = (truth, in_play)
        passed = np.flatnonzero(truth.true)
        in_play = passed if in_play is None else in_play[passed]
    for criterion in rule.restrictions:
        truths[criterion.name] = (evaluate(planned[criterion.name], source, in_play), in_play)
    return {c.name: truths[c.name] for c in rule.criteria}


def _full(evaluated: tuple[Truth, Rows], size: int) -> Truth:
    """Return a truth over all rows; rows not evaluated count as UNKNOWN."""
    truth, rows = evaluated
    if rows is None:
        return truth
    true = np.zeros(size, dtype=bool)
    null = np.ones(size, dtype=bool)
    true[rows] = truth.true
    null[rows] = truth.null
    return Truth(true, null)


def _boolean_column(truth: Truth, rows: Rows, size: int) -> pd.arrays.BooleanArray:
    full = _full((truth, rows), size)
    return pd.arrays.BooleanArray(full.true, full.null)


def _reasons(rule: Rule, in_scope: np.ndarray, counted: np.ndarray, state: np.ndarray) -> pd.Categorical:
    """Return the reason per spell as a categorical: NA when counted."""
    scope = " AND ".join(f"[{c.name}]" for c in rule.scope)
    failing_keys, codes_in_scope = np.unique(state[in_scope & ~counted], return_inverse=True)
    categories = [f"not coded: {scope} is not TRUE"] + [_failures(rule, int(key)) for key in failing_keys]
    codes = np.zeros(len(state), dtype=np.int32)
    codes[in_scope & ~counted] = codes_in_scope + 1
    codes[counted] = -1
    return pd.Categorical.from_codes(codes, categories=categories)


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
