"""The network editor: blocks and wires drawn from the document with their inferred shapes, red
wires that say why, undo and redo from the Edit menu's shortcuts, Delete, duplicate, rubber-band
selection, dragging blocks on the grid, auto-arrange, the palette and the property dock."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMenu, QPushButton

from bpviz.core.network.arrange import arranged_positions
from bpviz.core.network.commands import SetProperty
from bpviz.gui.builder.view import MIME_KIND
from bpviz.gui.builder.zorder import GRID
from tests.gui.builder_helpers import (
    add_from_palette,
    block_id,
    block_point,
    drag,
    dumps,
    move_block,
    view_of,
)


def scene_of(window):
    return window.builder.parts.scene


def wire_label(window, dst: str, port: str) -> str:
    return scene_of(window).wires[(block_id(window, dst), port)].label_text()


def shortcut(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view_of(window).setFocus()
    qtbot.keyClick(view_of(window), key, modifier)


def test_a_template_is_drawn_with_every_wire_labelled_by_its_shape(builder):
    window = builder("mlp_10_5_1")
    scene = scene_of(window)
    net = window.builder.session.network
    assert sorted(scene.blocks) == sorted(net.blocks) and sorted(scene.wires) == sorted(net.wires)
    assert window.builder.parts.stack.currentWidget() is window.builder.parts.panel
    assert wire_label(window, "fc1", "x") == "[32×10]"
    assert wire_label(window, "relu1", "x") == "[32×5]"
    assert wire_label(window, "mse", "input") == "[32×1]"
    # The ports sit on the block's edges, where the wires end.
    fc1 = scene.blocks[block_id(window, "fc1")]
    assert fc1.port_scene_pos("x").x() < fc1.scenePos().x() < fc1.port_scene_pos("out").x()


def test_a_wire_the_block_cannot_take_is_red_and_says_why(builder):
    window = builder("mlp_10_5_1")
    session = window.builder.session
    fc2 = block_id(window, "fc2")
    assert session.push(SetProperty(session.network, fc2, "in_features", 3))
    item = scene_of(window).wires[(fc2, "x")]
    assert item.issue and "expects 3 input features" in item.issue and item.issue in item.toolTip()
    assert not scene_of(window).wires[(block_id(window, "fc1"), "x")].issue
    session.stack.undo()
    assert not item.issue


def test_undo_and_redo_shortcuts_and_the_edit_menu(builder, qtbot):
    window = builder("chain56")
    start = dumps(window)
    edit = window.findChild(QMenu, "editMenu")
    assert edit is not None and window.builder.undo_action in edit.actions()
    add_from_palette(qtbot, window, "exp")
    changed = dumps(window)
    assert changed != start
    shortcut(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dumps(window) == start
    shortcut(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert dumps(window) == changed


def test_dragging_a_block_snaps_it_to_the_grid_in_one_undo_step(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    before = dumps(window)
    old = session.network.by_name("y").position
    move_block(qtbot, window, "y", (old[0] + 47, old[1] + 133))
    x, y = session.network.by_name("y").position
    assert (x % GRID, y % GRID) == (0, 0) and abs(x - (old[0] + 47)) <= GRID and abs(y - (old[1] + 133)) <= GRID
    # The wires follow the block.
    item = scene_of(window).blocks[block_id(window, "y")]
    wire_into = scene_of(window).wires[(block_id(window, "y"), "x")]
    assert wire_into.path.currentPosition() == item.port_scene_pos("x")
    assert session.stack.count() == 2  # the template, then one move however many mouse moves
    session.stack.undo()
    assert dumps(window) == before
    # A second drag of the same block is an undo step of its own.
    move_block(qtbot, window, "y", (old[0] + 100, old[1]))
    move_block(qtbot, window, "y", (old[0] + 200, old[1]))
    assert session.stack.count() == 3


def test_rubber_band_selects_and_delete_removes_blocks_with_their_wires(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    before = dumps(window)
    view = view_of(window)
    y, z = (scene_of(window).blocks[block_id(window, n)] for n in ("y", "z"))
    # From empty canvas below-left of y to above-right of z (c sits above them, out of the band).
    top = min(y.sceneBoundingRect().top(), z.sceneBoundingRect().top()) - 8
    start = view.mapFromScene(QPointF(y.sceneBoundingRect().left() - 5, y.sceneBoundingRect().bottom() + 30))
    end = view.mapFromScene(QPointF(z.sceneBoundingRect().right() + 5, top))
    drag(qtbot, window, start, end)
    assert session.selection == tuple(sorted((block_id(window, "y"), block_id(window, "z"))))
    shortcut(qtbot, window, Qt.Key.Key_Delete)
    names = {b.name for b in session.network.blocks.values()}
    assert names == {"x", "c", "L"} and not session.network.wires
    assert set(scene_of(window).blocks) == set(session.network.blocks) and not scene_of(window).wires
    session.stack.undo()
    assert dumps(window) == before


def test_ctrl_d_duplicates_the_selection_with_the_wires_inside_it(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    session.select([block_id(window, "x"), block_id(window, "y")])
    shortcut(qtbot, window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    net = session.network
    assert len(net.blocks) == 7
    new = [net.blocks[b] for b in session.selection]
    assert sorted(b.kind for b in new) == ["pow", "value"]
    pow_copy = next(b for b in new if b.kind == "pow")
    assert net.wires[(pow_copy.id, "x")].src in session.selection


def test_auto_arrange_lays_the_blocks_out_in_layers(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    move_block(qtbot, window, "c", (900, 600))
    window.builder.arrange_action.trigger()
    assert {b: session.network.blocks[b].position for b in session.network.blocks} == arranged_positions(
        session.network
    )
    session.stack.undo()
    assert session.network.by_name("c").position == (900.0, 600.0)


def test_palette_double_click_adds_at_the_centre_and_a_drop_adds_where_dropped(builder, qtbot):
    window = builder("empty")
    palette = window.findChild(QDockWidget, "blockPalette")
    assert palette is window.builder.parts.palette and palette.isVisible()
    view = view_of(window)
    b = add_from_palette(qtbot, window, "Linear")
    net = window.builder.session.network
    centre = view.mapToScene(view.viewport().rect().center())
    assert abs(net.blocks[b].position[0] - centre.x()) <= GRID and abs(net.blocks[b].position[1] - centre.y()) <= GRID
    assert window.builder.session.selection == (b,)
    # The palette's drag carries the kind; the view adds the block at the drop point.
    data = palette.tree.mimeData([palette.tree.items["ReLU"]])
    assert data.hasFormat(MIME_KIND)
    at = QPoint(120, 140)
    # Qt delivers a drop only to a widget that accepted the drag's enter event first.
    enter = QDragEnterEvent(
        at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(at), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(view.viewport(), drop)
    relu = next(bl for bl in net.blocks.values() if bl.kind == "ReLU")
    target = view.mapToScene(at)
    assert abs(relu.position[0] - target.x()) <= GRID / 2 and abs(relu.position[1] - target.y()) <= GRID / 2
    # The filter hides kinds that do not match.
    palette.filter.setText("relu")
    assert not palette.tree.items["ReLU"].isHidden() and palette.tree.items["Linear"].isHidden()


def test_property_dock_edits_and_refuses_with_the_reason(builder, qtbot):
    window = builder("mlp_10_5_1")
    dock = window.findChild(QDockWidget, "blockProperties")
    session = window.builder.session
    fc1 = block_id(window, "fc1")
    qtbot.mouseClick(view_of(window).viewport(), Qt.MouseButton.LeftButton, pos=block_point(window, "fc1"))
    assert session.selection == (fc1,)
    editor = dock.editors["out_features"].line
    before = dumps(window)
    editor.setText("0")
    editor.editingFinished.emit()
    error = dock.findChild(QLabel, "propertyError")
    assert "out_features" in error.text() and "out of range" in error.text()
    assert dumps(window) == before
    editor.setText("abc")
    editor.editingFinished.emit()
    assert "cannot read 'abc'" in error.text() and dumps(window) == before
    editor.setText("7")
    editor.editingFinished.emit()
    assert session.network.blocks[fc1].props["out_features"] == 7 and not error.text()
    # The change reaches the canvas: relu1 now gets 32x7, and fc2 (still in_features 5) is red
    # with the fix offered in the dock once fc2 is selected.
    assert wire_label(window, "relu1", "x") == "[32×7]"
    assert scene_of(window).wires[(block_id(window, "fc2"), "x")].issue
    session.select([block_id(window, "fc2")])
    buttons = dock.fixes.findChildren(QPushButton)
    assert any("in_features to 7" in b.text() for b in buttons), [b.text() for b in buttons]
    qtbot.mouseClick(next(b for b in buttons if "in_features to 7" in b.text()), Qt.MouseButton.LeftButton)
    assert session.network.by_name("fc2").props["in_features"] == 7
    assert not scene_of(window).wires[(block_id(window, "fc2"), "x")].issue
    # Nothing selected: the network's own settings.
    session.select([])
    assert set(dock.editors) == {"title", "seed", "lr"}


def test_a_palette_block_dropped_on_a_wire_is_inserted_into_it(builder):
    window = builder("chain56")
    view = view_of(window)
    net = window.builder.session.network
    y, z = block_id(window, "y"), block_id(window, "z")
    wire_item = scene_of(window).wires[(z, "a")]
    at = view.mapFromScene(wire_item.path.pointAtPercent(0.5))
    data = window.builder.parts.palette.tree.mimeData([window.builder.parts.palette.tree.items["exp"]])
    for event in (
        QDragEnterEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
        QDropEvent(
            QPointF(at), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        ),
    ):
        QApplication.sendEvent(view.viewport(), event)
    exp = next(b for b in net.blocks.values() if b.kind == "exp")
    assert net.wires[(exp.id, "x")].src == y and net.wires[(z, "a")].src == exp.id
    assert window.builder.session.stack.undoText().startswith("Insert exp")


def test_ctrl_click_adds_and_removes_blocks_from_the_selection(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    vp = view_of(window).viewport()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=block_point(window, "y"))
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, ctrl, block_point(window, "z"))
    assert session.selection == tuple(sorted((block_id(window, "y"), block_id(window, "z"))))
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, ctrl, block_point(window, "z"))
    assert session.selection == (block_id(window, "y"),)
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=block_point(window, "z"))
    assert session.selection == (block_id(window, "z"),)


def test_an_empty_canvas_says_how_to_begin(builder):
    from bpviz.gui.builder.view import EMPTY_HINT

    window = builder("empty")
    assert "palette" in EMPTY_HINT and not window.builder.session.network.blocks
    image = view_of(window).grab().toImage()
    centre = image.rect().center()
    # Hint text is drawn across the middle: some pixels there differ from the background.
    row = {
        image.pixelColor(x, y).name()
        for x in range(centre.x() - 200, centre.x() + 200, 2)
        for y in range(centre.y() - 30, centre.y() + 30, 3)
    }
    assert len(row) > 2


def test_the_palette_sits_above_a_property_dock_tall_enough_to_edit(builder, qtbot):
    window = builder("mlp_10_5_1")
    palette, properties = window.builder.parts.palette, window.builder.parts.properties
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(palette) == left and window.dockWidgetArea(properties) == left
    qtbot.waitUntil(lambda: properties.height() > window.height() // 3)
    assert palette.geometry().bottom() < properties.geometry().top()
