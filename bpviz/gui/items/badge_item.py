"""BadgeItem: a diagnostic marker on a node (a coloured circle with a symbol, message in its tooltip)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.items.style import colour, font
from bpviz.gui.theme import Theme

BADGE_R = 8.0
# Symbols drawn in the diagnostic badges (all present in DejaVu Sans).
BADGE_SYMBOLS = {"none_grad": "∅", "nonfinite": "!", "exploding": "↑", "vanishing": "↓",
                 "dead_relu": "✕"}


class BadgeItem(QGraphicsItem):
    """A small coloured circle with a symbol; its tooltip carries the diagnostic message."""

    def __init__(self, kind: str, message: str, theme: Theme, parent: QGraphicsItem):
        super().__init__(parent)
        self.kind = kind
        self.message = message
        self._theme = theme
        self.setToolTip(message)

    def set_theme(self, theme: Theme) -> None:
        """Repaint in another theme."""
        self._theme = theme
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(-BADGE_R - 1, -BADGE_R - 1, 2 * BADGE_R + 2, 2 * BADGE_R + 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour(self._theme.surface), 1.5))
        painter.setBrush(colour(self._theme.diagnostic_colour(self.kind)))
        painter.drawEllipse(QPointF(0, 0), BADGE_R, BADGE_R)
        painter.setPen(colour("#ffffff"))
        painter.setFont(font(self._theme, "badge"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, BADGE_SYMBOLS.get(self.kind, "?"))
