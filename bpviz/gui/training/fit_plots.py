"""Live plots of one parameter's distribution, and of the model against its data.

:class:`HistogramPlot` shows histograms of the selected parameter's weights and of its
gradient (bins counted on the worker). :class:`FitView` shows a toy dataset with the model's
curve (one feature) or its decision surface with the p = 0.5 boundary (two features).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bpviz.gui.plot_export import PALETTE
from bpviz.gui.theme import Theme, mix
from bpviz.gui.training.plot_style import new_plot_widget, style_plot

CLASS_COLOURS = ("#2b6cd8", "#e8590c")  # class 0, class 1: the palette's blue and orange


def boundary(values: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The p = 0.5 contour of ``values`` (sampled at gx x gy) as x, y arrays in data units,
    its pieces separated by NaN."""
    xs, ys = [], []
    for line in pg.functions.isocurve(values, 0.5, connected=True):
        pts = np.asarray(line, dtype=float)
        # isocurve works in index units, with the samples at pixel corners; map to the grid.
        xs += [np.interp(pts[:, 0], np.arange(len(gx)), gx), [np.nan]]
        ys += [np.interp(pts[:, 1], np.arange(len(gy)), gy), [np.nan]]
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def binary_targets(y: np.ndarray) -> bool:
    """Whether every target is 0 or 1."""
    return y.size > 0 and bool(np.isin(y, (0.0, 1.0)).all())


class HistogramPlot(QWidget):
    """A parameter chooser above two histograms: the weights and their gradient.

    ``paramChosen(str)`` fires when the user picks another parameter in the box.
    """

    paramChosen = Signal(str)

    def __init__(self, theme: Theme):
        super().__init__()
        self.setObjectName("histogramPanel")
        self.combo = QComboBox()
        self.combo.setObjectName("histParam")
        self.combo.setMinimumContentsLength(12)
        self.combo.currentTextChanged.connect(lambda text: self.paramChosen.emit(text) if text else None)
        top = QHBoxLayout()
        top.setContentsMargins(6, 2, 6, 0)
        top.addWidget(QLabel("Parameter"))
        top.addWidget(self.combo, 1)
        self.values = new_plot_widget(theme, "histValues", dense=False)
        self.grads = new_plot_widget(theme, "histGrads", dense=False)
        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.setSpacing(2)
        plots.addWidget(self.values)
        plots.addWidget(self.grads)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(plots, 1)
        self.value_bars = self.values.getPlotItem().plot(stepMode="center", fillLevel=0)
        self.grad_bars = self.grads.getPlotItem().plot(stepMode="center", fillLevel=0)
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        """Restyle for the light or dark theme."""
        self._theme = theme
        for widget, bars, title, colour in (
            (self.values, self.value_bars, "Weights", PALETTE[0]),
            (self.grads, self.grad_bars, "Gradient", theme.grad_text),
        ):
            widget.setBackground(theme.surface)
            style_plot(widget.getPlotItem(), theme, title, "count", "value")
            bars.setPen(pg.mkPen(colour, width=1))
            bars.setBrush(pg.mkBrush(colour + "66"))

    def set_params(self, names: list[str], current: str) -> None:
        """Offer these parameters; select ``current`` (without emitting paramChosen)."""
        self.combo.blockSignals(True)
        if [self.combo.itemText(i) for i in range(self.combo.count())] != list(names):
            self.combo.clear()
            self.combo.addItems(list(names))
        if current in names:
            self.combo.setCurrentText(current)
        self.combo.blockSignals(False)

    def current(self) -> str:
        """The parameter shown."""
        return self.combo.currentText()

    def set_histograms(self, hist) -> None:
        """Show a :class:`~bpviz.presentation.training.snapshot.Histograms` (None clears)."""
        if hist is None:
            self.value_bars.setData([], [])
            self.grad_bars.setData([], [])
            return
        self.value_bars.setData(hist.value_edges, hist.value_counts)
        if hist.grad_edges is not None:
            self.grad_bars.setData(hist.grad_edges, hist.grad_counts)
        else:
            self.grad_bars.setData([], [])
        style_plot(
            self.grads.getPlotItem(),
            self._theme,
            "Gradient" if hist.grad_edges is not None else "Gradient (none yet)",
            "count",
            "value",
        )


class FitView(QWidget):
    """A note when there is nothing to draw; else the data with the model's fit."""

    def __init__(self, theme: Theme):
        super().__init__()
        self.setObjectName("fitView")
        self.note = QLabel(
            "Train on the scenario's batch or on a toy dataset with one or two input "
            "features to see the model's fit here."
        )
        self.note.setWordWrap(True)
        self.note.setMargin(16)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.plot_widget = new_plot_widget(theme, "fitPlot", dense=False)
        # Two children shown one at a time (a stacked widget would not resize the page it
        # switches to before the first paint).
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.plot_widget, 1)
        self.plot_widget.hide()
        self.data = None
        self.values: np.ndarray | None = None
        self._theme = theme
        self._items: list = []
        self._curve: pg.PlotDataItem | None = None
        self._image: pg.ImageItem | None = None
        self._iso: pg.PlotDataItem | None = None
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        """Restyle for the light or dark theme (rebuilds the items)."""
        self._theme = theme
        self.plot_widget.setBackground(theme.surface)
        if self.data is not None:
            self.set_data(self.data)
            if self.values is not None:
                self.set_values(self.values)
        else:
            style_plot(self.plot_widget.getPlotItem(), theme, "Data and fit", "y", "x")

    def set_data(self, data) -> None:
        """Draw a :class:`~bpviz.presentation.training.snapshot.FitData` (None: show the note)."""
        plot = self.plot_widget.getPlotItem()
        for item in self._items:
            plot.removeItem(item)
        self._items, self._curve, self._image, self._iso = [], None, None, None
        self.data, self.values = data, None
        self.note.setVisible(data is None)
        self.plot_widget.setVisible(data is not None)
        if data is None:
            return
        t = self._theme
        if data.dims == 1:
            key = (
                f"<span style='color:{PALETTE[0]}'>● data</span> &nbsp;<span style='color:{PALETTE[1]}'>— model</span>"
            )
            style_plot(plot, t, f"Fit on {data.label} &nbsp; {key}", "y", "x")
            dots = pg.ScatterPlotItem(
                data.X[:, 0],
                data.y,
                size=9,
                brush=pg.mkBrush(PALETTE[0]),
                pen=pg.mkPen(t.surface, width=1.5),
                name="data",
            )
            self._curve = pg.PlotDataItem(pen=pg.mkPen(PALETTE[1], width=2.5), name="model")
            self._items = [dots, self._curve]
        else:
            key = f"<span style='color:{CLASS_COLOURS[0]}'>● 0</span> <span style='color:{CLASS_COLOURS[1]}'>● 1</span>"
            # A scenario's own 0/1 targets (XOR with a logistic loss) are classes too, whatever
            # the model outputs (logits): the points show which is which.
            by_class = data.classes or binary_targets(data.y)
            if data.classes:
                style_plot(plot, t, f"Classes on {data.label} &nbsp; {key} — p = 0.5", "x2", "x1")
            elif by_class:
                style_plot(plot, t, f"Model output on {data.label} &nbsp; targets {key}", "x2", "x1")
            else:
                style_plot(plot, t, f"Model output on {data.label}", "x2", "x1")
            gx, gy = data.grid
            dx, dy = gx[1] - gx[0], gy[1] - gy[0]
            self._image = pg.ImageItem(axisOrder="col-major")
            # Given again with every image: setImage resets the item's transform.
            self._rect = QRectF(gx[0] - dx / 2, gy[0] - dy / 2, dx * len(gx), dy * len(gy))
            self._image.setLookupTable(self._surface_lut())
            # The p = 0.5 boundary as a plain curve in data coordinates (an IsocurveItem under
            # the image's transform exports to SVG with a pen scaled up many times).
            self._iso = pg.PlotDataItem(pen=pg.mkPen(t.text, width=2), connect="finite")
            self._items = [self._image, self._iso, *self._scatter(data, by_class)]
        for item in self._items:
            plot.addItem(item)
        if self._image is not None:
            # Exactly the surface: nothing may stick out of the view, since an SVG export
            # cannot clip it.
            plot.setRange(rect=self._rect, padding=0)
        else:
            plot.autoRange()

    def _scatter(self, data, by_class: bool) -> list:
        if not by_class:
            return [
                pg.ScatterPlotItem(
                    data.X[:, 0], data.X[:, 1], size=6, brush=pg.mkBrush(self._theme.text), pen=None, name="data"
                )
            ]
        out = []
        for k, colour in enumerate(CLASS_COLOURS):
            pick = np.round(data.y) == k if k == 0 else np.round(data.y) >= 1
            out.append(
                pg.ScatterPlotItem(
                    data.X[pick, 0],
                    data.X[pick, 1],
                    size=7,
                    brush=pg.mkBrush(colour),
                    pen=pg.mkPen(self._theme.surface, width=1),
                    name=f"class {k}",
                )
            )
        return out

    def _surface_lut(self) -> np.ndarray:
        """Pale class colours, through the surface colour at p = 0.5 (a regression output uses
        the same ramp, from its low to its high values)."""
        t = self._theme
        lo, hi = mix(CLASS_COLOURS[0], t.surface, 0.62), mix(CLASS_COLOURS[1], t.surface, 0.62)
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(lo), QColor(t.surface), QColor(hi)])
        return cmap.getLookupTable(0.0, 1.0, 256)

    def set_values(self, values: np.ndarray | None) -> None:
        """The model's output on the data's grid (curve or surface)."""
        self.values = values
        if values is None or self.data is None:
            return
        if self._curve is not None:
            self._curve.setData(self.data.grid[0], values)
        elif self._image is not None:
            levels = (0.0, 1.0) if self.data.classes else (float(np.nanmin(values)), float(np.nanmax(values)) + 1e-12)
            self._image.setImage(np.nan_to_num(values), levels=levels, autoLevels=False, rect=self._rect)
            if self.data.classes:
                self._iso.setData(*boundary(values, *self.data.grid))
