"""Print a rendered HTML report to an A4 PDF with a headless Chromium-family browser.

Chromium, Chrome and Edge all print CSS paged media (``@page`` size, margins and margin boxes
for page numbers and the banner), so the PDF is the HTML report on paper with nothing else to
install. The browser is found by :func:`find_chromium`; :func:`print_pdf` runs it once per file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from rfd_lib.atomic import partial_path
from rfd_lib.errors import RfdAuditError

ENV_VAR = "RFD_AUDIT_CHROMIUM"
BROWSER_NAMES = (
    # The old headless shell (Debian's chromium-headless-shell, Google's chrome-headless-shell)
    # prints a report in half the time of a full browser, and as well.
    "chromium-headless-shell",
    "chrome-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "msedge",
)
_HINT = f"install Chromium, Chrome or Edge, or set {ENV_VAR} to the browser's executable"


class PdfError(RfdAuditError):
    """A report cannot be printed to PDF: no browser, or the browser failed or hung."""


def find_chromium(configured: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the browser to print with, or None if none is found.

    ``configured`` if given (a path, or a name on PATH; :class:`PdfError` if it does not exist),
    else the environment variable ``RFD_AUDIT_CHROMIUM`` (checked the same way), else the first of
    chromium, chromium-browser, google-chrome, google-chrome-stable, microsoft-edge and msedge on
    PATH, else the usual Windows and macOS install paths of Chrome, Edge and Chromium.
    """
    if configured is not None and str(configured).strip():
        return _existing(configured, "the configured browser")
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return _existing(from_env, ENV_VAR)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return next((path for path in _install_paths() if path.is_file()), None)


def _existing(browser: str | os.PathLike[str], source: str) -> Path:
    path = Path(browser).expanduser()
    if path.is_file():
        return path
    found = shutil.which(str(browser))
    if found:
        return Path(found)
    raise PdfError(f"{browser}: no such browser ({source})", hint=_HINT)


def _install_paths() -> list[Path]:
    if sys.platform == "win32":
        roots = [os.environ.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        apps = [r"Google\Chrome\Application\chrome.exe", r"Microsoft\Edge\Application\msedge.exe"]
        return [Path(root) / app for app in apps for root in roots if root]
    if sys.platform == "darwin":
        apps = [
            "Google Chrome.app/Contents/MacOS/Google Chrome",
            "Chromium.app/Contents/MacOS/Chromium",
            "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        ]
        return [root / app for app in apps for root in (Path("/Applications"), Path.home() / "Applications")]
    return []


def print_pdf(
    html: str | os.PathLike[str],
    target: str | os.PathLike[str],
    chromium: str | os.PathLike[str],
    *,
    timeout: float = 120,
) -> Path:
    """Print html to an A4 PDF at target with headless chromium (atomically) and return target.

    The browser gets a fresh temporary profile each time (deleted afterwards) and writes to a
    partial file beside ``target`` that replaces it only when complete. Raises :class:`PdfError`
    (one line, naming the HTML file) if the browser fails, writes nothing or exceeds ``timeout``
    seconds; the browser's stderr is never shown unless it failed.
    """
    source = Path(html).resolve()
    target = Path(target)
    if not source.is_file():
        raise PdfError(f"{source}: no such HTML file", hint="render the report first")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Absolute, so the browser writes beside the target whatever its working folder.
    partial = partial_path(os.path.abspath(target))
    try:
        with tempfile.TemporaryDirectory(prefix="rfd-chromium-", ignore_cleanup_errors=True) as profile:
            returncode, stderr = _run(_command(chromium, profile, partial, source), timeout, source)
        if returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            status = f"exit status {returncode}" if returncode != 0 else "no PDF written"
            raise PdfError(
                f"{source}: {Path(chromium).name} could not print it ({status}){_last_line(stderr)}",
                hint=f"run {chromium} --headless --print-to-pdf on the file by hand to see why",
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _command(chromium: str | os.PathLike[str], profile: str, partial: Path, source: Path) -> list[str]:
    return [
        str(chromium),
        "--headless",
        "--no-sandbox",  # containers and CI runners often lack the user namespaces the sandbox needs
        "--disable-gpu",
        "--no-pdf-header-footer",  # the report's own @page margin boxes carry the page numbers
        "--print-to-pdf-no-header",  # the same switch in browsers older than 2023
        "--generate-pdf-document-outline",  # PDF bookmarks from the headings
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile}",
        f"--print-to-pdf={partial}",
        source.as_uri(),
    ]


def _run(command: list[str], timeout: float, source: Path) -> tuple[int, str]:
    # A session of its own, so a hung browser is killed with all its helper processes.
    posix = os.name == "posix"
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=posix,
        )
    except OSError as error:
        raise PdfError(
            f"{source}: cannot start {command[0]} ({error.strerror or error})", hint=_HINT
        ) from None
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise PdfError(
            f"{source}: {Path(command[0]).name} did not finish printing within {timeout:g} s",
            hint="try again; if it keeps happening, check the browser runs headless on this machine",
        ) from None
    except BaseException:  # e.g. Ctrl-C: no browser left running in the background
        _kill(process)
        raise
    return process.returncode, stderr.decode("utf-8", "replace")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    # A helper that escaped the kill may still hold the pipes open: do not wait on it for long.
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # Chromium logs harmless D-Bus complaints on machines without a session bus.
    telling = [line for line in lines if "dbus" not in line.lower()] or lines
    return f": {telling[-1][:300]}" if telling else ""
