"""EditorView: the network editor's view: a dotted grid, rubber-band selection, wheel zoom, drops
from the palette, and the menus the scene asks for (quick-add after a released wire, a red
wire's fixes, a block's actions). Menus are popped up, never run modally, so the app (and a
test) keeps going while one is open.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from bpviz.core.errors import BpvizError
from bpviz.core.network.catalogue import get_kind
from bpviz.core.network.commands import AddBlock, Disconnect, duplicate, insert_on_wire
from bpviz.core.network.quickadd import fitting_kinds
from bpviz.gui.builder.edits import add_after, delete
from bpviz.gui.builder.prop_editors import format_value
from bpviz.gui.builder.quick_search import QuickSearch
from bpviz.gui.builder.scene import EditorScene
from bpviz.gui.builder.wire_item import WireItem
from bpviz.gui.builder.zorder import GRID, snap
from bpviz.gui.items.style import shared_colour

MIME_KIND = "application/x-bpviz-block-kind"
ZOOM_STEP = 1.15
MIN_ZOOM, MAX_ZOOM = 0.2, 3.0
# Below this zoom block names and shape labels are too small to read: a network wider than the
# view opens at this zoom at its left end (where data enters), and scrolling shows the rest.
READABLE_ZOOM = 0.8
EMPTY_HINT = (
    "Double-click a block in the palette (or drag it here, or press Tab and type its name).\n"
    "Drag from a block's output (right) to another block's input (left) to wire them.\n"
    "File ▸ New Network starts from a worked example."
)
# Dots closer than this on screen would turn the grid into a grey wash: draw every n-th instead.
MIN_DOT_SPACING = 8.0


class EditorView(QGraphicsView):
    """The view of an :class:`EditorScene`; ``menu`` is the last menu it popped up (tests
    trigger its actions)."""

    def __init__(self, scene: EditorScene, parent: QWidget | None = None):
        super().__init__(scene, parent)
        self.editor = scene
        self.session = scene.session
        self.menu: QMenu | None = None
        self.search: QuickSearch | None = None
        # True from a fit until the user zooms or clicks: while docks open and close around
        # a freshly fitted network, each resize fits it again.
        self.keep_fitted = False
        self.setObjectName("networkEditor")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        # Docks opening or closing resize the view: keep the network where it was, centred.
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)  # drag events go to the viewport, which must say yes
        self.setSceneRect(QRectF(-5000, -5000, 10000, 10000))
        # The empty-canvas hint appears and goes with the first block: repaint all of it then.
        self.session.changed.connect(
            lambda _c: self.viewport().update() if len(self.session.network.blocks) <= 1 else None
        )
        scene.quickAddRequested.connect(self.quick_add_menu)
        scene.wireMenuRequested.connect(self.wire_menu)
        scene.blockMenuRequested.connect(self.block_menu)

    # ------------------------------------------------------------------------ camera
    def zoom(self) -> float:
        """The current scale factor."""
        return self.transform().m11()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802, D102
        super().resizeEvent(event)
        if self.keep_fitted:
            self.fit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802, D102
        self.keep_fitted = False
        super().mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802, D102
        self.keep_fitted = False
        factor = ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP
        if MIN_ZOOM <= self.zoom() * factor <= MAX_ZOOM:
            self.scale(factor, factor)

    def fit(self) -> None:
        """Show every block, at natural size at most (a small network is not blown up) and at
        :data:`READABLE_ZOOM` at least (a wide one starts at its left end)."""
        self.keep_fitted = True
        rect = self.editor.itemsBoundingRect()
        if rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        if self.zoom() < READABLE_ZOOM:
            self.resetTransform()
            self.scale(READABLE_ZOOM, READABLE_ZOOM)
            half = self.mapToScene(self.viewport().rect()).boundingRect().width() / 2
            self.centerOn(rect.left() - 40 + half, rect.center().y())
            return
        self.centerOn(rect.center())

    def centre_position(self) -> tuple[float, float]:
        """The grid point at the middle of the view (where a double-clicked palette block goes),
        nudged aside while a block already sits there."""
        centre = self.mapToScene(self.viewport().rect().center())
        x, y = snap(centre.x(), centre.y())
        taken = {b.position for b in self.session.network.blocks.values()}
        while (x, y) in taken:
            x, y = x + 2 * GRID, y + 2 * GRID
        return (x, y)

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802, D102
        rect = QRectF(rect)
        t = self.editor.theme
        painter.fillRect(rect, shared_colour(t.background))
        step = GRID * 2
        while step * self.zoom() < MIN_DOT_SPACING:
            step *= 2
        painter.setPen(shared_colour(t.grid))
        x0 = int(rect.left() // step) * step
        y0 = int(rect.top() // step) * step
        points = []
        y = y0
        while y < rect.bottom():
            x = x0
            while x < rect.right():
                points.append(QPointF(x, y))
                x += step
            y += step
        painter.drawPoints(points)

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802, D102
        if self.session.network.blocks:
            return
        # An empty canvas says how to begin, in screen pixels whatever the zoom.
        painter.save()
        painter.resetTransform()
        painter.setPen(shared_colour(self.editor.theme.text_muted))
        font = painter.font()
        font.setPixelSize(16)
        painter.setFont(font)
        painter.drawText(
            self.viewport().rect().adjusted(40, 40, -40, -40),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            EMPTY_HINT,
        )
        painter.restore()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802, D102
        if event.key() == Qt.Key.Key_Escape and self.editor.wire_drag is not None:
            self.editor.cancel_wire()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:  # noqa: D102 - Qt API
        # Tab would move the keyboard focus (QWidget handles it before keyPressEvent): here it
        # opens the quick search, as in Orange and Ryven.
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers()
        ):
            self.quick_search()
            return True
        return super().event(event)

    def quick_search(self) -> QuickSearch:
        """Open the Tab search at the mouse (or the middle of the view): the chosen kind is added
        there, wired after the selected block when one is selected and it takes it."""
        from PySide6.QtGui import QCursor

        local = self.viewport().mapFromGlobal(QCursor.pos())
        if not self.viewport().rect().contains(local):
            local = self.viewport().rect().center()
        at = self.mapToScene(local)
        search = QuickSearch(self)
        search.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        search.chosen.connect(lambda kind: self._add_searched(kind, snap(at.x(), at.y())))
        search.move(self.viewport().mapToGlobal(local))
        search.show()
        search.box.setFocus()
        self.search = search
        return search

    def _add_searched(self, kind: str, at: tuple[float, float]) -> None:
        src = self.session.selected_block
        if src is not None and get_kind(kind).inputs:
            try:
                command = add_after(self.session.network, src, kind, at)
            except BpvizError:
                command = None
            if command is not None and self.session.push(command):
                self.session.select([command.commands[0].block.id])  # type: ignore[attr-defined]
                return
        self.add_block(kind, at)

    # ------------------------------------------------------------------------ palette drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802, D102
        if event.mimeData().hasFormat(MIME_KIND):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802, D102
        if event.mimeData().hasFormat(MIME_KIND):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802, D102
        data = event.mimeData()
        if not data.hasFormat(MIME_KIND):
            super().dropEvent(event)
            return
        kind = bytes(data.data(MIME_KIND).data()).decode("utf-8", "replace")
        pos = self.mapToScene(event.position().toPoint())
        under = self.editor.item_at(pos)
        if not (isinstance(under, WireItem) and self.insert_on_wire(kind, under.key)):
            self.add_block(kind, snap(pos.x(), pos.y()))
        event.acceptProposedAction()

    def insert_on_wire(self, kind: str, key: tuple[str, str]) -> bool:
        """Put a new ``kind`` block on the wire into ``key`` (a block dropped onto a wire);
        False when the kind cannot sit on a wire (a source has no input)."""
        try:
            command = insert_on_wire(self.session.network, key[0], key[1], kind)
        except BpvizError:
            return False
        if not self.session.push(command):
            return False
        self.session.select([command.commands[0].block.id])  # type: ignore[attr-defined]
        return True

    def add_block(self, kind: str, position: tuple[float, float]) -> bool:
        """Add a ``kind`` block at ``position`` and select it; False (with the reason on the
        status line) when it cannot be added."""
        net = self.session.network
        try:
            command = AddBlock(net, kind, position)
        except BpvizError as exc:
            self.session.message.emit(str(exc))
            return False
        if not self.session.push(command):
            return False
        self.session.select([command.block.id])
        return True

    # ------------------------------------------------------------------------ menus
    def _popup(self, menu: QMenu, pos: QPoint) -> QMenu:
        if self.menu is not None:
            self.menu.close()
            self.menu.deleteLater()
        self.menu = menu
        menu.popup(pos)
        return menu

    def quick_add_menu(self, src: str, pos: QPointF) -> QMenu:
        """The blocks that fit the output of ``src``, to add at ``pos`` wired to it."""
        net = self.session.network
        level = net.blocks[src].spec.level
        menu = QMenu(self)
        menu.setObjectName("quickAddMenu")
        menu.setToolTipsVisible(True)
        title = menu.addAction(f"Add after {net.blocks[src].name}:")
        title.setEnabled(False)
        at = snap(pos.x() + 90, pos.y())
        for kind, props in fitting_kinds(net, src, level, self.session.shapes):
            spec = get_kind(kind)
            changed = {k: v for k, v in props.items() if spec.defaults().get(k) != v}
            text = kind + (
                " (" + ", ".join(f"{k}={format_value(v)}" for k, v in changed.items()) + ")" if changed else ""
            )
            act = menu.addAction(text, partial(self._add_after, src, kind, at, props))
            act.setToolTip(spec.summary)
            act.setData(kind)
        return self._popup(menu, self.mapToGlobal(self.mapFromScene(pos)))

    def _add_after(self, src: str, kind: str, at: tuple[float, float], props: dict) -> None:
        try:
            command = add_after(self.session.network, src, kind, at, props)
        except BpvizError as exc:
            self.session.message.emit(str(exc))
            return
        if self.session.push(command):
            self.session.select([command.commands[0].block.id])  # type: ignore[attr-defined]

    def wire_menu(self, key: tuple[str, str], pos: QPoint) -> QMenu:
        """A wire's fixes (when it is red) and Delete Wire."""
        net = self.session.network
        menu = QMenu(self)
        menu.setObjectName("wireMenu")
        issue = self.session.shapes.wire_issue(net.wires[key])
        if issue is not None:
            head = menu.addAction(_short(issue.message))
            head.setEnabled(False)
            for fix in issue.fixes:
                act = menu.addAction(f"Fix: {fix.text}", partial(self.session.push, fix.command))
                act.setData("fix")
            menu.addSeparator()
        menu.addAction("Delete Wire", lambda: self.session.push(Disconnect(net, *key)))
        return self._popup(menu, pos)

    def block_menu(self, block_id: str, pos: QPoint) -> QMenu:
        """A block's fixes (when it cannot run), Duplicate and Delete."""
        net = self.session.network
        if block_id not in self.session.selection:
            self.session.select([block_id])
        menu = QMenu(self)
        menu.setObjectName("blockMenu")
        issue = self.session.shapes.issues.get(block_id)
        if issue is not None:
            head = menu.addAction(_short(issue.message))
            head.setEnabled(False)
            for fix in issue.fixes:
                act = menu.addAction(f"Fix: {fix.text}", partial(self.session.push, fix.command))
                act.setData("fix")
            menu.addSeparator()
        ids = list(self.session.selection)
        menu.addAction("Duplicate", lambda: self.session.push(duplicate(net, ids)))
        menu.addAction("Delete", lambda: self.session.push(delete(net, ids, [])))
        return self._popup(menu, pos)


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
