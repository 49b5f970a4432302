"""The curve of a wire from an output port to an input port, shared by drawn and dragged wires."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve: leaves the output to the right, arrives at the input from the left
    (also when the input is behind the output, so the wire never crosses its own blocks)."""
    dx = max(40.0, abs(end.x() - start.x()) / 2)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path
