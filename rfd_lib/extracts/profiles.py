"""Column profiles (``params/profiles/*.yaml``): how an extract names the canonical columns.

A profile is data: an analyst adds one for a local extract by writing YAML alone. Each maps
canonical column names (``params/spell_schema.yaml``) to the extract's own names, matched ignoring
case and surrounding blanks as SQL Server matches column names. A profile at ``level: episodes``
also says how episodes roll up to spells (see :mod:`rfd_lib.extracts.episodes`).
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rfd_lib import config
from rfd_lib.errors import ColumnError
from rfd_lib.extracts.spell_schema import SchemaError, compiled, load_spell_schema
from rfd_lib.yaml_model import listed, quoted, read_yaml, validated


class EpisodeCodes(BaseModel):
    """Where an episode's codes are: numbered columns (first is the primary) or one concatenation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: str = Field(description="Canonical column that takes the first episode's first code.")
    columns: str = Field(description="Regular expression matching the numbered code columns.")
    concat: str | None = Field(default=None, description="A column of comma-separated codes, used instead.")

    @field_validator("columns")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        return compiled(pattern)


class Episodes(BaseModel):
    """How rows that are episodes roll up to spells."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    episode_id: str
    order: str
    spell_key: tuple[str, ...] = Field(min_length=1, description="Canonical columns shared by a spell.")
    code_placeholders: tuple[str, ...] = ()
    codes: dict[str, EpisodeCodes]
    method: str = Field(description="The roll-up, stated in words for the report.")


class Profile(BaseModel):
    """One column profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    level: Literal["spells", "episodes"] = "spells"
    null_values: tuple[str, ...] = ("",)
    columns: dict[str, str]
    absent: tuple[str, ...] = Field(default=(), description="Canonical columns the extract never has.")
    keep: tuple[str, ...] = Field(default=(), description="Further columns carried through when present.")
    episodes: Episodes | None = None
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if (self.level == "episodes") != (self.episodes is not None):
            raise ValueError("an 'episodes' section is needed exactly when level is 'episodes'")
        schema = load_spell_schema()
        named = set(self.columns) | set(self.absent)
        if self.episodes is not None:
            named |= (
                {"spell_id"} | set(self.episodes.codes) | {c.primary for c in self.episodes.codes.values()}
            )
        unknown = sorted(named - set(schema.columns))
        if unknown:
            raise ValueError(f"not canonical columns: {listed(unknown)} (see params/spell_schema.yaml)")
        unmapped = [name for name in schema.required() if name not in named]
        if unmapped:
            raise ValueError(f"required columns neither mapped nor declared absent: {listed(unmapped)}")
        return self

    def source_columns(self) -> list[str]:
        """Return the extract columns this profile needs, as the profile spells them."""
        wanted = [name for canonical, name in self.columns.items() if self._required(canonical)]
        if self.episodes is not None:
            wanted += [self.episodes.episode_id, self.episodes.order]
        return wanted

    def _required(self, canonical: str) -> bool:
        return load_spell_schema().columns[canonical].required


def profile_names() -> list[str]:
    """Return the names of the profiles in ``params/profiles/``."""
    return sorted(path.stem for path in config.PROFILES_DIR.glob("*.yaml"))


def load_profile(profile: str | os.PathLike[str]) -> Profile:
    """Return the profile called ``profile`` (in ``params/profiles/``) or stored at path ``profile``."""
    name = os.fspath(profile)
    path = Path(name) if name.endswith((".yaml", ".yml")) else config.PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        close = difflib.get_close_matches(name, profile_names(), n=1)
        raise SchemaError(
            f"no column profile called {quoted(name)}",
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + f"profiles are {', '.join(profile_names())}; or give the path of a profile .yaml file",
        )
    return _load(path.resolve(), path.stat().st_mtime_ns)


@functools.cache
def _load(path: Path, mtime_ns: int) -> Profile:
    content = read_yaml(path, SchemaError, "the column profile")
    if not isinstance(content, dict):
        raise SchemaError(f"{path}: expected keys and values (a YAML mapping) at the top level")
    return validated({**content, "path": path}, Profile, path, SchemaError)


def fold(name: str) -> str:
    """Return a column name as SQL Server compares it: trimmed, ignoring case."""
    return name.strip().casefold()


def missing_columns(profile: Profile, header: list[str]) -> list[str]:
    """Return the columns ``profile`` needs that ``header`` lacks, in profile order."""
    present = {fold(name) for name in header}
    missing = [name for name in profile.source_columns() if fold(name) not in present]
    if profile.episodes is not None:
        for codes in profile.episodes.codes.values():
            has_numbered = any(re.fullmatch(codes.columns, name.strip(), re.IGNORECASE) for name in header)
            if not has_numbered and (codes.concat is None or fold(codes.concat) not in present):
                missing.append(codes.concat or codes.columns)
    return missing


def choose_profile(header: list[str], source: str) -> tuple[Profile, str]:
    """Return the profile that fits ``header`` and a sentence saying how it was chosen.

    A profile fits when the header has every column it needs; of several, the one that uses the
    most of the header wins. Raises :class:`ColumnError` naming the closest profile and what it
    lacks when none fits.
    """
    profiles = [load_profile(name) for name in profile_names()]
    if not profiles:
        raise SchemaError(f"no column profiles in {config.PROFILES_DIR}", hint="set RFD_AUDIT_PARAMS")
    present = {fold(name) for name in header}
    fits = [p for p in profiles if not missing_columns(p, header)]
    if fits:
        used = {p.name: sum(fold(n) in present for n in (*p.columns.values(), *p.keep)) for p in fits}
        best = max(fits, key=lambda p: used[p.name])
        return best, (f"{source}: column profile '{best.name}' ({best.description}) detected from the header")
    closest = min(profiles, key=lambda p: len(missing_columns(p, header)))
    raise missing_error(closest, header, source, detected=True)


def missing_error(profile: Profile, header: list[str], source: str, *, detected: bool = False) -> ColumnError:
    """Return the one error that lists every column ``profile`` needs and ``header`` lacks."""
    missing = missing_columns(profile, header)
    guesses = []
    for name in missing:
        close = difflib.get_close_matches(name.casefold(), [h.casefold() for h in header], n=1, cutoff=0.6)
        if close:
            guesses.append(f"{name} -> {next(h for h in header if h.casefold() == close[0])}?")
    which = (
        f"no column profile fits; the closest, '{profile.name}'," if detected else f"profile '{profile.name}'"
    )
    hint = f"closest names present: {', '.join(guesses)}" if guesses else None
    if len(header) == 1 and any(mark in header[0] for mark in ",;|\t"):
        hint = "the header is one column: is the delimiter right? (--delimiter)"
    elif detected:
        hint = (
            hint + "; " if hint else ""
        ) + "or choose a profile (--profile) or add one in params/profiles/"
    return ColumnError(
        f"{source}: {which} needs {len(missing)} column(s) that are missing: {', '.join(missing)}",
        hint=hint,
    )


__all__ = ["Profile", "SchemaError", "choose_profile", "load_profile", "missing_error", "profile_names"]
