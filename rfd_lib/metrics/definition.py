"""Outside the national definition: the codes behind each restriction an RFD-coded spell does not meet.

The national definition (the guidance's *Coding* section) counts an RFD-coded spell only when it
meets every restriction: a back-pain primary diagnosis, an age of 19 to 120, an elective
admission, no cancer diagnosis, not a private patient. A spell outside it is not a breach: a
private patient's RFD is outside the indicator, and an RFD coded M47 (spondylosis, the guidance's
own "degenerate facet joints") is a question for the clinical coding team. So the reports show
these spells as context, never red, amber or green: the waterfall
(:func:`rfd_lib.metrics.volumes.waterfall`, each spell under the first restriction it does not
meet) and, for each step, the codes behind it (this module).

The column behind a restriction comes from the compiled rule: the one column its SQL reads
(``Primary_Spell_Diagnosis``, ``Admission_Method``, ...), or where it reads several the one
``restrictions.<criterion>.codes_from`` names in ``params/expectations.yaml``
(:meth:`~rfd_lib.metrics.expectations.Expectations.column_behind`). For a column holding a list of
codes (``Any_Spell_Diagnosis``), the codes listed are those that on their own fail the restriction
(the cancer codes of a spell, not its back-pain codes).

Disclosure control (:func:`published_codes`): in circulation only codes behind 8 or more spells
of a provider's step are named, without their counts, most frequent first and at most
:data:`MOST_CODES`, then "and other codes" when there are others; in internal mode every code is
listed with its count. Codes come from the extract: they are data, cut to a short length with
control characters replaced here, and escaped (HTML) or neutralised (spreadsheets) where they are
written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from rfd_lib.engine.evaluator import Spells, evaluate
from rfd_lib.engine.expressions import columns_of
from rfd_lib.extracts.spell_schema import load_spell_schema
from rfd_lib.metrics.disclosure import Disclosure
from rfd_lib.metrics.expectations import Expectations
from rfd_lib.metrics.periods import financial_quarter
from rfd_lib.wording import say

if TYPE_CHECKING:  # the rule compiler (sqlglot) is not needed to use a compiled rule
    from rfd_lib.engine.rule import Rule

KEYS = ["provider_code", "quarter"]
COLUMNS = [*KEYS, "step", "measure", "column", "code", "spells"]
PUBLISHED = [*COLUMNS, "others"]
# The most codes a circulated step names, and the longest code shown (a code is data: it is cut).
MOST_CODES = 5
LONGEST_CODE = 24
# A SUS+ code list: codes separated by "||" (episodes), commas or blanks.
_SEPARATORS = r"[|, ]+"


def restriction_measure(name: str) -> str:
    """Return what the table files call a restriction's step of the waterfall: ``"restriction: <name>"``."""
    return f"restriction: {name}"


def codes_behind(
    classified: pd.DataFrame,
    rule: Rule,
    expectations: Expectations,
    quarter: str,
    providers: list[str] | None = None,
) -> pd.DataFrame:
    """Return, per provider and waterfall step in ``quarter``, the codes behind it and their true spells.

    ``classified`` is :func:`rfd_lib.classify`'s output. One row per provider, restriction
    (``step`` 1.. in the rule's order, ``measure`` as :func:`restriction_measure` names it),
    ``column`` (the spell column the codes are from) and ``code`` (``<NA>`` for a blank value),
    with ``spells``: the RFD-coded spells whose first failed restriction it is that hold the code.
    Each code is counted once per spell (a spell in two codes' rows counts in both).
    Patient-level counts, not protected: :func:`published_codes` protects them. Empty when
    ``classified`` has not been classified by ``rule`` (no criterion columns).
    """
    names = [criterion.name for criterion in rule.restrictions]
    if not set(names) <= set(classified.columns) or not rule.restrictions:
        return _empty(COLUMNS)
    scope = np.logical_and.reduce(
        [classified[criterion.name].fillna(False).to_numpy(dtype=bool) for criterion in rule.scope]
    )
    in_quarter = financial_quarter(classified[expectations.period_date]).eq(quarter).fillna(False)
    rfd = classified[scope & in_quarter.to_numpy(dtype=bool)]
    if providers is not None:
        rfd = rfd[rfd["provider_code"].isin(providers)]
    met = np.column_stack([rfd[name].fillna(False).to_numpy(dtype=bool) for name in names])
    failing = ~met
    first = np.where(failing.any(axis=1), np.argmax(failing, axis=1), -1)
    schema = load_spell_schema()
    parts = []
    for step, criterion in enumerate(rule.restrictions, start=1):
        spells = rfd[first == step - 1]
        column = expectations.column_behind(criterion)
        values = spells[column] if column in spells.columns else pd.Series(pd.NA, index=spells.index)
        codes = pd.DataFrame(
            {
                "spell": np.arange(len(spells)),
                "provider_code": spells["provider_code"].astype("string").to_numpy(),
                "code": values.astype("string").str.strip().replace("", pd.NA).to_numpy(),
            }
        )
        spec = schema.columns.get(column)
        if spec is not None and spec.type == "code_list":
            codes = _failing_codes(codes, criterion, column)
        counted = (
            codes.drop_duplicates(["spell", "code"])
            .groupby(["provider_code", "code"], dropna=False)
            .size()
            .rename("spells")
            .reset_index()
        )
        parts.append(
            counted.assign(
                quarter=quarter, step=step, measure=restriction_measure(criterion.name), column=column
            )
        )
    table = pd.concat(parts, ignore_index=True) if parts else _empty(COLUMNS)
    table = table.astype(
        {"provider_code": "string", "quarter": "string", "measure": "string", "column": "string"}
    )
    table["code"] = table["code"].astype("string")
    table["spells"] = table["spells"].astype("Int64")
    table["step"] = table["step"].astype("Int64")
    return table[COLUMNS].sort_values([*KEYS, "step"], kind="stable").reset_index(drop=True)


def _failing_codes(codes: pd.DataFrame, criterion, column: str) -> pd.DataFrame:
    """Return each spell's single codes of a code list that fail ``criterion`` on their own.

    A spell is outside the cancer restriction because of its cancer codes, not its back-pain
    ones: each code is tried alone, as a one-code list, by the rule's own engine. Where the
    criterion reads another column too, no code can be tried alone and all are kept.
    """
    single = codes.assign(code=codes["code"].str.split(_SEPARATORS)).explode("code")
    single["code"] = single["code"].astype("string").replace("", pd.NA)
    single = single[single["code"].notna()]
    if columns_of(criterion.expression) != [column] or single.empty:
        return single
    distinct = pd.unique(single["code"].to_numpy(dtype=object))
    truth = evaluate(criterion.expression, Spells({column: pa.array(distinct, pa.string())}, len(distinct)))
    fails = pd.Series(~truth.true, index=distinct)
    return single[single["code"].map(fails).fillna(False).to_numpy(dtype=bool)]


def published_codes(codes: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return the codes behind each step as they may be published (:data:`PUBLISHED` columns).

    ``codes`` is :func:`codes_behind`'s table. In circulation: per provider and step, only codes
    behind more than ``policy.threshold`` (8 or more) spells, most frequent first, at most
    :data:`MOST_CODES`, their ``spells`` ``<NA>``; ``others`` is True on every row of a step with
    codes not named, and a step none of whose codes may be named has one row with ``code``
    ``<NA>`` (only there) and ``others`` True. In internal mode every code, with its count,
    ``others`` False. Codes are cut to :data:`LONGEST_CODE` characters, control characters replaced
    by ``?``, a blank value said as the wording file's ``definition.blank_code``.
    """
    table = codes.sort_values([*KEYS, "step", "spells", "code"], ascending=[True, True, True, False, True])
    table = table.assign(code=_shown(table["code"])).reset_index(drop=True)
    if not policy.circulating:
        return table.assign(others=False)[PUBLISHED]
    step = [*KEYS, "step"]
    named = table["spells"].gt(policy.threshold).fillna(False)
    rank = named.astype(int).groupby([table[key] for key in step]).cumsum()
    keep = named & rank.le(MOST_CODES)
    others = (~keep).groupby([table[key] for key in step]).transform("any")
    table = table.assign(others=others.to_numpy(dtype=bool), spells=pd.array([pd.NA] * len(table), "Int64"))
    listed = table[keep.to_numpy(dtype=bool)]
    # A step with codes, none of which may be named: one row saying so.
    unnamed = table[~table.set_index(step).index.isin(listed.set_index(step).index)].drop_duplicates(step)
    unnamed = unnamed.assign(code=pd.array([pd.NA] * len(unnamed), "string"))
    result = pd.concat([listed, unnamed], ignore_index=True)
    order = result["code"].isna().astype(int)  # a step's named codes keep their order
    result = result.assign(_order=order).sort_values([*step, "_order"], kind="stable")
    return result[PUBLISHED].reset_index(drop=True)


def code_lists_text(published: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return, per provider, quarter and step of ``published`` (:func:`published_codes`), its codes in words.

    Columns: ``provider_code``, ``quarter``, ``step``, ``measure``, ``column`` and ``codes``: the
    codes named, separated by ", " (internal mode: each with its count), then "and other codes"
    where there are others, or "no code accounts for 8 or more spells" where none may be named.
    """
    step = [*KEYS, "step", "measure", "column"]
    if published.empty:
        return _empty([*step, "codes"])
    code = published["code"]
    if not policy.circulating:
        counts = published["spells"].astype("Int64").astype("string")
        code = pd.Series(
            [say("definition.code_with_count", code=c, spells=n) for c, n in zip(code, counts, strict=True)],
            index=published.index,
        )
    # A row with no code stands for codes none of which may be named.
    code = code.fillna("")
    frame = published[step].assign(_code=code.to_numpy(), _others=published["others"].to_numpy())
    grouped = frame.groupby(step, sort=False, dropna=False)
    text = grouped["_code"].agg(lambda codes: ", ".join(c for c in codes if c)).rename("codes")
    others = grouped["_others"].any()
    text = text.where(~others | text.eq(""), text + " " + say("definition.other_codes"))
    text = text.where(~(others & text.eq("")), say("definition.no_code_listed", least=policy.threshold + 1))
    return text.reset_index()


def _shown(codes: pd.Series) -> pd.Series:
    """Return codes as a report may print them: control characters ``?``, a long code cut, a blank said."""
    text = codes.astype("string").str.replace(r"[\x00-\x1f\x7f]", "?", regex=True)
    long = text.str.len().gt(LONGEST_CODE).fillna(False)
    text = text.where(~long, text.str.slice(0, LONGEST_CODE - 1) + "…")
    return text.fillna(say("definition.blank_code"))


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="string") for column in columns})
