"""Wiring by dragging from an output port: ports that would take the wire highlight (amber when
the wire would be red), refused wires say why, releasing on empty canvas offers only the blocks
that fit, and a red wire's context menu applies its fix."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from bpviz.core.network.commands import SetProperty
from bpviz.gui.builder.port_item import ACCEPT, IDLE, REFUSE, WARN
from tests.gui.builder_helpers import add_from_palette, block_id, drag, move_block, port_point, view_of, wire


def ports(window, name):
    return window.builder.parts.scene.blocks[block_id(window, name)].inputs


def press_and_hover(qtbot, window, src, to: QPoint):
    vp = view_of(window).viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=port_point(window, src))
    qtbot.mouseMove(vp, to)


def test_ports_show_while_dragging_whether_they_would_take_the_wire(builder, qtbot):
    window = builder("mlp_10_5_1")
    press_and_hover(qtbot, window, "x", QPoint(20, 20))
    assert window.builder.parts.scene.wire_drag is not None
    assert ports(window, "fc1")["x"].state == ACCEPT
    # fc2 takes 5 features, x carries 10: allowed, but the wire would be red, and the port says why.
    assert ports(window, "fc2")["x"].state == WARN
    assert "expects 5 input features" in ports(window, "fc2")["x"].toolTip()
    qtbot.mouseRelease(view_of(window).viewport(), Qt.MouseButton.LeftButton, pos=port_point(window, "fc1", "x"))
    assert all(p.state == IDLE for b in window.builder.parts.scene.blocks.values() for p in b.inputs.values())
    # From the loss, every port upstream would close a cycle.
    press_and_hover(qtbot, window, "mse", QPoint(20, 20))
    assert ports(window, "fc1")["x"].state == REFUSE and "cycle" in ports(window, "fc1")["x"].toolTip()
    assert ports(window, "mse")["input"].state == REFUSE
    window.builder.parts.scene.cancel_wire()


def test_a_wire_dropped_on_a_port_connects_and_a_refused_one_says_why(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    before = dict(session.network.wires)
    wire(qtbot, window, "L", "y", "x")
    assert session.network.wires == before
    assert "cycle" in window.statusBar().currentMessage()
    # c into y's input replaces x's wire there; one undo gives x's wire back.
    wire(qtbot, window, "c", "y", "x")
    assert session.network.wires[(block_id(window, "y"), "x")].src == block_id(window, "c")
    session.stack.undo()
    assert session.network.wires == before


def test_chain_built_from_the_palette_shows_shapes_on_its_wires(builder, qtbot):
    window = builder("empty")
    scene = window.builder.parts.scene
    x = add_from_palette(qtbot, window, "Input")
    move_block(qtbot, window, "x1", (-300, 0))
    lin = add_from_palette(qtbot, window, "Linear")
    wire(qtbot, window, "x1", "fc1", "x")
    assert scene.wires[(lin, "x")].label_text() == "[4×2]" and not scene.wires[(lin, "x")].issue
    assert window.builder.session.network.wires[(lin, "x")].src == x


# A popup menu on the offscreen platform cannot raise itself or grab the keyboard; it still works.
POPUP_WARNINGS = "This plugin does not support"


@pytest.mark.qt_log_ignore(POPUP_WARNINGS)
def test_releasing_on_empty_canvas_offers_only_blocks_that_fit(builder, qtbot):
    window = builder("empty")
    session = window.builder.session
    add_from_palette(qtbot, window, "Input")  # a (4, 2) random batch
    session.push(SetProperty(session.network, block_id(window, "x1"), "shape", (4, 3)))
    view = view_of(window)
    start = port_point(window, "x1")
    drag(qtbot, window, start, start + QPoint(160, 90))
    menu = view.menu
    assert menu is not None and menu.objectName() == "quickAddMenu" and menu.isVisible()
    offered = {a.data(): a for a in menu.actions() if a.data()}
    assert "Linear" in offered and "ReLU" in offered and "MSELoss" in offered
    assert "Conv2d" not in offered and "MaxPool2d" not in offered and "Input" not in offered
    assert "in_features=3" in offered["Linear"].text()
    offered["Linear"].trigger()
    net = session.network
    linear = net.by_name("fc1")
    assert linear.props["in_features"] == 3 and net.wires[(linear.id, "x")].src == block_id(window, "x1")
    assert session.selection == (linear.id,)
    assert window.builder.parts.scene.wires[(linear.id, "x")].label_text() == "[4×3]"


@pytest.mark.qt_log_ignore(POPUP_WARNINGS)
def test_a_red_wire_context_menu_applies_its_fix(builder, qtbot):
    window = builder("mlp_10_5_1")
    session = window.builder.session
    fc2 = block_id(window, "fc2")
    session.push(SetProperty(session.network, fc2, "in_features", 3))
    item = window.builder.parts.scene.wires[(fc2, "x")]
    assert item.issue
    view = view_of(window)
    at = view.mapFromScene(item.path.pointAtPercent(0.5))
    QApplication.sendEvent(
        view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.viewport().mapToGlobal(at))
    )
    menu = view.menu
    assert menu is not None and menu.objectName() == "wireMenu"
    fixes = [a for a in menu.actions() if a.data() == "fix"]
    assert [a.text() for a in fixes] == ["Fix: set in_features to 5"]
    fixes[0].trigger()
    assert session.network.blocks[fc2].props["in_features"] == 5 and not item.issue
    session.stack.undo()
    assert item.issue


@pytest.mark.qt_log_ignore(POPUP_WARNINGS)
def test_tab_searches_the_kinds_and_wires_the_choice_after_the_selected_block(builder, qtbot):
    window = builder("chain56")
    session = window.builder.session
    view = view_of(window)
    session.select([block_id(window, "L")])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    search = view.search
    assert search is not None and search.isVisible()
    qtbot.keyClicks(search.box, "ex")
    assert search.matches()[0] == "exp" and "Linear" not in search.matches()
    qtbot.keyClick(search.box, Qt.Key.Key_Return)
    assert not search.isVisible()
    exp = next(b for b in session.network.blocks.values() if b.kind == "exp")
    assert session.network.wires[(exp.id, "x")].src == block_id(window, "L")
    assert session.selection == (exp.id,)
