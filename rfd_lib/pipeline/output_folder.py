"""A run's output folder: refused when it is not ours, held by one run at a time, safe file names.

Three things can go wrong when reports are written, and each is stopped here before anything is
written:

* **The folder is not a run's.** ``output: "/"``, a home folder or a folder holding another run
  would be written into (or cleared). :func:`check_output_folder` accepts a folder that does not
  exist, an empty one, or one an earlier run *of the same name* wrote (its ``internal/run.json``
  says so); anything else is refused with one line.
* **Two runs at once.** A second run into the same folder would mix its reports with the first's.
  :func:`hold_output_folder` takes an exclusive lock (``filelock``: an OS lock, released by the
  operating system when the process dies, so a killed run never leaves a stale lock) and refuses
  a second run with a message; a folder it created is removed again if the run fails before
  writing a report (nothing half-made is left).
* **A provider code becomes a path.** Codes come from the data. :func:`report_stems` gives each a
  file name that cannot leave the folder, cannot be another file of the run (``summary``,
  ``index``, ``internal``) or a device name on Windows, and cannot collide with another code's,
  even on a file system that ignores case. Ordinary codes (``RXA``, ``ZK1``) keep their own name.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import filelock

from rfd_lib.errors import RfdAuditError
from rfd_lib.report.outcome import SUMMARY
from rfd_lib.yaml_model import quoted

RUN_RECORD = Path("internal") / "run.json"
LOCK_FILE = ".rfd-audit.lock"
# Names the run itself uses, and names Windows keeps for devices: never a provider's report.
RESERVED = frozenset(
    {SUMMARY, "index", "internal", "con", "prn", "aux", "nul"}
    | {f"{device}{n}" for device in ("com", "lpt") for n in range(10)}
)
_PLAIN_CODE = re.compile(r"[A-Z0-9]{1,16}")


class RunFolderError(RfdAuditError):
    """The output folder cannot be used: not a run folder, in use by another run, or unsafe."""


def report_stem(code: str) -> str:
    """Return the file name (without suffix) of provider ``code``'s report and executed notebook.

    A plain code (upper-case letters and digits, at most 16) is its own name; any other code gets
    its letters and digits (at most 24) and a digest of the whole code, e.g. ``zt0`` →
    ``zt0-4b6c1f0e2a``, ``../../x`` → ``x-9d1e…``. Distinct codes never share a name.
    """
    if _PLAIN_CODE.fullmatch(code) and code.lower() not in RESERVED:
        return code
    readable = re.sub(r"[^A-Za-z0-9]+", "_", code).strip("_")[:24] or "provider"
    digest = hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{readable}-{digest}"


def report_stems(codes: Sequence[str]) -> dict[str, str]:
    """Return provider code → :func:`report_stem`; raises RunFolderError if two names would collide.

    A collision (two codes whose names differ only in case, or a digest clash) is checked on the
    lower-cased names, as Windows and macOS compare file names.
    """
    stems = {code: report_stem(code) for code in codes}
    seen: dict[str, str] = {}
    for code, stem in stems.items():
        other = seen.setdefault(stem.lower(), code)
        if other != code:
            raise RunFolderError(
                f"providers {quoted(other)} and {quoted(code)} would share the report name {stem}",
                hint="provider codes must differ by more than upper and lower case",
            )
    return stems


def check_output_folder(output: Path, name: str) -> None:
    """Raise RunFolderError unless ``output`` may receive run ``name``'s reports.

    Accepted: a folder that does not exist yet, an empty folder, or the folder of an earlier run
    with the same ``name`` (its ``internal/run.json`` says so), which this run replaces.
    """
    resolved = output.resolve()
    if resolved in (Path(resolved.anchor), Path.home().resolve()):
        where = "the root folder" if resolved.parent == resolved else "your home folder"
        raise RunFolderError(
            f"{output}: refusing to write reports into {where}",
            hint="set output: to a folder of its own, e.g. reports/<name>",
        )
    if not output.exists():
        return
    if not output.is_dir():
        raise RunFolderError(f"{output}: the output is a file, not a folder", hint="set output: to a folder")
    if not any(entry.name != LOCK_FILE for entry in output.iterdir()):
        return
    earlier = previous_run_name(output)
    if earlier == name:
        return
    what = f"the reports of another run ({quoted(earlier)})" if earlier else "files that are not a run's"
    raise RunFolderError(
        f"{output}: the output folder holds {what}; rfd-audit only replaces a run of the same name",
        hint="choose another output: folder (or remove this one yourself)",
    )


def previous_record(output: Path) -> dict:
    """Return the run record an earlier run left in ``output``; {} when there is none or it is unreadable."""
    try:
        record = json.loads((output / RUN_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def previous_run_name(output: Path) -> str | None:
    """Return the name of the run whose record is in ``output``, or None when there is none."""
    params = previous_record(output).get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


def previous_reports(output: Path) -> list[Path]:
    """Return the report files an earlier run's record in ``output`` lists (inside ``output`` only)."""
    reports = previous_record(output).get("reports")
    listed = [
        report.get(kind)
        for report in (reports if isinstance(reports, list) else [])
        if isinstance(report, dict)
        for kind in ("html", "pdf")
    ]
    inside = output.resolve()
    files = [(output / Path(link).name) for link in listed if isinstance(link, str) and link]
    return [file for file in files if file.resolve().parent == inside and file.is_file()]


def remove_leftovers(output: Path, reports: Iterable[Path] = ()) -> None:
    """Delete ``reports`` and any temporary ``*.partial`` file a killed run left in ``output``."""
    for stale in [*reports, *output.glob(".*.partial")]:
        stale.unlink(missing_ok=True)


@contextmanager
def hold_output_folder(output: Path, name: str) -> Iterator[Path]:
    """Hold ``output`` for run ``name`` for the duration of the ``with`` block; yield it.

    Checks it with :func:`check_output_folder`, creates it if needed and takes its lock: a second
    run into the same folder gets a RunFolderError at once rather than mixing its files with this
    one's. If the block fails before anything but the lock is in a folder this made, the folder is
    removed again.
    """
    check_output_folder(output, name)
    created = not output.exists()
    output.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(output / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RunFolderError(
            f"{output}: another rfd-audit run is writing to this folder",
            hint="wait for it to finish, or give this run another output: folder",
        ) from None
    failed = False
    try:
        yield output
    except BaseException:
        failed = True
        raise
    finally:
        lock.release()
        # A run that stopped before it recorded itself (bad input, say) leaves no folder behind.
        if created and failed and not (output / RUN_RECORD).exists():
            shutil.rmtree(output, ignore_errors=True)
