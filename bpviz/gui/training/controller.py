"""TrainingController: the Train menu, the training docks and the worker thread, tied together.

It owns no training state of its own: the engine's Trainer lives on the worker thread, the step
position in the window's StepController. The controller forwards button presses to the worker
and appends the worker's chunks to bounded plot buffers; the
:class:`~bpviz.gui.training.live.LiveView` draws them (plots, and each snapshot's trace handed to
the window, which shows it at the end of the backward pass keeping the camera and the
selection) on a time budget. After a pause the last snapshot stays, so the stepper walks through
the pass with the trained weights.

Everything heavy (pyqtgraph, the docks, the thread) is created on first use.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from bpviz.gui.main_window import MainWindow

# After the docks are shown or hidden, the canvas is refitted when its size stops changing
# (REFIT_DEBOUNCE_MS after the last resize, within REFIT_WINDOW_S).
REFIT_DEBOUNCE_MS = 80
REFIT_WINDOW_S = 1.5


class TrainingController(QObject):
    """Installs the Train menu on ``window``; builds the docks and thread when first needed."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.docks = None
        self.thread = None
        self.history = None
        self._session = 0
        self._run = 0
        self._running = False
        self._last_loss = None
        self._theme = None
        self.live = None
        self.show_action = QAction("Show &Training", window)
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
        self._refit.timeout.connect(window.show_initial_view)
        self._refit_until = 0.0
        window.canvas.installEventFilter(self)
        window.runner.finished.connect(self._on_new_scenario)
        window.closed.connect(self.shutdown)

    def _action(self, text: str, key: str | None, slot) -> QAction:
        act = QAction(text, self.window)
        if key:
            act.setShortcut(QKeySequence(key))
        act.triggered.connect(slot)
        return act

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        """Refit the canvas when it settles into its new size after the docks changed."""
        if event.type() == QEvent.Type.Resize and time.perf_counter() < self._refit_until:
            self._refit.start()
        return False

    def build_menu(self, bar) -> None:
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
    def ensure(self):
        """Create the docks, the plot buffers and the worker thread (once); returns the docks."""
        if self.docks is not None:
            return self.docks
        from bpviz.presentation.training.buffers import TrainingHistory
        from bpviz.gui.training.docks import TrainingDocks
        from bpviz.gui.training.live import LiveView
        from bpviz.gui.training.worker import TrainingThread

        w = self.window
        self.docks = TrainingDocks(w, self._theme or w.theme(), w.show_error)
        p = self.docks.panel
        p.runRequested.connect(self.run)
        p.pauseRequested.connect(self.pause)
        p.stepRequested.connect(self.step)
        p.resetRequested.connect(self.reset)
        p.problem.connect(lambda message: w.show_error("Cannot read the CSV file", message))
        self.docks.histogram.paramChosen.connect(self._choose_param)
        w.canvas.nodeSelected.connect(self._on_node_selected)
        self.history = TrainingHistory()
        self.thread = TrainingThread(self)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.thread.chunk.connect(self._on_chunk)
        self.thread.ended.connect(self._on_ended)
        self.live = LiveView(w, self.docks, self.history, self)
        self.live.set_worker(self.thread.ready_for_snapshot, self.thread.hold)
        w_trace = w.trace
        self._sync_scenario(w.spec, w_trace.lr if w_trace is not None else None)
        return self.docks

    @property
    def panel(self):
        """The training panel (created on first access)."""
        return self.ensure().panel

    def set_shown(self, on: bool) -> None:
        """Show or hide the training docks (the View stays as it was otherwise)."""
        docks = self.ensure()
        if docks.shown() != on:
            docks.set_shown(on)
            # The canvas changes size as the docks are laid out: fit the graph once it settles.
            self._refit_until = time.perf_counter() + REFIT_WINDOW_S
            self._refit.start()
        if self.show_action.isChecked() != on:
            self.show_action.setChecked(on)

    def set_theme(self, theme) -> None:
        """Follow the window's light or dark theme."""
        self._theme = theme
        if self.docks is not None:
            self.docks.set_theme(theme)

    # ------------------------------------------------------------------------ scenario
    def _on_new_scenario(self, result) -> None:
        # Connected before the window's own handler: the result, not window.spec, says what opened.
        self._sync_scenario(result.spec, result.trace.lr)

    def _sync_scenario(self, spec: str | None, lr: float | None) -> None:
        """Point the worker at scenario ``spec`` (a new session: the plots start over)."""
        if self.docks is None:
            return
        self.docks.panel.set_scenario_lr(lr)
        load = self._loader(spec)
        if load is None:
            self.docks.panel.set_available(False, "Training needs a scenario file or lesson (or a model "
                                                  "passed to bpviz.show): open one with File ▸ Open or "
                                                  "File ▸ Lessons.")
            return
        self.thread.cancel(self._run)
        self._session += 1
        self.thread.submit(self._command("open", load=load))
        self.history.clear(())
        self.live.clear()
        self.docks.fit.set_data(None)
        self.docks.histogram.set_histograms(None)
        self.docks.panel.set_available(True, "Press Run to train, or Step for one SGD step.")
        self._set_running(False)

    def _loader(self, spec: str | None):
        """What the worker trains: the scenario file or lesson ``spec``, else the window's
        ``training_source`` (bpviz.show's copy of the caller's model); None if neither."""
        if spec is None:
            return self.window.training_source
        from bpviz.core.scenario import load_scenario

        return lambda: load_scenario(spec)

    def _command(self, kind: str, **fields):
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
        if self._running or self._loader(self.window.spec) is None:
            return
        from bpviz.core.errors import BpvizError

        panel = self.docks.panel
        settings, steps = panel.settings(), panel.step_count()
        try:
            settings.check(steps)
        except BpvizError as exc:
            self.window.show_error("Cannot train", str(exc))
            return
        self._run += 1
        self._set_running(True)
        panel.set_progress(0, 1 if kind == "step" else steps)
        if kind == "run":
            lr = settings.lr if settings.lr is not None else self.window.trace.lr
            self.live.add_log([f"step {self.history.table.offered}: run {steps:,} steps, {settings.optimizer} "
                               f"lr {lr:g}, {settings.data.describe()}"])
        self.thread.histogram_param = self.docks.histogram.current()
        self.thread.submit(self._command(kind, settings=settings, steps=steps))

    def pause(self) -> None:
        """Stop the run after the step in progress; the canvas shows the trained weights."""
        if self.thread is not None:
            self.thread.cancel(self._run)

    def reset(self) -> None:
        """Stop, restore the starting weights exactly, and start the plots over."""
        if self.thread is None or self._loader(self.window.spec) is None:
            return
        self.thread.cancel(self._run)
        self._run += 1
        self.thread.submit(self._command("reset"))

    def _set_running(self, running: bool) -> None:
        self._running = running
        if self.docks is not None:
            self.docks.panel.set_running(running)
        self.run_action.setEnabled(not running)
        self.step_action.setEnabled(not running)
        self.pause_action.setEnabled(running)

    def is_running(self) -> bool:
        """Whether a run or step is in progress."""
        return self._running

    # ------------------------------------------------------------------------ results
    def _on_chunk(self, chunk) -> None:
        if chunk.session != self._session:
            if chunk.snapshot is not None:
                self.thread.ready_for_snapshot(0.0)   # stale, but the worker waits for the UI
            return
        live = self.live
        if chunk.reset:
            self.history.clear()
            live.add_log(["weights reset to the start"])
        self.history.add(chunk.names, chunk.table, chunk.val, chunk.latest)
        live.mark_plots()
        live.add_log(chunk.events)
        if chunk.latest is not None:
            self._last_loss = chunk.latest.loss
            rate = f" · {chunk.rate:,.0f} steps/s" if chunk.rate and chunk.total > 1 else ""
            live.set_status(f"Step {int(chunk.table[-1, 0]) + 1:,} · loss {self._last_loss:.4g}{rate}",
                            (chunk.done, chunk.total))
        if chunk.snapshot is not None:
            live.take_snapshot(chunk.snapshot)

    @property
    def last_snapshot(self):
        """The snapshot the canvas shows (None before the first)."""
        return self.live.last_snapshot if self.live is not None else None

    def _on_ended(self, end) -> None:
        if end.session != self._session or end.run != self._run:
            return
        self._set_running(False)
        live, w = self.live, self.window
        status = ""
        if end.reason == "paused":
            status = (f"Paused after step {end.step:,}. Step through this pass with the trained weights "
                      "using the step bar (→).")
            live.add_log([f"step {end.step}: paused"])
        elif end.reason == "done" and end.kind == "run":
            loss = f"; loss {self._last_loss:.4g}" if self._last_loss is not None else ""
            status = f"Done: {end.step:,} steps{loss}. Run again to go on, or step through this pass (→)."
        elif end.reason == "stopped":
            live.add_log([f"step {end.step}: stopped by NaN/Inf"])
            status = "Stopped by NaN/Inf. Lower the learning rate or turn on clipping, then Run again."
        if status:
            live.set_status(status)
        live.flush()   # the final weights, at once
        if end.reason == "stopped":
            w.show_error("Training stopped", end.message)
        elif end.reason in ("failed", "error"):
            w.show_error("Cannot train", end.message)

    # ------------------------------------------------------------------------ selection
    def _on_node_selected(self, node_id: str) -> None:
        trace = self.window.trace
        if trace is None or node_id not in trace.graph or trace.graph.nodes[node_id].get("kind") != "param":
            return
        name = str(trace.graph.nodes[node_id].get("name"))
        if name in self.history.names:
            self.docks.histogram.set_params(list(self.history.names), name)
            self._choose_param(name)

    def _choose_param(self, name: str) -> None:
        self.thread.histogram_param = name
        if not self._running and self.history.names:
            self.thread.submit(self._command("refresh"))

    # ------------------------------------------------------------------------ export, end
    def export_plots_dialog(self) -> None:
        """Ask for a .png or .svg name and write the loss and gradient-norm plots of this run."""
        from PySide6.QtWidgets import QFileDialog

        from bpviz.gui.training.export import FILTERS

        if self.history is None or not len(self.history.table):
            self.window.show_error("Nothing to export", "Train first: there are no training steps to plot yet.")
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Export training plots", "training.png", FILTERS)
        if path:
            self.export_plots(path)

    def export_plots(self, path: str) -> bool:
        """Write the loss and gradient-norm plots to ``path`` (.png or .svg); errors: a dialog."""
        from bpviz.core.errors import BpvizError
        from bpviz.gui.training.export import export_history

        try:
            out = export_history(self.history, path, self.window.trace.title if self.window.trace else "")
        except BpvizError as exc:
            self.window.show_error("Cannot export", str(exc))
            return False
        self.window.statusBar().showMessage(f"Exported {out}", 8000)
        return True

    def shutdown(self) -> None:
        """Stop the worker thread (the window is closing)."""
        if self.thread is not None:
            self.thread.shutdown()
