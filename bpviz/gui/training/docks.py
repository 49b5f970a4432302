"""The training docks: the panel beside the inspector, the plots along the bottom, the event log.

Created only when the user first opens training (they import pyqtgraph, ~0.5 s), and hidden
again with one toggle, so the step-through view stays uncluttered for a first-time user. The
bottom row holds the loss and the gradient norms side by side (the two plots a learner watches),
then gradient flow, the histogram, the data and fit, and the log as tabs. The panel shares the
inspector's column and the plots take under a third of the height, so the graph keeps the
larger part of the window even at 1366×768.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QListWidget, QMainWindow, QScrollArea, QWidget

from bpviz.core.errors import BpvizError
from bpviz.gui.theme import Theme
from bpviz.gui.training.export import FILTERS, export_widget
from bpviz.gui.training.fit_plots import FitView, HistogramPlot
from bpviz.gui.training.panel import TrainingPanel
from bpviz.gui.training.plots import GradFlowPlot, GradNormPlot, LossPlot

MAX_LOG_LINES = 500
PANEL_WIDTH = 300
# The plots' share of the window height the first time they show (at least PLOTS_MIN_HEIGHT).
PLOTS_SHARE = 0.3
PLOTS_MIN_HEIGHT = 190
SIZE_TRIES = 8
SIZE_RETRY_MS = 60


class TrainingDocks:
    """Builds and owns the training docks of ``window``; they start hidden."""

    def __init__(
        self, window: QMainWindow, theme: Theme, report: Callable[[str, str], None], beside: QDockWidget | None = None
    ):
        self.window = window
        self._report = report
        self.panel = TrainingPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.loss = LossPlot(theme)
        self.norms = GradNormPlot(theme)
        self.norms.link_steps(self.loss)  # one step axis for both: the same run, the same steps
        self.flow = GradFlowPlot(theme)
        self.histogram = HistogramPlot(theme)
        self.fit = FitView(theme)
        self.log = QListWidget()
        self.log.setObjectName("trainingLog")
        self.log.setWordWrap(True)
        self.panel_dock = self._dock("Training", "trainingDock", scroll)
        self.loss_dock = self._dock("Loss", "lossDock", self.loss, self.loss)
        self.norm_dock = self._dock("Gradient norms", "gradNormDock", self.norms, self.norms.plot_widget)
        # Short titles: they are tabs, and an elided "Data and..." tells nobody anything.
        self.flow_dock = self._dock("Flow", "gradFlowDock", self.flow, self.flow)
        self.hist_dock = self._dock(
            "Weights", "histogramDock", self.histogram, self.histogram.values, self.histogram.grads
        )
        self.fit_dock = self._dock("Fit", "fitDock", self.fit, self.fit.plot_widget)
        self.log_dock = self._dock("Log", "trainingLogDock", self.log)
        self.docks = [
            self.panel_dock,
            self.loss_dock,
            self.norm_dock,
            self.flow_dock,
            self.hist_dock,
            self.fit_dock,
            self.log_dock,
        ]
        w = window
        if beside is not None:
            w.tabifyDockWidget(beside, self.panel_dock)
        else:
            w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.panel_dock)
        w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.loss_dock)
        w.splitDockWidget(self.loss_dock, self.norm_dock, Qt.Orientation.Horizontal)
        w.splitDockWidget(self.norm_dock, self.fit_dock, Qt.Orientation.Horizontal)
        for dock in (self.flow_dock, self.hist_dock, self.log_dock):
            w.tabifyDockWidget(self.fit_dock, dock)
        self.fit_dock.raise_()
        for dock in self.docks:
            dock.hide()
        self._sized = False

    def _dock(self, title: str, name: str, content: QWidget, *plots) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(content)
        for plot in plots:
            self._add_export(plot, dock)
        return dock

    def _add_export(self, plot, dock: QDockWidget) -> None:
        """Right-click ▸ Export: this dock's plot to PNG or SVG (replaces pyqtgraph's own entry,
        whose SVG export is broken on current PySide6)."""
        act = QAction("Export Plot as PNG or SVG…", plot)
        act.triggered.connect(lambda: self.export_dialog(dock))
        plot.scene().contextMenu = [act]

    # ------------------------------------------------------------------------ visibility
    def shown(self) -> bool:
        """Whether the training docks are on screen."""
        return self.panel_dock.isVisible()

    def set_shown(self, on: bool) -> None:
        """Show or hide every training dock; the first time, give them sensible sizes."""
        for dock in self.docks:
            dock.setVisible(on)
        if on:
            self.fit_dock.raise_()
            self.panel_dock.raise_()
            if not self._sized:
                self._sized = True
                # Once the docks are laid out: sizes asked for before that do not stick.
                # The dock as context: a window closed meanwhile cancels the call.
                QTimer.singleShot(0, self.loss_dock, self._first_sizes)

    def _first_sizes(self, tries: int = SIZE_TRIES) -> None:
        w = self.window
        width = max(900, w.width())
        height = max(PLOTS_MIN_HEIGHT, int(w.height() * PLOTS_SHARE))
        # Wide enough for the form (its labels and fields), plus a scroll bar.
        panel = max(PANEL_WIDTH, self.panel.minimumSizeHint().width() + 18)
        w.resizeDocks([self.panel_dock], [panel], Qt.Orientation.Horizontal)
        w.resizeDocks([self.loss_dock], [height], Qt.Orientation.Vertical)
        w.resizeDocks(
            [self.loss_dock, self.norm_dock, self.fit_dock],
            [int(width * 0.3), int(width * 0.37), int(width * 0.33)],
            Qt.Orientation.Horizontal,
        )
        # The dock layout settles over a few event-loop turns after the docks appear, and sizes
        # asked for before that are lost: look again, and ask again until they stick.
        if tries > 1:
            QTimer.singleShot(SIZE_RETRY_MS, self.loss_dock, lambda: self._check_sizes(height, tries - 1))

    def _check_sizes(self, height: int, tries: int) -> None:
        if abs(self.loss_dock.height() - height) > 8:
            self._first_sizes(tries)

    def keep_sizes(self) -> None:
        """Keep the sizes the docks have (a remembered layout) instead of the first-show ones."""
        self._sized = True

    def toggle_actions(self) -> list[QAction]:
        """One show/hide action per dock (for the Train menu)."""
        return [d.toggleViewAction() for d in self.docks]

    # ------------------------------------------------------------------------ content
    def set_theme(self, theme: Theme) -> None:
        """Restyle every plot."""
        for plot in (self.loss, self.norms, self.flow, self.histogram, self.fit):
            plot.set_theme(theme)

    def add_log(self, lines: list[str]) -> None:
        """Append lines to the training log (the oldest go beyond MAX_LOG_LINES)."""
        if not lines:
            return
        self.log.addItems(lines)
        extra = self.log.count() - MAX_LOG_LINES
        for _ in range(max(0, extra)):
            self.log.takeItem(0)
        self.log.scrollToBottom()

    def log_lines(self) -> list[str]:
        """The log's lines (for tests)."""
        return [self.log.item(i).text() for i in range(self.log.count())]

    def export_dialog(self, dock: QDockWidget) -> None:
        """Ask for a .png or .svg name and export that dock's content."""
        name = dock.windowTitle().lower().replace(" ", "_")
        path, chosen = QFileDialog.getSaveFileName(self.window, f"Export {dock.windowTitle()}", f"{name}.png", FILTERS)
        if not path:
            return
        if not os.path.splitext(path)[1]:
            path += ".svg" if "svg" in chosen else ".png"
        try:
            out = export_widget(dock.widget(), path, dock.windowTitle())
        except BpvizError as exc:
            self._report("Cannot export", str(exc))
            return
        self.window.statusBar().showMessage(f"Exported {out}", 8000)
