"""The graph canvas: items show the state's numbers, stepping back restores, selection emits ids."""

from __future__ import annotations

import gc
import random
import weakref

import pytest
import torch
from PySide6.QtCore import QPoint, Qt

from bpviz.core.stepper import StepSequence
from bpviz.gui.graph_scene import GraphScene
from bpviz.gui.graph_view import GraphView
from bpviz.gui.theme import DARK, LIGHT, readable_zoom
from tests.gui.helpers import TRACE_TIMEOUT_MS
from tests.gui.synthetic import chain_trace, matrix_trace


@pytest.fixture
def chain(qapp):
    """(scene, trace, sequence) for the synthetic 56 chain."""
    trace = chain_trace()
    seq = StepSequence(trace)
    scene = GraphScene(LIGHT)
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, LIGHT, seq.lr)
    scene.apply_state(seq.state_at(0), trace, lr=seq.lr)
    yield scene, trace, seq
    scene.stop_animations()


def texts(scene, node):
    return scene.node_item(node).display_texts()


def label(scene, u, v):
    return scene.edge_item(u, v).label.text


def snapshot(scene):
    nodes = tuple((n, scene.node_item(n).visual_state()) for n in sorted(scene.node_ids()))
    edges = tuple((e, scene.edge_item(*e).visual_state()) for e in sorted(scene.graph.edges))
    return nodes, edges


def go(scene, trace, seq, position):
    state = seq.state_at(position)
    scene.apply_state(state, trace, lr=seq.lr)
    return state


def test_forward_steps_show_values_as_they_are_computed(chain):
    scene, trace, seq = chain
    assert "2" in texts(scene, "x")
    assert "4" not in texts(scene, "sq") and "49" not in texts(scene, "loss")
    go(scene, trace, seq, 1)
    assert "4" in texts(scene, "sq") and "7" not in texts(scene, "add")
    go(scene, trace, seq, seq.loss_position)
    assert "49" in texts(scene, "loss") and "grad = 1" in texts(scene, "loss")
    assert not any(t.startswith("grad") for t in texts(scene, "x"))


def test_backward_labels_show_the_chain_rule_with_real_numbers(chain):
    scene, trace, seq = chain
    go(scene, trace, seq, seq.loss_position)
    assert label(scene, "x", "sq") == ""
    state = go(scene, trace, seq, seq.loss_position + 1)
    assert state.phase == "Backward"
    assert label(scene, "add", "loss") == "×14   1 × 14 = 14"
    go(scene, trace, seq, seq.last - 1)
    assert label(scene, "x", "sq") == "×4   14 × 4 = 56"
    assert label(scene, "sq", "add") == "×1   14 × 1 = 14"
    assert label(scene, "c3", "add") == ""  # no gradient flows into a constant
    assert "grad = 56" in texts(scene, "x")


def test_backward_edges_are_coloured_and_sized_by_gradient(chain):
    scene, trace, seq = chain
    go(scene, trace, seq, 2)
    forward_look = scene.edge_item("x", "sq").visual_state()
    go(scene, trace, seq, seq.last - 1)
    big, small = scene.edge_item("x", "sq"), scene.edge_item("add", "loss")
    assert big.current_colour() != LIGHT.edge
    assert big.current_width() > small.current_width() > forward_look[2]
    assert big.current_colour() == LIGHT.grad_colour(56.0, scene.grad_scale) == LIGHT.grad_scale[-1][1]
    # The legend's colour bar spans this graph's gradients and says so.
    assert (scene.grad_scale.low, scene.grad_scale.high) == (14.0, 56.0)
    assert scene.legend.scale_labels() == ("14", "56") and "56" in scene.legend.texts()
    assert small.current_colour() == LIGHT.grad_scale[0][1] != big.current_colour()


def test_update_step_shows_the_sgd_formula_with_numbers(chain):
    scene, trace, seq = chain
    go(scene, trace, seq, seq.last)
    assert "x ← 2 − 0.1 × 56 = -3.6" in texts(scene, "x")
    go(scene, trace, seq, seq.last - 1)
    assert not any("←" in t for t in texts(scene, "x"))


def test_applying_an_earlier_state_restores_the_display_exactly(chain):
    scene, trace, seq = chain
    for k in range(seq.last):
        go(scene, trace, seq, k)
        before = snapshot(scene)
        go(scene, trace, seq, k + 1)
        assert snapshot(scene) != before
        go(scene, trace, seq, k)
        assert snapshot(scene) == before, f"position {k} did not restore"


def test_sizes_are_fixed_before_layout_and_never_change_while_stepping(chain):
    scene, trace, seq = chain
    sizes = {n: scene.node_item(n).size_hint() for n in scene.node_ids()}
    positions = {n: scene.node_item(n).pos().toTuple() for n in scene.node_ids()}
    for k in range(seq.last + 1):
        go(scene, trace, seq, k)
        assert {n: scene.node_item(n).size_hint() for n in scene.node_ids()} == sizes
    assert {n: scene.node_item(n).pos().toTuple() for n in scene.node_ids()} == positions
    # No two boxes overlap.
    rects = [scene.node_item(n).scene_rect() for n in scene.node_ids()]
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])


def test_active_step_highlights_its_node_and_edges(chain):
    scene, trace, seq = chain
    state = go(scene, trace, seq, 1)
    assert state.active_node == "sq"
    assert scene.node_item("sq").visual_state()[4] is True
    assert scene.edge_item("sq", "add").visual_state()[4] is True
    assert scene.node_item("add").visual_state()[4] is False


def test_path_highlight_dims_nodes_off_the_paths_to_the_loss(chain):
    scene, _, _ = chain
    scene.highlight_paths_to_loss("sq")
    dimmed = {n for n in scene.node_ids() if scene.node_item(n).opacity() < 1}
    assert dimmed == {"x", "c3"}
    assert scene.edge_item("x", "sq").opacity() < 1
    assert scene.edge_item("sq", "add").opacity() == 1
    scene.highlight_paths_to_loss(None)
    assert all(scene.node_item(n).opacity() == 1 for n in scene.node_ids())


def test_clicks_emit_ids_and_empty_space_clears(chain, qtbot):
    scene, _, _ = chain
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(900, 900)
    view.show()
    qtbot.waitExposed(view)
    view.fit()

    def click(scene_point):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_point))

    with qtbot.waitSignal(scene.nodeSelected) as got:
        click(scene.node_item("add").pos())
    assert got.args == ["add"]
    assert scene.node_item("x").opacity() < 1  # selecting highlights the paths to the loss
    edge = scene.edge_item("add", "loss")
    with qtbot.waitSignal(scene.edgeSelected) as got:
        click(edge.path().pointAtPercent(0.3))
    assert got.args == ["add", "loss"]
    corner = view.mapToScene(QPoint(3, 3))  # the scene margin: nothing there
    assert not scene.items(corner)
    with qtbot.waitSignal(scene.selectionCleared):
        click(corner)
    assert scene.selected() is None
    assert all(scene.node_item(n).opacity() == 1 for n in scene.node_ids())


def test_tokens_travel_forward_and_backward(chain, qtbot):
    scene, trace, seq = chain
    scene.animator.set_speed(8)
    state = go(scene, trace, seq, 1)  # forward: sq's value travels sq -> add
    scene.animate_step(state)
    (token,) = scene.animator.tokens()
    path = scene.edge_item("sq", "add").path()
    token.set_progress(0.0)
    assert (token.pos() - path.pointAtPercent(0.0)).manhattanLength() < 1e-6
    token.set_progress(1.0)
    assert (token.pos() - path.pointAtPercent(1.0)).manhattanLength() < 1e-6
    with qtbot.waitSignal(scene.animationFinished, timeout=2000):
        pass
    assert scene.animator.tokens() == []
    state = go(scene, trace, seq, seq.last - 1)  # backward at sq: the gradient goes sq -> x
    scene.animate_step(state)
    (token,) = scene.animator.tokens()
    assert token.edge == ("x", "sq") and token.reverse
    token.set_progress(0.0)
    assert (token.pos() - scene.edge_item("x", "sq").path().pointAtPercent(1.0)).manhattanLength() < 1e-6
    scene.animator.set_enabled(False)
    assert scene.animator.tokens() == []
    scene.animate_step(state)
    assert scene.animator.tokens() == []


def test_theme_switch_round_trips(chain):
    scene, trace, seq = chain
    go(scene, trace, seq, seq.last - 1)
    light = snapshot(scene)
    scene.set_theme(DARK)
    assert snapshot(scene) != light
    assert scene.backgroundBrush().color().name() == DARK.background
    scene.set_theme(LIGHT)
    assert snapshot(scene) == light


def test_diagnostics_grey_the_node_and_badge_carries_the_message(qapp):
    trace = chain_trace(unused_param=True)
    seq = StepSequence(trace)
    scene = GraphScene()
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
    scene.apply_state(seq.state_at(seq.last), trace)
    w = scene.node_item("w")
    (badge,) = w.childItems()
    assert "detach" in badge.toolTip() and "detach" in w.toolTip()
    assert w.visual_state()[1] != LIGHT.surface  # greyed body
    assert label(scene, "wsum", "add") == "detached"
    assert scene.edge_item("wsum", "add").detached
    assert "no gradient" in scene.legend.texts()


def test_small_tensors_as_tables_and_heatmaps(qapp):
    trace = matrix_trace()
    seq = StepSequence(trace)
    scene = GraphScene()
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
    scene.apply_state(seq.state_at(seq.last), trace)
    w_texts = scene.node_item("W").display_texts()
    assert "0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1 1.1" in w_texts  # 3×4 table
    assert any(t.startswith("‖·‖") and "min -1" in t for t in scene.node_item("B").display_texts())
    assert scene.node_item("B").size_hint()[1] > scene.node_item("v").size_hint()[1]
    assert label(scene, "y", "loss").startswith("grad ‖g‖=")


def test_view_zooms_with_keys_and_wheel_and_fits(chain, qtbot):
    scene, _, _ = chain
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(900, 800)
    view.show()
    qtbot.waitExposed(view)
    view.fit()
    fitted = view.zoom()
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(scene.sceneRect().adjusted(1, 1, -1, -1))
    assert not view.minimap.isVisible()  # the whole graph is in view: no overview needed
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom() == pytest.approx(fitted * 1.2)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.zoom() == pytest.approx(fitted / 1.2)
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(fitted)
    view.set_zoom(100)
    assert view.zoom() == pytest.approx(8.0)
    assert view.minimap.isVisible()  # zoomed in, the overview shows where the view is


def test_fit_never_shrinks_text_below_readable_and_the_minimap_pans(chain, qtbot):
    scene, _, _ = chain
    view = GraphView(scene)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.fit()
    # Too small a window for the whole graph at 9 px: readable size, from the top left.
    assert view.zoom() == pytest.approx(readable_zoom(LIGHT))
    assert LIGHT.edge_label_size * view.zoom() >= 9 - 1e-9
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.top() == pytest.approx(scene.sceneRect().top(), abs=2)
    minimap = view.minimap
    assert minimap.isVisible() and view.viewport().geometry().contains(minimap.geometry())
    frame = minimap.visible_frame()
    assert not frame.isEmpty() and frame.top() <= 3
    # A click on the overview's bottom moves the view there.
    bottom = minimap.rect().center()
    bottom.setY(minimap.rect().bottom() - 4)
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=bottom)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.bottom() == pytest.approx(scene.sceneRect().bottom(), abs=2)
    assert minimap.visible_frame().bottom() >= minimap.rect().bottom() - 3
    # Fitting around a spot (the current step's node) keeps it in view.
    view.fit(scene.node_item("x").scene_rect())
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(scene.node_item("x").scene_rect())
    # Ctrl+0 comes back to the current step's node (marked on the minimap) after a pan away.
    view.set_marker(scene.node_item("loss").scene_rect())
    view.centerOn(scene.node_item("x").pos())
    assert not view.mapToScene(view.viewport().rect()).boundingRect().contains(scene.node_item("loss").scene_rect())
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(scene.node_item("loss").scene_rect())
    # A window big enough: fitted whole, and the overview goes.
    view.resize(1000, 900)
    view.fit()
    assert not minimap.isVisible()


def test_real_chain56_lesson(qapp):
    from bpviz.core.scenario import load_scenario
    from bpviz.core.trace import trace_scenario

    trace = trace_scenario(load_scenario("lesson:chain56"))
    seq = StepSequence(trace)
    scene = GraphScene()
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
    scene.apply_state(seq.state_at(seq.last - 1), trace, lr=seq.lr)
    x, pow_, add = trace.find("x"), trace.find("y"), trace.find("z")
    assert "grad = 56" in texts(scene, x)
    # A traced lesson has the rules behind its numbers: the label says where the 4 comes from.
    assert label(scene, x, pow_) == "×(2x = 4)   14 × 4 = 56"
    assert label(scene, pow_, add) == "×1   14 × 1 = 14"
    assert label(scene, add, trace.loss_node).startswith("×(2z = 14)")


def crowded_trace():
    """Eight products converging on one stack: their labels compete for room, so many sit off
    the middle of their edge (and one fits nowhere)."""
    import bpviz

    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    ws = [torch.randn(3, requires_grad=True) for _ in range(8)]

    def loss():
        return torch.stack([(x * w).sum() for w in ws]).pow(2).sum()

    return bpviz.trace(loss)


def test_label_placement_never_depends_on_the_path_to_a_state(qapp):
    """Labels are re-placed incrementally step by step; whatever the path, a state's labels sit
    where a fresh scene puts them for that state alone."""
    trace = crowded_trace()
    seq = StepSequence(trace)

    def fresh_scene():
        scene = GraphScene()
        scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
        return scene

    walker, fresh = fresh_scene(), {}
    rng = random.Random(3)
    positions = list(range(seq.last + 1))
    moved = 0
    for k in positions + positions[::-1] + [rng.choice(positions) for _ in range(40)]:
        go(walker, trace, seq, k)
        if k not in fresh:
            scene = fresh_scene()
            go(scene, trace, seq, k)
            fresh[k] = snapshot(scene)
        assert snapshot(walker) == fresh[k], f"position {k}"
        assert walker.sceneRect().contains(walker.content_rect())  # no label clipped in the view
        moved = max(
            moved,
            sum(
                walker.edge_item(*e).label.pos() != walker.edge_item(*e).path().pointAtPercent(0.5)
                for e in walker.graph.edges
                if label(walker, *e)
            ),
        )
    assert moved >= 5  # the graph really is crowded: labels slid along their edges
    # With a selection (paths to the loss highlighted, the rest dimmed) steps stay exact too.
    node = sorted(walker.node_ids())[3]
    walker.select_node(node)
    for k in [rng.choice(positions) for _ in range(15)]:
        go(walker, trace, seq, k)
        scene = fresh_scene()
        scene.select_node(node)
        go(scene, trace, seq, k)
        assert snapshot(walker) == snapshot(scene), f"position {k} with {node} selected"


def test_replacing_the_graph_frees_the_old_items_without_the_cycle_collector(qapp):
    """Items hold no reference cycles (the label links back to its edge weakly), so they go as
    soon as the scene drops them, even with the collector off or the objects frozen."""
    trace = chain_trace(unused_param=True)
    seq = StepSequence(trace)
    scene = GraphScene()
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
    go(scene, trace, seq, seq.last - 1)
    refs = [weakref.ref(scene.node_item(n)) for n in scene.node_ids()]
    for e in scene.graph.edges:
        refs += [weakref.ref(scene.edge_item(*e)), weakref.ref(scene.edge_item(*e).label)]
    enabled = gc.isenabled()
    gc.disable()
    try:
        scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
        assert [r for r in refs if r() is not None] == []
    finally:
        if enabled:
            gc.enable()
    assert scene.edge_item("x", "sq").label.edge is scene.edge_item("x", "sq")


def test_heatmap_images_are_cached_as_long_as_their_display_lives():
    """A long training run draws thousands of displays: their images must not outlive them."""
    from bpviz.gui.items import heatmap
    from bpviz.gui.theme import DARK, LIGHT
    from bpviz.presentation.format import TensorDisplay

    disp = TensorDisplay("heatmap", "x", matrix=((1.0, -1.0), (0.5, float("nan"))), lo=-1.0, hi=1.0)
    image = heatmap.heat_image(LIGHT, disp)
    assert (image.width(), image.height()) == (2, 2)
    assert image.pixel(0, 0) != image.pixel(1, 0)  # +1 and -1 differ
    assert heatmap.heat_image(LIGHT, disp) is image
    assert heatmap.heat_image(DARK, disp) is not image
    entries = len(heatmap._HEAT_CACHE)
    del disp
    assert len(heatmap._HEAT_CACHE) == entries - 1


def test_the_minimap_follows_a_new_level_of_detail(qtbot, open_window):
    window = open_window("lesson:mlp_10_5_1")
    window.resize(1366, 768)
    window.canvas.fit()
    minimap = window.view.minimap
    qtbot.waitUntil(minimap.isVisible, timeout=TRACE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: minimap.drawn_content() == window.scene.content_rect(), timeout=TRACE_TIMEOUT_MS)
    layers = window.scene.content_rect()

    window.document.set_collapse(None)  # every op: a larger graph on the same scene
    assert window.scene.content_rect() != layers
    qtbot.waitUntil(lambda: minimap.drawn_content() == window.scene.content_rect(), timeout=TRACE_TIMEOUT_MS)


def test_a_label_never_lies_across_another_edge_where_two_edges_meet(qtbot, open_window):
    """relu_two_weights: y = w2 · a1 and z1 = w1 · x each take two edges side by side; the label
    ×(w2 = 1.5) of a1 → y used to sit on w2's own curve and read as w2's."""
    window = open_window("lesson:relu_two_weights")
    window.document.go_to("end")
    trace, scene = window.trace, window.scene
    for target in ("y", "z1"):
        v = trace.find(target)
        incoming = [(u, v) for u in trace.graph.predecessors(v) if trace.graph.nodes[u]["kind"] != "constant"]
        assert len(incoming) == 2
        for edge in incoming:
            label = scene.edge_item(*edge).label.sceneBoundingRect()
            (other,) = [e for e in incoming if e != edge]
            curve = scene.edge_item(*other).path().toSubpathPolygons()
            points = [polygon.at(k) for polygon in curve for k in range(polygon.size())]
            assert not any(label.contains(p) for p in points), (edge, other)
