"""Read a parameter file in ``params/`` as a checked pydantic model, with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rfd_lib.errors import RfdAuditError

Model = TypeVar("Model", bound=BaseModel)


def read_model(
    path: Path, model: type[Model], error: type[RfdAuditError], what: str, hint: str | None = None
) -> Model:
    """Return the YAML file at ``path`` validated as ``model``.

    Raises ``error`` with one line naming the file, and for an invalid value the key at fault
    (its first problem); ``what`` names the file's content ("the code lists"), ``hint`` goes
    with validation errors.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise error(f"{path}: cannot read {what}") from None
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML ({str(problem).splitlines()[0]})") from None
    try:
        return model.model_validate(raw)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise error(f"{path}: {where}: {first['msg'].removeprefix('Value error, ')}", hint=hint) from None
