"""Ending a one-shot `bpviz` command process without the interpreter's teardown.

The teardown frees torch's and Qt's modules and objects one by one (~150 ms, more than a tenth
of `bpviz export`) only for the process to end. :func:`end_process` does what a normal exit
does that anyone can observe, in its order: atexit handlers, then open files of the user's
code flushed, then stdout and stderr flushed; then ``os._exit``.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, ModuleType

# Modules under these come with Python or were installed: not the user's scenario code.
_INSTALLED = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def is_command_process() -> bool:
    """Whether this process is the `bpviz` command (``python -m bpviz`` or the console script),
    which exits as soon as the command returns; never for other callers of ``cli.main``, also
    not for tools that run bpviz as ``__main__`` inside their own process (a profiler's
    ``-m``, ``runpy.run_module``): the outermost module code running is bpviz's own."""
    frame: FrameType | None = sys._getframe()
    outermost = None
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            outermost = frame.f_code.co_filename
        frame = frame.f_back
    if outermost is None:
        return False
    path = Path(outermost)
    # The console script (bin/bpviz; on Windows bpviz.exe/__main__.py) or bpviz/__main__.py.
    return path.stem == "bpviz" or (path.name == "__main__.py" and path.parent.stem == "bpviz")


def user_namespaces(first: dict, loaded_since: Iterable[str]) -> list[dict]:
    """``first`` (a scenario file's namespace) and those of the modules named in
    ``loaded_since`` that are not installed packages: the scenario's own helper modules."""
    spaces = [first]
    for name in loaded_since:
        module = sys.modules.get(name)
        if isinstance(module, ModuleType) and _is_users(module):
            spaces.append(vars(module))
    return spaces


def _is_users(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    return bool(path and not os.path.realpath(path).startswith(_INSTALLED))


def _flush_files(namespaces: Iterable[dict]) -> None:
    # A file left open at module level is flushed when the interpreter's teardown frees it.
    for namespace in namespaces:
        for value in list(namespace.values()):
            if isinstance(value, io.IOBase) and not value.closed:
                with contextlib.suppress(OSError, ValueError):  # not writable, or its device is gone
                    value.flush()


def end_process(code: int, namespaces: Iterable[dict] = ()) -> None:
    """End the process now with ``code`` (120 if a standard stream cannot be flushed, as at a
    normal exit); the files open in ``namespaces`` are flushed after the atexit handlers, which
    may still write to them. Returns, for the normal exit, while another non-daemon thread runs.
    Files the user's code keeps elsewhere (in a dict, on an object) are not finalized."""
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return
    atexit._run_exitfuncs()
    _flush_files(namespaces)
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # closed when the process started (>&-), or pythonw
            continue
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left: nothing to deliver, as cli.main treats it
            pass
        except (OSError, ValueError):  # a full disk, say: the normal exit reports it with 120
            code = code or 120
    os._exit(code)
