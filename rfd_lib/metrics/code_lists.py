"""Procedure code lists from ``params/code_lists.yaml``, typed and checked when they are loaded.

A list names the codes a spell's *primary* procedure may start with and, optionally, a second list
of which *any* procedure must include one (a site code). Codes are OPCS-4 shaped (``A57.7`` or
``A577``); a code that is not fails the load with the file and the list named, so a typo never
silently matches nothing. Matching is by code prefix at the start of a code, ignoring case and the
separators of a SUS+ code string (``||A577 ,Z993``), as the published rule's ``LIKE '%Z993%'``
would match, without its false hits inside longer tokens.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rfd_lib.config import CODE_LISTS
from rfd_lib.errors import RfdAuditError
from rfd_lib.yaml_model import quoted, read_model

CLASSIFICATIONS = ("1", "2", "3", "4", "5")
OPCS4 = re.compile(r"^[A-Z][0-9]{2}\.?[0-9]?$")


class CodeListError(RfdAuditError):
    """The code-list file cannot be used: unreadable, a code not OPCS-4 shaped, a missing list."""


def _code(value: object) -> str:
    text = str(value).strip().upper()
    if not OPCS4.match(text):
        raise ValueError(f"{quoted(value)} is not an OPCS-4 code (like A57.7)")
    return text.replace(".", "")


def _codes(values: object) -> tuple[str, ...]:
    """Return a YAML list of codes as bare OPCS-4 codes; raises ValueError for anything else."""
    if not isinstance(values, list):
        raise ValueError(f"expected a list of codes such as [A57.7], not {quoted(values)}")
    return tuple(_code(value) for value in values)


class SiteCodes(BaseModel):
    """A plain list of codes (e.g. the lumbar site codes)."""

    model_config = ConfigDict(extra="forbid")
    description: str
    # An empty list would make the site condition match nothing (or, unchecked, everything).
    codes: tuple[str, ...] = Field(min_length=1)

    @field_validator("codes", mode="before")
    @classmethod
    def _opcs(cls, values: object) -> tuple[str, ...]:
        return _codes(values)


class ProcedureList(BaseModel):
    """Spells whose primary procedure is one of ``primary_procedure``, with a code of ``with_any``."""

    model_config = ConfigDict(extra="forbid")
    description: str
    check_locally: bool = False
    # An empty list matched every lumbar-site procedure: a list must name at least one code.
    primary_procedure: tuple[str, ...] = Field(min_length=1)
    with_any: str | None = None

    @field_validator("primary_procedure", mode="before")
    @classmethod
    def _opcs(cls, values: object) -> tuple[str, ...]:
        return _codes(values)


class PatientClassification(BaseModel):
    """Values of SUS+ ``Patient_Classification`` (1 ordinary admission, 2 day case, 3-5 regular or other)."""

    model_config = ConfigDict(extra="forbid")
    description: str
    patient_classification: tuple[str, ...] = Field(min_length=1)

    @field_validator("patient_classification", mode="before")
    @classmethod
    def _values(cls, values: object) -> tuple[str, ...]:
        # Text, as extracts hold it: an unquoted 2 in YAML is an int, and would never match "2".
        if not isinstance(values, list) or not all(v in CLASSIFICATIONS for v in values):
            raise ValueError(f'expected quoted values from "1" to "5", such as ["2"], not {quoted(values)}')
        return tuple(values)

    def matches(self, values: pd.Series) -> pd.Series:
        """Return, per value, whether it is one of these classifications (``<NA>`` where missing)."""
        return values.astype("string").str.strip().isin(self.patient_classification).mask(values.isna())


class Laterality(BaseModel):
    """OPCS-4 laterality codes (Z94), looked for in any procedure column of a spell.

    ``bilateral`` is both sides; ``right`` and ``left`` one side each; ``unilateral`` one side
    not stated, which tells the repeat check nothing about which side (a spell with only it is
    judged without a side).
    """

    model_config = ConfigDict(extra="forbid")
    description: str
    bilateral: tuple[str, ...] = Field(min_length=1)
    right: tuple[str, ...] = Field(min_length=1)
    left: tuple[str, ...] = Field(min_length=1)
    unilateral: tuple[str, ...] = ()

    @field_validator("bilateral", "right", "left", "unilateral", mode="before")
    @classmethod
    def _opcs(cls, values: object) -> tuple[str, ...]:
        return _codes(values)

    def sides(self, spells: pd.DataFrame) -> pd.DataFrame:
        """Return, per spell, ``left`` and ``right``: whether a code says that side (bilateral: both).

        A spell with neither has no side coded (no Z94 code, or only "unilateral").
        """
        codes = spells["Any_Spell_Procedure"]
        both = starts_with_any(codes, self.bilateral)
        return pd.DataFrame(
            {
                "left": both | starts_with_any(codes, self.left),
                "right": both | starts_with_any(codes, self.right),
            },
            index=spells.index,
        )


class CodeLists(BaseModel):
    """The code lists the checks use; the procedure lists' ``with_any`` must name a site list."""

    model_config = ConfigDict(extra="forbid")
    lumbar_site: SiteCodes
    rfd: ProcedureList
    medial_branch_block: ProcedureList
    facet_joint_injection: ProcedureList
    laterality: Laterality
    day_case: PatientClassification

    @model_validator(mode="after")
    def _sites_exist(self) -> CodeLists:
        for name in ("rfd", "medial_branch_block", "facet_joint_injection"):
            site = getattr(self, name).with_any
            if site is not None and site != "lumbar_site":
                raise ValueError(f"{name}: with_any names {quoted(site)}, not a list of site codes here")
        return self

    def matches(self, name: str, spells: pd.DataFrame) -> pd.Series:
        """Return, per spell, whether it is a spell of list ``name`` (False where codes are NULL)."""
        wanted: ProcedureList = getattr(self, name)
        found = starts_with_any(spells["Primary_Spell_Procedure"], wanted.primary_procedure)
        if wanted.with_any is not None:
            sites: SiteCodes = getattr(self, wanted.with_any)
            found &= starts_with_any(spells["Any_Spell_Procedure"], sites.codes)
        return found

    def anywhere(self, name: str, spells: pd.DataFrame) -> pd.Series:
        """Return, per spell, whether any of its procedures (not only the primary) is of list ``name``.

        The site condition (``with_any``) applies as in :meth:`matches`: a medial branch block
        coded beside an RFD in the same spell, with the spell's lumbar site code.
        """
        wanted: ProcedureList = getattr(self, name)
        found = starts_with_any(spells["Any_Spell_Procedure"], wanted.primary_procedure)
        if wanted.with_any is not None:
            sites: SiteCodes = getattr(self, wanted.with_any)
            found &= starts_with_any(spells["Any_Spell_Procedure"], sites.codes)
        return found


def starts_with_any(codes: pd.Series, prefixes: tuple[str, ...]) -> pd.Series:
    """Return, per value, whether any code in it starts with one of ``prefixes`` (NULL is False).

    A value may hold one code or a SUS+ code string; a code starts after the string's start, a
    ``|``, a ``,`` or a space.
    """
    pattern = "(?:^|[|, ])(?:" + "|".join(map(re.escape, prefixes)) + ")"
    values = pa.array(codes.array, pa.large_string()) if len(codes) else pa.array([], pa.large_string())
    hit = pc.match_substring_regex(pc.utf8_upper(values), pattern)
    return pd.Series(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=codes.index, dtype=bool)


def load_code_lists(path: str | Path = CODE_LISTS) -> CodeLists:
    """Return the code lists in ``path`` (default ``params/code_lists.yaml``), checked.

    Raises :class:`CodeListError` naming the file and the list for anything wrong.
    """
    path = Path(path)
    return _load(path.resolve(), path.stat().st_mtime_ns if path.is_file() else 0)


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int) -> CodeLists:
    return read_model(
        path,
        CodeLists,
        CodeListError,
        "the code lists",
        hint="codes are OPCS-4, like A57.7; see the comments at the top of the file",
    )
