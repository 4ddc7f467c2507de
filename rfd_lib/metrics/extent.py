"""What an extract covers, counted over every spell: :class:`SpellExtent`.

An audit uses few of an extract's spells (RFDs, blocks, injections), but three of its figures
depend on all of them: the providers in it, the quarters it covers (charted from its first to its
last) and the date its look-backs start (its earliest admission). A national extract read a batch
at a time keeps only the spells the audit uses, so these are counted batch by batch
(:meth:`SpellExtent.of` on each, :meth:`SpellExtent.combine` at the end) and the audit takes them
from here, exactly as it would have found them in the whole extract.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rfd_lib.metrics.periods import financial_quarter, quarter_range

COLUMNS = ("source", "provider_code", "quarter", "spells")


@dataclass(frozen=True)
class SpellExtent:
    """Spells per source, provider and quarter (``<NA>``: no period date), and the earliest admission."""

    counts: pd.DataFrame
    first_admission: pd.Timestamp | None

    @classmethod
    def of(cls, spells: pd.DataFrame, period_date: str = "discharge_date") -> SpellExtent:
        """Return the extent of read ``spells``, each in the quarter of its ``period_date``."""
        keys = pd.DataFrame(
            {
                "source": spells["source"].astype("string")
                if "source" in spells
                else pd.Series(pd.NA, index=spells.index, dtype="string"),
                "provider_code": spells["provider_code"].astype("string"),
                "date": spells[period_date],
            }
        )
        # Counted per date first: a batch has a few thousand dates to label, not a row each.
        dated = keys.value_counts(dropna=False).rename("spells").reset_index()
        dated["quarter"] = financial_quarter(dated["date"]).astype("string")
        counts = (
            dated.groupby(["source", "provider_code", "quarter"], dropna=False, sort=True)["spells"]
            .sum()
            .reset_index()
        )
        first = spells["admission_date"].min() if len(spells) else None
        return cls(counts[list(COLUMNS)], None if pd.isna(first) else first)

    @classmethod
    def combine(cls, parts: list[SpellExtent]) -> SpellExtent:
        """Return the extent of the spells of all ``parts`` together."""
        counts = pd.concat([part.counts for part in parts], ignore_index=True)
        counts = (
            counts.groupby(["source", "provider_code", "quarter"], dropna=False, sort=True)["spells"]
            .sum()
            .reset_index()
        )
        firsts = [part.first_admission for part in parts if part.first_admission is not None]
        return cls(counts[list(COLUMNS)], min(firsts) if firsts else None)

    @property
    def providers(self) -> list[str]:
        """Return the provider codes of the spells, in code order."""
        return sorted(self.counts["provider_code"].dropna().unique())

    def quarters(self, period_date: str = "discharge_date") -> list[str]:
        """Return the quarters covered, first to last, as :func:`rfd_lib.metrics.volumes.audit_quarters` does.

        Raises ``ValueError`` when no spell has the period date.
        """
        dated = self.counts["quarter"].dropna()
        if dated.empty:
            raise ValueError(f"the spells have no {period_date.replace('_', ' ')}s, so they cover no quarter")
        return quarter_range(dated.min(), dated.max())

    def providers_by_source(self) -> pd.DataFrame:
        """Return each (source, provider_code) pair that has a spell."""
        return self.counts[["source", "provider_code"]].dropna().drop_duplicates().reset_index(drop=True)
