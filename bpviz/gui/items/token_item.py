"""TokenItem: a small glowing dot that travels along an edge to show a value or gradient moving.

The token has no clock of its own: :meth:`TokenItem.set_progress` (0..1) places it, so the scene
drives it with a QVariantAnimation and tests set the progress directly.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QRadialGradient
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.items.style import colour
from bpviz.gui.items.zorder import CACHE_TOKEN, Z_TOKEN

CORE_R = 4.0
GLOW_R = 11.0


class TokenItem(QGraphicsItem):
    """A dot on ``path``; ``reverse`` makes progress 0 the path's end (backward: target -> source)."""

    def __init__(self, path: QPainterPath, colour_hex: str, reverse: bool = False, edge: tuple[str, str] | None = None):
        super().__init__()
        self.edge = edge
        self.reverse = reverse
        self._path = QPainterPath(path)
        self._colour = colour_hex
        self._progress = -1.0
        self.setZValue(Z_TOKEN)
        self.setCacheMode(CACHE_TOKEN)
        # Tokens are decoration: clicks go through to the edge or node underneath.
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.set_progress(0.0)

    @property
    def progress(self) -> float:
        """How far along the edge the token is, 0..1 in its direction of travel."""
        return self._progress

    def set_progress(self, progress: float) -> None:
        """Place the token ``progress`` (clamped to 0..1) of the way along its direction."""
        progress = max(0.0, min(1.0, float(progress)))
        self._progress = progress
        if self._path.isEmpty():
            return
        self.setPos(self._path.pointAtPercent(1.0 - progress if self.reverse else progress))

    def position(self) -> QPointF:
        """The token's centre in scene coordinates."""
        return self.pos()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(-GLOW_R, -GLOW_R, 2 * GLOW_R, 2 * GLOW_R)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        glow = QRadialGradient(QPointF(0, 0), GLOW_R)
        glow.setColorAt(0.0, colour(self._colour, 170))
        glow.setColorAt(0.45, colour(self._colour, 70))
        glow.setColorAt(1.0, colour(self._colour, 0))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(glow)
        painter.drawEllipse(QPointF(0, 0), GLOW_R, GLOW_R)
        painter.setBrush(colour("#ffffff"))
        painter.drawEllipse(QPointF(0, 0), CORE_R, CORE_R)
        painter.setBrush(colour(self._colour))
        painter.drawEllipse(QPointF(0, 0), CORE_R - 1.5, CORE_R - 1.5)
