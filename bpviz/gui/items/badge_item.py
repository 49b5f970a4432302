"""BadgeItem: a diagnostic marker on a node (a coloured circle with a symbol, message in its tooltip).

Zoomed out, the symbol goes (below LOD_TEXT) and then the circle becomes a plain dot (LOD_SHAPE).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.items.style import colour, font
from bpviz.gui.items.zorder import CACHE_NODE, LOD_SHAPE, LOD_TEXT
from bpviz.gui.theme import Theme

BADGE_R = 8.0
# Symbols drawn in the diagnostic badges (all present in DejaVu Sans).
BADGE_SYMBOLS = {
    "none_grad": "∅",
    "nonfinite": "!",
    "exploding": "↑",
    "vanishing": "↓",
    "dead_relu": "✕",
    "several_outputs": "⑂",
    "torch_fallback": "i",
}


_DOT = QRectF(-BADGE_R, -BADGE_R, 2 * BADGE_R, 2 * BADGE_R)
_BOUNDS = QRectF(-BADGE_R - 1, -BADGE_R - 1, 2 * BADGE_R + 2, 2 * BADGE_R + 2)


class BadgeItem(QGraphicsItem):
    """A small coloured circle with a symbol; its tooltip carries the diagnostic message."""

    def __init__(self, kind: str, message: str, theme: Theme, parent: QGraphicsItem):
        super().__init__(parent)
        self.kind = kind
        self.message = message
        self._theme = theme
        self._fill = colour(theme.diagnostic_colour(kind))
        self.setToolTip(message)
        # Cached like its node (the symbol is text): see GraphScene.set_view_zoom.
        self.setCacheMode(CACHE_NODE)

    def set_theme(self, theme: Theme) -> None:
        """Repaint in another theme."""
        self._theme = theme
        self._fill = colour(theme.diagnostic_colour(self.kind))
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return _BOUNDS

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        fill = self._fill
        if lod < LOD_SHAPE:
            # A dot of the diagnostic's colour: at this zoom the badge is a pixel or two, as
            # opaque as the circle covers them (so it looks as it did antialiased).
            dot = QColor(fill)
            dot.setAlphaF(min(1.0, math.pi * (BADGE_R * lod) ** 2))
            painter.fillRect(_DOT, dot)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour(self._theme.surface), 1.5))
        painter.setBrush(fill)
        painter.drawEllipse(QPointF(0, 0), BADGE_R, BADGE_R)
        if lod < LOD_TEXT:
            return  # the symbol would be unreadable; the colour tells the kind
        painter.setPen(colour("#ffffff"))
        painter.setFont(font(self._theme, "badge"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, BADGE_SYMBOLS.get(self.kind, "?"))
