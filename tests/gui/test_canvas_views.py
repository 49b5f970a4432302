"""The canvas on collapsed and shape-op-free views: the trace's states still map onto the items."""

from __future__ import annotations

import pytest

from bpviz.core import views
from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.gui.graph_scene import GraphScene


@pytest.fixture(scope="module")
def residual():
    trace = trace_scenario(load_scenario("lesson:residual_mlp"))
    return trace, StepSequence(trace)


def build(qapp, trace, seq, graph):
    scene = GraphScene()
    scene.set_graph(graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
    return scene


def snapshot(scene):
    return (
        tuple(scene.node_item(n).visual_state() for n in sorted(scene.node_ids())),
        tuple(scene.edge_item(*e).visual_state() for e in sorted(scene.graph.edges)),
    )


def test_collapsed_group_shows_its_output_once_computed(qapp, residual):
    trace, seq = residual
    graph = views.collapse_modules(trace.graph, 1)
    scene = build(qapp, trace, seq, graph)
    group = "group:blocks"
    output = graph.nodes[group]["output"]
    produced = next(i for i, s in enumerate(seq.steps) if s.node == output)
    scene.apply_state(seq.state_at(produced - 1), trace, lr=seq.lr)
    before = scene.node_item(group).display_texts()
    scene.apply_state(seq.state_at(produced), trace, lr=seq.lr)
    after = scene.node_item(group).display_texts()
    assert len(after) == len(before) + 1 and after[-1].startswith("‖·‖")
    # A step inside the group lights up the group.
    inner = next(i for i, s in enumerate(seq.steps) if s.node in graph.nodes[group]["members"])
    scene.apply_state(seq.state_at(inner), trace, lr=seq.lr)
    assert scene.node_item(group).visual_state()[4] is True


def test_group_edges_get_labels_once_all_their_gradients_are_known(qapp, residual):
    trace, seq = residual
    graph = views.collapse_modules(trace.graph, 1)
    scene = build(qapp, trace, seq, graph)
    scene.apply_state(seq.state_at(seq.loss_position), trace, lr=seq.lr)
    assert all(not scene.edge_item(*e).label.text for e in graph.edges)
    scene.apply_state(seq.state_at(seq.last), trace, lr=seq.lr)
    into_group = [e for e in graph.in_edges("group:blocks") if graph.edges[e].get("grad") is not None]
    assert into_group and all(scene.edge_item(*e).label.text.startswith("grad") for e in into_group)


def test_bridged_edges_follow_the_hidden_ops(qapp, residual):
    trace, seq = residual
    graph = views.hide_shape_ops(trace.graph)
    scene = build(qapp, trace, seq, graph)
    (u, v) = next((u, v) for u, v, a in graph.edges(data=True) if a.get("bridged"))
    hidden = graph.edges[u, v]["bridged"][0]
    # The hidden op's forward step animates the bridged edge that passes through it.
    step = next(i for i, s in enumerate(seq.steps) if s.phase == "Forward" and s.node == hidden)
    scene.apply_state(seq.state_at(step), trace, lr=seq.lr)
    assert scene.edge_item(u, v).visual_state()[4] is True
    # Its label appears only once the gradient has reached u through the hidden op.
    back = next(i for i, s in enumerate(seq.steps) if s.phase == "Backward" and s.node == hidden)
    scene.apply_state(seq.state_at(back - 1), trace, lr=seq.lr)
    assert scene.edge_item(u, v).label.text == ""
    scene.apply_state(seq.state_at(back), trace, lr=seq.lr)
    assert scene.edge_item(u, v).label.text.startswith("grad")


def test_stepping_back_restores_on_a_collapsed_view(qapp, residual):
    trace, seq = residual
    scene = build(qapp, trace, seq, views.collapse_modules(views.hide_shape_ops(trace.graph), 2))
    for k in range(0, seq.last, 3):
        scene.apply_state(seq.state_at(k), trace, lr=seq.lr)
        before = snapshot(scene)
        scene.apply_state(seq.state_at(k + 1), trace, lr=seq.lr)
        scene.apply_state(seq.state_at(k), trace, lr=seq.lr)
        assert snapshot(scene) == before


def test_diagnostics_inside_a_group_badge_the_group(qapp):
    trace = trace_scenario(load_scenario("lesson:dead_relu"))
    seq = StepSequence(trace)
    graph = views.collapse_modules(trace.graph, 0)
    scene = build(qapp, trace, seq, graph)
    relu = next(d.node for d in trace.diagnostics if d.kind == "dead_relu")
    group = next(n for n, a in graph.nodes(data=True) if relu in (a.get("members") or ()))
    badges = scene.node_item(group).childItems()
    assert any("dead" in b.toolTip().lower() or "relu" in b.toolTip().lower() for b in badges)


def test_any_path_to_a_state_shows_what_a_fresh_scene_shows(qapp, residual):
    """Steps update only the items their changes concern; after any walk, the display equals
    that of a scene that applied the state directly (collapsed groups, bridged edges)."""
    import random

    trace, seq = residual
    graph = views.collapse_modules(views.hide_shape_ops(trace.graph), 2)
    walker = build(qapp, trace, seq, graph)
    rng = random.Random(5)
    positions = list(range(seq.last + 1))
    walk = positions + [rng.choice(positions) for _ in range(25)] + positions[::-1][:12]
    fresh = {}
    for k in walk:
        walker.apply_state(seq.state_at(k), trace, lr=seq.lr)
        if k not in fresh:
            scene = build(qapp, trace, seq, graph)
            scene.apply_state(seq.state_at(k), trace, lr=seq.lr)
            fresh[k] = snapshot(scene)
        assert snapshot(walker) == fresh[k], f"position {k}"


def test_a_variable_is_named_so_on_its_box_in_the_legend_and_the_overview(open_window):
    window = open_window()  # chain56: x requires grad, no module
    x = window.trace.find("x")
    assert window.scene.node_item(x)._tag() == "variable"
    assert "variable" in window.scene.legend._kinds
    window.document.clear_selection()
    from PySide6.QtWidgets import QLabel

    texts = [label.text() for label in window.inspector.findChildren(QLabel)]
    assert "variables" in texts


def test_left_to_right_layout_from_the_view_menu(open_window):
    window = open_window()  # chain56
    window.document.go_to("backward")
    position = window.controller.position
    scene, trace = window.scene, window.trace
    x, loss = trace.find("x"), trace.loss_node
    assert scene.direction == "TB" and scene.node_item(loss).pos().y() > scene.node_item(x).pos().y()
    window.menus.direction_actions["LR"].trigger()
    scene = window.scene
    assert scene.direction == "LR" and window.document.direction == "LR"
    assert scene.node_item(loss).pos().x() > scene.node_item(x).pos().x()
    # Edges leave a box on its right side and enter the next on its left.
    y = trace.find("y")
    path = scene.edge_item(x, y).path()
    start, end = path.pointAtPercent(0.0), path.pointAtPercent(1.0)
    assert abs(start.x() - scene.node_item(x).scene_rect().right()) < 1
    assert end.x() < scene.node_item(y).scene_rect().left()
    assert window.controller.position == position  # the step stays
    assert "14 × 4 = 56" in scene.edge_item(x, y).label.text
    window.menus.direction_actions["auto"].trigger()
    assert window.scene.direction == "TB"  # chain56 fits top to bottom: nothing to gain
