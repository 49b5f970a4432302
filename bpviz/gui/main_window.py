"""MainWindow: composes the canvas, the step bar, the inspector and diagnostics docks, the
training docks and the menus around one :class:`~bpviz.gui.document.Document`.

The window owns no state of what is shown: the document does (source, trace, step position,
view options, selection), and every widget listens to it. The window wires them together and
keeps its own chrome: the title, the status bar, the busy cursor, dialogs, and dock sizes.

It is cheap to create: the canvas modules (which import torch) load only when the first trace
arrives, and tracing itself runs on a worker thread (:mod:`bpviz.gui.trace_worker`).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QByteArray, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from bpviz.gui import ui_thread_gc, window_support
from bpviz.gui.builder import BuilderController
from bpviz.gui.canvas_panel import CanvasPanel
from bpviz.gui.diagnostics_panel import DiagnosticsPanel
from bpviz.gui.document import Document
from bpviz.gui.file_follower import FileFollower
from bpviz.gui.inspector import Inspector
from bpviz.gui.lesson_packs import LessonPacks
from bpviz.gui.menus import Menus
from bpviz.gui.predict_bar import PredictBar
from bpviz.gui.step_bar import StepBar
from bpviz.gui.theme import THEMES, Theme
from bpviz.gui.training import TrainingController
from bpviz.gui.window_support import Settings, app_icon, apply_palette

DEFAULT_SPEC = "lesson:chain56"
# Show the busy cursor only for traces that take a while; a flash for every 20 ms trace distracts.
BUSY_DELAY_MS = 150
# Closing: how long a cancelled trace may take to stop before the window closes without it.
CLOSE_WAIT_MS = 1000


class MainWindow(QMainWindow):
    """The bpviz window around a :class:`Document` (a new one unless given).

    Open something with ``window.document.open(source)``. Signals: ``closed()`` when the window
    closes. ``show_dialogs`` (False for --smoke-test / --screenshot) turns warnings into status
    lines only; ``debug`` prints the traceback of a failed open.
    """

    closed = Signal()

    def __init__(self, document: Document | None = None):
        super().__init__()
        # Before any worker thread starts: garbage with Qt objects in it is collected here.
        ui_thread_gc.install()
        self.settings = Settings()
        self.show_dialogs = True
        self.debug = False
        theme: Theme = THEMES.get(str(self.settings.value("theme", "light")), THEMES["light"])
        self.document = doc = document or Document(theme, self)
        doc.trust = self.settings.trust_store()
        self.controller = doc.steps
        self.setWindowIcon(app_icon())
        geometry = self.settings.value("window/geometry")
        if not (isinstance(geometry, QByteArray | bytes) and self.restoreGeometry(QByteArray(geometry))):
            # 1440x900, or the whole screen where it is smaller (a 1366x768 laptop). The
            # offscreen platform's 800x600 stand-in is nobody's screen: tests keep 1440x900.
            screen = self.screen().availableGeometry()
            if QGuiApplication.platformName() == "offscreen":
                screen = QRect(0, 0, 1440, 900)
            self.resize(min(1440, screen.width()), min(900, screen.height()))
        # An explicit minimum stops the layouts from resetting it whenever the docks' content
        # changes (which some platforms, e.g. offscreen, answer with a warning each time).
        self.setMinimumSize(720, 480)

        self.canvas = CanvasPanel(doc)
        self.step_bar = StepBar(doc)
        self.predict = PredictBar(doc, self.settings)
        self.inspector = Inspector(doc, self)
        self.diagnostics = DiagnosticsPanel(doc, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.diagnostics)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.predict)
        layout.addWidget(self.step_bar)
        self.setCentralWidget(central)

        self.phase_status = QLabel("")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelOpen")
        self.cancel_button.setToolTip("Stop opening this scenario; what is shown stays (Esc)")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(doc.cancel)
        # Esc only while something opens or trains, so it never takes the key from a widget
        # otherwise (the builder's canvas drops a dragged wire with it).
        self.cancel_action = QAction("Cancel", self)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(self.cancel)
        self.addAction(self.cancel_action)
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.statusBar().addPermanentWidget(self.cancel_button)
        self.statusBar().addPermanentWidget(self.phase_status)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self._show_busy(True))
        self._busy_shown = False

        state = self.settings.value("window/state")
        remembered = isinstance(state, QByteArray | bytes)
        self.training = TrainingController(
            doc,
            self,
            self.canvas,
            [self.step_bar, self.inspector, self.diagnostics],
            beside=self.inspector,
            remembered_layout=remembered,
        )
        self.follower = FileFollower(doc, self)
        self.builder = BuilderController(doc, self)
        self.menus = Menus(
            self,
            doc,
            self.canvas,
            self.settings,
            self.training,
            self.follower,
            [self.inspector, self.diagnostics],
            [*self.step_bar.actions_by_name.values(), self.predict.toggle_action],
            builder=self.builder,
        )
        self.packs = LessonPacks(self, doc, self.predict, self.training.show_action, self.inspector)
        self.menus.file_menu.insertAction(self.menus.recent.menuAction(), self.packs.open_action)
        # A remembered dock layout wins over the first-show sizes.
        self._docks_sized = remembered and self.restoreState(QByteArray(state))
        self.setAcceptDrops(True)

        doc.traceChanged.connect(self._on_trace)
        doc.steps.stepped.connect(self._show_phase)
        doc.themeChanged.connect(self._apply_theme)
        doc.openFailed.connect(self._on_open_failed)
        doc.busyChanged.connect(self._on_busy)
        doc.status.connect(self.statusBar().showMessage)
        doc.problem.connect(self._on_problem)
        doc.trustRequested.connect(self._ask_trust)
        self.closed.connect(self.training.shutdown)
        self.training.runningChanged.connect(lambda _running: self._update_cancel())
        self._apply_theme(doc.theme)
        self._update_title()

    # ------------------------------------------------------------------------ what is shown
    @property
    def trace(self):
        """The document's trace (None before the first)."""
        return self.document.trace

    @property
    def scene(self):
        """The GraphScene (None before the first trace)."""
        return self.canvas.scene

    @property
    def view(self):
        """The GraphView (None before the first trace)."""
        return self.canvas.view

    def _on_trace(self, keep_view: bool) -> None:
        self._update_title()
        if not keep_view:
            self._size_docks()

    def _show_phase(self, position: int, _forward_one: bool) -> None:
        state, sequence = self.document.steps.state(), self.document.sequence
        if state is not None:
            self.phase_status.setText(f"{state.phase} · step {position} of {sequence.last}")

    def _update_title(self) -> None:
        title = self.document.title
        self.setWindowTitle(f"{title} — bpviz" if title else "bpviz")

    def _apply_theme(self, theme: Theme) -> None:
        self.settings.set_value("theme", theme.name)
        apply_palette(theme)
        self.step_bar.set_theme(theme)

    # ------------------------------------------------------------------------ busy, errors
    def cancel(self) -> None:
        """Esc: stop opening a scenario, else pause training (pressed again while a step does
        not end, stop it inside)."""
        if not self.document.cancel():
            self.training.pause()

    def _update_cancel(self) -> None:
        self.cancel_action.setEnabled(self.document.busy or self.training.is_running())

    def _on_busy(self, busy: bool) -> None:
        self._update_cancel()
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
        self.cancel_button.setVisible(busy)
        if busy:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        else:
            QGuiApplication.restoreOverrideCursor()

    def _on_open_failed(self, message: str, details: str) -> None:
        if self.debug:
            print(details, file=sys.stderr)
        if self.show_dialogs:
            # One sentence; the traceback only behind "Show Details...", for a bug report.
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Cannot open scenario", message, QMessageBox.StandardButton.Ok, self
            )
            box.setDetailedText(details)
            box.exec()

    def _ask_trust(self, source) -> None:
        """A scenario file runs only once the user agrees (remembered for the file as it is now,
        or for its whole folder)."""
        path = source.code_path
        answer = window_support.ask_to_run(self, path) if self.show_dialogs else None
        if answer is None:
            self.statusBar().showMessage(f"Did not run {path}", 8000)
            return
        if answer == "folder":
            self.document.trust.allow_folder(source.folder)
        else:
            self.document.trust.allow_file(path)
        self.settings.save_trust(self.document.trust)
        self.document.open(source, trusted=True)

    def _on_problem(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 8000)
        if self.show_dialogs:
            QMessageBox.warning(self, title, message)

    # ------------------------------------------------------------------------ window events
    def _size_docks(self) -> None:
        """Give the inspector most of the height; the diagnostics list only what it needs."""
        if not self.isVisible():
            return  # sizes only stick once the window has its real size (see showEvent)
        h = max(300, self.height())
        trace = self.document.trace
        diag = 90 if not (trace is not None and trace.diagnostics) else int(h * 0.24)
        self.resizeDocks([self.inspector, self.diagnostics], [h - diag, diag], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            self.resizeDocks([self.inspector], [400], Qt.Orientation.Horizontal)
            self._size_docks()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if _dropped_scenario(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        path = _dropped_scenario(event.mimeData())
        if path:
            self.menus.open_path(path)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if not self.builder.may_close():
            event.ignore()
            return
        self.settings.set_value("window/geometry", self.saveGeometry())
        self.settings.set_value("window/state", self.saveState())
        self.document.steps.pause()
        self.canvas.stop()
        self._show_busy(False)
        # A trace still running would report to a window that is gone: stop it. One stuck in a
        # call Python cannot interrupt does not hold the window (run_app ends the process).
        self.document.cancel()
        self.document.runner.wait(CLOSE_WAIT_MS)
        super().closeEvent(event)
        self.closed.emit()


def _dropped_scenario(mime) -> str | None:
    """The dropped local ``.py`` scenario or ``.bpviz`` network, if that is what is dropped: any
    other file is never opened (let alone run)."""
    urls = mime.urls()
    path = urls[0].toLocalFile() if urls else ""
    return path if path.lower().endswith((".py", ".bpviz")) else None
