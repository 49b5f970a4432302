"""BlockItem: one block of the network editor: its name, its kind, its input ports on the left
and its output port on the right. A block that cannot run has a red border and says why in its
tooltip. The item never moves itself: the scene moves the block through an undoable command
and the item follows the document.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from bpviz.core.network.catalogue import LOSS, MODULE, OUT, SOURCE
from bpviz.core.network.document import Block
from bpviz.gui.builder.port_item import PortItem
from bpviz.gui.builder.prop_editors import format_value
from bpviz.gui.builder.zorder import CACHE_BLOCK, Z_BLOCK, Z_BLOCK_SELECTED
from bpviz.gui.items.style import font, metrics, shared_colour
from bpviz.gui.theme import KindStyle, Theme

WIDTH = 150.0
HEADER = 38.0
PORT_GAP = 20.0
MIN_HEIGHT = 60.0
RADIUS = 7.0


PROPS_ROW = 16.0


def block_height(n_inputs: int, has_props: bool) -> float:
    """The height of a block with this many inputs (and a row for its properties)."""
    return max(MIN_HEIGHT, HEADER + n_inputs * PORT_GAP + (PROPS_ROW if has_props else 0.0) + 6.0)


def props_text(block: Block) -> str:
    """The block's properties in one line (``exponent=2``), for the row under its ports."""
    return ", ".join(f"{k}={format_value(v)}" for k, v in block.props.items())


class BlockItem(QGraphicsItem):
    """The drawing of one block; ``block_id`` is its document id."""

    def __init__(self, block: Block, theme: Theme):
        super().__init__()
        self.block_id = block.id
        self.theme = theme
        self.issue = ""
        self.block = block
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(CACHE_BLOCK)
        self.setZValue(Z_BLOCK)
        spec = block.spec
        self.height = block_height(len(spec.inputs), bool(spec.props))
        top = -self.height / 2
        self.inputs: dict[str, PortItem] = {}
        for i, port in enumerate(spec.inputs):
            item = PortItem(self, block.id, port, True, theme)
            item.setPos(-WIDTH / 2, top + HEADER + (i + 0.5) * PORT_GAP)
            self.inputs[port] = item
        self.output = PortItem(self, block.id, OUT, False, theme)
        out_y = top + HEADER + len(spec.inputs) * PORT_GAP / 2 if spec.inputs else top + HEADER / 2
        self.output.setPos(WIDTH / 2, out_y)
        self.set_block(block)

    # ------------------------------------------------------------------------ state
    def set_block(self, block: Block) -> None:
        """Show ``block`` (a new name, position or properties of the same block)."""
        self.block = block
        self.setPos(QPointF(*block.position))
        self._update_tooltip()
        self.update()

    def set_issue(self, message: str) -> None:
        """Show why the block cannot run ("" when it can)."""
        if message != self.issue:
            self.issue = message
            self._update_tooltip()
            self.update()

    def set_theme(self, theme: Theme) -> None:
        """Repaint in ``theme``'s colours."""
        self.theme = theme
        for port in [*self.inputs.values(), self.output]:
            port.set_theme(theme)
        self.update()

    def port(self, name: str) -> PortItem:
        """The port called ``name`` (``out`` for the output)."""
        return self.output if name == OUT else self.inputs[name]

    def port_scene_pos(self, name: str) -> QPointF:
        """Where a wire attaches to port ``name``, in scene coordinates."""
        return self.port(name).scenePos()

    def _update_tooltip(self) -> None:
        spec = self.block.spec
        text = f"{self.block.name}: {spec.name} — {spec.summary}"
        text += "".join(f"\n{k} = {format_value(v)}" for k, v in self.block.props.items())
        if self.issue:
            text += f"\n\n{self.issue}"
        self.setToolTip(text)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:  # noqa: N802, D102
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(Z_BLOCK_SELECTED if value else Z_BLOCK)
        return super().itemChange(change, value)

    # ------------------------------------------------------------------------ painting
    def rect(self) -> QRectF:
        """The box, in item coordinates."""
        return QRectF(-WIDTH / 2, -self.height / 2, WIDTH, self.height)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.rect().adjusted(-3, -3, 3, 3)

    def style(self) -> KindStyle:
        """The colours of the block's role (a source like an input, a module like a parameter)."""
        role = self.block.spec.role
        t = self.theme
        return {SOURCE: t.input, MODULE: t.param, LOSS: t.loss}.get(role, t.op)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:  # noqa: D102
        t = self.theme
        style = self.style()
        rect = self.rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        border, width = style.accent, 1.5
        if self.issue:
            border, width = t.nonfinite, 2.5
        if self.isSelected():
            border, width = t.selection, 3.0
        painter.setPen(QPen(shared_colour(border), width))
        painter.setBrush(shared_colour(t.surface))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        header = QRectF(rect.left(), rect.top(), rect.width(), HEADER)
        painter.save()
        painter.setClipRect(header)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(shared_colour(style.tint))
        painter.drawRoundedRect(rect.adjusted(width / 2, width / 2, -width / 2, -width / 2), RADIUS, RADIUS)
        painter.restore()
        painter.setPen(shared_colour(t.text))
        painter.setFont(font(t, "title"))
        text_rect = header.adjusted(10, 3, -10, -HEADER / 2)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.block.name)
        painter.setPen(shared_colour(t.text_muted))
        painter.setFont(font(t, "small"))
        kind_rect = header.adjusted(10, HEADER / 2 - 1, -10, -2)
        painter.drawText(kind_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.block.spec.name)
        painter.setFont(font(t, "small"))
        painter.setPen(shared_colour(t.text))
        for name, port in self.inputs.items():
            y = port.pos().y()
            painter.drawText(
                QRectF(rect.left() + 10, y - PORT_GAP / 2, WIDTH / 2, PORT_GAP),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
        props = props_text(self.block)
        if props:
            painter.setPen(shared_colour(t.text_muted))
            row = QRectF(rect.left() + 10, rect.bottom() - PROPS_ROW - 5, WIDTH - 20, PROPS_ROW)
            shown = metrics(t, "small").elidedText(props, Qt.TextElideMode.ElideRight, row.width())
            painter.drawText(row, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
        if self.issue:
            painter.setPen(shared_colour(t.nonfinite))
            painter.setFont(font(t, "badge"))
            painter.drawText(QRectF(rect.right() - 26, rect.top() + 2, 22, 18), Qt.AlignmentFlag.AlignCenter, "!")
