"""Helpers of the builder tests: a window in Build mode, and real mouse gestures on the editor
(press, move in steps, release on the view's viewport at block and port positions)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

DRAG_STEPS = 6


@pytest.fixture
def builder(qtbot):
    """``builder(template="empty")``: a shown MainWindow editing a new network from
    ``template``; at the end its network counts as saved, so closing asks nothing."""
    from bpviz.gui.main_window import MainWindow

    windows = []

    def _open(template: str = "empty"):
        # Not qtbot.addWidget: pytest-qt closes its widgets before fixtures end, which would ask
        # about the unsaved network; this fixture marks it saved first, then closes.
        window = MainWindow()
        window.menus.animate.setChecked(False)
        window.resize(1440, 900)
        window.show()
        qtbot.waitExposed(window)
        assert window.builder.new_network(template)
        windows.append(window)
        return window

    yield _open
    for window in windows:
        if window.builder.parts is not None:
            window.builder.session.mark_saved()
        window.controller.pause()
        window.close()
        window.document.runner.wait()
        window.deleteLater()


def view_of(window):
    """The editor view."""
    return window.builder.parts.view


def block_id(window, name: str) -> str:
    """The id of the block called ``name``."""
    return window.builder.session.network.by_name(name).id


def block_point(window, name: str, dx: float = 0.0, dy: float = -12.0) -> QPoint:
    """A viewport point on the header of block ``name`` (away from its ports)."""
    view = view_of(window)
    item = window.builder.parts.scene.blocks[block_id(window, name)]
    return view.mapFromScene(item.scenePos() + QPointF(dx, dy))


def port_point(window, name: str, port: str = "out") -> QPoint:
    """The viewport point of port ``port`` of block ``name``."""
    view = view_of(window)
    item = window.builder.parts.scene.blocks[block_id(window, name)]
    return view.mapFromScene(item.port_scene_pos(port))


def drag(qtbot, window, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press the left button at ``start``, move to ``end`` in steps, release there."""
    vp = view_of(window).viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, DRAG_STEPS + 1):
        f = i / DRAG_STEPS
        qtbot.mouseMove(
            vp, QPoint(round(start.x() + f * (end.x() - start.x())), round(start.y() + f * (end.y() - start.y())))
        )
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, end)


def wire(qtbot, window, src: str, dst: str, port: str) -> None:
    """Drag a wire from ``src``'s output to input ``port`` of ``dst``."""
    drag(qtbot, window, port_point(window, src), port_point(window, dst, port))


def add_from_palette(qtbot, window, kind: str) -> str:
    """Double-click ``kind`` in the palette; returns the new block's id (it is selected)."""
    tree = window.builder.parts.palette.tree
    item = tree.items[kind]
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    before = set(window.builder.session.network.blocks)
    # A real double-click is a click and then a double-click event (QTest's alone lacks the press).
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    added = set(window.builder.session.network.blocks) - before
    assert len(added) == 1, f"double-clicking {kind} added {added}"
    return added.pop()


def move_block(qtbot, window, name: str, scene_pos: tuple[float, float]) -> None:
    """Drag block ``name`` by its header so that its centre lands near ``scene_pos``."""
    view = view_of(window)
    start = block_point(window, name)
    item = window.builder.parts.scene.blocks[block_id(window, name)]
    offset = view.mapToScene(start) - item.scenePos()
    end = view.mapFromScene(QPointF(*scene_pos) + offset)
    drag(qtbot, window, start, end)


def dumps(window) -> str:
    """The network as .bpviz text."""
    from bpviz.core.network.fileformat import dumps as _dumps

    return _dumps(window.builder.session.network)
