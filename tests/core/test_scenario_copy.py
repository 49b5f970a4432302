"""Scenario.model_copy: what the app trains for bpviz.show() traces like the original and
shares no tensor with it."""

import torch
from torch import nn

from bpviz.core.scenario import scenario_from_model
from bpviz.core.trace import trace_scenario


def test_a_model_copy_traces_to_the_same_graph_and_shares_nothing():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    features = torch.randn(4, 3, requires_grad=True)
    labels = torch.randn(4, 1)
    original = scenario_from_model(model, features, labels, nn.MSELoss())
    original.namespace = {"features": features, "labels": labels, "unrelated": torch.ones(2)}
    copy = original.model_copy()
    a, b = trace_scenario(original), trace_scenario(copy)
    assert sorted(a.graph) == sorted(b.graph) and "input:features" in b.graph
    for n, attrs in a.graph.nodes(data=True):
        other = b.graph.nodes[n]
        assert torch.equal(attrs["value"], other["value"]), n
        assert (attrs["grad"] is None) == (other["grad"] is None), n
        if attrs["grad"] is not None:
            assert torch.equal(attrs["grad"], other["grad"]), n
    assert set(copy.namespace) == {"features", "labels"}
    with torch.no_grad():
        for p in copy.model.parameters():
            p.add_(1.0)
        copy.inputs[0].add_(1.0)
    assert torch.equal(model.weight, a.graph.nodes["param:weight"]["value"])
    assert torch.equal(features, a.graph.nodes["input:features"]["value"])
