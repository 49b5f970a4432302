"""The curve of a wire from an output port to an input port, shared by drawn and dragged wires."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

# A wire spanning more than this (scene pixels, about two blocks and their gaps) would run under
# the blocks between its ends, where a skip connection cannot be seen: it arcs over them.
LONG_WIRE = 300.0
ARC_LIFT = 0.22
MAX_ARC_LIFT = 220.0


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve: leaves the output to the right, arrives at the input from the left
    (also when the input is behind the output, so the wire never crosses its own blocks); a long
    forward wire arcs above the blocks it passes."""
    span = end.x() - start.x()
    dx = max(40.0, abs(span) / 2)
    lift = min(MAX_ARC_LIFT, ARC_LIFT * span) if span > LONG_WIRE else 0.0
    path = QPainterPath(start)
    if lift:
        dx = min(dx, 80.0)
    path.cubicTo(QPointF(start.x() + dx, start.y() - lift), QPointF(end.x() - dx, end.y() - lift), end)
    return path
