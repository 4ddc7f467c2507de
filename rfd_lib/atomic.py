"""Write a file whole or not at all: a killed run never leaves half a report where one is expected."""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path

from rfd_lib.errors import RfdAuditError


class WriteError(RfdAuditError):
    """A file could not be written (a full disk, no permission): the message names the file."""


def partial_path(target: str | os.PathLike[str]) -> Path:
    """Return a temporary name beside ``target`` that no other process (or call) writes to.

    Hidden, and named by this process and a random token: two runs writing the same output at
    once each write their own temporary file, and a killed process's leftovers can be told apart.
    """
    target = Path(target)
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")


def write_atomically(target: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text is written as UTF-8 with LF line ends) to ``target`` and return its path.

    The bytes go to a hidden temporary file beside ``target``, flushed to disk, then renamed over
    it, so a reader sees the old file or the new one, never a mixture. The file is created as a
    plain ``open`` would create it (the umask decides): colleagues on a shared drive can read it.
    Raises :class:`WriteError` naming ``target`` when it cannot be written (e.g. the disk is full).
    """
    target = Path(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    partial = partial_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        full = error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        raise WriteError(
            f"{target}: cannot be written ({error.strerror or error or type(error).__name__})",
            hint="free space on that disk, then run again" if full else "check the folder can be written",
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target
