"""Find and read a rule file and its manifest; split the text into its WHEN and WHERE fragments.

A rule file holds an Evidence-Based Interventions "Coding" section exactly as published::

    WHEN <condition> THEN '<category>'
    Exclusions                      <- the published heading, optional
    WHERE <condition>               <- optional

Beside ``NAME.sql`` sits ``NAME.yaml``, its manifest (:class:`RuleManifest`). Packaged rules live in
``rfd_lib/rules/``; a rule given as a path may omit the manifest, and is then labelled as having
no recorded provenance.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlglot.dialects.tsql import TSQL
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from rfd_lib.errors import RuleError
from rfd_lib.yaml_model import read_model

PACKAGED_RULES = resources.files("rfd_lib") / "rules"


class RuleManifest(BaseModel):
    """Provenance and reading instructions for one rule file (``NAME.yaml`` beside ``NAME.sql``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(description="What the intervention is called in the guidance.")
    source: str = Field(description="Where the SQL was published.")
    published: str | None = Field(default=None, description="Publication date as given, e.g. 2020-01.")
    last_reviewed: str | None = Field(default=None, description="Last review date as given.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="sha256 of the rule file's bytes."
    )
    scope_criteria: int = Field(
        default=1,
        ge=1,
        description="How many leading WHEN criteria define the procedure (the spells 'coded' for it).",
    )


UNRECORDED = RuleManifest(title="(no manifest)", source="(no recorded provenance)")


@dataclass(frozen=True)
class RuleText:
    """The text of a rule file, located and split; offsets index into ``text``."""

    name: str
    path: Path
    text: str
    manifest: RuleManifest
    label: str
    when: tuple[int, int]
    where: tuple[int, int] | None
    leading_comments: dict[str, str]

    def line_of(self, offset: int) -> int:
        """Return the 1-based line of ``offset`` in the rule file."""
        return self.text.count("\n", 0, offset) + 1


def packaged_rule_names() -> list[str]:
    """Return the names of the rules shipped in ``rfd_lib/rules/``."""
    return sorted(p.name[: -len(".sql")] for p in PACKAGED_RULES.iterdir() if p.name.endswith(".sql"))


def names_a_file(rule: str | os.PathLike[str]) -> bool:
    """Return whether ``rule`` is a rule file's path rather than a packaged rule's name.

    A name has no folder separator and no ``.sql`` ending (``2K_RFD_back``); anything else is a path.
    """
    name = os.fspath(rule)
    return os.sep in name or "/" in name or name.endswith(".sql")


def locate_rule(rule: str | os.PathLike[str]) -> Path:
    """Return the path of a packaged rule called ``rule``, or of the rule file ``rule`` names."""
    name = os.fspath(rule)
    packaged = PACKAGED_RULES / f"{name}.sql"
    if not names_a_file(name) and packaged.is_file():
        return Path(str(packaged))
    path = Path(name)
    if path.is_file():
        return path
    raise RuleError(
        f"no rule called {name!r}: it is neither a packaged rule nor a file",
        hint=f"packaged rules are {', '.join(packaged_rule_names())}; or give the path of a .sql rule file",
    )


def read_rule_text(path: Path) -> RuleText:
    """Return the checked, split text of the rule file at ``path`` (raises RuleError)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(f"{path}: cannot read rule file ({error})") from error
    manifest = _read_manifest(path)
    digest = hashlib.sha256(raw).hexdigest()
    if manifest.sha256 is not None and manifest.sha256 != digest:
        raise RuleError(
            f"{path}: the rule text does not match the sha256 in its manifest "
            f"({manifest.sha256[:12]}… expected, {digest[:12]}… found)",
            hint="a rule is only ever changed deliberately: if this revision is reviewed, "
            "put its sha256 in the manifest",
        )
    label, when, where, leading = _split(path, text)
    return RuleText(path.stem, path, text, manifest, label, when, where, leading)


def _read_manifest(path: Path) -> RuleManifest:
    manifest_path = path.with_suffix(".yaml")
    if not manifest_path.is_file():
        return UNRECORDED
    return read_model(manifest_path, RuleManifest, RuleError, "the rule manifest")


def _split(path: Path, text: str) -> tuple[str, tuple[int, int], tuple[int, int] | None, dict[str, str]]:
    """Return the category label, the WHEN and WHERE spans, and the comments after each keyword.

    A comment written straight after WHEN or WHERE names the first criterion; sqlglot drops it.
    """
    try:
        tokens = TSQL().tokenize(text)
    except TokenError as error:
        raise RuleError(f"{path}: cannot read the SQL ({error})".replace("\n", " ")) from error
    if not tokens or tokens[0].token_type != TokenType.WHEN:
        found = repr(tokens[0].text) if tokens else "nothing"
        line = tokens[0].line if tokens else 1
        raise RuleError(
            f"{path}:{line}: a rule starts with WHEN, found {found}",
            hint="copy the guidance's Coding section from its WHEN",
        )
    then = _find_then(path, tokens)
    label_token = tokens[then + 1] if then + 1 < len(tokens) else None
    if label_token is None or label_token.token_type != TokenType.STRING:
        raise RuleError(f"{path}:{tokens[then].line}: THEN must be followed by the category, a quoted string")
    when = (tokens[0].start, label_token.end + 1)
    rest = tokens[then + 2 :]
    where_at = next((i for i, t in enumerate(rest) if t.token_type == TokenType.WHERE), None)
    between = rest if where_at is None else rest[:where_at]
    # Only the published heading may stand between the two fragments.
    stray = [t for t in between if t.text.lower() != "exclusions"]
    if stray:
        raise RuleError(
            f"{path}:{stray[0].line}: unexpected {stray[0].text!r} after THEN '{label_token.text}'",
            hint="after the WHEN … THEN clause a rule has only the heading 'Exclusions' and a WHERE clause",
        )
    where = None if where_at is None else (rest[where_at].start, len(text))
    leading = {"WHEN": _comment_after(text, tokens, 0)}
    if where_at is not None:
        leading["WHERE"] = _comment_after(text, tokens, then + 2 + where_at)
    return label_token.text, when, where, leading


def _comment_after(text: str, tokens: list[Token], index: int) -> str:
    """Return the comments between token ``index`` and the next token, joined ('' if none)."""
    end = tokens[index + 1].start if index + 1 < len(tokens) else len(text)
    gap = text[tokens[index].end + 1 : end]
    found = re.findall(r"--([^\n]*)|/\*(.*?)\*/", gap, flags=re.DOTALL)
    return " ".join((line or block).strip() for line, block in found if (line or block).strip())


def _find_then(path: Path, tokens: list[Token]) -> int:
    """Return the index of the THEN that closes the WHEN clause (outside parentheses and CASEs)."""
    depth = 0
    for index, token in enumerate(tokens):
        if token.token_type in (TokenType.L_PAREN, TokenType.CASE):
            depth += 1
        elif token.token_type in (TokenType.R_PAREN, TokenType.END):
            depth -= 1
        elif token.token_type == TokenType.THEN and depth == 0:
            return index
    raise RuleError(f"{path}: no THEN '<category>' closes the WHEN clause")
