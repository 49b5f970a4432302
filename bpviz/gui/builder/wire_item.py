"""WireItem: a wire from a block's output to another block's input, labelled with the shape it
carries (inferred on the meta device). A wire the destination cannot take is red; its tooltip
says why and its context menu offers the fixes.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from bpviz.gui.builder.wire_geometry import wire_path
from bpviz.gui.builder.zorder import CACHE_WIRE, Z_WIRE, Z_WIRE_SELECTED
from bpviz.gui.items.style import font, metrics, shared_colour
from bpviz.gui.theme import Theme

WIDTH = 2.0
HIT_WIDTH = 10.0
LABEL_PAD = 4.0


def shape_text(shape: tuple[int, ...] | None) -> str:
    """A shape as a learner reads it: ``[32×10]``, ``[1]``, ``scalar``, or ``?`` when it is not
    known (brackets, so a shape of one element is not read as the value 1)."""
    if shape is None:
        return "?"
    return "[" + "×".join(str(n) for n in shape) + "]" if shape else "scalar"


class WireItem(QGraphicsItem):
    """The wire into input ``key = (dst, port)``."""

    def __init__(self, key: tuple[str, str], theme: Theme):
        super().__init__()
        self.key = key
        self.theme = theme
        self.text = "?"
        self.issue = ""
        self.path = QPainterPath()
        self._label_rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(CACHE_WIRE)
        self.setZValue(Z_WIRE)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Run from ``start`` (the output port) to ``end`` (the input port), scene coordinates."""
        self.prepareGeometryChange()
        self.path = wire_path(start, end)
        self._place_label()

    def set_shape(self, text: str, issue: str) -> None:
        """Show the shape ``text``; ``issue`` ("" for none) makes the wire red and is its tooltip."""
        if (text, issue) == (self.text, self.issue):
            return
        self.prepareGeometryChange()
        self.text, self.issue = text, issue
        if issue:
            tip = issue + "\n\nRight-click the wire for the fixes."
        elif text == "?":
            tip = "shape not known: a block before this wire cannot run yet"
        else:
            tip = f"carries a tensor of shape {text}"
        self.setToolTip(tip)
        self._place_label()
        self.update()

    def set_theme(self, theme: Theme) -> None:
        """Repaint in ``theme``'s colours."""
        self.prepareGeometryChange()
        self.theme = theme
        self._place_label()
        self.update()

    def label_text(self) -> str:
        """What the label shows (tests and screen readers)."""
        return self.text

    def _place_label(self) -> None:
        fm = metrics(self.theme, "edge")
        w = fm.horizontalAdvance(self.text) + 2 * LABEL_PAD
        h = fm.height() + LABEL_PAD
        mid = self.path.pointAtPercent(0.5) if not self.path.isEmpty() else QPointF()
        self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 3, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return (
            self.path.boundingRect()
            .adjusted(-HIT_WIDTH, -HIT_WIDTH, HIT_WIDTH, HIT_WIDTH)
            .united(self._label_rect.adjusted(-2, -2, 2, 2))
        )

    def shape(self) -> QPainterPath:  # noqa: D102 - Qt API
        stroker = QPainterPathStroker()
        stroker.setWidth(HIT_WIDTH)
        area = stroker.createStroke(self.path)
        area.addRect(self._label_rect)
        return area

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:  # noqa: N802, D102
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(Z_WIRE_SELECTED if value else Z_WIRE)
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:  # noqa: D102
        t = self.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = t.nonfinite if self.issue else t.text_muted
        width = WIDTH + (1.0 if self.issue else 0.0)
        if self.isSelected():
            colour, width = t.selection, WIDTH + 1.5
        painter.setPen(QPen(shared_colour(colour), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)
        painter.setPen(QPen(shared_colour(colour), 1.0))
        painter.setBrush(shared_colour(t.label_background))
        painter.drawRoundedRect(self._label_rect, 4, 4)
        painter.setFont(font(t, "edge"))
        painter.setPen(shared_colour(t.nonfinite if self.issue else t.text))
        painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.text)
