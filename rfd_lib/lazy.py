"""Public names a package offers without importing their modules until first used (PEP 562).

A report kernel imports the chart modules only and should not pay for the rule compiler or the
extract reader it never calls; so each package's ``__init__`` names its public face with
:func:`lazy_names` instead of importing it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_names(
    package: str, names: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package``: each of ``names`` imported from its module on use.

    ``names`` maps a public name to the module (relative to ``package``, e.g. ``".rule"``) that
    defines it.
    """

    def getattr_(name: str) -> object:
        if name in names:
            return getattr(importlib.import_module(names[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return getattr_, dir_
