"""LiveView: draws what the training thread reports, in short UI frames on a budget.

Why a budget: the training thread and the UI thread share one Python interpreter lock. The
engine's steps on small models are mostly Python, and so is painting pyqtgraph items and
building canvas items; whatever the UI thread draws is time the optimiser waits, and drawing
*while* it steps makes both crawl (each waits for the lock at every switch). So:

* chunks from the worker are only appended to bounded buffers when they arrive (cheap);
* the widgets are redrawn in *frames* of short jobs, one per event-loop turn with a pause as
  long as the job between two, so a 16 ms timer elsewhere keeps ticking; each job holds the
  worker between two steps (:meth:`TrainingThread.hold`) and paints at once, so the two
  threads take turns instead of fighting, and the job's cost is measured, not deferred;
* the next frame waits until the plots' cost is :data:`PLOT_SHARE` of the time, and the worker
  sends the next canvas snapshot when the canvas's cost is :data:`CANVAS_SHARE` of it; never
  more than about 30 frames a second (:data:`MIN_FRAME_S`).

Plots hidden behind another tab are not drawn at all until they are shown.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from bpviz.gui.canvas_panel import CanvasPanel
    from bpviz.gui.document import Document
    from bpviz.gui.training.docks import TrainingDocks
    from bpviz.presentation.training.buffers import TrainingHistory
    from bpviz.presentation.training.snapshot import Snapshot

MIN_FRAME_S = 1 / 30
# Shares of the UI thread's time: the plots, and the canvas with the plots that follow its
# snapshots (the data and fit, the histogram). The rest is the optimiser's.
PLOT_SHARE = 0.1
CANVAS_SHARE = 0.07
CANVAS_JOBS = ("_draw_snapshot", "_paint_canvas", "_draw_fit", "_draw_histogram")


def _gap(cost: float, share: float) -> float:
    """How long to wait after work of ``cost`` seconds so it takes ``share`` of the time."""
    return max(MIN_FRAME_S, cost * (1 - share) / share)


class LiveView(QObject):
    """Applies chunks to ``history`` and draws them into ``docks``; each snapshot's trace goes to
    ``document`` and is painted at once on ``canvas`` and ``panels`` (the step bar, the docks
    that show the trace)."""

    def __init__(
        self,
        document: Document,
        canvas: CanvasPanel,
        panels: list[QWidget],
        docks: TrainingDocks,
        history: TrainingHistory,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self.panels = panels
        self.docks = docks
        self.history = history
        self.pending_snapshot: Snapshot | None = None
        self.last_snapshot: Snapshot | None = None
        self.status = ""
        self.progress = (0, 0)
        self._log: list[str] = []
        self._dirty_plots = False
        self._dirty_side = False
        self._next_frame = 0.0
        self._jobs: list = []
        self._plot_cost = self._canvas_cost = 0.0
        self._drew_canvas = False
        self.canvas_frames = 0
        self._in_frame = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start_frame)
        self._ack = None  # called with the delay before the worker may send a snapshot
        self._hold = None  # hold(True/False): the worker waits while a job draws
        self.frames = 0
        for dock in (docks.loss_dock, docks.norm_dock, docks.flow_dock, docks.hist_dock, docks.fit_dock):
            dock.visibilityChanged.connect(self._on_visibility)
        docks.loss.changed.connect(self.mark_plots)

    # ------------------------------------------------------------------------ input
    def set_worker(self, ack, hold) -> None:
        """``ack(delay)`` tells the worker when the UI takes the next snapshot; ``hold(on)``
        holds it between steps while a job draws (see TrainingThread.hold)."""
        self._ack, self._hold = ack, hold

    def _on_visibility(self, visible: bool) -> None:
        # Hidden plots are not drawn; one that comes into view catches up in the next frame.
        if visible:
            self._dirty_side = True
            self.mark_plots()

    def mark_plots(self) -> None:
        """The plot data changed (or a plot came into view): redraw in the next frame."""
        self._dirty_plots = True
        self.schedule()

    def add_log(self, lines: list[str]) -> None:
        """Log lines to append in the next frame."""
        if lines:
            self._log.extend(lines)
            self.schedule()

    def set_status(self, text: str, progress: tuple[int, int] | None = None) -> None:
        """The status line (and progress) to show in the next frame."""
        self.status = text
        if progress is not None:
            self.progress = progress
        self.schedule()

    def take_snapshot(self, snap) -> None:
        """Show this snapshot in the next frame (a newer one replaces one not yet shown)."""
        self.pending_snapshot = snap
        self.schedule()

    def clear(self) -> None:
        """Forget pending work (a new scenario)."""
        self.pending_snapshot = self.last_snapshot = None
        self._log.clear()
        self.status, self.progress = "", (0, 0)  # the panel says what the new scenario offers
        self._dirty_plots = True

    # ------------------------------------------------------------------------ frames
    def schedule(self) -> None:
        """Start a frame as soon as the budget allows (no-op if one is due sooner, or running:
        a running frame schedules the next when it ends)."""
        if self._in_frame:
            return
        delay = round(max(0.0, self._next_frame - time.perf_counter()) * 1000)
        if not self._timer.isActive() or self._timer.remainingTime() > delay:
            self._timer.start(delay)

    def flush(self) -> None:
        """Draw what is pending without waiting for the budget (a run ended: the worker is idle,
        and the final weights should show at once)."""
        self._next_frame = 0.0
        self.schedule()

    def busy(self) -> bool:
        """Whether something is waiting to be drawn or a frame is being drawn."""
        return self._timer.isActive() or self._in_frame or self.pending_snapshot is not None

    def _frame_jobs(self) -> list:
        d = self.docks
        jobs = []
        if self._dirty_plots and d.shown():
            self._dirty_plots = False
            for dock, job in (
                (d.loss_dock, self._draw_loss),
                (d.norm_dock, self._draw_norms),
                (d.flow_dock, self._draw_flow),
            ):
                if dock.isVisible() and not dock.visibleRegion().isEmpty():
                    jobs.append(job)
        if self.pending_snapshot is not None:
            jobs += [self._draw_snapshot, self._paint_canvas]
            self._dirty_side = True
        if self._dirty_side and self._side_visible():
            self._dirty_side = False
            jobs += [self._draw_fit, self._draw_histogram]
        jobs.append(self._draw_status)
        return jobs

    def _start_frame(self) -> None:
        self._in_frame = True
        self._jobs = self._frame_jobs()
        self._plot_cost = self._canvas_cost = 0.0
        self._drew_canvas = False
        self._run_job()

    def _run_job(self) -> None:
        if not self._jobs:
            self._end_frame()
            return
        job = self._jobs.pop(0)
        t0 = time.perf_counter()
        self._timed(job)
        cost = time.perf_counter() - t0
        if job.__name__ in CANVAS_JOBS:
            self._canvas_cost += cost
            self._drew_canvas = True
        else:
            self._plot_cost += cost
        # As long a pause as the job took: the event loop (and a user's click) gets its turn
        # between two jobs, and the worker steps meanwhile.
        QTimer.singleShot(round(cost * 1000), self._run_job)

    def _timed(self, job) -> None:
        if self._hold is not None:
            self._hold(True)
        try:
            job()
        finally:
            if self._hold is not None:
                self._hold(False)

    def _end_frame(self) -> None:
        self._in_frame = False
        self.frames += 1
        self._next_frame = time.perf_counter() + _gap(self._plot_cost, PLOT_SHARE)
        if self._drew_canvas:
            self.canvas_frames += 1
            if self._ack is not None:
                self._ack(_gap(self._canvas_cost, CANVAS_SHARE))
        if self._dirty_plots or self.pending_snapshot is not None or self._log:
            self.schedule()

    # ------------------------------------------------------------------------ jobs
    def _draw_loss(self) -> None:
        h, d = self.history, self.docks
        val = h.val.rows()
        d.loss.set_data(h.steps(), h.loss(), val[:, 0], val[:, 1])
        d.loss.viewport().repaint()

    def _draw_norms(self) -> None:
        h, d = self.history, self.docks
        d.norms.set_names(list(h.names))
        trace = self.document.trace
        d.norms.set_titles(trace.module_titles if trace is not None else {})
        d.norms.set_data(h.steps(), h.norms())
        d.norms.plot_widget.viewport().repaint()

    def _draw_flow(self) -> None:
        h, d = self.history, self.docks
        if h.latest is not None:
            d.flow.set_result(list(h.names), h.latest)
            d.flow.viewport().repaint()

    def _draw_snapshot(self) -> None:
        """The canvas's new trace; painted by the next job (painting doubles the cost)."""
        snap, self.pending_snapshot = self.pending_snapshot, None
        if snap is None:
            return
        self.last_snapshot = snap
        self._dirty_side = True
        view = self.canvas.view
        if view is not None:
            view.viewport().setUpdatesEnabled(False)
        self.docks.panel.set_canvas_note(snap.describe())
        self.document.show_trace(snap.trace, snap.sequence, position=snap.position)

    def _paint_canvas(self) -> None:
        view = self.canvas.view
        if view is not None:
            view.viewport().setUpdatesEnabled(True)
            view.viewport().repaint()
        # What show_trace also changed, painted now rather than in a later, contended event.
        for widget in self.panels:
            if widget.isVisible():
                widget.repaint()

    def _side_visible(self) -> bool:
        d = self.docks
        return d.shown() and (d.hist_dock.isVisible() or d.fit_dock.isVisible())

    def _draw_fit(self) -> None:
        snap, fit = self.last_snapshot, self.docks.fit
        if snap is None:
            return
        if snap.fit_data is not fit.data:
            fit.set_data(snap.fit_data)
        fit.set_values(snap.fit_values)
        if fit.plot_widget.isVisible():
            fit.plot_widget.viewport().repaint()

    def _draw_histogram(self) -> None:
        snap, hist = self.last_snapshot, self.docks.histogram
        if snap is None:
            return
        hist.set_params(list(self.history.names), snap.histograms.name if snap.histograms else "")
        hist.set_histograms(snap.histograms)
        for view in (hist.values, hist.grads):
            if view.isVisible():
                view.viewport().repaint()

    def _draw_status(self) -> None:
        d = self.docks
        if self._log:
            d.add_log(self._log)
            self._log = []
        panel = d.panel
        if panel.status.text() != self.status and self.status:
            panel.status.setText(self.status)
        done, total = self.progress
        if total:
            panel.set_progress(done, total)
        for widget in (panel.status, panel.progress, d.log):
            if widget.isVisible():
                widget.repaint()
