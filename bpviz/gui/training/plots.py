"""Live training plots (pyqtgraph): the loss, every parameter's gradient norm, and gradient flow.

The plots draw what the engine measured (StepResults, packed by the worker into arrays); they
compute nothing but log10 for the bar chart's axis. Which curves a deep net gets (one per layer,
the largest first) is decided in :mod:`bpviz.presentation.training.norm_curves`. A log axis
cannot place zero, NaN or Inf: the gradient-norm plot marks them on a floor row; the loss plot
drops them (a NaN loss ends a run) or turns linear for a loss <= 0.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

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
from bpviz.presentation.training.norm_curves import (
    MANY_CURVES,
    TOP_CURVES,
    flow_names,
    group_by_layer,
    layer_norm,
    rank_key,
    thin,
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
        self.setMaximumWidth(175)  # wider squeezes the plot and clips its threshold labels at 1366 px
        self.setMinimumWidth(90)
        self.setUniformItemSizes(True)
        self.itemChanged.connect(
            lambda item: self.toggled.emit(self.row(item), item.checkState() == Qt.CheckState.Checked)
        )

    def set_entries(self, names: list[str], colours: list[str], tips: list[str] | None = None) -> None:
        """One ticked row per name, with its curve's colour."""
        self.blockSignals(True)
        self.clear()
        for i, (name, colour) in enumerate(zip(names, colours)):
            pixmap = QPixmap(12, 12)
            pixmap.fill(QColor(colour))
            item = QListWidgetItem(QIcon(pixmap), name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setToolTip(tips[i] if tips else f"{name}: untick to hide its curve")
            self.addItem(item)
        self.blockSignals(False)


# The filter's choices (combobox data).
TOP, BOTTOM, LAYERS, PARAMS, LAYER = "top", "bottom", "layers", "params", "layer:"


class ThresholdAxis(pg.AxisItem):
    """The right-hand axis: names the exploding and vanishing lines beside the plot, in the
    lines' colours, where no curve can cover them."""

    def __init__(self) -> None:
        super().__init__("right")
        self.colours: dict[str, str] = {}

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802, N803 - pyqtgraph API
        """Draw as pyqtgraph does, then each label in its line's colour."""
        super().drawPicture(p, axisSpec, tickSpecs, [])
        p.setClipping(False)  # a label on the top line may reach above the axis, into the margin
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        for rect, flags, text in textSpecs:
            p.setPen(QColor(self.colours.get(text, self.textPen().color().name())))
            p.drawText(rect, int(flags), text)


class GradNormPlot(QWidget):
    """Gradient L2 norm per parameter (or per layer) over steps, log scale, with the seeds'
    exploding and vanishing thresholds as dashed lines named on the right-hand axis.

    A log axis cannot place 0, NaN or Inf: such values are drawn as markers on a floor row
    below the curves (labelled on the axis, keyed in the title), and the curve breaks there.
    The step axis is the loss plot's (see :meth:`link_steps`), however many points are drawn.

    With many parameters (a deep net) the curves are one per layer, and a filter beside the
    plot shows the largest few (the default), the smallest few, every layer, every parameter,
    or one layer's parameters. Batch gradients are noisy from step to step; by default each
    curve is a moving average (right-click ▸ Smooth Curves shows every step's value).
    """

    def __init__(self, theme: Theme):
        super().__init__()
        self.setObjectName("gradNormPanel")
        self.plot_widget = new_plot_widget(theme, "gradNormPlot")
        plot = self.plot_widget.getPlotItem()
        self.threshold_axis = ThresholdAxis()
        plot.setAxisItems({"right": self.threshold_axis})
        plot.showAxis("right")
        plot.setLogMode(y=True)
        self.legend = CurveLegend()
        self.filter = QComboBox()
        self.filter.setObjectName("gradNormFilter")
        self.filter.setToolTip("Which gradient norms to draw: the largest or smallest layers, all, or one layer")
        self.filter.currentIndexChanged.connect(self._on_filter)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(2)
        side.addWidget(self.filter)
        side.addWidget(self.legend, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(side)
        self.names: list[str] = []
        self.titles: dict[str, str] = {}
        self.groups: list[tuple[str, list[int]]] = []
        self.curves: list[pg.PlotDataItem] = []
        self.shown_labels: list[str] = []
        self._rows: list[str] | None = None  # the legend's rows, as last built
        self._hidden: set[str] = set()
        self._lines = []
        limits = Thresholds()
        self._threshold_texts = {}
        for value, text in ((limits.exploding, "exploding"), (limits.vanishing, "vanishing")):
            line = pg.InfiniteLine(pos=math.log10(value), angle=0, movable=False)
            plot.addItem(line, ignoreBounds=True)
            self._lines.append(line)
            self._threshold_texts[text] = (math.log10(value), f"{text}\n({value:g})")
        self.floor_line = pg.InfiniteLine(pos=0, angle=0, movable=False)
        plot.addItem(self.floor_line, ignoreBounds=True)
        # Scatter items, not curves: their y is the floor row in view units (log10), untouched
        # by the log axis and by the curves' downsampling.
        self.zero_marks = pg.ScatterPlotItem(symbol="o", size=6, brush=None)
        self.zero_marks.setObjectName("zeroNorms")
        self.bad_marks = pg.ScatterPlotItem(symbol="x", size=9)
        self.bad_marks.setObjectName("nonfiniteNorms")
        for marks in (self.zero_marks, self.bad_marks):
            plot.addItem(marks, ignoreBounds=True)
        self.legend.toggled.connect(self._toggle)
        self.tidy = TidyRange(plot)
        self.smooth = True
        self.smooth_action = add_smooth_action(plot, self._set_smooth)
        self._data = (np.zeros(0), np.zeros((0, 0)))
        self._shown: list = []
        self._floor_kinds = ""
        self._theme = theme
        self._set_filters()
        self.set_theme(theme)

    def link_steps(self, loss_plot: LossPlot) -> None:
        """Share the loss plot's step axis: same range, and a zoom in one zooms the other."""
        self.tidy.link_x(loss_plot.tidy)

    def set_theme(self, theme: Theme) -> None:
        """Restyle for the light or dark theme."""
        self._theme = theme
        self.plot_widget.setBackground(theme.surface)
        title = "Gradient norm per " + ("layer" if self._by_layer() else "parameter")
        style_plot(self.plot_widget.getPlotItem(), theme, title, "‖grad‖ (log)")
        self._floor_keys()
        axis = self.threshold_axis
        axis.setPen(pg.mkPen(theme.text_muted))
        axis.setTextPen(pg.mkPen(theme.text))
        axis.colours = {}
        for line, kind in zip(self._lines, ("exploding", "vanishing")):
            colour = theme.diagnostic_colour(kind)
            line.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            axis.colours[self._threshold_texts[kind][1]] = colour
        axis.setTicks([[self._threshold_texts[k] for k in ("exploding", "vanishing")], []])
        axis.update()
        self.floor_line.setPen(pg.mkPen(theme.text_muted, width=1, style=Qt.PenStyle.DotLine))
        bad = theme.diagnostic_colour("nonfinite")
        self.bad_marks.setPen(pg.mkPen(bad, width=1))
        self.bad_marks.setBrush(pg.mkBrush(bad))

    # ------------------------------------------------------------------------ choosing curves
    def set_names(self, names: list[str]) -> None:
        """The parameters whose norms :meth:`set_data` gets (the filter starts over when they change)."""
        if list(names) == self.names:
            return
        self.names = list(names)
        self.groups = group_by_layer(self.names)
        self._hidden.clear()
        self.filter.blockSignals(True)
        self.filter.clear()  # another model: its own default choice
        self.filter.blockSignals(False)
        self._set_filters()

    def set_titles(self, titles: dict[str, str]) -> None:
        """Module name -> title ("Linear(16→16)"), for the legend's layer rows."""
        if titles != self.titles:
            self.titles = dict(titles)
            self._set_filters()

    def _by_layer(self) -> bool:
        mode = self.filter.currentData() or PARAMS
        return mode in (TOP, BOTTOM, LAYERS)

    def _layer_label(self, layer: str) -> str:
        title = self.titles.get(layer)
        return f"{layer} {title}" if title and title != layer else layer

    def _set_filters(self) -> None:
        """The filter's choices: for many parameters (grouped per layer), the largest layers
        first; for a few, every parameter and nothing to choose."""
        previous = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        many = len(self.names) > MANY_CURVES
        if many:
            layers = len(self.groups)
            self.filter.addItem(f"Largest {min(TOP_CURVES, layers)} layers", TOP)
            self.filter.addItem(f"Smallest {min(TOP_CURVES, layers)} layers", BOTTOM)
            self.filter.addItem(f"All {layers} layers", LAYERS)
            self.filter.addItem(f"All {len(self.names)} parameters", PARAMS)
            for layer, columns in self.groups:
                if len(columns) > 1:
                    self.filter.addItem(f"Layer {self._layer_label(layer)}", LAYER + layer)
        else:
            self.filter.addItem(f"All {len(self.names)} parameters", PARAMS)
        index = self.filter.findData(previous) if previous is not None else -1
        self.filter.setCurrentIndex(max(0, index))
        self.filter.blockSignals(False)
        self.filter.setVisible(many)
        self._on_filter()

    def choose(self, mode: str) -> None:
        """Pick a filter by its key: top, bottom, layers, params or ``layer:NAME``."""
        index = self.filter.findData(mode)
        if index < 0:
            raise KeyError(mode)
        self.filter.setCurrentIndex(index)

    def _on_filter(self) -> None:
        self._hidden.clear()
        self._rows = None
        self.set_data(*self._data)
        self.set_theme(self._theme)

    def series(self, norms: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
        """Every curve the filter can choose from, in the model's order: (label, values, tooltip)."""
        mode = self.filter.currentData() or PARAMS
        if mode.startswith(LAYER):
            columns = dict(self.groups).get(mode[len(LAYER) :], [])
            return [(self.names[j], norms[:, j], self.names[j]) for j in columns]
        if mode == PARAMS:
            return [(name, norms[:, j], name) for j, name in enumerate(self.names)]
        return [
            (self._layer_label(layer), layer_norm(norms, columns), ", ".join(self.names[j] for j in columns))
            for layer, columns in self.groups
        ]

    def _pick(self, series: list) -> list:
        mode = self.filter.currentData() or PARAMS
        if mode not in (TOP, BOTTOM) or not len(self._data[0]):
            return series
        ranked = [(rank_key(values), i) for i, (_, values, _) in enumerate(series) if not np.all(np.isnan(values))]
        ranked.sort(reverse=mode == TOP)
        keep = sorted(i for _, i in ranked[:TOP_CURVES])
        return [series[i] for i in keep]

    # ------------------------------------------------------------------------ drawing
    def set_data(self, steps: np.ndarray, norms: np.ndarray) -> None:
        """``norms[:, j]`` is parameter j's gradient norm at ``steps``."""
        steps, norms = np.asarray(steps, dtype=np.float64), np.asarray(norms, dtype=np.float64)
        self._data = (steps, norms)
        if norms.ndim != 2 or norms.shape[1] != len(self.names):
            norms = np.zeros((len(steps), len(self.names)))
        picked = self._pick(self.series(norms))
        rows = [label + (" (no gradient)" if len(v) and np.all(np.isnan(v)) else "") for label, v, _ in picked]
        if rows != self._rows:
            self._make_curves(picked, rows)
        shown = []
        zeros: list[tuple[np.ndarray, str]] = []
        bad: list[np.ndarray] = []
        for (_label, values, _), curve in zip(picked, self.curves):
            keep = np.isfinite(values) & (values > 0)
            y = np.full(len(values), np.nan)
            if keep.any():
                y[keep] = smooth(values[keep], True) if self.smooth else values[keep]
            shown.append((steps, y))
            never = np.all(np.isnan(values))  # a parameter that never got a gradient: no markers
            zeros.append((steps[values == 0], curve.opts["pen"].color().name()))
            bad.append(steps[:0] if never else steps[~np.isfinite(values)])
        self._shown = shown
        found = {"0": any(len(z) for z, _ in zeros), "NaN": any(len(b) for b in bad)}
        kinds = "/".join(k for k, there in found.items() if there)
        if kinds != self._floor_kinds:
            self._floor_kinds = kinds
            self.set_theme(self._theme)
        self._fit_view()  # the view first: curves clipped to the view are clipped to the new one
        for curve, (x, y) in zip(self.curves, shown):
            curve.setData(x, y, connect="finite")
        self._draw_floor(zeros, bad)

    def _make_curves(self, picked: list, rows: list[str]) -> None:
        plot = self.plot_widget.getPlotItem()
        for curve in self.curves:
            plot.removeItem(curve)
        self.shown_labels = [label for label, _, _ in picked]
        count = len(picked)
        colours = curve_colours(count)
        self.curves = []
        for (label, _, _), colour in zip(picked, colours):
            curve = plot.plot(pen=pg.mkPen(colour, width=1.5 if count <= MANY_CURVES else 1), name=None)
            curve.curve.setSegmentedLineMode("off")
            curve.setObjectName(label)
            curve.setVisible(label not in self._hidden)
            self.curves.append(curve)
        tips = [f"{tip}: untick to hide its curve" for _, _, tip in picked]
        self._rows = rows
        self.legend.set_entries(rows, colours, tips)
        self._floor_keys()
        for row, label in enumerate(self.shown_labels):
            if label in self._hidden:
                self.legend.item(row).setCheckState(Qt.CheckState.Unchecked)

    def _floor_keys(self) -> None:
        """Legend rows under the curves' rows for the floor markers that are drawn (the title
        has no room for them in a narrow dock)."""
        legend, theme = self.legend, self._theme
        while legend.count() > len(self.curves):
            legend.takeItem(legend.count() - 1)
        keys = []
        if "0" in self._floor_kinds:
            keys.append(("○ 0 (on the floor row)", theme.text_muted, "A gradient norm of exactly 0 at that step"))
        if "NaN" in self._floor_kinds:
            keys.append(("✕ NaN/Inf (floor row)", theme.diagnostic_colour("nonfinite"), "A NaN or infinite norm"))
        for text, colour, tip in keys:
            item = QListWidgetItem(text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a key, not a curve: nothing to tick
            item.setForeground(QColor(colour))
            item.setToolTip(tip + ": a log axis has no place for it, so it is marked below the curves")
            legend.addItem(item)

    def _draw_floor(self, zeros: list, bad: list) -> None:
        """Markers on the floor row for zero (hollow, the curve's colour) and NaN/Inf norms."""
        floor = self.tidy.floor_y
        xs, pens = [], []
        for (x, colour), curve in zip(zeros, self.curves):
            if curve.isVisible() and len(x):
                x = thin(x)
                xs.append(x)
                pens += [pg.mkPen(colour, width=1.5)] * len(x)
        zx = np.concatenate(xs) if xs else np.zeros(0)
        self.zero_marks.setData(x=zx, y=np.full(len(zx), floor), pen=pens or None, brush=None)
        bx = [thin(b) for b, curve in zip(bad, self.curves) if curve.isVisible() and len(b)]
        bxs = np.concatenate(bx) if bx else np.zeros(0)
        self.bad_marks.setData(x=bxs, y=np.full(len(bxs), floor))
        self.floor_line.setValue(self.tidy.floor_y)
        self.floor_line.setVisible(bool(self._floor_kinds))

    def _set_smooth(self, on: bool) -> None:
        self.smooth = on
        self.set_data(*self._data)

    def _toggle(self, row: int, on: bool) -> None:
        if row >= len(self.curves):  # a key row
            return
        label = self.shown_labels[row]
        (self._hidden.discard if on else self._hidden.add)(label)
        self.curves[row].setVisible(on)
        self.set_data(*self._data)

    def _fit_view(self) -> None:
        """The view spans every step (the loss plot's axis) and the values drawn, of the
        curves ticked (a hidden curve may be far below the others), plus the floor row when
        some value is 0, NaN or Inf."""
        steps = self._data[0]
        if not len(steps):
            return
        ys = [y[np.isfinite(y)] for (_, y), c in zip(self._shown, self.curves) if c.isVisible()]
        ys = [y for y in ys if len(y)]
        lo, hi = (float(min(y.min() for y in ys)), float(max(y.max() for y in ys))) if ys else (1.0, 1.0)
        self.tidy.update(float(steps.min()), float(steps.max()), lo, hi, True, self._floor_kinds)
        # A threshold line outside the view is hidden (an SVG export would draw it anyway).
        low, high = self.plot_widget.getPlotItem().getViewBox().viewRange()[1]
        for line in self._lines:
            line.setVisible(low <= line.value() <= high)


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
