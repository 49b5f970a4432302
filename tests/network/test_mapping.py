"""Every node of a built network's trace maps back to the block it came from, and every wire to
the trace edges that carry its gradient."""

from __future__ import annotations

import pytest

from bpviz.core.network.build import build
from bpviz.core.network.mapping import trace_blocks, wire_edges
from bpviz.core.network.templates import make_template, template_names
from bpviz.core.trace import trace_scenario
from tests.network.test_build import BRANCHY, CNN, MIXED


def names(doc, built, trace):
    return {trace.graph.nodes[n]["name"]: doc.blocks[b].name for n, b in trace_blocks(built, trace).items()}


def test_chain56_nodes_sit_on_their_blocks():
    doc = make_template("chain56")
    built = build(doc)
    trace = trace_scenario(built.scenario)
    # Every node is named as its block is (the constant exponent 2 by its value), in the trace
    # itself: canvas, captions, rules and `bpviz trace` use one name.
    assert names(doc, built, trace) == {"x": "x", "y": "y", "2": "y", "c": "c", "z": "z", "L": "L"}
    edges = wire_edges(doc, trace_blocks(built, trace), trace)

    def grad(edge):
        g = trace.graph.edges[edge]["grad"]
        return None if g is None else g.item()

    grads = {doc.blocks[dst].name + "." + port: [grad(e) for e in es] for (dst, port), es in edges.items()}
    assert grads == {"y.x": [56.0], "z.a": [14.0], "z.b": [None], "L.x": [14.0]}  # c needs no gradient


@pytest.mark.parametrize(
    "doc",
    [make_template(n) for n in template_names()[1:]] + [CNN, BRANCHY, MIXED],
    ids=[*template_names()[1:], "cnn", "branchy", "mixed"],
)
def test_every_node_and_wire_maps(doc):
    built = build(doc)
    trace = trace_scenario(built.scenario)
    mapping = trace_blocks(built, trace)
    assert set(mapping) == set(trace.graph.nodes)
    assert set(mapping.values()) <= set(built.plan.order)
    edges = wire_edges(doc, mapping, trace)
    wired_into_ops = [k for k, es in edges.items() if doc.blocks[doc.wires[k].src].spec.role != "source"]
    assert all(edges[k] for k in wired_into_ops)  # every wire between ops carries a trace edge


def test_an_identity_block_does_not_take_the_node_of_the_block_before_it():
    built = build(MIXED)
    trace = trace_scenario(built.scenario)
    got = names(MIXED, built, trace)
    assert got["sm"] == "sm" and "drop" not in got.values()  # Dropout(p=0) returns its input
    assert got["total"] == "total" and got["1.5"] == "sq"


def test_the_loss_of_a_model_is_its_loss_block():
    doc = make_template("xor")
    built = build(doc)
    trace = trace_scenario(built.scenario)
    got = names(doc, built, trace)
    assert got["loss"] == "bce" and got["target"] == "y" and got["fc1.weight"] == "fc1" and got["linear"] == "fc1"


def test_wires_around_an_identity_block_carry_the_edge_that_skips_it():
    built = build(MIXED)
    trace = trace_scenario(built.scenario)
    edges = wire_edges(MIXED, trace_blocks(built, trace), trace)
    into_drop = edges[(MIXED.by_name("drop").id, "x")]
    out_of_drop = edges[(MIXED.by_name("s").id, "x")]
    assert into_drop == out_of_drop and len(into_drop) == 1
    u, v = into_drop[0]
    assert (trace.graph.nodes[u]["name"], trace.graph.nodes[v]["name"]) == ("sm", "s")
