"""What changed since the previous quarter: each check's status then and now, and counted RFDs.

Both quarters come from the same extracts (the checks table has every quarter), and only
*published* figures are compared: the statuses are judged from published counts already
(:mod:`rfd_lib.metrics.publish`), and the counts compared are the published ones (a suppressed
count stays suppressed), so nothing here can be differenced into a small number.

A check's change, from its status in the previous quarter to its status now:

==================  ==========================================================================
change              when
==================  ==========================================================================
``new``             green before, amber or red now
``resolved``        amber or red before, green now
``worse``           amber before, red now
``better``          red before, amber now
``unchanged``       the same status both quarters
``not comparable``  "not assessable" (or no such check) in either quarter
==================  ==========================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfd_lib.metrics.status import Status
from rfd_lib.wording import say

COLUMNS = [
    "provider_code",
    "check",
    "kind",
    "label",
    "previous_status",
    "status",
    "change",
    "previous_share",
    "share",
]
CHANGES = ("new", "resolved", "worse", "better", "unchanged", "not comparable")
_RANK = {Status.GREEN.value: 0, Status.AMBER.value: 1, Status.RED.value: 2}
# What a provider's line on the index counts, in this order: (change, status now or None for any).
TALLIED = (
    ("new", Status.RED, "changes.new_red"),
    ("new", Status.AMBER, "changes.new_amber"),
    ("worse", None, "changes.worse"),
    ("resolved", None, "changes.resolved"),
    ("better", None, "changes.better"),
)


def previous_quarter(quarters: list[str], quarter: str) -> str | None:
    """Return the quarter before ``quarter`` in ``quarters`` (the audit's), or None if it is the first."""
    position = quarters.index(quarter)
    return quarters[position - 1] if position > 0 else None


def status_changes(checks: pd.DataFrame, quarter: str, previous: str) -> pd.DataFrame:
    """Return each provider's checks in ``quarter`` with their status in ``previous`` and the change.

    ``checks`` is the published checks table (:attr:`rfd_lib.metrics.audit.AuditMetrics.checks`).
    One row per provider and check of ``quarter``, in its order (:data:`COLUMNS`); ``change`` is
    one of :data:`CHANGES` (see the module's table). A check with no row in ``previous`` is not
    comparable.
    """
    keys = ["provider_code", "check"]
    now = checks.loc[checks["quarter"] == quarter, [*keys, "kind", "label", "status", "share"]]
    before = checks.loc[checks["quarter"] == previous, [*keys, "status", "share"]].rename(
        columns={"status": "previous_status", "share": "previous_share"}
    )
    table = now.merge(before, on=keys, how="left").reset_index(drop=True)
    was = table["previous_status"].astype("string").map(_RANK).astype("Float64").to_numpy(na_value=np.nan)
    is_ = table["status"].astype("string").map(_RANK).astype("Float64").to_numpy(na_value=np.nan)
    change = np.select(
        [
            np.isnan(was) | np.isnan(is_),
            was == is_,
            (was == 0) & (is_ > 0),
            (was > 0) & (is_ == 0),
            is_ > was,
        ],
        ["not comparable", "unchanged", "new", "resolved", "worse"],
        default="better",
    )
    table["change"] = pd.array(change, dtype="string")
    for column in ("previous_status", "status"):
        table[column] = table[column].astype("string").fillna(Status.NOT_ASSESSABLE)
    return table[COLUMNS]


def counted_changes(volumes: pd.DataFrame, quarter: str, previous: str) -> pd.DataFrame:
    """Return each provider's published counted RFDs in ``previous`` and ``quarter``.

    Columns ``provider_code``, ``previous_counted``, ``previous_counted_suppressed``, ``counted``
    and ``counted_suppressed`` (from :attr:`~rfd_lib.metrics.audit.AuditMetrics.volumes`).
    """
    columns = ["provider_code", "counted", "counted_suppressed"]
    now = volumes.loc[volumes["quarter"] == quarter, columns]
    before = volumes.loc[volumes["quarter"] == previous, columns].rename(
        columns={"counted": "previous_counted", "counted_suppressed": "previous_counted_suppressed"}
    )
    return before.merge(now, on="provider_code", how="outer").reset_index(drop=True)


def changes_in_words(changes: pd.DataFrame) -> pd.Series:
    """Return, per provider of ``changes`` (:func:`status_changes`), its changes in a few words.

    "2 new red, 1 resolved": new reds, new ambers, worse, resolved and better, each only when
    there is one; the wording file's ``changes.none`` when no status moved.
    """
    counts = {}
    for change, status, _ in TALLIED:
        rows = changes["change"].eq(change)
        if status is not None:
            rows &= changes["status"].eq(status)
        counts[(change, status)] = rows.groupby(changes["provider_code"]).sum()
    table = pd.DataFrame(counts).fillna(0).astype(int)
    parts = [
        table[(change, status)].map(lambda n, key=key: say(key, count=n) if n else "")
        for change, status, key in TALLIED
    ]
    # Each part with its separator, joined provider by provider (columns, not rows, are looped).
    joined = pd.Series("", index=table.index, dtype="string")
    for part in parts:
        joined = joined + part.astype("string").mask(part.ne(""), part + ", ")
    words = joined.str.removesuffix(", ")
    return words.mask(words.eq(""), say("changes.none")).rename("changes")
