"""Stopping a worker thread that runs a user's scenario: :class:`Cancelled` raised inside it.

Python cannot kill a thread, but it can raise an exception in one
(``PyThreadState_SetAsyncExc``): the thread gets it at its next bytecode boundary. That stops a
Python-level loop (``while True: pass``, an endless training loop, a loop in a gradient hook)
at once. It cannot stop code that sits inside one C call (``time.sleep(1e9)``, one huge torch
op, a lock that never comes free): the exception only arrives when the call returns. Such a
thread is abandoned (its results are ignored; it is a daemon, or the app ends the process with
``os._exit`` when it quits, see :func:`bpviz.gui.app.run_app`).

The exception is raised only while the worker has said it runs interruptible code
(:meth:`Interrupter.open` .. :meth:`Interrupter.close`): never in the worker's own bookkeeping
afterwards, and never in a thread that already ended and whose id was reused. Nor while the
thread is importing a module (torch imports parts of itself on first use): an exception inside
importlib's bookkeeping leaves its global lock taken, and every later import in any thread,
the UI's included, waits for ever. The caller asks again a moment later.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from types import FrameType
from typing import Any

# A user's code may catch the exception (``except BaseException``) and go on; it is raised again
# at most this often, and only after the last one arrived, so that the worker never gets a
# second one on its way out.
REPEAT_S = 0.5

_OPEN: dict[int, Interrupter] = {}  # thread id -> its interrupter, while it runs user code
_previous_unraisablehook: Any = None


class Cancelled(KeyboardInterrupt):
    """Raised inside a worker thread the user stopped (Cancel, Esc, closing the window).

    A KeyboardInterrupt, like Ctrl-C: the scenario's ``except Exception`` does not catch it, and
    the core lets it through where it turns any other exit of user code into a message."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        # Made by the interpreter in the thread it is raised in: count it as arrived.
        interrupter = _OPEN.get(threading.get_ident())
        if interrupter is not None:
            interrupter.arrived += 1


def _swallowed(unraisable: Any) -> None:
    """``sys.unraisablehook``: a Cancelled that arrived in a weakref callback or a ``__del__``
    (which Python runs wherever garbage happens to be freed) cannot stop anything there; it is
    not printed, and the interrupter may raise the next one at once. Anything else is shown as
    before."""
    interrupter = _OPEN.get(threading.get_ident())
    if isinstance(unraisable.exc_value, Cancelled) and interrupter is not None:
        interrupter.swallowed()
        return
    _previous_unraisablehook(unraisable)


def _raise_in(ident: int, exc_type: type[BaseException] | None) -> int:
    """Raise ``exc_type`` in thread ``ident`` at its next bytecode (None: forget one not yet
    raised); the number of threads changed (0 or 1)."""
    exc = ctypes.py_object(exc_type) if exc_type is not None else None
    return int(ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), exc))


def _importing(frame: FrameType | None) -> bool:
    """Whether ``frame`` or a caller of it runs importlib's own code."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


class Interrupter:
    """Lets any thread raise :class:`Cancelled` in one worker thread while it runs user code.

    The worker brackets that code with :meth:`open` and :meth:`close` (close in a ``finally``);
    other threads call :meth:`interrupt`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ident: int | None = None
        self.asked = 0
        self.arrived = 0
        self._asked_at = 0.0

    @property
    def is_open(self) -> bool:
        """Whether the worker runs code that may be interrupted now."""
        return self._ident is not None

    def open(self) -> None:
        """On the worker thread: from now on this thread may be interrupted."""
        global _previous_unraisablehook
        if _previous_unraisablehook is None:
            _previous_unraisablehook, sys.unraisablehook = sys.unraisablehook, _swallowed
        with self._lock:
            self._ident = threading.get_ident()
            self.asked = self.arrived = 0
            self._asked_at = 0.0
            _OPEN[self._ident] = self

    def close(self) -> None:
        """On the worker thread: no interruption from now on; one asked for but not yet raised
        is dropped. May itself raise Cancelled (one arriving just now): call it again then."""
        with self._lock:
            ident, self._ident = self._ident, None
            if ident is not None:
                _OPEN.pop(ident, None)
                _raise_in(ident, None)

    def swallowed(self) -> None:
        """The last Cancelled arrived where it could not stop anything: the next one may go."""
        self._asked_at = 0.0

    def interrupt(self) -> bool:
        """Raise Cancelled in the worker if it runs interruptible code (again if the last one
        arrived at least :data:`REPEAT_S` ago and the code goes on); False when it does not.
        Call it again until the worker has stopped: it raises nothing while the worker imports."""
        with self._lock:
            if self._ident is None:
                return False
            now = time.monotonic()
            if self.asked > self.arrived or (self._asked_at and now - self._asked_at < REPEAT_S):
                return True  # the last one is on its way, or was caught just now
            # The worker cannot run while this thread holds the interpreter lock: the exception
            # arrives in the frame looked at or in one it calls next.
            if _importing(sys._current_frames().get(self._ident)):
                return True
            self.asked += 1
            self._asked_at = now
            _raise_in(self._ident, Cancelled)
            return True
