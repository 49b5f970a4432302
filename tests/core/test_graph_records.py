"""Every node and edge of a traced graph, and of its views, carries exactly its record's keys."""

import torch
from torch import nn

import bpviz
from bpviz.core.graph_records import EdgeRecord, GroupRecord, NodeRecord, ViewEdgeRecord
from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario
from bpviz.core.views import collapse_modules, hide_shape_ops


def test_lesson_graphs_hold_complete_records():
    for lesson in ("chain56", "detached_branch", "square_plus_linear"):
        g = trace_scenario(load_scenario(f"lesson:{lesson}")).graph
        assert all(a.keys() == NodeRecord.__annotations__.keys() for _, a in g.nodes(data=True))
        assert all(a.keys() == EdgeRecord.__annotations__.keys() for _, _, a in g.edges(data=True))
        assert all(isinstance(a["index"], list) for _, _, a in g.edges(data=True))


def test_views_write_group_and_view_edge_records():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    t = bpviz.trace(model, torch.randn(5, 3), target=torch.randn(5, 1), loss_fn=nn.MSELoss())
    view = collapse_modules(hide_shape_ops(t.graph), 1)
    groups = [a for _, a in view.nodes(data=True) if a["kind"] == "group"]
    assert groups and all(a.keys() == GroupRecord.__annotations__.keys() for a in groups)
    edge_keys = EdgeRecord.__annotations__.keys() | ViewEdgeRecord.__optional_keys__
    assert all(a.keys() <= edge_keys and "members" in a for _, _, a in view.edges(data=True))
