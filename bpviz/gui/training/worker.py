"""Training off the UI thread: a QThread that runs the engine and reports in throttled chunks.

The thread takes commands from a queue (open a scenario, run N steps, one step, reset, refresh,
close). While it runs, it checks a cancel number before every step, so Pause takes effect
between two steps however fast they come. Results go to the UI as :class:`Chunk` objects at
most every :data:`EMIT_INTERVAL` seconds (never one signal per step), already packed into
arrays so the UI thread only appends them.

Every few chunks a chunk also carries a :class:`~bpviz.presentation.training.snapshot.Snapshot`: the
scenario traced with the current weights, traced here between two steps, so tracing never races
with the optimiser. Snapshots are paced by two clocks: the UI says when it is ready for the next
one (after drawing the last, see :meth:`TrainingThread.ready_for_snapshot`), and the thread
spends at most about :data:`SNAPSHOT_SHARE` of its time tracing. The last state of every run,
step and reset always gets a snapshot, so after a pause the canvas shows the trained weights.

Nothing here touches a widget or a graphics item: signals carry plain data, queued to the UI.

A step that never ends (an endless loop in the model's forward) never reaches the cancel check:
:meth:`TrainingThread.interrupt` raises :class:`~bpviz.gui.stoppable.Cancelled` inside it. The
thread then puts the starting weights back, reports an ``interrupted`` end and finishes: torch
keeps per-thread state (grad mode, its mode stacks) that an exception in the middle of a step
may leave changed, so the controller goes on with a fresh thread.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from bpviz.gui.stoppable import Cancelled, Interrupter

if TYPE_CHECKING:
    from bpviz.gui.training.settings import TrainingSession
    from bpviz.presentation.training.snapshot import EventLog, FitProbe

EMIT_INTERVAL = 1 / 10
SNAPSHOT_INTERVAL = 1 / 30
SNAPSHOT_SHARE = 0.15
# Longest the worker waits for the UI to finish drawing (a safety net: the UI always lets go).
MAX_UI_HOLD_S = 0.5
# Longest the UI waits for the worker to reach the end of its step before drawing anyway (a
# big model's step may take longer than a frame should wait).
MAX_PARK_WAIT_S = 0.01
# Closing: how long a running step may take to end by itself before it is interrupted.
SHUTDOWN_GRACE_S = 0.3


@dataclass
class Command:
    """One request to the thread. ``kind``: open, run, step, reset, refresh or close."""

    kind: str
    session: int = 0
    run: int = 0
    load: Callable | None = None
    settings: Any = None
    steps: int = 1


@dataclass
class Chunk:
    """Results of consecutive steps, packed for the plots.

    ``table`` rows are ``(step, loss, norm of each of names...)``; ``val`` rows ``(step,
    val_loss)``; ``results`` are the engine's StepResults themselves; ``latest`` the last one.
    """

    session: int
    run: int
    names: tuple[str, ...]
    results: list
    table: np.ndarray
    val: np.ndarray
    latest: Any = None
    events: list[str] = field(default_factory=list)
    snapshot: Any = None
    done: int = 0
    total: int = 0
    rate: float = 0.0
    reset: bool = False  # the weights went back to the start: plots start over


@dataclass
class RunEnd:
    """How a command ended: ``reason`` is done, paused, failed (nothing ran: bad settings or
    data), stopped (a NaN/Inf), error (a step failed) or interrupted (stopped inside a step that
    did not end; the weights are back at the start and the thread has finished); ``message``
    says why, for a dialog."""

    session: int
    run: int
    kind: str
    reason: str
    message: str = ""
    step: int = 0


# Threads still running when the interpreter exits (a script that never closed its window):
# stopped first, since Qt aborts the process when a running QThread object is destroyed.
_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_live_threads() -> None:
    for thread in list(_LIVE):
        thread.shutdown(2000)


class TrainingThread(QThread):
    """The worker thread. Call :meth:`submit` from the UI thread; listen to ``chunk`` and ``ended``."""

    chunk = Signal(object)
    ended = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.Queue[Command] = queue.Queue()
        # Written by the UI thread, read here between steps: single attribute stores are atomic.
        self.cancelled = 0
        self.histogram_param = ""
        self._ui_ready_at = 0.0
        self._may_step = threading.Event()
        self._may_step.set()
        self._quiet = threading.Event()  # set while the worker runs no Python: idle or held
        self._quiet.set()
        self._session: TrainingSession | None = None
        self._session_id = 0
        self._probe: FitProbe | None = None
        self._events: EventLog | None = None  # made by run(), on the worker thread
        self.interrupter = Interrupter()

    # ------------------------------------------------------------------------ UI-thread side
    def submit(self, command: Command) -> None:
        """Queue a command (starts the thread on first use)."""
        self._queue.put(command)
        if not self.isRunning():
            _LIVE.add(self)
            self.start()

    def cancel(self, run: int) -> None:
        """Stop run ``run`` (and any earlier one) before its next step."""
        self.cancelled = max(self.cancelled, run)

    def ready_for_snapshot(self, delay: float) -> None:
        """The UI has drawn the last snapshot and takes another in ``delay`` seconds."""
        self._ui_ready_at = time.perf_counter() + delay

    def hold(self, on: bool) -> None:
        """Hold the worker between two steps while the UI draws (True), or let it go on.

        Both threads share the interpreter lock: drawing while the engine steps makes each wait
        for the other at every switch, and both slow down several times over. Taking turns,
        the UI draws a frame in one go and the engine then steps at full speed.
        """
        if on:
            self._may_step.clear()
            # Wait (without the lock) until the worker is held or idle: drawing while it still
            # finishes a step would make both crawl.
            self._quiet.wait(MAX_PARK_WAIT_S)
        else:
            self._may_step.set()

    def interrupt(self) -> bool:
        """Stop the command running now inside its step (see the module's docstring); False
        when the thread runs none."""
        self._may_step.set()
        return self.interrupter.interrupt()

    def shutdown(self, msecs: int = 2000) -> bool:
        """Stop whatever runs and end the thread, waiting up to ``msecs``: a step that has not
        ended after :data:`SHUTDOWN_GRACE_S` is interrupted. True when the thread ended (False:
        stuck in a call Python cannot interrupt)."""
        self.cancelled = 1 << 62
        self._may_step.set()
        if self.isRunning():
            self._queue.put(Command("close"))
            grace = min(msecs, round(SHUTDOWN_GRACE_S * 1000))
            if not self.wait(grace) and self.interrupt():
                self.wait(max(0, msecs - grace))
        return not self.isRunning()

    # ------------------------------------------------------------------------ worker side
    def run(self) -> None:  # noqa: D102 - QThread API; runs on the worker thread
        from bpviz.presentation.training.snapshot import EventLog

        self._events = EventLog()
        while True:
            self._quiet.set()
            cmd = self._queue.get()
            self._quiet.clear()
            if cmd.kind == "close":
                if self._session is not None:
                    self._session.close()
                return
            try:
                try:
                    self.interrupter.open()
                    self._handle(cmd)
                finally:
                    self.interrupter.close()
            except Cancelled:
                self._interrupted(cmd)
                return
            except Exception as exc:  # noqa: BLE001 - any failure is reported, the thread lives on
                self.ended.emit(RunEnd(cmd.session, cmd.run, cmd.kind, "failed", _message(exc)))

    def _interrupted(self, cmd: Command) -> None:
        """After a Cancelled: the starting weights back, the session closed, the end reported."""
        session, self._session = self._session, None
        message = "The step did not finish and was stopped inside; the weights went back to the start."
        try:
            if session is not None:
                session.reset()
                session.close()
        except Exception as exc:  # noqa: BLE001 - reported; the controller starts afresh anyway
            message = f"The step did not finish and was stopped inside; the weights could not be restored ({exc})."
        self.ended.emit(RunEnd(cmd.session, cmd.run, cmd.kind, "interrupted", message))

    def _handle(self, cmd: Command) -> None:
        from bpviz.core.errors import BpvizError
        from bpviz.gui.training.settings import TrainingSession

        assert self._events is not None  # run() makes the log before it handles a command
        if cmd.kind == "open":
            assert cmd.load is not None, "an open command carries what to load"
            if self._session is not None:
                self._session.close()
            self._session, self._session_id, self._probe = TrainingSession(cmd.load), cmd.session, None
            self._events.reset()
            return
        if self._session is None or cmd.session != self._session_id:
            return
        session = self._session
        if cmd.kind == "reset":
            session.reset()
            self._events.reset()
            if session.trainer is not None:
                self._emit([], cmd, 0, 0, snapshot=self._snapshot(None), reset=True)
            self.ended.emit(RunEnd(cmd.session, cmd.run, cmd.kind, "done"))
            return
        if cmd.kind == "refresh":  # redraw with the current Trainer (a new histogram choice)
            if session.trainer is not None:
                self._emit([], cmd, 0, 0, snapshot=self._snapshot(None))
            return
        try:
            trainer, fresh = session.ensure(cmd.settings)
        except BpvizError as exc:
            self.ended.emit(RunEnd(cmd.session, cmd.run, cmd.kind, "failed", str(exc), session.step))
            return
        if fresh:
            from bpviz.presentation.training.snapshot import FitProbe

            self._probe = FitProbe(trainer)
        self._train(cmd, trainer, fresh)

    def _train(self, cmd: Command, trainer, fresh: bool) -> None:
        from bpviz.core.training import TrainingError, TrainingStopped

        n = 1 if cmd.kind == "step" else cmd.steps
        session = self._session
        assert session is not None  # _handle trains only in an open session
        pending: list = []
        last_emit = start = time.perf_counter()
        next_snapshot = 0.0 if fresh else start + SNAPSHOT_INTERVAL
        done = 0
        reason, message = "done", ""
        may_step = self._may_step

        def stopped() -> bool:  # asked before every step
            if not may_step.is_set():
                self._quiet.set()
                may_step.wait(MAX_UI_HOLD_S)  # the UI is drawing: wait without the lock
                self._quiet.clear()
            return self.cancelled >= cmd.run

        try:
            for i in range(n):
                if stopped():
                    break
                now = time.perf_counter()
                snap = None
                # The canvas shows the pass of a step the plots have: traced before the step,
                # with the weights it starts from and the batch it draws (its loss is the
                # step's). Not before the last step: the run's end gets its own snapshot.
                if now >= next_snapshot and now >= self._ui_ready_at and i < n - 1:
                    snap = self._snapshot(None, ran=True)
                    cost = snap.seconds if snap is not None else time.perf_counter() - now
                    next_snapshot = time.perf_counter() + max(SNAPSHOT_INTERVAL, cost / SNAPSHOT_SHARE)
                validate = True if i == n - 1 and trainer.problem.val is not None else None
                result = trainer.step(validate=validate)
                pending.append(result)
                done += 1
                now = time.perf_counter()
                if snap is not None:
                    self._finish_snapshot(snap, trainer, result.diagnostics)
                if snap is not None or now - last_emit >= EMIT_INTERVAL:
                    self._emit(pending, cmd, done, n, snapshot=snap, rate=done / max(now - start, 1e-9))
                    pending, last_emit = [], now
            if done < n:
                reason = "paused"
        except TrainingStopped as exc:
            pending.append(exc.result)
            reason, message = "stopped", str(exc)
        except TrainingError as exc:
            reason, message = "error", str(exc)
        latest = pending[-1].diagnostics if pending else None
        elapsed = max(time.perf_counter() - start, 1e-9)
        self._emit(pending, cmd, done, n, snapshot=self._snapshot(latest), rate=done / elapsed)
        self.ended.emit(RunEnd(cmd.session, cmd.run, cmd.kind, reason, message, session.step))

    def _snapshot(self, diagnostics, ran: bool = False):
        """Trace the pass of the trainer's next step with the current weights (None if the
        trace itself fails: the run goes on). ``ran``: that step is about to run, and the
        snapshot goes to the UI with its result."""
        from bpviz.presentation.training.snapshot import Snapshot, retrace

        t0 = time.perf_counter()
        session = self._session
        assert session is not None and session.trainer is not None  # snapshots come from a session's Trainer
        trainer = session.trainer
        try:
            trace, sequence, position = retrace(trainer, diagnostics or ())
            snap = Snapshot(trace, sequence, position, step=session.step, batch=trainer.describe_batch(), ran=ran)
            if not ran:  # else once the step has run: see _finish_snapshot
                self._side_plots(snap, trainer)
        except Exception:  # noqa: BLE001 - the plots still update; the canvas keeps the last pass
            return None
        snap.seconds = time.perf_counter() - t0
        # The UI asks for the next one when it has drawn this one.
        self._ui_ready_at = math.inf
        return snap

    def _finish_snapshot(self, snap, trainer, diagnostics) -> None:
        """After the step whose pass ``snap`` traced: its findings as badges, and the side plots
        (histograms, fit) with the weights and the gradient that step left."""
        from bpviz.presentation.training.snapshot import merge_diagnostics

        t0 = time.perf_counter()
        snap.trace.diagnostics = merge_diagnostics(snap.trace, diagnostics)
        # Side plots are optional: the canvas still updates when one cannot be drawn.
        with contextlib.suppress(Exception):
            self._side_plots(snap, trainer)
        snap.seconds += time.perf_counter() - t0

    def _side_plots(self, snap, trainer) -> None:
        from bpviz.presentation.training.snapshot import histograms

        snap.histograms = histograms(trainer, self.histogram_param)
        if self._probe is not None:
            snap.fit_values = self._probe.values()
            snap.fit_data = self._probe.data

    def _emit(
        self, results: list, cmd: Command, done: int, total: int, snapshot=None, rate: float = 0.0, reset: bool = False
    ) -> None:
        session = self._session
        assert session is not None and self._events is not None  # chunks come from a session's run
        trainer = session.trainer
        names = tuple(trainer.names) if trainer is not None else ()
        offset = session.offset
        table = np.full((len(results), 2 + len(names)), np.nan)
        val = []
        events: list[str] = []
        for i, r in enumerate(results):
            step = offset + r.step
            row = table[i]
            row[0], row[1] = step, r.loss
            params = r.params
            for j, name in enumerate(names):
                s = params.get(name)
                if s is not None:
                    row[2 + j] = s.norm
            if r.val_loss is not None:
                val.append((step, r.val_loss))
            if r.diagnostics:
                events += self._events.feed(step, r.diagnostics)
        chunk = Chunk(
            cmd.session,
            cmd.run,
            names,
            results,
            table,
            np.array(val, dtype=np.float64).reshape(-1, 2),
            results[-1] if results else None,
            events,
            snapshot,
            done,
            total,
            rate,
            reset,
        )
        self.chunk.emit(chunk)


def _message(exc: BaseException) -> str:
    from bpviz.core.errors import BpvizError, unexpected_message

    if isinstance(exc, BpvizError):
        return str(exc)
    # One line for the dialog (it once held the last 800 characters of the traceback).
    return f"Unexpected {unexpected_message(exc)}."
