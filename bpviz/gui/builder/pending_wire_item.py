"""PendingWireItem: the dashed wire that follows the mouse while a wire is dragged from an output."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from bpviz.gui.builder.wire_geometry import wire_path
from bpviz.gui.builder.zorder import CACHE_PENDING_WIRE, Z_PENDING_WIRE
from bpviz.gui.items.style import shared_colour
from bpviz.gui.theme import Theme


class PendingWireItem(QGraphicsItem):
    """A wire from ``start`` to wherever the mouse is."""

    def __init__(self, start: QPointF, theme: Theme):
        super().__init__()
        self.start = start
        self.theme = theme
        self.path = QPainterPath(start)
        self.setCacheMode(CACHE_PENDING_WIRE)
        self.setZValue(Z_PENDING_WIRE)

    def set_end(self, end: QPointF) -> None:
        """Follow the mouse (or snap to the port under it)."""
        self.prepareGeometryChange()
        self.path = wire_path(self.start, end)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.path.boundingRect().adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:  # noqa: D102
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(shared_colour(self.theme.selection), 2.0, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)
