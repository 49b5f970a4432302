"""EditorScene: the network editor's scene. It draws the session's network (one BlockItem per
block, one WireItem per wire), follows every change of the document, and turns mouse gestures
into undoable commands: dragging blocks moves them (snapped to the grid, one undo step per
drag), dragging from an output port wires it, releasing a wire on empty canvas asks for a
quick-add menu.

It emits ids, never items (NodeGraphQt's rule): the view decides which menus to show.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneContextMenuEvent, QGraphicsSceneMouseEvent

from bpviz.core.network.commands import Connect, MoveBlocks
from bpviz.core.network.document import Change, Wire
from bpviz.gui.builder.block_item import BlockItem
from bpviz.gui.builder.port_item import PortItem
from bpviz.gui.builder.session import NetworkSession
from bpviz.gui.builder.wire_drag import WireDrag
from bpviz.gui.builder.wire_item import WireItem, shape_text
from bpviz.gui.builder.zorder import snap
from bpviz.gui.theme import Theme

WIRE_HINT = (
    "Drop on a green input to wire it; amber inputs take the wire but its shape does not fit "
    "(the wire turns red, with a fix); grey ones would close a cycle. Empty canvas: add a block."
)


class EditorScene(QGraphicsScene):
    """The editable drawing of ``session``'s network.

    Signals: ``quickAddRequested(src_id, scene_pos)`` a wire from ``src_id`` was released on
    empty canvas; ``wireMenuRequested(key, screen_pos)`` and ``blockMenuRequested(block_id,
    screen_pos)`` a context menu was asked for.
    """

    quickAddRequested = Signal(str, QPointF)
    wireMenuRequested = Signal(object, QPoint)
    blockMenuRequested = Signal(str, QPoint)

    def __init__(self, session: NetworkSession, theme: Theme, parent=None):
        super().__init__(parent)
        self.session = session
        self.theme = theme
        self.blocks: dict[str, BlockItem] = {}
        self.wires: dict[tuple[str, str], WireItem] = {}
        self.wire_drag: WireDrag | None = None
        self._move: tuple[int, QPointF, dict[str, tuple[float, float]]] | None = None
        self._syncing = False
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        session.changed.connect(self._on_change)
        session.shapesChanged.connect(self._on_shapes)
        session.selectionChanged.connect(self._on_session_selection)
        self.selectionChanged.connect(self._on_scene_selection)
        self.rebuild()

    # ------------------------------------------------------------------------ drawing
    def rebuild(self) -> None:
        """Draw the whole network again."""
        self._syncing = True
        try:
            self.clear()
            self.blocks.clear()
            self.wires.clear()
            net = self.session.network
            for b in net.block_ids():
                self._add_block(b)
            for w in net.sorted_wires():
                self._add_wire(w)
        finally:
            self._syncing = False
        self._on_shapes()
        self._on_session_selection()

    def _add_block(self, block_id: str) -> None:
        item = BlockItem(self.session.network.blocks[block_id], self.theme)
        self.blocks[block_id] = item
        self.addItem(item)

    def _add_wire(self, wire: Wire) -> None:
        item = WireItem(wire.key, self.theme)
        self.wires[wire.key] = item
        self.addItem(item)
        self._route(wire)
        self.blocks[wire.dst].inputs[wire.port].set_connected(True)

    def _route(self, wire: Wire) -> None:
        self.wires[wire.key].set_ends(
            self.blocks[wire.src].port_scene_pos("out"), self.blocks[wire.dst].port_scene_pos(wire.port)
        )

    def _on_change(self, change: Change) -> None:
        net = self.session.network
        if change.what == "block":
            b = change.key
            if change.new is None:
                item = self.blocks.pop(b)
                self.removeItem(item)
            elif change.old is None:
                self._add_block(b)
            else:
                self.blocks[b].set_block(change.new)
                for w in [*net.inputs_of(b).values(), *net.consumers(b)]:
                    self._route(w)
        elif change.what == "wire":
            if change.old is not None:
                self.removeItem(self.wires.pop(change.key))
                dst, port = change.key
                if dst in self.blocks:
                    self.blocks[dst].inputs[port].set_connected(False)
            if change.new is not None:
                self._add_wire(change.new)

    def _on_shapes(self) -> None:
        shapes = self.session.shapes
        net = self.session.network
        for key, item in self.wires.items():
            wire = net.wires[key]
            issue = shapes.wire_issue(wire)
            item.set_shape(shape_text(shapes.wire_shape(wire)), issue.message if issue else "")
        for b, block in self.blocks.items():
            issue = shapes.issues.get(b)
            # A refused wire is shown on the wire; the block marks only its own problems.
            own = issue is not None and (issue.port == "" or (b, issue.port) not in net.wires)
            block.set_issue(issue.message if issue is not None and own else "")

    def set_theme(self, theme: Theme) -> None:
        """Repaint every item in ``theme``'s colours."""
        self.theme = theme
        for block in self.blocks.values():
            block.set_theme(theme)
        for wire in self.wires.values():
            wire.set_theme(theme)

    # ------------------------------------------------------------------------ selection
    def _on_scene_selection(self) -> None:
        if self._syncing:
            return
        self.session.select([i.block_id for i in self.selectedItems() if isinstance(i, BlockItem)])

    def _on_session_selection(self) -> None:
        chosen = set(self.session.selection)
        current = {i.block_id for i in self.selectedItems() if isinstance(i, BlockItem)}
        if chosen == current:
            return
        self._syncing = True
        try:
            for b, item in self.blocks.items():
                item.setSelected(b in chosen)
        finally:
            self._syncing = False

    def selected_wires(self) -> list[tuple[str, str]]:
        """The keys of the selected wires."""
        return [i.key for i in self.selectedItems() if isinstance(i, WireItem)]

    # ------------------------------------------------------------------------ gestures
    def item_at(self, pos: QPointF) -> QGraphicsItem | None:
        """The topmost port, block or wire at ``pos`` (None on empty canvas)."""
        for item in self.items(pos):
            if isinstance(item, PortItem | BlockItem | WireItem):
                return item
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802, D102
        if event.button() == Qt.MouseButton.LeftButton and self.wire_drag is None:
            item = self.item_at(event.scenePos())
            if isinstance(item, PortItem) and not item.is_input:
                self._start_wire(item.block_id)
                event.accept()
                return
            if isinstance(item, PortItem | BlockItem):
                block_id = item.block_id
                super().mousePressEvent(event)
                toggling = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
                if not toggling and not self.blocks[block_id].isSelected():
                    # A press on a port (not itself selectable) selects its block too.
                    self.clearSelection()
                    self.blocks[block_id].setSelected(True)
                net = self.session.network
                starts = {b: net.blocks[b].position for b in self.session.selection}
                self._move = (self.session.new_drag(), event.scenePos(), starts)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802, D102
        if self.wire_drag is not None:
            self.wire_drag.move(event.scenePos())
            return
        if self._move is not None:
            drag, start, starts = self._move
            delta = event.scenePos() - start
            net = self.session.network
            moved = {b: snap(x + delta.x(), y + delta.y()) for b, (x, y) in starts.items() if b in net.blocks}
            if any(net.blocks[b].position != p for b, p in moved.items()):
                self.session.push(MoveBlocks(net, moved), drag)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802, D102
        if self.wire_drag is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_wire(event.scenePos())
            return
        self._move = None
        super().mouseReleaseEvent(event)

    def _start_wire(self, src: str) -> None:
        self.wire_drag = WireDrag(self.session.network, src, self.blocks, self.theme)
        self.addItem(self.wire_drag.item)
        self.session.message.emit(WIRE_HINT)

    def cancel_wire(self) -> None:
        """Drop the wire being dragged, if any (Escape)."""
        if self.wire_drag is not None:
            self.wire_drag.finish()
            self.removeItem(self.wire_drag.item)
            self.wire_drag = None

    def _finish_wire(self, pos: QPointF) -> None:
        drag = self.wire_drag
        assert drag is not None
        self.cancel_wire()
        net = self.session.network
        port = drag.port_near(pos)
        target: tuple[str, str] | None = None
        if port is not None:
            target = (port.block_id, port.name)
        else:
            item = self.item_at(pos)
            if isinstance(item, BlockItem | PortItem) and item.block_id != drag.src:
                best = drag.best_port_of(item.block_id)
                target = (item.block_id, best) if best is not None else None
                if target is None:
                    self.session.message.emit(
                        f"{net.blocks[item.block_id].name} takes no wire from {net.blocks[drag.src].name}."
                    )
                    return
            elif item is None:
                self.quickAddRequested.emit(drag.src, pos)
                return
        if target is None:
            return
        verdict = drag.verdicts.get(target)
        if verdict is not None and not verdict.allowed:
            self.session.message.emit(verdict.reason)
            return
        self.session.push(Connect(net, drag.src, target[0], target[1]))
        if verdict is not None and verdict.reason:
            self.session.message.emit(verdict.reason + " Right-click the red wire for a fix.")

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:  # noqa: N802, D102
        item = self.item_at(event.scenePos())
        if isinstance(item, WireItem):
            self.wireMenuRequested.emit(item.key, event.screenPos())
        elif isinstance(item, BlockItem | PortItem):
            self.blockMenuRequested.emit(item.block_id, event.screenPos())
        else:
            super().contextMenuEvent(event)
            return
        event.accept()
