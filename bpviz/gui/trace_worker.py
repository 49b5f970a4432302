"""Tracing off the UI thread: load a source's scenario, run the traced pass, build the step sequence.

Everything a job does is pure core work (torch, networkx); it creates no QGraphicsItem and
touches no widget. Results come back through a queued signal, so the window builds the canvas on
its own thread. Each job carries a number; the window ignores results of jobs it has since
replaced (the user opened another file meanwhile).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


@dataclass
class TraceResult:
    """What a finished job hands back: the source and the scenario it loaded (once: training
    starts from the same load), the trace, its step sequence, and the seconds that loading,
    tracing and sequencing took."""

    source: Any
    scenario: Any
    trace: Any
    sequence: Any
    seconds: float


class _Signals(QObject):
    # Emitted from the worker thread; Qt queues them to the receiver's (UI) thread.
    finished = Signal(int, object)
    failed = Signal(int, str, str)


class TraceJob(QRunnable):
    """One load + trace + sequence run, identified by ``job_id``."""

    def __init__(self, job_id: int, source, signals: _Signals):
        super().__init__()
        self.job_id = job_id
        self.source = source
        self.signals = signals
        self.setAutoDelete(True)

    def run(self) -> None:  # noqa: D102 - QRunnable API
        try:
            result = run_trace(self.source)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a dialog, never a crash
            message, details = error_message(exc)
            self.signals.failed.emit(self.job_id, message, details)
            return
        self.signals.finished.emit(self.job_id, result)


def run_trace(source) -> TraceResult:
    """Load ``source`` (a :class:`bpviz.core.sources.Source`), trace it and build its StepSequence.

    Also imports the canvas modules, which pull in torch: importing them here keeps that second
    or so of import time off the UI thread on the first open.
    """
    import bpviz.gui.graph_scene  # noqa: F401 - warm the import on this thread
    from bpviz.core.stepper import StepSequence
    from bpviz.core.trace import trace_scenario

    # Timed after the imports: the status bar reports the trace, not the one-off torch load.
    start = time.perf_counter()
    scenario = source.load()
    trace = trace_scenario(scenario)
    sequence = StepSequence(trace)
    return TraceResult(source, scenario, trace, sequence, time.perf_counter() - start)


def error_message(exc: BaseException) -> tuple[str, str]:
    """The one-line message for a user (the core's text for a BpvizError) and a traceback."""
    from bpviz.core.errors import BpvizError

    details = "".join(traceback.format_exception(exc))
    if isinstance(exc, BpvizError):
        return str(exc), details
    return f"Unexpected {type(exc).__name__}: {exc}", details


class TraceRunner(QObject):
    """Starts trace jobs on a private thread pool and reports only the newest one.

    ``finished(TraceResult)`` and ``failed(message, details)`` fire on the UI thread;
    ``busyChanged(bool)`` brackets each run so the window can show a busy cursor.
    """

    finished = Signal(object)
    failed = Signal(str, str)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        # One job at a time: a newer open supersedes an older one, and torch work in parallel
        # would only compete for the same cores.
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._latest = 0
        self._busy = False

    @property
    def busy(self) -> bool:
        """Whether the newest job is still running."""
        return self._busy

    def start(self, source) -> int:
        """Queue a job for ``source``; returns its id. Earlier jobs still run but are ignored."""
        self._latest += 1
        self._pool.start(TraceJob(self._latest, source, self._signals))
        self._set_busy(True)
        return self._latest

    def wait(self, msecs: int = -1) -> bool:
        """Block until every queued job has run (used at shutdown)."""
        return self._pool.waitForDone(msecs)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _on_finished(self, job_id: int, result: TraceResult) -> None:
        if job_id != self._latest:
            return
        self._set_busy(False)
        self.finished.emit(result)

    def _on_failed(self, job_id: int, message: str, details: str) -> None:
        if job_id != self._latest:
            return
        self._set_busy(False)
        self.failed.emit(message, details)
