"""Live training plots (pyqtgraph): the loss, every parameter's gradient norm, and gradient flow.

The plots draw what the engine measured (StepResults, packed by the worker into arrays); they
compute nothing but log10 for the bar chart's axis. Log axes drop points that are zero, negative,
NaN or Inf (a NaN loss ends a run; its point cannot be drawn on a log scale anyway).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QWidget

from bpviz.core.diagnostics import Thresholds
from bpviz.gui.plot_export import PALETTE, plain_ticks
from bpviz.gui.theme import Theme, mix
from bpviz.gui.training.plot_style import (
    TidyRange,
    add_smooth_action,
    curve_colours,
    fast,
    finite,
    key_html,
    new_plot_widget,
    positive,
    smooth,
    style_plot,
)

MAX_TICK_LABELS = 12


class LossPlot(pg.PlotWidget):
    """Loss per step, log scale: the training batch's loss (every step faint, a moving average
    bold), and the validation loss where the dataset has a split. ``changed()`` fires when a
    view option changes and the plot needs its data again."""

    changed = Signal()
    MAX_SYMBOLS = 60

    def __init__(self, theme: Theme):
        super().__init__(background=theme.surface)
        self.setObjectName("lossPlot")
        self.setMinimumSize(220, 160)
        plot = self.getPlotItem()
        plot.hideButtons()
        fast(plot)
        plot.setLogMode(y=True)
        self._log = True
        self.smooth = True
        self._has_val = False
        self._theme = theme
        self.raw = plot.plot(pen=pg.mkPen(PALETTE[0] + "50", width=1))
        self.train = plot.plot(pen=pg.mkPen(PALETTE[0], width=2))
        self.val = plot.plot(pen=pg.mkPen(PALETTE[1], width=2), symbolBrush=PALETTE[1], symbolPen=None, symbolSize=5)
        for curve in (self.raw, self.train, self.val):
            curve.curve.setSegmentedLineMode("off")
        self.tidy = TidyRange(plot)
        self.smooth_action = add_smooth_action(plot, self._set_smooth)
        self.set_theme(theme)

    def _set_smooth(self, on: bool) -> None:
        self.smooth = on
        self.changed.emit()

    def set_theme(self, theme: Theme) -> None:
        """Restyle for the light or dark theme."""
        self._theme = theme
        self.setBackground(theme.surface)
        # The key goes in the title: no corner of a loss plot is free for a legend in every run.
        keys = [(PALETTE[0], "train")] + ([(PALETTE[1], "validation")] if self._has_val else [])
        style_plot(self.getPlotItem(), theme, "Loss" + key_html(keys), "loss (log)" if self._log else "loss")

    def set_data(self, steps, loss, val_steps, val_loss) -> None:
        """Show these points (arrays of equal length per curve). A loss that goes to zero or
        below (a ``loss()`` scenario may return anything) switches the axis to linear."""
        steps, loss = np.asarray(steps), np.asarray(loss)
        val_steps, val_loss = np.asarray(val_steps), np.asarray(val_loss)
        log = not bool(np.any(np.isfinite(loss) & (loss <= 0)))
        plot = self.getPlotItem()
        if log != self._log:
            self._log = log
            plot.setLogMode(y=log)
            self.set_theme(self._theme)
        pick = positive if log else finite
        x, y = pick(steps, loss)
        vx, vy = pick(val_steps, val_loss)
        xs, ys = np.concatenate([x, vx]), np.concatenate([y, vy])
        if len(xs):  # the view first: curves clipped to the view are clipped to the new one
            self.tidy.update(float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max()), log)
        self.raw.setData(x, y)
        self.raw.setVisible(self.smooth)
        self.train.setData(x, smooth(y, log) if self.smooth else y)
        has_val = len(val_steps) > 0
        self.val.setData(vx, vy)
        self.val.setSymbol("o" if len(vx) <= self.MAX_SYMBOLS else None)
        self.val.setVisible(has_val)
        if has_val != self._has_val:  # the key names validation only for data with a split
            self._has_val = has_val
            self.set_theme(self._theme)


class CurveLegend(QListWidget):
    """A legend beside the plot: one checkable row per curve; unticking hides the curve.

    A list rather than pyqtgraph's in-plot legend because a deep net has dozens of parameters,
    which would cover the plot; this one scrolls.
    """

    toggled = Signal(int, bool)

    def __init__(self):
        super().__init__()
        self.setObjectName("gradNormLegend")
        self.setMaximumWidth(140)
        self.setMinimumWidth(90)
        self.setUniformItemSizes(True)
        self.itemChanged.connect(
            lambda item: self.toggled.emit(self.row(item), item.checkState() == Qt.CheckState.Checked)
        )

    def set_entries(self, names: list[str], colours: list[str]) -> None:
        """One ticked row per name, with its curve's colour."""
        self.blockSignals(True)
        self.clear()
        for name, colour in zip(names, colours):
            pixmap = QPixmap(12, 12)
            pixmap.fill(QColor(colour))
            item = QListWidgetItem(QIcon(pixmap), name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setToolTip(f"{name}: untick to hide its curve")
            self.addItem(item)
        self.blockSignals(False)


class GradNormPlot(QWidget):
    """Gradient L2 norm per parameter over steps (log scale), with the seeds' exploding and
    vanishing thresholds as dashed lines and a legend list that toggles the curves.

    Batch gradients are noisy from step to step; by default each curve is a moving average
    (right-click ▸ Smooth Curves shows every step's value).
    """

    def __init__(self, theme: Theme):
        super().__init__()
        self.setObjectName("gradNormPanel")
        self.plot_widget = new_plot_widget(theme, "gradNormPlot")
        self.legend = CurveLegend()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend)
        plot = self.plot_widget.getPlotItem()
        plot.setLogMode(y=True)
        self.names: list[str] = []
        self.curves: list[pg.PlotDataItem] = []
        self._lines = []
        limits = Thresholds()
        for value, text in ((limits.exploding, "exploding"), (limits.vanishing, "vanishing")):
            # Labelled at the right end, above the line, clear of the axis.
            line = pg.InfiniteLine(
                pos=math.log10(value),
                angle=0,
                movable=False,
                label=f"{text} ({value:g})",
                labelOpts={"position": 0.97, "anchors": [(1, 1), (1, 1)]},
            )
            plot.addItem(line, ignoreBounds=True)
            self._lines.append(line)
        self.legend.toggled.connect(self._toggle)
        self.tidy = TidyRange(plot)
        self.smooth = True
        self.smooth_action = add_smooth_action(plot, self._set_smooth)
        self._data = (np.zeros(0), np.zeros((0, 0)))
        self._shown: list = []
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        """Restyle for the light or dark theme."""
        self.plot_widget.setBackground(theme.surface)
        style_plot(self.plot_widget.getPlotItem(), theme, "Gradient norm per parameter", "‖grad‖ (log)")
        for line, kind in zip(self._lines, ("exploding", "vanishing")):
            colour = theme.diagnostic_colour(kind)
            line.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            line.label.setColor(colour)

    def set_names(self, names: list[str]) -> None:
        """One curve per parameter (keeps the curves when the names are the same)."""
        if list(names) == self.names:
            return
        plot = self.plot_widget.getPlotItem()
        for curve in self.curves:
            plot.removeItem(curve)
        self.names = list(names)
        colours = curve_colours(len(names))
        self.curves = []
        for name, colour in zip(names, colours):
            curve = plot.plot(pen=pg.mkPen(colour, width=1), name=None)
            curve.curve.setSegmentedLineMode("off")
            curve.setObjectName(name)
            self.curves.append(curve)
        self.legend.set_entries(self.names, colours)

    def set_data(self, steps: np.ndarray, norms: np.ndarray) -> None:
        """``norms[:, j]`` is parameter j's gradient norm at ``steps``."""
        self._data = (steps, norms)
        shown = []
        for j in range(len(self.curves)):
            x, y = positive(steps, norms[:, j]) if len(steps) else (np.zeros(0), np.zeros(0))
            shown.append((x, smooth(y, True) if self.smooth and len(y) else y))
        self._shown = shown
        self._fit_view()  # the view first: curves clipped to the view are clipped to the new one
        for curve, (x, y) in zip(self.curves, shown):
            curve.setData(x, y)

    def _set_smooth(self, on: bool) -> None:
        self.smooth = on
        self.set_data(*self._data)

    def _toggle(self, row: int, on: bool) -> None:
        self.curves[row].setVisible(on)
        self._fit_view()

    def _fit_view(self) -> None:
        """The view spans the values drawn, of the curves ticked (a hidden curve may be far
        below the others)."""
        drawn = [xy for xy, c in zip(self._shown, self.curves) if c.isVisible() and len(xy[0])]
        if drawn:
            xs = np.concatenate([x for x, _ in drawn])
            ys = np.concatenate([y for _, y in drawn])
            self.tidy.update(float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max()), True)
            # A threshold line outside the view is hidden (an SVG export would draw it anyway).
            lo, hi = self.plot_widget.getPlotItem().getViewBox().viewRange()[1]
            for line in self._lines:
                line.setVisible(lo <= line.value() <= hi)


def flow_names(names: list[str]) -> list[int]:
    """Indices of the parameters the gradient-flow chart shows: the weights (biases only add
    clutter, as in the usual plot_grad_flow), or everything when nothing is called weight."""
    weights = [i for i, n in enumerate(names) if not (n == "bias" or n.endswith(".bias"))]
    return weights or list(range(len(names)))


class GradFlowPlot(pg.PlotWidget):
    """Bars of max |grad| (wide, pale) and mean |grad| (narrow, strong) per layer, log scale,
    for the latest step: the seeds' check_gradients as a picture."""

    def __init__(self, theme: Theme):
        super().__init__(background=theme.surface)
        self.setObjectName("gradFlowPlot")
        self.setMinimumSize(220, 160)
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.getAxis("left").setLogMode(False, True)  # ticks read 10^k; the bars are in log10
        plain_ticks(plot.getAxis("left"))
        self.max_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.mean_bars = pg.BarGraphItem(x=[], height=[], width=0.38)
        plot.addItem(self.max_bars)
        plot.addItem(self.mean_bars)
        self.labels: list[str] = []
        self.max_values: list[float] = []
        self.mean_values: list[float] = []
        self._theme = theme
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        """Restyle for the light or dark theme."""
        self._theme = theme
        self.setBackground(theme.surface)
        pale = mix(PALETTE[0], theme.surface, 0.65)
        title = "Gradient flow, last step" + key_html([(pale, "max |grad|"), (PALETTE[0], "mean |grad|")], "■")
        style_plot(self.getPlotItem(), theme, title, "|grad| (log)", "layer")
        self.max_bars.setOpts(brush=pg.mkBrush(pale), pen=pg.mkPen(PALETTE[0]))
        self.mean_bars.setOpts(brush=pg.mkBrush(PALETTE[0]), pen=None)

    def set_result(self, names: list[str], result) -> None:
        """Show one StepResult's mean and max |grad| per layer (missing gradients: no bar)."""
        shown = flow_names(names)
        self.labels = [names[i][: -len(".weight")] if names[i].endswith(".weight") else names[i] for i in shown]
        stats = [result.params.get(names[i]) for i in shown]
        self.max_values = [s.max_abs if s is not None else math.nan for s in stats]
        self.mean_values = [s.mean_abs if s is not None else math.nan for s in stats]
        logs = [math.log10(v) for v in (*self.max_values, *self.mean_values) if math.isfinite(v) and v > 0]
        floor = math.floor(min(logs)) - 0.2 if logs else -1.0

        def heights(values):
            return [math.log10(v) - floor if math.isfinite(v) and v > 0 else 0.0 for v in values]

        x = list(range(len(shown)))
        self.max_bars.setOpts(x=x, y0=[floor] * len(x), height=heights(self.max_values))
        self.mean_bars.setOpts(x=x, y0=[floor] * len(x), height=heights(self.mean_values))
        every = max(1, math.ceil(len(x) / MAX_TICK_LABELS))
        ticks = [(i, label) for i, label in enumerate(self.labels) if i % every == 0]
        self.getPlotItem().getAxis("bottom").setTicks([ticks, []])
        top = math.ceil(max(logs)) + 0.2 if logs else 0.0
        self.getPlotItem().setRange(xRange=(-0.6, len(x) - 0.4), yRange=(floor, top), padding=0.02)
