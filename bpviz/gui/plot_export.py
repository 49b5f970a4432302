"""Training plots as PNG or SVG files, without a display: the loss curve and the per-parameter
gradient-norm curves (log scale).

Used by ``bpviz train --plot``. PNG goes through a QImage; SVG renders the plot scene through
QSvgGenerator + QPainter, because pyqtgraph's own SVG exporter fails on PySide6 6.11/6.12.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bpviz.core.errors import BpvizError

FORMATS = (".png", ".svg")
WIDTH, HEIGHT = 960, 720
# A qualitative palette that stays readable on white; cycled for more parameters.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def plain_ticks(axis) -> None:
    """Tick labels of a pyqtgraph axis in the data's own units, never rescaled. Its
    ``enableAutoSIPrefix(False)`` alone still computes a scale from the range at that moment
    (1000 for gradients within ±0.004) and keeps it, with no "(x0.001)" on the label: the ticks
    then read -4..3 instead of -0.004..0.003. With no range enabled, the scale stays 1."""
    axis.setSIPrefixEnableRanges(())
    axis.enableAutoSIPrefix(False)


def decades_first(axis) -> None:
    """Label a log axis by its decades, and its 2..9 ticks only where they do not crowd.
    pyqtgraph may offer the 2..9 ticks as the only tick level over two decades; the first level
    is always labelled, so 0.1, 0.09, 0.08 ... overlapped at the top of each decade."""
    from pyqtgraph import AxisItem

    def log_ticks(lo: float, hi: float, size: float, std_ticks):
        ticks = AxisItem.logTickValues(axis, lo, hi, size, std_ticks)
        if ticks and ticks[0][0] is None and math.floor(hi) - math.ceil(lo) >= 1:
            ticks.insert(0, (1.0, [float(d) for d in range(math.ceil(lo), math.floor(hi) + 1)]))
        return ticks

    axis.logTickValues = log_ticks
    axis.setStyle(textFillLimits=[(0, 0.8), (2, 0.3)])  # the 2..9 labels only when sparse


def check_plot_path(path: str | os.PathLike[str]) -> Path:
    """The output path if it can be written as a plot; raises BpvizError before any training."""
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise BpvizError(f"Cannot write a plot to '{out.name}'; use a file name ending in .png or .svg.")
    if out.is_dir():
        raise BpvizError(f"'{out}' is a folder; give a file name such as training.png.")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BpvizError(f"The folder '{parent}' does not exist; create it or choose another path.")
    return out


def _ensure_app():
    """A QApplication (offscreen when there is no display), created before anything Qt draws."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _positive(xs: Sequence[int], ys: Sequence[float | None]) -> tuple[list[int], list[float]]:
    """Points a log axis can show: drop None, zero, negative, NaN and Inf values."""
    px, py = [], []
    for x, y in zip(xs, ys):
        if y is not None and math.isfinite(y) and y > 0:
            px.append(x)
            py.append(y)
    return px, py


def _build(steps, loss, val_loss, grad_norms, title):
    import pyqtgraph as pg

    widget = pg.GraphicsLayoutWidget(show=False, size=(WIDTH, HEIGHT))
    widget.setBackground("w")
    ink = pg.mkPen("k")

    def new_plot(row: int, heading: str, left: str):
        plot = widget.addPlot(row=row, col=0, title=f"<span style='color:#000'>{heading}</span>")
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(ink)
            axis.setTextPen(ink)
            plain_ticks(axis)  # log axes: "(x0.001)" beside 10^2 ticks misleads
        decades_first(plot.getAxis("left"))
        plot.setLabel("left", left, color="#000")
        plot.setLabel("bottom", "step", color="#000")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLogMode(y=True)
        plot.addLegend(offset=(-10, 10), labelTextColor="#000", brush=pg.mkBrush(255, 255, 255, 200))
        return plot

    def curve(plot, xs, ys, colour: str, width: float, name: str, **symbols) -> None:
        px, py = _positive(xs, ys)
        item = plot.plot(px, py, pen=pg.mkPen(colour, width=width), name=name, **symbols)
        # One path per curve: pyqtgraph draws wide pens as separate segments otherwise, which an
        # SVG stores as hundreds of two-point polylines.
        item.curve.setSegmentedLineMode("off")

    loss_plot = new_plot(0, f"Loss{' — ' + title if title else ''}", "loss (log)")
    curve(loss_plot, steps, loss, PALETTE[0], 2, "train")
    if any(v is not None for v in val_loss):
        curve(
            loss_plot,
            steps,
            val_loss,
            PALETTE[1],
            2,
            "validation",
            symbol="o",
            symbolSize=4,
            symbolBrush=PALETTE[1],
            symbolPen=None,
        )
    grad_plot = new_plot(1, "Gradient norm per parameter", "‖grad‖ (log)")
    for i, (name, norms) in enumerate(grad_norms.items()):
        curve(grad_plot, steps, norms, PALETTE[i % len(PALETTE)], 1.5, name)
    return widget


def export_training_plot(
    path: str | os.PathLike[str],
    steps: Sequence[int],
    loss: Sequence[float | None],
    val_loss: Sequence[float | None],
    grad_norms: dict[str, Sequence[float | None]],
    title: str = "",
) -> Path:
    """Write the loss and gradient-norm plots to ``path`` (.png or .svg); returns the path.

    ``loss``, ``val_loss`` and each ``grad_norms`` list run parallel to ``steps``; None, zero
    and non-finite values are left out (the axes are logarithmic).
    """
    out = check_plot_path(path)
    app = _ensure_app()  # held until the drawing is done
    import shiboken6
    from PySide6.QtCore import QBuffer, QIODevice, QRect, QRectF, QSize
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgGenerator

    from bpviz.core.atomic import write_bytes
    from bpviz.gui.export import png_bytes

    widget = _build(list(steps), list(loss), list(val_loss), grad_norms, title)
    try:
        widget.resize(WIDTH, HEIGHT)
        widget.grab()  # delivers the pending resize, so the layout has its final geometry
        scene = widget.scene()
        source = QRectF(0, 0, WIDTH, HEIGHT)
        if out.suffix.lower() == ".png":
            image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            try:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                scene.render(painter, QRectF(image.rect()), source)
            finally:
                painter.end()
            write_bytes(out, png_bytes(image))
        else:
            buffer = QBuffer()
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            generator = QSvgGenerator()
            generator.setOutputDevice(buffer)
            generator.setSize(QSize(WIDTH, HEIGHT))
            generator.setViewBox(QRect(0, 0, WIDTH, HEIGHT))
            # pyqtgraph's axes replay cached QPictures, which Qt rescales by the ratio of the
            # device resolutions: at the generator's default 72 dpi the axes shrink to 3/4.
            generator.setResolution(widget.logicalDpiX())
            generator.setTitle(title or "bpviz training")
            painter = QPainter()
            if not painter.begin(generator):
                raise BpvizError(f"Cannot draw the plot for '{out}'; the SVG renderer refused to start.")
            try:
                painter.fillRect(source, QColor("white"))
                scene.render(painter, source, source)
            finally:
                painter.end()
            write_bytes(out, bytes(buffer.data().data()))
    finally:
        # Delete the widget now, in this thread: left to the garbage collector, its pyqtgraph
        # reference cycles would be freed at an arbitrary later moment, possibly in another thread.
        widget.close()
        shiboken6.delete(widget)
        app.processEvents()  # let Qt finish with what the widget posted before it went
    return out
