"""ViewMap: a step's state (in trace ids) read on a collapsed view (no Qt)."""

import torch
from torch import nn

import bpviz
from bpviz.core.stepper import StepSequence
from bpviz.core.views import collapse_modules, hide_shape_ops
from bpviz.presentation.view_mapping import ViewMap, on_paths_to_loss


def traced():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    t = bpviz.trace(model, torch.randn(5, 3), target=torch.randn(5, 1), loss_fn=nn.MSELoss())
    return t, StepSequence(t)


def test_a_group_shows_its_output_once_the_output_is_reached():
    t, seq = traced()
    view = collapse_modules(hide_shape_ops(t.graph), 1)
    m = ViewMap(view, t.graph)
    group = next(v for v, a in view.nodes(data=True) if a["kind"] == "group" and a["output"] is not None)
    output = view.nodes[group]["output"]
    assert output in m.members(group) and m.view_of(output) == group
    reached = next(i for i in range(seq.last + 1) if output in seq.state_at(i).values)
    assert not m.shows_value(group, seq.state_at(reached - 1)) and m.shows_value(group, seq.state_at(reached))
    end = seq.state_at(seq.last)
    assert all(m.edge_has_grad(u, v, end) for u, v, a in view.edges(data=True) if a["grad"] is not None)
    assert group in m.nodes_using([output])


def test_paths_to_the_loss():
    t, _ = traced()
    to_loss = set(t.graph.nodes)
    x = next(n for n, a in t.graph.nodes(data=True) if a["kind"] == "input")
    assert on_paths_to_loss(t.graph, to_loss, None) is None
    assert t.loss_node in on_paths_to_loss(t.graph, to_loss, x)
