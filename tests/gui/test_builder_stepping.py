"""Build ⇄ Step: the toggle traces the built network through the Document (the app's canvas and
stepper show it), an edit while stepping re-traces after a pause keeping the step, a network
that cannot be built is one sentence and leaves what is shown alone, and a click on a traced
node selects the block it came from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from bpviz.core.network.commands import AddBlock, SetProperty
from bpviz.gui.builder.controller import BUILD, STEP
from tests.gui.builder_helpers import block_id, move_block
from tests.gui.helpers import TRACE_TIMEOUT_MS


def step_mode(qtbot, window):
    """Press Step and wait for the built network's trace."""
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.builder.step_action.trigger()


def x_value(window) -> float:
    graph = window.trace.graph
    return float(graph.nodes[window.trace.find("x")]["value"])


def test_step_traces_the_built_network_and_build_goes_back_to_the_editor(builder, qtbot):
    window = builder("chain56")
    parts = window.builder.parts
    step_mode(qtbot, window)
    assert window.builder.mode == STEP and window.builder.step_action.isChecked()
    assert parts.stack.currentIndex() == 0 and window.canvas.isVisible() and not parts.panel.isVisible()
    assert window.document.source is parts.link.source
    assert window.document.sequence is not None and float(window.trace.loss) == 49.0
    assert not window.builder.arrange_action.isEnabled() and not window.builder.delete_action.isEnabled()
    window.builder.build_action.trigger()
    assert window.builder.mode == BUILD and parts.panel.isVisible() and not window.canvas.isVisible()
    assert window.builder.arrange_action.isEnabled()


def test_an_edit_while_stepping_retraces_and_keeps_the_step(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    window.document.steps.set_position(3)
    session = window.builder.session
    x = block_id(window, "x")
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        # Two quick edits: one trace, of the last one.
        session.push(SetProperty(session.network, x, "value", 5.0))
        session.push(SetProperty(session.network, x, "value", 3.0))
    assert x_value(window) == 3.0 and float(window.trace.loss) == 144.0  # (3² + 3)²
    assert window.document.steps.position == 3
    assert window.builder.mode == STEP


def test_a_network_that_cannot_be_built_says_why_and_changes_nothing(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    trace = window.trace
    window.builder.build_action.trigger()
    session = window.builder.session
    session.push(AddBlock(session.network, "exp", (0.0, 300.0)))  # an exp with no input
    window.builder.step_action.trigger()
    assert window.builder.mode == BUILD and window.builder.build_action.isChecked()
    banner = window.builder.parts.panel.banner
    assert banner.isVisible() and "exp1" in banner.text() and "2 ends" in banner.text()
    assert window.trace is trace
    session.stack.undo()
    assert not banner.isVisible()


def test_clicking_a_traced_node_selects_its_block_for_the_property_dock(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    window.document.select(window.trace.find("x"))
    assert window.builder.session.selection == (block_id(window, "x"),)
    dock = window.builder.parts.properties
    assert dock.isVisible() and "value" in dock.editors


def test_building_sets_the_trace_docks_aside_and_gives_them_back(builder, qtbot):
    window = builder("chain56")
    assert not window.inspector.isVisible() and not window.diagnostics.isVisible()
    step_mode(qtbot, window)
    assert window.inspector.isVisible() and window.diagnostics.isVisible()
    assert not window.builder.parts.palette.isVisible() and window.builder.parts.properties.isVisible()
    window.builder.build_action.trigger()
    assert not window.inspector.isVisible()
    # Closing in Build mode: the layout the window saves has the inspector where the user had it.
    window.builder.session.mark_saved()
    assert window.close()
    assert not window.inspector.isHidden()


def test_closing_right_after_an_edit_starts_no_trace(builder, qtbot):
    """A re-trace still waiting for its pause when the window closes would start work (and the
    training thread) in a closed window."""
    from bpviz.gui.builder.stepping import RETRACE_DEBOUNCE_MS

    window = builder("chain56")
    step_mode(qtbot, window)
    session = window.builder.session
    session.push(SetProperty(session.network, block_id(window, "x"), "value", 3.0))
    session.mark_saved()
    opened = []
    window.document.opened.connect(lambda: opened.append(1))
    assert window.close()
    qtbot.wait(RETRACE_DEBOUNCE_MS * 2)
    assert not opened and not window.document.runner.busy


# ---------------------------------------------------------------------------- the user's layout
def box_pos(window, name: str):
    """The scene position of the box drawn for block ``name``."""
    placement = window.document.placement
    graph = window.document.view_graph
    block = block_id(window, name)
    (node,) = [n for n in graph.nodes if placement.block_of(graph, n) == block and graph.nodes[n]["kind"] != "constant"]
    return window.scene.node_item(node).pos()


def double_click_box(qtbot, window, node: str) -> None:
    """A real double-click (a click, then the double-click) on a box of the stepping canvas."""
    view = window.canvas.view
    item = window.scene.node_item(node)
    view.centerOn(item)
    point = view.mapFromScene(item.pos())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_stepping_keeps_the_blocks_where_the_user_put_them(builder, qtbot):
    window = builder("chain56")
    # Rearranged with the mouse: c left of x and below it, y below x, L above z.
    for name, place in {"x": (0, 0), "c": (-220, 200), "y": (0, 200), "z": (220, 200), "L": (440, 0)}.items():
        move_block(qtbot, window, name, place)
    net = window.builder.session.network
    placed = {name: net.by_name(name).position for name in ("x", "c", "y", "z", "L")}
    assert placed["c"][0] < placed["x"][0] < placed["z"][0] < placed["L"][0] and placed["y"][1] > placed["x"][1]
    step_mode(qtbot, window)
    assert window.document.placement is not None and window.scene._placer is not None
    pos = {name: box_pos(window, name) for name in placed}
    for a in placed:  # left of stays left of, above stays above, level stays level
        for b in placed:
            if placed[a][0] < placed[b][0] - 1:
                assert pos[a].x() < pos[b].x(), (a, b)
            if placed[a][1] < placed[b][1] - 1:
                assert pos[a].y() < pos[b].y(), (a, b)
            if abs(placed[a][1] - placed[b][1]) < 1:
                assert abs(pos[a].y() - pos[b].y()) < 1, (a, b)
    # No two boxes overlap.
    rects = [window.scene.node_item(n).scene_rect() for n in window.scene.node_ids()]
    assert not any(r.intersects(s) for i, r in enumerate(rects) for s in rects[i + 1 :])


def test_the_blocks_show_dl_dx_56_and_a_block_opens_to_its_ops_and_closes(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    window.document.go_to("backward")
    x_box = window.trace.find("x")
    assert "grad = 56" in window.scene.node_item(x_box).display_texts()
    y_wire = window.builder.parts.link.drawn_wires()[(block_id(window, "y"), "x")]
    assert y_wire == [(x_box, "group:y")] and "14 × 4 = 56" in window.scene.edge_item(*y_wire[0]).label.text
    y_box = window.scene.node_item("group:y")
    # A built box is a block on the canvas, in the legend and in the inspector, not a "module".
    texts = y_box.display_texts()
    assert texts[1] == "block" and texts[2].endswith("block y")
    assert "block (double-click: its ops)" in window.scene.legend.texts()
    window.document.select("group:y")
    assert "Block" in [label.text() for label in window.inspector.findChildren(QLabel)]
    window.document.select(None)
    y_before = y_box.pos()
    z_before, x_before = box_pos(window, "z"), window.scene.node_item(x_box).pos()
    position = window.document.steps.position

    double_click_box(qtbot, window, "group:y")
    ops = [
        n
        for n in window.scene.node_ids()
        if window.document.placement.block_of(window.document.view_graph, n) == block_id(window, "y")
    ]
    assert "group:y" not in window.scene.node_ids() and len(ops) == 2  # pow and its exponent 2
    pow_op = next(n for n in ops if window.trace.graph.nodes[n]["kind"] == "op")
    # In y's place between x and z: x stays where it was, z makes room.
    assert window.scene.node_item(x_box).pos() == x_before
    assert x_before.x() < min(window.scene.node_item(n).pos().x() for n in ops)
    assert window.scene.node_item(pow_op).pos().x() < box_pos(window, "z").x()
    assert box_pos(window, "z").x() >= z_before.x() and window.document.steps.position == position
    assert "grad = 14" in window.scene.node_item(pow_op).display_texts()
    # Stepping, the inspector and the caption work on the opened ops as on any layer view.
    window.document.select(pow_op)
    assert window.document.selection == pow_op and window.builder.session.selection == (block_id(window, "y"),)
    window.document.steps.set_position(position - 1)
    window.document.steps.set_position(position)
    assert window.step_bar.caption_label.text().startswith("y: dL/dy = 14")  # the block's name

    double_click_box(qtbot, window, pow_op)
    assert "group:y" in window.scene.node_ids() and pow_op not in window.scene.node_ids()
    assert window.scene.node_item("group:y").pos() == y_before


def test_level_of_detail_switches_between_the_blocks_and_the_layered_views(builder, qtbot):
    window = builder("mlp_10_5_1")
    step_mode(qtbot, window)
    menu = window.menus.collapse
    menu.aboutToShow.emit()
    actions = {a.text(): a for a in menu.actions()}
    assert actions["One Box per Block, as Placed"].isChecked()
    actions["One Box per Layer"].trigger()
    assert window.document.placement is None and window.scene._placer is None
    assert "group:fc1" in window.scene.node_ids()  # the layered view of the layers
    menu.aboutToShow.emit()
    {a.text(): a for a in menu.actions()}["One Box per Block, as Placed"].trigger()
    assert window.document.placement is not None and window.scene._placer is not None
    # A lesson has no blocks: no such level.
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.document.open_spec("lesson:chain56")
    assert window.document.arrangement is None and window.document.placement is None
    menu.aboutToShow.emit()
    assert "One Box per Block, as Placed" not in [a.text() for a in menu.actions()]
