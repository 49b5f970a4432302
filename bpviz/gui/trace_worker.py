"""Tracing off the UI thread: load a source's scenario, run the traced pass, build the step
sequence; and stopping that when the user cancels (Cancel, Esc, closing the window).

Everything a job does is pure core work (torch, networkx); it creates no QGraphicsItem and
touches no widget. Results come back through a queued signal, so the window builds the canvas on
its own thread. Each job carries a number; the window ignores results of jobs it has since
replaced or cancelled.

Each job runs on its own daemon thread, one after the other: a job waits for the one before it
to end, so two scenarios never change torch's global switches at the same time. Cancelling
raises :class:`~bpviz.gui.stoppable.Cancelled` in the job's thread, which stops Python-level
code (an endless loop in ``loss()``) at once. A job stuck inside one C call (``time.sleep``, a
huge torch op) cannot be stopped: it is abandoned, reported once through ``stuck``, the next job
does not wait for it (it restores torch's global switches first), and the app ends the process
with ``os._exit`` when it quits (:func:`bpviz.gui.app.run_app`).

Why threads and not a child process per scenario: a child would stop anything, but the trace
cannot cross a process boundary as it is: it keeps torch's live autograd nodes (the rules and
Jacobian panels read their saved tensors), which do not pickle; without them a ResNet-18-like
trace pickles to 42 MB and takes 0.11 s to dump plus 0.11 s to load, 2.5 times the 0.09 s the
trace itself takes; a child that imports torch starts in 1.6 s; training's live snapshots (up to
30 a second) would pay the pickling each time, and a model handed to ``bpviz.show`` from a
script's ``__main__`` cannot be sent to a child at all. (Measured on benchmarks/models.py's
ResNet18Like with ``pickle.dumps((trace, sequence), protocol=5)``, ``trace._autograd`` emptied.)
Threads keep one copy of everything and stop every pure-Python hang; only a hang inside C is
left running.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from bpviz.gui.stoppable import Cancelled, Interrupter

# A cancelled job still running after this long is stuck inside a C call: reported, and no
# later job waits for it.
STUCK_AFTER_S = 1.5
# How often cancelled jobs are asked again (code that caught the last Cancelled goes on).
TEND_INTERVAL_MS = 100


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
    # Emitted from a job's thread; Qt queues it to the receiver's (UI) thread.
    done = Signal(int, object)


class _Baseline:
    """torch's global switches as the first job found them, put back by a job that starts
    while an abandoned one may have left its scenario's switches in force."""

    state: Any = None


class TraceJob:
    """One load + trace + sequence run of ``source``, identified by ``job_id``, on its own
    daemon thread; it starts once the ``earlier`` (cancelled) jobs have ended or are found
    stuck, and puts torch's switches back first if one is still running."""

    def __init__(self, job_id: int, source, signals: _Signals, earlier: list[TraceJob], baseline: _Baseline):
        self.job_id = job_id
        self.source = source
        self.signals = signals
        self.earlier = earlier
        self.baseline = baseline
        self.cancelled_at: float | None = None
        self.stuck = False
        self.interrupter = Interrupter()
        self.thread = threading.Thread(target=self.run, name=f"bpviz-trace-{job_id}", daemon=True)

    @property
    def alive(self) -> bool:
        """Whether the job's thread still runs."""
        return self.thread.is_alive()

    def start(self) -> None:
        """Start the job's thread."""
        self.thread.start()

    def cancel(self) -> None:
        """Stop the job (from the UI thread): before it starts, or inside the scenario's code."""
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
        self.interrupter.interrupt()

    def run(self) -> None:
        """The thread's body: the outcome goes to the UI as ``("finished", TraceResult)``,
        ``("failed", message, details)`` or ``("cancelled",)``."""
        outcome: tuple = ("cancelled",)
        try:
            try:
                outcome = self._work()
            except Cancelled:
                pass
            finally:
                self.interrupter.close()
        except Cancelled:  # one more arrived while closing: nothing can arrive after a close
            self.interrupter.close()
        self.signals.done.emit(self.job_id, outcome)

    def _work(self) -> tuple:
        # Before the thread may be interrupted: imports are not to be cut short (see stoppable).
        import bpviz.gui.graph_scene  # noqa: F401 - warm the canvas's import on this thread
        from bpviz.core.torch_state import TorchState

        for job in self.earlier:  # each one cancelled before this job was made
            assert job.cancelled_at is not None
            if not job.stuck:
                job.thread.join(max(0.0, job.cancelled_at + STUCK_AFTER_S - time.monotonic()))
        if self.cancelled_at is not None:
            return ("cancelled",)
        if self.baseline.state is None:
            self.baseline.state = TorchState.current()
        elif any(job.alive for job in self.earlier):
            # An abandoned scenario may have its torch switches in force: not for this one.
            self.baseline.state.apply()
        self.interrupter.open()
        if self.cancelled_at is not None:  # cancelled while opening: it was not raised yet
            return ("cancelled",)
        try:
            return ("finished", run_trace(self.source))
        except Cancelled:
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a dialog, never a crash
            return ("failed", *error_message(exc))


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
    from bpviz.core.errors import BpvizError, unexpected_message

    details = "".join(traceback.format_exception(exc))
    if isinstance(exc, BpvizError):
        return str(exc), details
    return f"Unexpected {unexpected_message(exc)}; the full error is under Show Details.", details


class TraceRunner(QObject):
    """Starts trace jobs, reports only the newest one, and cancels.

    ``finished(TraceResult)`` and ``failed(message, details)`` fire on the UI thread;
    ``busyChanged(bool)`` brackets each run (a cancel ends it at once) so the window can show a
    busy indication; ``stuck(name)`` says that a cancelled job did not stop (its code sits in a
    call Python cannot interrupt) and is left running unseen.
    """

    finished = Signal(object)
    failed = Signal(str, str)
    busyChanged = Signal(bool)
    stuck = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        self._latest = 0
        self._busy = False
        self._current: TraceJob | None = None
        self._stopping: list[TraceJob] = []
        self._baseline = _Baseline()
        self._tend_timer = QTimer(self)
        self._tend_timer.setInterval(TEND_INTERVAL_MS)
        self._tend_timer.timeout.connect(self._tend)

    @property
    def busy(self) -> bool:
        """Whether the newest job is still running (and not cancelled)."""
        return self._current is not None

    @property
    def stuck_jobs(self) -> int:
        """How many cancelled jobs still run, found stuck in a call Python cannot interrupt."""
        return sum(1 for job in self._stopping if job.stuck and job.alive)

    def start(self, source) -> int:
        """Run a job for ``source``; returns its id. A job still running is cancelled: only the
        newest one's result would be shown."""
        earlier = [job for job in (*self._stopping, self._current) if job is not None and job.alive]
        if self._current is not None:
            self._stop(self._current)
        self._latest += 1
        job = self._current = TraceJob(self._latest, source, self._signals, earlier, self._baseline)
        job.start()
        self._set_busy(True)
        return self._latest

    def cancel(self) -> bool:
        """Stop the running job; its result, if it still comes, is ignored. False when none runs."""
        job = self._current
        if job is None:
            return False
        self._current = None
        self._stop(job)
        self._set_busy(False)
        return True

    def wait(self, msecs: int = -1) -> bool:
        """Block until the running job has ended (``msecs`` < 0: however long it takes) and the
        cancelled ones have stopped (each at most until it is found stuck); True when no job's
        thread runs any more."""
        deadline = None if msecs < 0 else time.monotonic() + msecs / 1000
        while True:
            self._tend()
            running = [job for job in (*self._stopping, self._current) if job is not None and job.alive]
            waiting = [job for job in running if not job.stuck]
            if not waiting:
                return not running
            if deadline is not None and time.monotonic() >= deadline:
                return False
            waiting[0].thread.join(TEND_INTERVAL_MS / 1000)

    def _stop(self, job: TraceJob) -> None:
        job.cancel()
        self._stopping.append(job)
        if not self._tend_timer.isActive():
            self._tend_timer.start()

    def _tend(self) -> None:
        """Ask cancelled jobs again; report each one that does not stop, once."""
        now = time.monotonic()
        for job in list(self._stopping):
            if not job.alive:
                self._stopping.remove(job)
                continue
            job.cancel()
            if not job.stuck and job.cancelled_at is not None and now - job.cancelled_at >= STUCK_AFTER_S:
                job.stuck = True
                self.stuck.emit(job.source.display_name)
        if not any(not job.stuck for job in self._stopping):
            self._tend_timer.stop()

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _on_done(self, job_id: int, outcome: tuple) -> None:
        job = self._current
        if job is None or job_id != job.job_id:
            return
        self._current = None
        self._set_busy(False)
        if outcome[0] == "finished":
            self.finished.emit(outcome[1])
        elif outcome[0] == "failed":
            self.failed.emit(outcome[1], outcome[2])
