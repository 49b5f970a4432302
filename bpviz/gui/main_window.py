"""MainWindow: the canvas, the step controls, the inspector and diagnostics docks, and the menus.

The window is cheap to create: the canvas modules (which import torch) load only when the first
trace arrives, and tracing itself runs on a worker thread (:mod:`bpviz.gui.trace_worker`). The
step position lives in one place, the :class:`StepController`; the canvas, the step bar, the
inspector and the status bar all redraw from its ``positionChanged`` signal.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QProgressBar, QVBoxLayout, QWidget

from bpviz.gui import ui_thread_gc
from bpviz.gui.canvas_panel import CanvasPanel
from bpviz.gui.diagnostics_panel import DiagnosticsPanel
from bpviz.gui.inspector import Inspector
from bpviz.gui.menus import build_menus
from bpviz.gui.step_bar import StepBar
from bpviz.gui.step_controller import StepController
from bpviz.gui.theme import THEMES, Theme
from bpviz.gui.trace_worker import TraceResult, TraceRunner
from bpviz.gui.training import TrainingController
from bpviz.gui.window_support import Settings, app_icon, apply_palette

DEFAULT_SPEC = "lesson:chain56"
# Show the busy cursor only for traces that take a while; a flash for every 20 ms trace distracts.
BUSY_DELAY_MS = 150


def position_for(sequence, spec: str | int) -> int:
    """A position from a step number or a phase name (start, forward, loss, backward, update,
    end); raises ValueError for anything else."""
    text = str(spec).strip().lower()
    if text.lstrip("-").isdigit():
        return max(0, min(int(text), sequence.last))
    if text in ("end", "last", "update"):
        return sequence.last
    if text == "start":
        return 0
    for phase in ("Forward", "Loss", "Backward"):
        if text == phase.lower():
            return sequence.first_of(phase)
    raise ValueError(f"unknown step '{spec}': use a number or start, forward, loss, backward, end")


class MainWindow(QMainWindow):
    """The bpviz window on one scenario (a path or ``lesson:NAME``) or an existing ``trace``.

    Signals: ``traceShown()`` once a trace is drawn (each time one is), ``traceFailed(str)`` with
    the one-line message when opening fails, ``closed()`` when the window closes.
    """

    traceShown = Signal()
    traceFailed = Signal(str)
    closed = Signal()

    def __init__(self, scenario: str | os.PathLike | None = None, trace=None, *, title: str = "",
                 start: bool = True):
        super().__init__()
        # Before any worker thread starts: garbage with Qt objects in it is collected here.
        ui_thread_gc.install()
        self.settings = Settings()
        self.show_dialogs = True        # False for --smoke-test / --screenshot: never block
        self.debug = False              # --debug: print tracebacks of failed traces
        self.last_error = ""
        self.spec: str | None = None
        # With no spec: what the training panel trains instead (bpviz.show sets a model copier).
        self.training_source = None
        self._pending_spec = ""
        self.trace = None
        self._title = title
        self._theme: Theme = THEMES.get(str(self.settings.value("theme", "light")), THEMES["light"])
        self.setWindowIcon(app_icon())
        self.resize(1440, 900)
        # An explicit minimum stops the layouts from resetting it whenever the docks' content
        # changes (which some platforms, e.g. offscreen, answer with a warning each time).
        self.setMinimumSize(720, 480)

        self.controller = StepController(self)
        self.runner = TraceRunner(self)
        self.step_bar = StepBar(self.controller)
        self.inspector = Inspector(self)
        self.diagnostics = DiagnosticsPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.diagnostics)
        self._docks_sized = False

        self.canvas = CanvasPanel(self._theme)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.step_bar)
        self.setCentralWidget(central)

        self.phase_status = QLabel("")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setVisible(False)
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.statusBar().addPermanentWidget(self.phase_status)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self._show_busy(True))
        self._busy_shown = False

        self.training = TrainingController(self)
        self.menus = build_menus(self)
        self.setAcceptDrops(True)
        self.controller.stepped.connect(self._on_stepped)
        self.inspector.jumpRequested.connect(self.controller.set_position)
        self.diagnostics.nodeActivated.connect(self.select_node)
        self.canvas.nodeSelected.connect(self._on_node_selected)
        self.canvas.edgeSelected.connect(self._on_edge_selected)
        self.canvas.selectionCleared.connect(self.inspector.clear)
        self.controller.speedChanged.connect(self.canvas.set_animation_speed)
        self.runner.finished.connect(self._on_traced)
        self.runner.failed.connect(self._on_failed)
        self.runner.busyChanged.connect(self._on_busy)
        self._apply_theme_to_widgets()
        self._update_title()

        if trace is not None:
            from bpviz.core.stepper import StepSequence

            self.show_trace(trace, StepSequence(trace))
        elif start:
            spec = os.fspath(scenario) if scenario is not None else DEFAULT_SPEC
            # After the constructor returns, so the window can show before torch loads.
            QTimer.singleShot(0, lambda: self.open_scenario(spec))

    # ------------------------------------------------------------------------ opening
    def open_scenario(self, spec: str | os.PathLike) -> None:
        """Trace ``spec`` (a path or ``lesson:NAME``) on the worker; the current graph stays on
        screen until the new one is ready, and stays for good if tracing fails."""
        spec = os.fspath(spec)
        self._pending_spec = spec
        self.statusBar().showMessage(f"Tracing {spec}…")
        self.runner.start(spec)

    def _on_traced(self, result: TraceResult) -> None:
        spec = result.spec
        self.show_trace(result.trace, result.sequence)
        self.spec = spec
        if not spec.startswith("lesson:"):
            self.settings.add_recent_file(spec)
            self.menus.refresh_recent()
        g = result.trace.graph
        self.statusBar().showMessage(
            f"Traced {spec}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges "
            f"in {result.seconds * 1000:.0f} ms", 8000)

    def _on_failed(self, message: str, details: str) -> None:
        self.last_error = message
        self.statusBar().showMessage(f"Could not open {self._pending_spec}", 8000)
        if self.trace is None:
            self.canvas.placeholder.setText(f"Could not open {self._pending_spec}.\n\n{message}\n\n"
                                      "Use File ▸ Open or File ▸ Lessons.")
        if self.debug:
            print(details, file=sys.stderr)
        self.traceFailed.emit(message)
        if self.show_dialogs:
            QMessageBox.warning(self, "Cannot open scenario", message)

    def show_trace(self, trace, sequence, position: int = 0, keep_view: bool = False) -> None:
        """Draw ``trace`` at ``position`` (UI thread; the trace is already computed).

        ``keep_view`` (live training updates): keep the camera, the dock sizes and the selected
        node or edge, instead of fitting the new graph and starting with nothing selected.
        """
        selected = self.scene.selected() if keep_view and self.scene is not None else None
        self.trace = trace
        self.inspector.set_trace(trace, sequence)
        self.diagnostics.set_diagnostics(trace.diagnostics)
        self.canvas.show_trace(trace, sequence.lr)
        self.controller.set_sequence(sequence, position)
        self._update_title()
        if not keep_view:
            self._size_docks()
            QTimer.singleShot(0, self.show_initial_view)
        elif isinstance(selected, str) and selected in self.scene.node_ids():
            self.scene.select_node(selected)
            self._on_node_selected(selected)
        elif isinstance(selected, tuple) and self.scene.graph.has_edge(*selected):
            self.scene.select_edge(*selected)
            self._on_edge_selected(*selected)
        self.traceShown.emit()

    @property
    def scene(self):
        """The GraphScene (None before the first trace)."""
        return self.canvas.scene

    @property
    def view(self):
        """The GraphView (None before the first trace)."""
        return self.canvas.view

    def rebuild_view(self) -> None:
        """Draw the current trace again after a view option changed; the step stays."""
        if self.trace is None:
            return
        self.canvas.show_trace(self.trace, self.controller.sequence.lr)
        self.inspector.clear()
        self._on_stepped(self.controller.position, False)
        self.show_initial_view()

    def set_hide_shape_ops(self, hide: bool) -> None:
        """Hide (True) or show the ops that only reshape, view or transpose."""
        self.canvas.hide_shape_ops = bool(hide)
        self.rebuild_view()

    def collapse_depth(self) -> int | None:
        """The module depth the canvas collapses to (None: everything expanded)."""
        return self.canvas.collapse_depth

    def set_collapse_depth(self, depth: int | None) -> None:
        """Collapse nn.Module groups deeper than ``depth`` (None: expand everything)."""
        self.canvas.collapse_depth = depth
        self.rebuild_view()

    # ------------------------------------------------------------------------ stepping
    def _on_stepped(self, position: int, forward_one: bool) -> None:
        seq = self.controller.sequence
        if seq is None:
            return
        state = seq.state_at(position)
        self.canvas.apply(state, self.trace, seq.lr, animate=forward_one)
        self.inspector.set_state(state)
        self.phase_status.setText(f"{state.phase} · step {position} of {seq.last}")

    def go_to(self, spec: str | int) -> None:
        """Jump to a step number or a phase name (see :func:`position_for`)."""
        if self.controller.sequence is not None:
            self.controller.set_position(position_for(self.controller.sequence, spec))

    # ------------------------------------------------------------------------ selection, view
    def select_node(self, node_id: str) -> None:
        """Select a node as if clicked: highlight, inspect, and scroll it into view."""
        if self.canvas.select_node(node_id):
            self._on_node_selected(node_id)

    def _on_node_selected(self, node_id: str) -> None:
        self.inspector.show_node(node_id, self.canvas.node_attrs(node_id))

    def _on_edge_selected(self, u: str, v: str) -> None:
        self.inspector.show_edge(u, v, self.canvas.edge_attrs(u, v))

    def fit(self) -> None:
        """Fit the whole graph into the view."""
        self.canvas.fit()

    def show_initial_view(self) -> None:
        """Fit the graph, or zoom to a readable size at the current step (big graphs)."""
        state = self.controller.state()
        self.canvas.show_initial_view(state.active_node if state is not None else None)

    def set_theme(self, name: str) -> None:
        """Switch between the light and dark theme (canvas and widgets)."""
        self._theme = THEMES[name]
        self.settings.set_value("theme", name)
        self._apply_theme_to_widgets()
        self.canvas.set_theme(self._theme)

    def theme(self) -> Theme:
        """The current theme."""
        return self._theme

    def _apply_theme_to_widgets(self) -> None:
        apply_palette(self._theme)
        self.step_bar.set_theme(self._theme)
        self.inspector.set_theme(self._theme)
        self.diagnostics.set_theme(self._theme)
        self.training.set_theme(self._theme)
        self.menus.sync_theme(self._theme.name)

    def _update_title(self) -> None:
        title = self._title or (self.trace.title if self.trace is not None else "")
        self.setWindowTitle(f"{title} — bpviz" if title else "bpviz")

    # ------------------------------------------------------------------------ busy, errors
    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self._show_busy(False)

    def _show_busy(self, busy: bool) -> None:
        if busy == self._busy_shown:
            return
        self._busy_shown = busy
        self.busy_bar.setVisible(busy)
        if busy:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        else:
            QGuiApplication.restoreOverrideCursor()

    def show_error(self, title: str, message: str) -> None:
        """Tell the user ``message`` (a dialog unless dialogs are off) and keep it for tests."""
        self.last_error = message
        self.statusBar().showMessage(message, 8000)
        if self.show_dialogs:
            QMessageBox.warning(self, title, message)

    # ------------------------------------------------------------------------ window events
    def _size_docks(self) -> None:
        """Give the inspector most of the height; the diagnostics list only what it needs."""
        if not self.isVisible():
            return      # sizes only stick once the window has its real size (see showEvent)
        h = max(300, self.height())
        diag = 90 if not (self.trace is not None and self.trace.diagnostics) else int(h * 0.24)
        self.resizeDocks([self.inspector, self.diagnostics], [h - diag, diag], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            self.resizeDocks([self.inspector], [400], Qt.Orientation.Horizontal)
            self._size_docks()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls and urls[0].toLocalFile().endswith(".py"):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = event.mimeData().urls()
        if urls:
            self.open_scenario(urls[0].toLocalFile())

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.controller.pause()
        self.canvas.stop()
        self._show_busy(False)
        # A trace still running would report to a window that is gone; let it finish first.
        self.runner.wait(10000)
        super().closeEvent(event)
        self.closed.emit()
