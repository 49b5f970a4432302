"""The inspector: chain-rule formulas with real numbers, tensors, Jacobians, reveal marks, and
the diagnostics panel that selects nodes."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from tests.gui.helpers import open_and_wait


def click_node(qtbot, window, name: str) -> str:
    """Click the node called ``name`` on the canvas, as a user would; returns its id."""
    node = window.trace.find(name)
    view = window.view
    item = window.scene.node_item(node)
    view.centerOn(item)
    rect = item.scene_rect()
    # The header: clear of edge labels, which sit between the layers.
    pos = view.mapFromScene(rect.center().x(), rect.top() + 8)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    return node


def test_clicking_x_in_chain56_shows_the_chain_rule_product(qtbot, open_window):
    window = open_window()
    node = click_node(qtbot, window, "x")
    assert window.inspector.selection() == node
    assert window.scene.selected() == node
    assert window.inspector.formula_text() == "dL/dx = 14 × 1 × 4 = 56"
    title = window.inspector.findChild(QLabel, "inspectorTitle")
    assert title is not None and title.text() == "x"


def test_node_used_twice_shows_the_sum_of_its_contributions(qtbot, open_window):
    window = open_window("lesson:square_plus_linear")
    click_node(qtbot, window, "x")
    assert window.inspector.formula_text() == "dL/dx = 4 + 3 = 7"
    texts = [label.text() for label in window.inspector.findChildren(QLabel)]
    assert any("via pow" in t and "1 × 4 = 4" in t for t in texts)
    assert any("via mul" in t and "1 × 3 = 3" in t for t in texts)


def test_edge_shows_local_derivative_and_upstream_times_local(qtbot, open_window):
    window = open_window()
    t = window.trace
    u, v = t.find("x"), t.find("y")
    window.scene.edgeSelected.emit(u, v)
    assert window.inspector.selection() == (u, v)
    assert window.inspector.formula_text() == "dL/dy × ∂y/∂x = 14 × 4 = 56"
    values = [label.text() for label in window.inspector.findChildren(QLabel, "scalarValue")]
    assert values[:3] == ["4", "14", "56"]  # local, upstream, this edge's gradient


def test_negative_numbers_are_parenthesised_in_products(qtbot, open_window):
    window = open_window("lesson:relu_two_weights")
    window.document.select_node(window.trace.find("w1"))
    assert window.inspector.formula_text() == "dL/dw1 = (-3) × 1 × 1.5 × 1 × 2 = -9"


def test_values_not_reached_yet_are_marked_with_a_jump_to_their_step(qtbot, open_window):
    window = open_window()
    x = window.trace.find("x")
    window.document.select_node(x)
    seq = window.controller.sequence
    notes = window.inspector.findChildren(QLabel, "revealNote")
    assert any("gradient appears at step" in n.text() for n in notes)
    jump = next(b for b in window.inspector.findChildren(QPushButton, "revealJump") if b.isVisible())
    qtbot.mouseClick(jump, Qt.MouseButton.LeftButton)
    pos = window.controller.position
    assert x in seq.state_at(pos).grads and x not in seq.state_at(pos - 1).grads
    # The gradient is now shown on the canvas, so the inspector no longer marks it.
    notes = window.inspector.findChildren(QLabel, "revealNote")
    assert not any("gradient" in n.text() for n in notes)
    assert "grad = 56" in window.scene.node_item(x).display_texts()


def test_jacobian_heatmap_for_a_small_tensor_edge(qtbot, open_window):
    from bpviz.gui.tensor_widgets import HeatmapWidget

    window = open_window("lesson:dead_relu")
    window.document.set_collapse(None)  # every op: the edge into relu is drawn
    t = window.trace
    relu = next(n for n, a in t.graph.nodes(data=True) if a["op"] == "relu")
    (u,) = list(t.graph.predecessors(relu))
    window.scene.edgeSelected.emit(u, relu)
    heat = window.inspector.findChild(HeatmapWidget, "jacobianHeatmap")
    assert heat is not None
    expected = t.jacobian(u, relu)
    n_out, n_in = t.node(relu)["value"].numel(), t.node(u)["value"].numel()
    assert tuple(heat.matrix.shape) == (n_out, n_in)
    assert torch.equal(heat.matrix, expected.reshape(n_out, n_in).double())
    # ReLU's Jacobian is diagonal with 1 where the unit is active and 0 where it is dead.
    active = (t.node(relu)["value"].reshape(-1) > 0).double()
    assert torch.equal(heat.matrix, torch.diag(active))
    assert heat.cell_colour(1.0) != heat.cell_colour(0.0)


def test_jacobian_over_the_size_cap_says_so(qtbot, open_window, tmp_path):
    from bpviz.gui.tensor_widgets import HeatmapWidget

    big = tmp_path / "big.py"
    big.write_text(
        "import torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
        "model = nn.Linear(300, 300)\ninputs = torch.randn(1, 300)\n"
        "loss_fn = lambda out: out.pow(2).mean()\n",
        encoding="utf-8",
    )
    window = open_window(str(big))
    t = window.trace
    edge = next((u, v) for u, v in t.graph.edges if t.node(u).get("name") == "weight")
    window.scene.edgeSelected.emit(*edge)
    assert window.inspector.findChild(HeatmapWidget, "jacobianHeatmap") is None
    texts = [label.text() for label in window.inspector.findChildren(QLabel)]
    assert any("Dense Jacobian not computed" in s and "entries" in s for s in texts)


def test_small_tensor_value_shows_as_a_table(qtbot, open_window):
    from bpviz.gui.tensor_widgets import TensorTable, TensorView

    window = open_window("lesson:dead_relu")
    window.document.set_collapse(None)
    node = window.trace.find("0.weight")
    window.document.select_node(node)
    views = window.inspector.findChildren(TensorView)
    assert [v.mode for v in views][:2] == ["table", "table"]  # value and gradient
    table = views[0].findChild(TensorTable)
    value = window.trace.node(node)["value"]
    assert len(table.cell_texts()) == value.shape[0]
    assert table.item(0, 0).toolTip() != ""


def test_diagnostics_panel_lists_findings_and_selects_their_node(qtbot, open_window):
    window = open_window("lesson:dead_relu")
    panel = window.diagnostics
    messages = panel.messages()
    assert len(messages) == len(window.trace.diagnostics) >= 1
    row = next(i for i, d in enumerate(window.trace.diagnostics) if d.kind == "dead_relu")
    item = panel.list.item(row)
    node = window.trace.diagnostics[row].node
    panel.list.itemClicked.emit(item)  # at layer level: the box holding it
    box = window.scene.selected()
    assert window.scene.graph.nodes[box]["kind"] == "group" and node in window.scene.graph.nodes[box]["members"]
    window.document.set_collapse(None)
    panel.list.itemClicked.emit(item)
    assert window.scene.selected() == node
    assert window.inspector.selection() == node
    texts = [label.text() for label in window.inspector.findChildren(QLabel)]
    assert any(window.trace.diagnostics[row].message in s for s in texts)


def test_diagnostics_panel_says_when_there_is_nothing_to_report(qtbot, open_window):
    window = open_window()
    assert window.diagnostics.messages() == []
    assert "No problems found" in window.diagnostics.summary.text()


def test_a_switch_to_the_public_torch_route_is_listed_with_its_title(qtbot, open_window, monkeypatch):
    from bpviz.core import torch_compat

    window = open_window()
    notice = "torch 9.9 failed bpviz's self-check; every number is still torch's."
    monkeypatch.setattr(torch_compat, "take_notice", lambda: notice)
    open_and_wait(qtbot, window, "lesson:square")
    assert window.diagnostics.messages() == [f"Public torch route: {notice}"]


def test_new_trace_clears_the_selection(qtbot, open_window):
    window = open_window()
    window.document.select_node(window.trace.find("x"))
    open_and_wait(qtbot, window, "lesson:square")
    assert window.inspector.selection() is None
    assert window.inspector.formula_text() == ""


def test_large_heatmap_colours_every_cell_like_the_small_one(qtbot):
    from PySide6.QtGui import QColor

    from bpviz.gui.tensor_widgets import HeatmapWidget

    m = torch.linspace(-3, 5, 120 * 90).reshape(120, 90)
    m[0, 0], m[1, 1] = float("nan"), float("inf")
    heat = HeatmapWidget(m)
    qtbot.addWidget(heat)
    assert not heat.annotated
    image = heat.grab().toImage()
    for i, j in [(0, 0), (1, 1), (7, 3), (60, 45), (119, 89)]:
        x, y = int(1 + (j + 0.5) * heat.cell_w), int(1 + (i + 0.5) * heat.cell_h)
        assert QColor(image.pixel(x, y)).name() == heat.cell_colour(float(m[i, j])), (i, j)


def test_small_heatmap_prints_each_value(qtbot):
    from bpviz.gui.tensor_widgets import HeatmapWidget

    heat = HeatmapWidget(torch.tensor([[1.0, 0.0], [0.0, -0.25]]))
    qtbot.addWidget(heat)
    assert heat.annotated
    assert heat._texts == [["1", "0"], ["0", "-0.25"]]
    from PySide6.QtCore import QPointF

    assert heat.cell_at(QPointF(1 + 1.5 * heat.cell_w, 1 + 1.5 * heat.cell_h)) == (1, 1)
    assert heat.cell_at(QPointF(1 + 0.5 * heat.cell_w, 1 + 1.5 * heat.cell_h)) == (1, 0)


def test_jacobian_of_an_edge_from_one_of_several_outputs(qtbot, open_window, tmp_path):
    from bpviz.gui.tensor_widgets import HeatmapWidget

    path = tmp_path / "split.py"
    path.write_text(
        "import torch\nx = torch.arange(5.0, requires_grad=True)\n\n"
        "def loss():\n    a, b = x.split([2, 3])\n    return (a * 2).sum() + (b ** 2).sum()\n"
    )
    window = open_window(str(path))
    t = window.trace
    split = next(n for n, a in t.graph.nodes(data=True) if a["op"] == "split")
    pow_node = next(v for v in t.graph.successors(split) if t.node(v)["op"] == "pow")
    window.scene.edgeSelected.emit(split, pow_node)
    heat = window.inspector.findChild(HeatmapWidget, "jacobianHeatmap")
    assert heat is not None and tuple(heat.matrix.shape) == (3, 3)  # b (3 entries), not x's first output


def test_the_inspector_title_is_drawn_in_the_new_themes_text_colour(qtbot, open_window):
    from bpviz.gui.theme import DARK

    window = open_window("lesson:mlp_10_5_1")
    window.menus.theme_actions["dark"].trigger()
    titles = [
        label
        for label in window.inspector.findChildren(QLabel)
        if label.objectName() == "inspectorTitle" and label.isVisible()
    ]
    assert titles and all(f"color: {DARK.text}" in label.styleSheet() for label in titles)
