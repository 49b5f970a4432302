"""PortItem: one input or the output of a block, a small circle on the block's edge.

While a wire is dragged each input port shows whether it would take the wire: green (it
would, and the shapes fit), amber (it would, but the wire would be red: a shape problem with a
fix), grey (refused: a cycle, a wire into itself). Its tooltip says why.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from bpviz.gui.builder.zorder import CACHE_PORT
from bpviz.gui.items.style import shared_colour
from bpviz.gui.theme import Theme

RADIUS = 5.0
# The area that counts as "on the port" for the mouse: larger than the dot, which is small.
HIT_RADIUS = 10.0

IDLE = "idle"
ACCEPT = "accept"
WARN = "warn"
REFUSE = "refuse"

ACCEPT_COLOUR = "#16a34a"
WARN_COLOUR = "#d97706"


class PortItem(QGraphicsItem):
    """Port ``name`` of the block drawn by ``parent`` (``is_input``: an input, else the output)."""

    def __init__(self, parent: QGraphicsItem, block_id: str, name: str, is_input: bool, theme: Theme):
        super().__init__(parent)
        self.block_id = block_id
        self.name = name
        self.is_input = is_input
        self.theme = theme
        self.state = IDLE
        self.connected = False
        self.setCacheMode(CACHE_PORT)
        self.setAcceptHoverEvents(True)
        self.setToolTip(
            f"input '{name}': drag a wire from an output here"
            if is_input
            else "output: drag from here to an input to wire it"
        )

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        r = HIT_RADIUS
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:  # noqa: D102 - Qt API
        path = QPainterPath()
        path.addEllipse(QPointF(0, 0), HIT_RADIUS, HIT_RADIUS)
        return path

    def set_state(self, state: str, reason: str = "") -> None:
        """Show whether a dragged wire would be taken here (``reason``: why not, or the shape
        problem it would have)."""
        if state != self.state:
            self.state = state
            self.update()
        if state == IDLE:
            self.setToolTip(f"input '{self.name}'" if self.is_input else "output")
        else:
            self.setToolTip(reason or f"input '{self.name}' takes this wire")

    def set_connected(self, connected: bool) -> None:
        """Fill the dot when a wire is attached."""
        if connected != self.connected:
            self.connected = connected
            self.update()

    def set_theme(self, theme: Theme) -> None:
        """Repaint in ``theme``'s colours."""
        self.theme = theme
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:  # noqa: D102
        t = self.theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = RADIUS
        border, fill = t.text_muted, (t.text_muted if self.connected else t.surface)
        if self.state == ACCEPT:
            border, fill, radius = ACCEPT_COLOUR, ACCEPT_COLOUR, RADIUS + 2
        elif self.state == WARN:
            border, fill, radius = WARN_COLOUR, WARN_COLOUR, RADIUS + 2
        elif self.state == REFUSE:
            border, fill = t.grid, t.grid
        painter.setPen(QPen(shared_colour(border), 1.5))
        painter.setBrush(shared_colour(fill))
        painter.drawEllipse(QPointF(0, 0), radius, radius)
