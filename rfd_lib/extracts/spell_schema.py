"""The canonical spell (``params/spell_schema.yaml``): each column's type and plausible values.

Loaded and checked once with pydantic, so a typo in the schema fails loudly when it is read
rather than quietly letting a bad value through.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rfd_lib import config
from rfd_lib.errors import RfdAuditError
from rfd_lib.yaml_model import quoted, read_model


class SchemaError(RfdAuditError):
    """The spell schema or a column profile in ``params/`` cannot be loaded."""


class Shape(BaseModel):
    """What a code looks like: a regular expression matched against the whole trimmed value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    description: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        import pyarrow as pa
        import pyarrow.compute as pc

        compiled(pattern)
        try:
            # Extracts are checked with Arrow's regular expressions (RE2), not Python's.
            pc.match_substring_regex(pa.array([""]), pattern)
        except pa.ArrowInvalid as error:
            reason = str(error).splitlines()[0][:100]
            raise ValueError(
                f"{quoted(pattern)} is not a regular expression Arrow reads ({reason})"
            ) from None
        return pattern


class Column(BaseModel):
    """One canonical column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["text", "code", "code_list", "integer", "date"]
    description: str
    required: bool = Field(default=True, description="An extract without this column is refused.")
    nullable: bool = Field(default=True, description="False: a NULL makes the row unusable.")
    unique: bool = Field(default=False, description="Duplicate values are a data-quality finding.")
    shape: str | None = Field(default=None, description="Name of the shape each code should have.")
    shape_required: bool = Field(
        default=False, description="True: a code not of its shape makes the row unusable (not a finding)."
    )
    normalised: bool = Field(
        default=False,
        description="True: blanks trimmed and upper-cased on reading, as SQL Server compares codes.",
    )
    codes: dict[str, str] | None = Field(
        default=None, min_length=1, description="The valid codes and their meaning (none: not checked)."
    )
    unknown: tuple[int, ...] = Field(default=(), description="Integer values that mean 'not known'.")
    infant_codes_from: int | None = Field(default=None, description="Ages from here are infant codes.")
    plausible: tuple[int, int] | None = Field(default=None, description="Inclusive plausible range.")

    @field_validator("plausible")
    @classmethod
    def _ordered(cls, plausible: tuple[int, int] | None) -> tuple[int, int] | None:
        if plausible is not None and plausible[0] > plausible[1]:
            raise ValueError(
                f"the range {list(plausible)} is the wrong way round: every value would be implausible"
            )
        return plausible


class SpellSchema(BaseModel):
    """Every canonical column, the code shapes and the date formats tried on text dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, Column] = Field(min_length=1)
    shapes: dict[str, Shape]
    date_formats: tuple[str, ...] = Field(min_length=1)
    earliest_date: dt.date = Field(description="A date before this is not a real date of a spell.")
    years_ahead: int = Field(ge=0, le=100, description="Nor is one more than this many years after today.")

    def latest_date(self, today: dt.date | None = None) -> dt.date:
        """Return the last plausible date of a spell: ``years_ahead`` years after ``today``."""
        today = today or dt.date.today()
        return today.replace(year=today.year + self.years_ahead, day=min(today.day, 28))

    @model_validator(mode="after")
    def _shapes_exist(self) -> SpellSchema:
        for name, column in self.columns.items():
            if column.shape is not None and column.shape not in self.shapes:
                raise ValueError(f"column {name}: unknown shape {quoted(column.shape)}")
            if column.shape_required and column.shape is None:
                raise ValueError(f"column {name}: shape_required without a shape")
        for fmt in self.date_formats:
            if set(re.findall(r"%.", fmt)) - {"%Y", "%m", "%d"} or not {"%Y", "%m", "%d"} <= set(
                re.findall(r"%.", fmt)
            ):
                raise ValueError(f"date format {quoted(fmt)}: use exactly %Y, %m and %d")
        return self

    def required(self) -> list[str]:
        """Return the names of the columns every extract must have."""
        return [name for name, column in self.columns.items() if column.required]


def compiled(pattern: str) -> str:
    """Return ``pattern`` if it is a valid regular expression; raises ValueError saying why not."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{quoted(pattern)} is not a regular expression ({error.msg})") from None
    return pattern


@functools.cache
def _load(path: Path, mtime_ns: int) -> SpellSchema:
    return read_model(path, SpellSchema, SchemaError, "the spell schema")


def load_spell_schema(path: Path | None = None) -> SpellSchema:
    """Return the checked spell schema (default ``params/spell_schema.yaml``), cached until it changes."""
    path = Path(path or config.SPELL_SCHEMA)
    if not path.is_file():
        raise SchemaError(f"{path}: spell schema not found", hint="set RFD_AUDIT_PARAMS to the params folder")
    return _load(path.resolve(), path.stat().st_mtime_ns)
