"""Exporting the training plots: one dock's plot as PNG or SVG, or the run's loss and gradient
norms through :func:`bpviz.gui.plot_export.export_training_plot` (the same figure as
``bpviz train --plot``).

SVG goes through QSvgGenerator (pyqtgraph's own SVG exporter fails on current PySide6), with the
generator's resolution set to the screen's, as plot_export does: pyqtgraph's axes replay cached
QPictures that Qt would otherwise rescale to 72 dpi.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRect, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from bpviz.core.atomic import write_bytes
from bpviz.core.errors import BpvizError
from bpviz.gui.export import png_bytes
from bpviz.gui.plot_export import check_plot_path, export_training_plot

FILTERS = "PNG image (*.png);;SVG vector image (*.svg)"
PNG_SCALE = 2


def _render(widget: QWidget, painter: QPainter) -> None:
    # QWidget's own render (the widget as on screen, children included): pyqtgraph views
    # override render() with QGraphicsView's, which draws the scene without the widget.
    QWidget.render(widget, painter, QPoint())


def export_widget(widget: QWidget, path: str | os.PathLike[str], title: str = "") -> Path:
    """Write what ``widget`` shows (a plot with its legend) to a .png or .svg file."""
    out = check_plot_path(path)
    if out.suffix.lower() == ".png":
        # Twice the pixels of the screen, so the image stays sharp in a document.
        image = QImage(widget.size() * PNG_SCALE, QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(PNG_SCALE)
        image.fill(widget.palette().window().color())
        painter = QPainter(image)
        try:
            _render(widget, painter)
        finally:
            painter.end()
        write_bytes(out, png_bytes(image))
        return out
    size = widget.size()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setResolution(widget.logicalDpiX())
    generator.setTitle(title or "bpviz training plot")
    painter = QPainter()
    if not painter.begin(generator):
        raise BpvizError(f"Cannot draw the plot for '{out}'; the SVG renderer refused to start.")
    try:
        _render(widget, painter)
    finally:
        painter.end()
    write_bytes(out, bytes(buffer.data().data()))
    return out


def export_history(history, path: str | os.PathLike[str], title: str = "") -> Path:
    """Write the loss and per-parameter gradient-norm plots of ``history`` (a TrainingHistory)."""
    steps = [int(s) for s in history.steps()]
    loss = list(history.loss())
    norms = history.norms()
    by_step = {s: i for i, s in enumerate(steps)}
    val = {int(s): v for s, v in history.val.rows()}
    # The validation points have their own (sparser) steps: merge both step lists; a point that
    # is missing on one curve is None there, which the exporter leaves out.
    merged = sorted(set(steps) | set(val))
    loss_col = [loss[by_step[s]] if s in by_step else None for s in merged]
    val_col = [val.get(s) for s in merged]
    grad: dict[str, Sequence[float | None]] = {}
    for j, name in enumerate(history.names):
        column = [float(norms[by_step[s], j]) if s in by_step else None for s in merged]
        grad[name] = [v if v is not None and math.isfinite(v) else None for v in column]
    return export_training_plot(path, merged, loss_col, val_col, grad, title)
