"""Read the YAML files in ``params/`` (and rule manifests) safely, as checked pydantic models.

Every YAML file rfd_lib reads goes through :func:`read_yaml`, a safe loader that also refuses:

* aliases (``*name``): parameter and reference files never need them, and a few nested aliases
  (a "billion laughs") expand to more values than memory holds. Refusing them outright, rather
  than capping their expansion, keeps the rule simple to state and impossible to tune wrongly;
* a key given twice in one mapping (YAML would silently keep the last), and merge keys (``<<``);
* nesting deeper than :data:`MAX_DEPTH` and files larger than :data:`MAX_BYTES`, which no
  parameter file comes near and which would otherwise exhaust the stack or memory;
* tags other than YAML's own (``!!python/object`` and the like), as ``yaml.safe_load`` does.

Errors are one line naming the file and, where YAML knows it, the line. A value quoted in any
message goes through :func:`quoted`, so a huge value never makes a huge message.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rfd_lib.errors import RfdAuditError

Model = TypeVar("Model", bound=BaseModel)

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MERGE_TAG = "tag:yaml.org,2002:merge"

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2, 60, 60, 30
_REPR.maxtuple = _REPR.maxlist = _REPR.maxdict = _REPR.maxset = 4
QUOTE_LIMIT = 80


def quoted(value: object) -> str:
    """Return a short ``repr`` of ``value`` for a message: at most :data:`QUOTE_LIMIT` characters."""
    text = _REPR.repr(value)
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…"


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` refusing aliases, deep nesting and repeated keys (see the module)."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        """Return the next node, refusing an alias or a node nested too deep."""
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "an alias (*name) is not allowed here", self.peek_event().start_mark
            )
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Return the mapping of ``node``, refusing a key given twice and a merge key."""
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                # Without aliases a merge only hides which value of a key wins.
                raise yaml.constructor.ConstructorError(
                    None, None, "a merge key (<<) is not allowed here", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base constructor says so
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {quoted(key)} is given twice (first at line {first})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def read_yaml(path: Path, error: type[RfdAuditError], what: str) -> object:
    """Return the content of the YAML file at ``path`` as Python values (see the module).

    Raises ``error`` with one line naming the file (and line) when it cannot be read, is too
    large, is not UTF-8, or is not YAML rfd_lib accepts; ``what`` names its content ("the code
    lists").
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise error(
                f"{path}: {what} file is {size:,} bytes, more than any parameter file needs "
                f"({MAX_BYTES:,} at most)",
                hint="check that the right file is named",
            )
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as problem:
        raise error(f"{path}: cannot read {what} ({problem.strerror or type(problem).__name__})") from None
    except UnicodeDecodeError as problem:
        raise error(
            f"{path}: {what} file is not UTF-8 text (byte {problem.start + 1})", hint="save it as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        line = f"line {mark.line + 1}" if mark is not None else "(no line)"
        reason = shortened(problem.problem or problem.context or "not valid YAML")
        if isinstance(problem, yaml.scanner.ScannerError | yaml.parser.ParserError):
            message, hint = f"not valid YAML at {line} ({reason})", "check the indentation and quotes"
        else:
            message, hint = f"{line}: {reason}", None
        raise error(f"{path}: {message}", hint=hint) from None
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML ({shortened(str(problem).splitlines()[0])})") from None
    except ValueError as problem:
        # Python's own limits, e.g. an integer of more than 4,300 digits.
        raise error(f"{path}: a value cannot be read ({shortened(str(problem))})") from None


def read_model(
    path: Path, model: type[Model], error: type[RfdAuditError], what: str, hint: str | None = None
) -> Model:
    """Return the YAML file at ``path`` validated as ``model``.

    Raises ``error`` with one line naming the file, and for an invalid value the key at fault
    (its first problem); ``what`` names the file's content ("the code lists"), ``hint`` goes
    with validation errors.
    """
    return validated(read_yaml(path, error, what), model, path, error, hint)


def validated(
    raw: object, model: type[Model], path: Path, error: type[RfdAuditError], hint: str | None = None
) -> Model:
    """Return ``raw`` (read from ``path``) validated as ``model``; raises ``error`` naming the key."""
    try:
        return model.model_validate(raw)
    except ValidationError as problem:
        raise error(f"{path}: {first_problem(problem)}", hint=hint) from None


def listed(names: list[object], limit: int = 5) -> str:
    """Return the first ``limit`` of ``names``, each shortened, joined by commas; "…, N in all" if more."""
    shown = ", ".join(shortened(str(name), 40) for name in names[:limit])
    return f"{shown}, … ({len(names):,} in all)" if len(names) > limit else shown


def location(loc: tuple[int | str, ...]) -> str:
    """Return a pydantic error location as dotted keys, each shortened, or '(top level)'."""
    return ".".join(shortened(str(part), 40) for part in loc) or "(top level)"


def first_problem(error: ValidationError) -> str:
    """Return the first problem of ``error`` as "key: what is wrong", with a bounded length."""
    count = error.error_count()
    first = error.errors()[0]
    more = f" (and {count - 1} more problem(s))" if count > 1 else ""
    return f"{location(first['loc'])}: {shortened(first['msg'].removeprefix('Value error, '), 200)}{more}"


def shortened(text: str, limit: int = 200) -> str:
    """Return ``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
