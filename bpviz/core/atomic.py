"""Writing files so that nothing is ever lost: a failed write leaves the old file as it was.

Every file bpviz writes (images, trace and training outputs, plots, network documents) goes
through :func:`write_bytes`: the bytes go to a new temporary file beside the target, are flushed
and synced to the disk, and only then take the target's name in one rename. A full disk or a
missing permission therefore ends with the old file intact and no temporary file left behind.

A symlink is written through to the file it points at (the link stays a link); a device or a
FIFO (``/dev/null``, a named pipe) is written directly, since it cannot be replaced by a file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from bpviz.core.errors import BpvizError


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# What a new file gets under the user's umask; read once, at import, before any thread runs.
NEW_FILE_MODE = 0o666 & ~_umask()


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; raises BpvizError with one sentence on failure."""
    shown = os.fspath(path)
    target = os.path.realpath(shown)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _error(shown, exc) from exc
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise BpvizError(f"Cannot write '{shown}': it is a folder; give a file name.")
        _write_directly(shown, target, data)
        return
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        raise BpvizError(f"Cannot write '{shown}': the folder '{os.path.dirname(shown) or '.'}' does not exist.")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); give it what the old file had, or what a new
        # file gets under the user's umask.
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else NEW_FILE_MODE)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise _error(shown, exc) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(tmp)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`write_bytes`."""
    write_bytes(path, text.encode("utf-8"))


def _write_directly(shown: str, target: str, data: bytes) -> None:
    try:
        with open(target, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise _error(shown, exc) from exc


def _error(shown: str, exc: OSError) -> BpvizError:
    reason = exc.strerror or str(exc)
    return BpvizError(
        f"Cannot write '{shown}' ({reason}); any file there is unchanged. "
        "Free some disk space or choose a writable folder."
    )
