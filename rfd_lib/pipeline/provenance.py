"""What a report was made from: the rule, the parameters, every input's hash and the software.

:func:`collect_provenance` hashes each file the run read and records the code's version, its git
commit, Python and the versions of the packages that shape the figures, so a governance reader
can tell whether two reports were made from the same data with the same code.
:meth:`Provenance.rows` gives the report's provenance table. Only file names (at most with their
parent folder) are shown, never full paths: those often contain a user name.

A provider's report lists the inputs it was made from by name: the extract files holding any of
its spells (one that holds several providers' spells is *shared*, and listed in each of their
reports) and the inputs every report uses (populations, expectations, code lists, a database
query). The other providers' extract files, which only place it among its peers, are one row: a
digest of their hashes (see :meth:`Provenance.rows`). The summary report lists every input.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# The packages whose versions can change a figure, a chart or how a notebook runs.
PACKAGES = (
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "matplotlib",
    "sqlglot",
    "pydantic",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
)
NOT_A_CHECKOUT = "not a git checkout"
CHUNK = 1 << 20
# Folders whose children are users' home folders: a parent folder there would name a person.
_HOME_ROOTS = {"home", "users", "documents and settings"}
# Passwords a caller may have left in a database URL or ODBC string, masked as a last line of defence.
_URL_PASSWORD = re.compile(r"(?P<head>://[^:/@\s]+:)[^@\s]*(?=@)")
_ODBC_PASSWORD = re.compile(r"(?i)\b(?P<head>pwd|password)\s*=\s*(\{[^}]*\}|[^;]*)")


@dataclass(frozen=True)
class Provenance:
    """The provenance of one run: rule, parameters, inputs, code and packages, and when it ran."""

    rule_file: str  # the rule's SQL file, as shown (parent folder and name)
    rule_sha256: str
    params_file: str | None
    params_sha256: str | None
    # (file name, sha256) per input file; for a database, (URL as shown, "query sha256 <hash>")
    inputs: tuple[tuple[str, str], ...]
    rfd_lib_version: str
    git_commit: str
    python: str
    packages: tuple[tuple[str, str], ...]  # (name, version or "not installed")
    run_at: str  # ISO 8601 UTC, seconds precision: "2026-11-25T14:03:07Z"
    # (input name, codes of the providers whose spells it holds) per extract file; an input not
    # listed here (populations, expectations, code lists, a database) serves every report.
    holds: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def rows(self, provider: str | None = None) -> tuple[tuple[str, str], ...]:
        """Return (label, value) rows for a report's provenance table, always in the same order.

        Each input is a row of its own (labelled ``input <name>``); the packages share one row,
        ``pandas 3.0.1, numpy 2.3.4, ...``. The parameters' hash row is left out when the run
        had no parameter file. With ``provider`` (a provider's report), the extract files that
        hold none of its spells are one row instead, ``other providers' extracts (N files)``,
        whose value is the sha256 of their ``<sha256>  <name>`` lines sorted by name, each
        ending in a newline: what ``sha256sum`` prints for them, in order of name.
        """
        rows = [("rule file", self.rule_file), ("rule sha256", self.rule_sha256)]
        rows.append(("parameters file", self.params_file or "none"))
        if self.params_sha256 is not None:
            rows.append(("parameters sha256", self.params_sha256))
        holds = dict(self.holds)
        others = [
            (name, digest)
            for name, digest in self.inputs
            if provider is not None and name in holds and provider not in holds[name]
        ]
        rows.extend((f"input {name}", digest) for name, digest in self.inputs if (name, digest) not in others)
        if others:
            lines = "".join(f"{digest}  {name}\n" for name, digest in sorted(others))
            label = f"other providers' extracts ({len(others):,} file{'s' if len(others) > 1 else ''})"
            rows.append((label, hashlib.sha256(lines.encode("utf-8")).hexdigest()))
        rows += [
            ("rfd_lib version", self.rfd_lib_version),
            ("git commit", self.git_commit),
            ("Python", self.python),
            ("packages", ", ".join(f"{name} {version}" for name, version in self.packages)),
            ("run at", self.run_at),
        ]
        return tuple(rows)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of the file at ``path``, read in 1 MiB chunks (any size, little memory)."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    # readinto reuses one buffer: no new bytes object per chunk, which matters for 700 MB extracts.
    with open(path, "rb", buffering=0) as handle:
        while read := handle.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


def collect_provenance(
    *,
    rule_file: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str]],
    params_file: str | os.PathLike[str] | None = None,
    database: tuple[str, str] | None = None,
    run_at: datetime | None = None,
    holds: Mapping[str | os.PathLike[str], Iterable[str]] | None = None,
) -> Provenance:
    """Return the :class:`Provenance` of a run that read ``inputs`` with ``rule_file``.

    ``inputs``: every file the run read (extracts, populations, expectations, code lists), each
    hashed and shown by its file name only (with its parent folder when two share a name).
    ``database``: an optional ``(shown_url, query_text)`` pair, recorded as the URL (any password
    masked) and the sha256 of the query text. ``run_at``: when the run started (default now); a
    naive datetime is taken as UTC. ``holds``: for each extract file among ``inputs``, the codes
    of the providers whose spells it holds (:func:`providers_by_file`); the other inputs serve
    every report. Raises ``OSError`` when a file cannot be read.
    """
    paths = [Path(path) for path in inputs]
    names = Counter(path.name for path in paths)
    shown = [_shown(path) if names[path.name] > 1 else path.name for path in paths]
    recorded = [(name, sha256_file(path)) for name, path in zip(shown, paths, strict=True)]
    held = {Path(path): tuple(sorted(set(codes))) for path, codes in (holds or {}).items()}
    extracts = tuple((name, held[path]) for name, path in zip(shown, paths, strict=True) if path in held)
    if database is not None:
        url, query = database
        recorded.append((_mask_password(url), "query sha256 " + hashlib.sha256(query.encode()).hexdigest()))
    return Provenance(
        rule_file=_shown(Path(rule_file)),
        rule_sha256=sha256_file(rule_file),
        params_file=None if params_file is None else _shown(Path(params_file)),
        params_sha256=None if params_file is None else sha256_file(params_file),
        inputs=tuple(recorded),
        rfd_lib_version=_version("rfd-audit", "unknown"),
        git_commit=git_commit(),
        python=platform.python_version(),
        packages=tuple((name, _version(name, "not installed")) for name in PACKAGES),
        run_at=_utc_stamp(run_at or datetime.now(UTC)),
        holds=extracts,
    )


def providers_by_file(spells, files: Iterable[str | os.PathLike[str]]) -> dict[Path, tuple[str, ...]]:
    """Return, for each extract file of ``files``, the provider codes of the ``spells`` read from it.

    ``spells`` is :attr:`rfd_lib.extracts.reading.Extract.spells` (its ``source`` names the file
    each spell came from; a workbook's sheet as ``file[sheet]``). A file none of whose rows
    could be used holds no provider.
    """
    pairs = spells[["source", "provider_code"]].drop_duplicates().dropna()
    pairs = [(str(source), str(code)) for source, code in pairs.itertuples(index=False)]
    return {
        Path(file): tuple(sorted({code for source, code in pairs if _read_from(source, str(file))}))
        for file in files
    }


def _read_from(source: str, path: str) -> bool:
    """Return whether spells whose ``source`` is this were read from the file at ``path``."""
    return source == path or (source.startswith(f"{path}[") and source.endswith("]"))


def git_commit(folder: str | os.PathLike[str] | None = None) -> str:
    """Return the short commit of the git checkout holding ``folder`` (default: rfd_lib's own folder).

    Adds `` + uncommitted changes`` when tracked files differ from the commit. Returns
    ``"not a git checkout"`` when ``folder`` is not in a checkout, its files are not tracked there
    (an install inside a checkout's virtualenv), git is missing or slow, or anything else fails.
    """
    folder = Path(__file__).parent if folder is None else Path(folder)
    try:
        commit = _git(folder, "rev-parse", "--short", "HEAD")
        # A package installed in a checkout's .venv would otherwise report that checkout's commit.
        if commit is None or not _git(folder, "ls-files", "--", "."):
            return NOT_A_CHECKOUT
        status = _git(folder, "status", "--porcelain", "-uno")
    except Exception:  # provenance is a record, never a reason for a run to fail
        return NOT_A_CHECKOUT
    if status is None:
        return NOT_A_CHECKOUT
    return f"{commit} + uncommitted changes" if status else commit


def _git(folder: Path, *args: str) -> str | None:
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take the index lock from someone working in the checkout.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, timeout=5, env=env)
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace").strip()


def _shown(path: Path) -> str:
    """Return ``parent/name`` for a path, or just the name where the parent could identify a user."""
    parent = path.absolute().parent
    home = Path.home()
    if (
        not parent.name
        or parent == home
        or parent.name == home.name
        or parent.parent.name.lower() in _HOME_ROOTS
    ):
        return path.name
    return f"{parent.name}/{path.name}"


def _mask_password(url: str) -> str:
    url = _URL_PASSWORD.sub(r"\g<head>***", url)
    return _ODBC_PASSWORD.sub(r"\g<head>=***", url)


def _version(distribution: str, missing: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return missing


def _utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
