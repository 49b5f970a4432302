"""The block view of a built network: one box per block named as the user named it, values and
gradients of the block's output on it (torch's), blocks opened to their ops, and the layout at
the blocks' editor positions."""

from __future__ import annotations

import pytest
import torch

from bpviz.core.network.block_view import BlockArrangement, flow_direction
from bpviz.core.network.build import build
from bpviz.core.network.commands import MoveBlocks
from bpviz.core.network.templates import make_template
from bpviz.core.trace import trace_scenario


def arranged(name: str, moves: dict[str, tuple[float, float]] | None = None, expanded=()):
    doc = make_template(name)
    if moves:
        MoveBlocks(doc, {doc.by_name(n).id: p for n, p in moves.items()}).do(doc)
    built = build(doc)
    trace = trace_scenario(built.scenario)
    return doc, trace, BlockArrangement.of(built, doc, trace, expanded)


def box_of(arrangement, graph, doc, name):
    (node,) = [
        n
        for n in graph.nodes
        if arrangement.block_of(graph, n) == doc.by_name(name).id and graph.nodes[n]["kind"] != "constant"
    ]
    return node


def test_chain56_one_box_per_block_with_torchs_numbers():
    doc, trace, a = arranged("chain56")
    view = a.view(trace.graph)
    boxes = {name: box_of(a, view, doc, name) for name in ("x", "y", "c", "z", "L")}
    assert boxes["y"] == "group:y" and view.nodes["group:y"]["name"] == "y: pow"
    assert view.nodes[boxes["z"]]["name"] == "z" and view.nodes[boxes["z"]]["op"] == "add"
    assert boxes["L"] == trace.loss_node and view.nodes[boxes["L"]]["name"] == "L"
    # Oracle: torch's own chain rule.
    x = torch.tensor([2.0], requires_grad=True)
    y = x**2
    y.retain_grad()
    ((y + 3) ** 2).sum().backward()
    assert float(view.nodes[boxes["x"]]["grad"]) == float(x.grad) == 56.0
    assert float(view.nodes["group:y"]["value"]) == 4.0 and float(view.nodes["group:y"]["grad"]) == float(y.grad)
    # The wires carry the gradients: x -> y is the trace's edge, with its local 4.
    assert view.edges[boxes["x"], "group:y"]["local"] == pytest.approx(4.0)
    assert a.direction == flow_direction(doc) == "LR"


def test_a_block_opens_to_its_ops_and_knows_them():
    doc, trace, a = arranged("chain56")
    view = a.view(trace.graph, {"y"})
    assert "group:y" not in view
    ops = [n for n in view.nodes if a.block_of(view, n) == doc.by_name("y").id]
    assert sorted(view.nodes[n]["kind"] for n in ops) == ["constant", "op"]
    assert all(a.opened_block(n, {"y"}) == "y" for n in ops)
    assert a.opened_block(ops[0], set()) is None
    assert a.can_open(a.view(trace.graph), "group:y") and not a.can_open(view, ops[0])


def test_layers_fold_with_their_parameters_and_open_to_autograd_ops():
    doc, trace, a = arranged("mlp_10_5_1")
    view = a.view(trace.graph)
    assert view.nodes["group:fc1"]["name"] == "fc1: Linear(10→5)"
    assert not any(view.nodes[n]["kind"] == "param" for n in view.nodes)
    opened = a.view(trace.graph, {"fc1"})
    assert {opened.nodes[n]["name"] for n in opened if a.block_of(opened, n) == doc.by_name("fc1").id} >= {
        "fc1.weight",
        "fc1.bias",
    }


def test_the_layout_keeps_the_users_arrangement():
    # y moved below x and the constant c left of x: below stays below, left stays left.
    moves = {"x": (300.0, 100.0), "y": (300.0, 300.0), "c": (0.0, 300.0), "z": (600.0, 300.0), "L": (900.0, 100.0)}
    doc, trace, a = arranged("chain56", moves)
    view = a.view(trace.graph)
    layout = a.layout(view, {})
    p = {name: layout.positions[box_of(a, view, doc, name)] for name in moves}
    assert p["y"][1] > p["x"][1] and p["y"][0] == pytest.approx(p["x"][0])
    assert p["c"][0] < p["x"][0] < p["z"][0] < p["L"][0]
    assert p["L"][1] < p["z"][1]
    # Opened, y's ops sit where y was, and the others keep their order.
    opened = a.view(trace.graph, {"y"})
    q = a.layout(opened, {}).positions
    y_ops = [n for n in opened if a.block_of(opened, n) == doc.by_name("y").id]
    x_box, z_box = box_of(a, opened, doc, "x"), box_of(a, opened, doc, "z")
    assert all(q[x_box][1] < q[n][1] for n in y_ops) and all(q[n][0] < q[z_box][0] for n in y_ops)


def test_a_column_of_blocks_flows_top_to_bottom():
    moves = {"x": (0.0, 0.0), "y": (0.0, 200.0), "c": (200.0, 200.0), "z": (0.0, 400.0), "L": (0.0, 600.0)}
    _, _, a = arranged("chain56", moves)
    assert a.direction == "TB"
