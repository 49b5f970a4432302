"""TrainingController: the Train menu, the training docks and the worker thread, tied together.

It owns no training state of its own: the engine's Trainer lives on the worker thread, the step
position in the document's StepController. The controller forwards button presses to the worker
and appends the worker's chunks to bounded plot buffers; the
:class:`~bpviz.gui.training.live.LiveView` draws them (plots, and each snapshot's trace handed to
the document, which shows it at the end of the backward pass keeping the camera and the
selection) on a time budget. After a pause the last snapshot stays, so the stepper walks through
the pass with the trained weights. What it trains comes from the document: the scenario the
source loaded for the trace, never a second load.

Everything heavy (pyqtgraph, the docks, the thread) is created on first use.

Pause stops a run between two steps. A step that does not end (an endless loop in the model)
is stopped inside by a second Pause (or Esc) once :data:`STOP_INSIDE_AFTER_MS` have passed: the
worker thread then restores the starting weights and finishes, and a fresh thread takes over.
A step stuck in a call Python cannot interrupt is abandoned (the app ends the process when it
quits); training that scenario is then off until it is opened again.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

if TYPE_CHECKING:
    from bpviz.gui.canvas_panel import CanvasPanel
    from bpviz.gui.document import Document
    from bpviz.gui.training.docks import TrainingDocks
    from bpviz.gui.training.live import LiveView
    from bpviz.gui.training.worker import TrainingThread
    from bpviz.presentation.training.buffers import TrainingHistory

# After the docks are shown or hidden, the canvas is refitted when its size stops changing
# (REFIT_DEBOUNCE_MS after the last resize, within REFIT_WINDOW_S).
REFIT_DEBOUNCE_MS = 80
REFIT_WINDOW_S = 1.5
# A run that has not paused this long after Pause: a second Pause stops it inside its step.
STOP_INSIDE_AFTER_MS = 1000
# A step stopped inside that has not ended this long after: stuck in C, abandoned.
STUCK_AFTER_MS = 1500
INTERRUPT_INTERVAL_MS = 100


@dataclass(frozen=True)
class TrainingParts:
    """What the controller creates on first use: the docks, the plot buffers, the worker thread
    and the live view that draws the worker's results."""

    docks: TrainingDocks
    history: TrainingHistory
    worker: TrainingThread
    live: LiveView


class TrainingController(QObject):
    """The Train actions for ``document``; builds the docks (in ``host``) and the thread when
    first needed. ``canvas`` is refitted when the docks change its size; ``panels`` are the
    widgets a live snapshot repaints besides the canvas. ``runningChanged(bool)``: a run or step
    started or ended."""

    runningChanged = Signal(bool)

    def __init__(
        self,
        document: Document,
        host: QMainWindow,
        canvas: CanvasPanel,
        panels: list[QWidget],
        beside: QDockWidget | None = None,
        remembered_layout: bool = False,
    ):
        super().__init__(host)
        self.beside = beside  # the dock the training panel shares a column with (the inspector)
        self.remembered_layout = remembered_layout  # the host restored a saved dock layout
        self.document = document
        self.host = host
        self.canvas = canvas
        self.panels = panels
        self.parts: TrainingParts | None = None
        self._session = 0
        self._run = 0
        self._running = False
        self._last_loss: float | None = None
        self._settings_source: str | None = None  # the source the panel's settings were made for
        self._paused_at = 0.0  # when Pause was pressed in the current run (0: not yet)
        self._abandoned: list[TrainingThread] = []  # stuck in C: kept, or Qt aborts on deletion
        self._not_stopping = QTimer(self)
        self._not_stopping.setSingleShot(True)
        self._not_stopping.timeout.connect(self._offer_stop_inside)
        self._not_ending = QTimer(self)
        self._not_ending.setSingleShot(True)
        self._not_ending.timeout.connect(self._abandon_worker)
        # Asks again while the step goes on (nothing is raised while the worker imports).
        self._interrupting = QTimer(self)
        self._interrupting.setInterval(INTERRUPT_INTERVAL_MS)
        self._interrupting.timeout.connect(lambda: self.parts is not None and self.parts.worker.interrupt())
        self.show_action = QAction("Show &Training", host)
        self.show_action.setCheckable(True)
        self.show_action.setShortcut(QKeySequence("Ctrl+T"))
        self.show_action.setToolTip("Show or hide the training panel and plots")
        self.show_action.toggled.connect(self.set_shown)
        self.run_action = self._action("&Run", "F5", self.run)
        self.pause_action = self._action("&Pause", "Shift+F5", self.pause)
        self.step_action = self._action("&Step One SGD Step", "F10", self.step)
        self.reset_action = self._action("Reset &Weights", None, self.reset)
        self.export_action = self._action("Export Training &Plots…", None, self.export_plots_dialog)
        self.pause_action.setEnabled(False)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(REFIT_DEBOUNCE_MS)
        self._refit.timeout.connect(canvas.show_initial_view)
        self._refit_until = 0.0
        canvas.installEventFilter(self)
        document.opened.connect(self._sync_scenario)
        document.themeChanged.connect(self.set_theme)

    @property
    def docks(self) -> TrainingDocks | None:
        """The training docks (None until first shown)."""
        return self.parts.docks if self.parts is not None else None

    @property
    def history(self) -> TrainingHistory | None:
        """The plot buffers of this session (None until first shown)."""
        return self.parts.history if self.parts is not None else None

    @property
    def live(self) -> LiveView | None:
        """The live view (None until first shown)."""
        return self.parts.live if self.parts is not None else None

    @property
    def worker(self) -> TrainingThread | None:
        """The training thread (None until first shown)."""
        return self.parts.worker if self.parts is not None else None

    def _action(self, text: str, key: str | None, slot: Any) -> QAction:
        act = QAction(text, self.host)
        if key:
            act.setShortcut(QKeySequence(key))
        act.triggered.connect(slot)
        return act

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Refit the canvas when it settles into its new size after the docks changed."""
        if event.type() == QEvent.Type.Resize and time.perf_counter() < self._refit_until:
            self._refit.start()
        return False

    def build_menu(self, bar: Any) -> None:
        """Add the Train menu to the menu bar ``bar``."""
        menu = bar.addMenu("&Train")
        menu.setObjectName("trainMenu")
        menu.addAction(self.show_action)
        menu.addSeparator()
        for act in (self.run_action, self.pause_action, self.step_action, self.reset_action):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.export_action)

    # ------------------------------------------------------------------------ building
    def ensure(self) -> TrainingParts:
        """Create the docks, the plot buffers and the worker thread (once)."""
        if self.parts is not None:
            return self.parts
        from bpviz.gui.training.docks import TrainingDocks
        from bpviz.gui.training.live import LiveView
        from bpviz.presentation.training.buffers import TrainingHistory

        doc = self.document
        docks = TrainingDocks(self.host, doc.theme, doc.warn, self.beside)
        # Docks made after the window restored a remembered layout take their place in it.
        if self.remembered_layout and any([self.host.restoreDockWidget(dock) for dock in docks.docks]):  # noqa: C419 - restore every dock, not only up to the first
            docks.keep_sizes()
        p = docks.panel
        p.runRequested.connect(self.run)
        p.pauseRequested.connect(self.pause)
        p.stepRequested.connect(self.step)
        p.resetRequested.connect(self.reset)
        p.problem.connect(lambda message: doc.warn("Cannot read the CSV file", message))
        docks.histogram.paramChosen.connect(self._choose_param)
        doc.selectionChanged.connect(self._on_selection)
        history = TrainingHistory()
        worker = self._new_worker()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        live = LiveView(doc, self.canvas, self.panels, docks, history, self)
        live.set_worker(worker.ready_for_snapshot, worker.hold)
        self.parts = TrainingParts(docks, history, worker, live)
        self._sync_scenario()
        return self.parts

    def _new_worker(self) -> TrainingThread:
        from bpviz.gui.training.worker import TrainingThread

        worker = TrainingThread(self)
        worker.chunk.connect(self._on_chunk)
        worker.ended.connect(self._on_ended)
        return worker

    def _replace_worker(self) -> None:
        """Go on with a fresh thread (the old one finished after an interruption, or is stuck)."""
        parts = self.ensure()
        old = parts.worker
        old.chunk.disconnect(self._on_chunk)
        old.ended.disconnect(self._on_ended)
        if old.isRunning():
            self._abandoned.append(old)
        worker = self._new_worker()
        parts.live.set_worker(worker.ready_for_snapshot, worker.hold)
        self.parts = dataclasses.replace(parts, worker=worker)

    @property
    def panel(self) -> Any:
        """The training panel (created on first access)."""
        return self.ensure().docks.panel

    def set_shown(self, on: bool) -> None:
        """Show or hide the training docks (the View stays as it was otherwise)."""
        docks = self.ensure().docks
        if docks.shown() != on:
            docks.set_shown(on)
            # The canvas changes size as the docks are laid out: fit the graph once it settles.
            self._refit_until = time.perf_counter() + REFIT_WINDOW_S
            self._refit.start()
        if self.show_action.isChecked() != on:
            self.show_action.setChecked(on)

    def set_theme(self, theme: Any) -> None:
        """Follow the document's light or dark theme."""
        if self.parts is not None:
            self.parts.docks.set_theme(theme)

    # ------------------------------------------------------------------------ scenario
    def _sync_scenario(self) -> None:
        """Point the worker at the document's newly opened scenario (the plots start over)."""
        parts = self.parts
        if parts is None:
            return
        doc, docks = self.document, parts.docks
        docks.panel.set_scenario_lr(doc.trace.lr if doc.trace is not None else None)
        reset = self._settings_for_source()
        load = doc.training_loader()
        if load is None:
            docks.panel.set_available(
                False,
                "Training needs a scenario file or lesson (or a model "
                "passed to bpviz.show): open one with File ▸ Open or "
                "File ▸ Lessons.",
            )
            return
        parts.worker.cancel(self._run)
        self._session += 1
        parts.worker.submit(self._command("open", load=load))
        parts.history.clear(())
        parts.live.clear()
        docks.fit.set_data(None)
        docks.histogram.set_histograms(None)
        note = ""
        if reset:
            parts.live.add_log([f"new scenario: training settings back to the defaults (were {', '.join(reset)})"])
            note = f" Training settings are back to the defaults for this scenario (were: {', '.join(reset)})."
        docks.panel.set_available(True, "Press Run to train, or Step for one SGD step." + note)
        docks.panel.set_canvas_note("")
        self._set_running(False)

    def _settings_for_source(self) -> list[str]:
        """Training settings belong to one scenario: another scenario starts from the defaults
        (a learning rate, a dataset or zero_grad off chosen for one lesson would silently change
        the next, or not fit it at all); reloading the same one keeps them. Returns what was
        reset, in a few words per setting."""
        source = self.document.source
        label = source.label if source is not None else None
        previous, self._settings_source = self._settings_source, label
        if previous is None or label == previous or self.parts is None:
            return []
        return list(self.parts.docks.panel.reset_to_defaults())

    def _command(self, kind: str, **fields: Any) -> Any:
        from bpviz.gui.training.worker import Command

        return Command(kind, session=self._session, run=self._run, **fields)

    # ------------------------------------------------------------------------ buttons
    def run(self) -> None:
        """Run the panel's number of steps with its settings (bad settings: a dialog)."""
        self._start("run")

    def step(self) -> None:
        """One optimisation step."""
        self._start("step")

    def _start(self, kind: str) -> None:
        self.set_shown(True)
        parts = self.ensure()
        if self._running or self.document.training_loader() is None:
            return
        from bpviz.core.errors import BpvizError

        panel = parts.docks.panel
        settings, steps = panel.settings(), panel.step_count()
        try:
            settings.check(steps)
        except BpvizError as exc:
            self.document.warn("Cannot train", str(exc))
            return
        self._run += 1
        self._set_running(True)
        panel.set_progress(0, 1 if kind == "step" else steps)
        if kind == "run":
            lr = settings.lr if settings.lr is not None else self.document.trace.lr
            parts.live.add_log(
                [
                    f"step {parts.history.table.offered}: run {steps:,} steps, "
                    f"{settings.optimizer} lr {lr:g}, {settings.data.describe()}"
                ]
            )
        parts.worker.histogram_param = parts.docks.histogram.current()
        parts.worker.submit(self._command(kind, settings=settings, steps=steps))

    def pause(self) -> None:
        """Stop the run after the step in progress; the canvas shows the trained weights. Pressed
        again when the step has not ended :data:`STOP_INSIDE_AFTER_MS` after the first press, it
        stops the step inside (the weights go back to the start)."""
        if self.parts is None:
            return
        worker = self.parts.worker
        worker.cancel(self._run)
        if not self._running:
            return
        now = time.monotonic()
        if not self._paused_at:
            self._paused_at = now
            self._not_stopping.start(STOP_INSIDE_AFTER_MS)
        elif now - self._paused_at >= STOP_INSIDE_AFTER_MS / 1000 and not self._not_ending.isActive():
            worker.interrupt()
            self.parts.live.set_status("Stopping the step inside…")
            self._interrupting.start()
            self._not_ending.start(STUCK_AFTER_MS)

    def _offer_stop_inside(self) -> None:
        if self._running and self.parts is not None:
            self.parts.live.set_status(
                "The step in progress has not ended. Press Pause again (or Esc) to stop it inside; "
                "the weights then go back to the start."
            )

    def _abandon_worker(self) -> None:
        """The interrupted step did not end: its code sits in a call Python cannot interrupt."""
        if not self._running or self.parts is None:
            return
        self._replace_worker()
        self._set_running(False)
        self._session += 1  # whatever the stuck thread still reports is ignored
        message = (
            "The step is stuck in a call Python cannot interrupt (a long sleep or a huge torch op) and runs on "
            "unseen until bpviz quits; open the scenario again to train it."
        )
        self.parts.docks.panel.set_available(False, message)
        self.document.report(message, 20000)

    def reset(self) -> None:
        """Stop, restore the starting weights exactly, and start the plots over."""
        if self.parts is None or self.document.training_loader() is None:
            return
        self.parts.worker.cancel(self._run)
        self._run += 1
        self.parts.worker.submit(self._command("reset"))

    def _set_running(self, running: bool) -> None:
        changed = running != self._running
        self._running = running
        self._paused_at = 0.0
        self._not_stopping.stop()
        self._not_ending.stop()
        self._interrupting.stop()
        if self.parts is not None:
            self.parts.docks.panel.set_running(running)
        self.run_action.setEnabled(not running)
        self.step_action.setEnabled(not running)
        self.pause_action.setEnabled(running)
        if changed:
            self.runningChanged.emit(running)

    def is_running(self) -> bool:
        """Whether a run or step is in progress."""
        return self._running

    # ------------------------------------------------------------------------ results
    def _on_chunk(self, chunk: Any) -> None:
        parts = self.ensure()  # the worker exists only once the parts do
        if chunk.session != self._session:
            if chunk.snapshot is not None:
                parts.worker.ready_for_snapshot(0.0)  # stale, but the worker waits for the UI
            return
        live, history = parts.live, parts.history
        if chunk.reset:
            history.clear()
            live.add_log(["weights reset to the start"])
        history.add(chunk.names, chunk.table, chunk.val, chunk.latest)
        live.mark_plots()
        live.add_log(chunk.events)
        if chunk.latest is not None:
            self._last_loss = chunk.latest.loss
            rate = f" · {chunk.rate:,.0f} steps/s" if chunk.rate and chunk.total > 1 else ""
            live.set_status(
                f"Step {int(chunk.table[-1, 0]) + 1:,} · loss {self._last_loss:.4g}{rate}", (chunk.done, chunk.total)
            )
        if chunk.snapshot is not None:
            live.take_snapshot(chunk.snapshot)

    @property
    def last_snapshot(self) -> Any:
        """The snapshot the canvas shows (None before the first)."""
        return self.parts.live.last_snapshot if self.parts is not None else None

    def _on_ended(self, end: Any) -> None:
        if end.session != self._session or end.run != self._run:
            return
        self._set_running(False)
        live, doc = self.ensure().live, self.document
        status = ""
        if end.reason == "interrupted":
            # The old thread has finished; the plots start over from the restored weights.
            self._replace_worker()
            self._sync_scenario()
            live.add_log([f"step {end.step}: stopped inside the step; weights back to the start"])
            live.set_status(end.message)
            doc.report(end.message)
            return
        if end.reason == "paused":
            status = (
                f"Paused after step {end.step:,}. Step through this pass with the trained weights "
                "using the step bar (→)."
            )
            live.add_log([f"step {end.step}: paused"])
        elif end.reason == "done" and end.kind == "run":
            loss = f"; loss {self._last_loss:.4g}" if self._last_loss is not None else ""
            status = f"Done: {end.step:,} steps{loss}. Run again to go on, or step through this pass (→)."
        elif end.reason == "stopped":
            live.add_log([f"step {end.step}: stopped by NaN/Inf"])
            status = "Stopped by NaN/Inf. Lower the learning rate or turn on clipping, then Run again."
        if status:
            live.set_status(status)
        live.flush()  # the final weights, at once
        if end.reason == "stopped":
            doc.warn("Training stopped", end.message)
        elif end.reason in ("failed", "error"):
            doc.warn("Cannot train", end.message)

    # ------------------------------------------------------------------------ selection
    def _on_selection(self) -> None:
        """A selected parameter shows in the histogram. Each snapshot's trace restores the
        selection; the parameter already shown asks for nothing (or snapshots would loop)."""
        node_id, trace, parts = self.document.selection, self.document.trace, self.parts
        if parts is None or not isinstance(node_id, str) or trace is None or node_id not in trace.graph:
            return
        attrs = trace.graph.nodes[node_id]
        name = str(attrs.get("name"))
        names = parts.history.names
        if attrs.get("kind") == "param" and name in names and name != parts.worker.histogram_param:
            parts.docks.histogram.set_params(list(names), name)
            self._choose_param(name)

    def _choose_param(self, name: str) -> None:
        parts = self.ensure()
        parts.worker.histogram_param = name
        if not self._running and parts.history.names:
            parts.worker.submit(self._command("refresh"))

    # ------------------------------------------------------------------------ export, end
    def export_plots_dialog(self) -> None:
        """Ask for a .png or .svg name and write the loss and gradient-norm plots of this run."""
        from PySide6.QtWidgets import QFileDialog

        from bpviz.gui.training.export import FILTERS

        if self.parts is None or not len(self.parts.history.table):
            self.document.warn("Nothing to export", "Train first: there are no training steps to plot yet.")
            return
        path, _ = QFileDialog.getSaveFileName(self.host, "Export training plots", "training.png", FILTERS)
        if path:
            self.export_plots(path)

    def export_plots(self, path: str) -> bool:
        """Write the loss and gradient-norm plots to ``path`` (.png or .svg); errors: a dialog."""
        from bpviz.core.errors import BpvizError
        from bpviz.gui.training.export import export_history

        if self.parts is None:
            self.document.warn("Nothing to export", "Train first: there are no training steps to plot yet.")
            return False
        try:
            out = export_history(self.parts.history, path, self.document.title)
        except BpvizError as exc:
            self.document.warn("Cannot export", str(exc))
            return False
        self.document.report(f"Exported {out}")
        return True

    def shutdown(self) -> None:
        """Stop the worker thread (the window is closing); a step that does not end is
        interrupted (see :meth:`TrainingThread.shutdown`)."""
        if self.parts is not None:
            self.parts.worker.shutdown()

    def stopped(self) -> bool:
        """Whether no training thread runs (after :meth:`shutdown`: False if one is stuck in a
        call Python cannot interrupt, and the process must end without the interpreter's
        teardown)."""
        workers = [*self._abandoned, *([self.parts.worker] if self.parts is not None else [])]
        return not any(worker.isRunning() for worker in workers)
