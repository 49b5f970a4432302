"""Display views: hiding shape-only ops and collapsing module groups, on contract-shaped graphs."""

from __future__ import annotations

import copy

import networkx as nx
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.graph_records import edge_record, node_record
from bpviz.core.views import collapse_modules, hide_shape_ops, is_shape_op, module_depth


def add(g, node, kind="op", op="", autograd="", module="", name="", shape=(2, 3)):
    """A node record (value and grad as tensors)."""
    g.add_node(
        node,
        **node_record(
            kind,
            name or op or node,
            op=op,
            autograd=autograd,
            module=module,
            shape=shape,
            dtype="float32",
            value=torch.full(shape, 1.0),
            grad=torch.full(shape, 0.5),
            requires_grad=True,
        ),
    )
    return node


def edge(g, u, v, index=0, grad=None):
    """An edge carrying a gradient in the producer's shape."""
    shape = g.nodes[u]["shape"]
    g.add_edge(u, v, **edge_record([index], grad=torch.full(shape, 0.5) if grad is None else grad))


def shaped_graph() -> nx.DiGraph:
    """x @ W.t() -> view -> relu -> permute -> unsqueeze -> sum -> loss, plus a clone branch."""
    g = nx.DiGraph()
    add(g, "x", "input", shape=(2, 4))
    add(g, "w", "param", name="fc.weight", autograd="AccumulateGrad", shape=(3, 4))
    add(g, "t", op="linear", autograd="TBackward0", shape=(4, 3))
    add(g, "mm", op="linear", autograd="MmBackward0")
    add(g, "view", op="view", autograd="ViewBackward0", shape=(3, 2))
    add(g, "relu", op="relu", autograd="ReluBackward0", shape=(3, 2))
    add(g, "perm", op="permute", autograd="PermuteBackward0")
    add(g, "unsq", op="unsqueeze", autograd="UnsqueezeBackward0", shape=(1, 2, 3))
    add(g, "clone", op="clone", autograd="CloneBackward0", shape=(3, 2))
    add(g, "sum", op="sum", autograd="SumBackward0", shape=())
    add(g, "loss", "loss", op="view", autograd="ViewBackward0", shape=())
    edge(g, "w", "t")
    edge(g, "x", "mm")
    edge(g, "t", "mm", 1)
    for u, v in [
        ("mm", "view"),
        ("view", "relu"),
        ("relu", "perm"),
        ("perm", "unsq"),
        ("unsq", "sum"),
        ("relu", "clone"),
        ("clone", "sum"),
        ("sum", "loss"),
    ]:
        edge(g, u, v)
    return g


def snapshot(g):
    """Everything about a graph, for checking that a view left its input alone."""
    return (
        list(g.nodes),
        list(g.edges),
        copy.deepcopy(dict(g.nodes(data=True))),
        copy.deepcopy({(u, v): d for u, v, d in g.edges(data=True)}),
    )


def same(a, b) -> bool:
    """Snapshot equality that compares tensors by value."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def leaves_reaching_loss(g, loss="loss"):
    return {v for v in g if g.in_degree(v) == 0 and nx.has_path(g, v, loss)}


def test_shape_ops_are_recognised_by_op_or_autograd_name():
    assert is_shape_op({"kind": "op", "op": "reshape", "autograd": ""})
    assert is_shape_op({"kind": "op", "op": "linear", "autograd": "TBackward0"})
    assert is_shape_op({"kind": "op", "op": "", "autograd": "SqueezeBackward1"})
    assert is_shape_op({"kind": "op", "op": "", "autograd": "AsStridedBackward0"})
    assert not is_shape_op({"kind": "op", "op": "clone", "autograd": "CloneBackward0"})
    assert not is_shape_op({"kind": "op", "op": "select", "autograd": "SelectBackward0"})
    assert not is_shape_op({"kind": "op", "op": "", "autograd": "ToCopyBackward0"})
    assert not is_shape_op({"kind": "loss", "op": "view", "autograd": "ViewBackward0"})


def test_hide_shape_ops_bridges_and_keeps_reachability():
    g = shaped_graph()
    before = snapshot(g)
    out = hide_shape_ops(g)
    assert same(snapshot(g), before)  # the input is untouched
    assert sorted(set(g) - set(out)) == ["perm", "t", "unsq", "view"]
    assert "clone" in out and "loss" in out
    assert nx.is_directed_acyclic_graph(out)
    assert leaves_reaching_loss(out) == leaves_reaching_loss(g) == {"x", "w"}
    for u in out:
        for v in out:
            if u != v and u in g and v in g:
                assert nx.has_path(out, u, v) == nx.has_path(g, u, v), (u, v)


def test_bridged_edge_keeps_the_attributes_of_the_edge_leaving_the_producer():
    g = shaped_graph()
    g.edges["relu", "perm"]["grad"] = torch.arange(6.0).reshape(3, 2)
    out = hide_shape_ops(g)
    bridge = out.edges["relu", "sum"]
    assert bridge["bridged"] == ["perm", "unsq"]  # in path order
    assert torch.equal(bridge["grad"], torch.arange(6.0).reshape(3, 2))
    assert bridge["grad"].shape == g.nodes["relu"]["shape"]
    assert out.edges["w", "mm"]["bridged"] == ["t"]
    assert out.edges["w", "mm"]["grad"].shape == (3, 4)
    assert out.edges["w", "mm"]["index"] == [1]  # t fed input 1 of mm; w fed input 0 of t
    assert "bridged" not in out.edges["clone", "sum"]
    assert out.nodes["relu"] == g.nodes["relu"] and out.nodes["relu"] is not g.nodes["relu"]


def test_direct_and_bridged_routes_merge_with_summed_gradient():
    g = nx.DiGraph()
    for n in ("a", "v", "b"):
        add(g, n, op={"v": "view"}.get(n, "exp"))
    add(g, "loss", "loss", op="add")
    edge(g, "a", "v", grad=torch.full((2, 3), 1.0))
    edge(g, "a", "loss", grad=torch.full((2, 3), 2.0))
    edge(g, "v", "loss", 1)
    edge(g, "b", "v", 0)  # a second producer: v's preds both bridge to the loss
    out = hide_shape_ops(g)
    assert sorted(out.edges) == [("a", "loss"), ("b", "loss")]
    merged = out.edges["a", "loss"]
    assert torch.equal(merged["grad"], torch.full((2, 3), 3.0))
    assert merged["bridged"] == ["v"] and merged["index"] == [0]  # the direct edge leads


def test_shape_op_without_inputs_stays_visible():
    g = nx.DiGraph()
    add(g, "cut", op="view", autograd="ViewBackward0")
    add(g, "loss", "loss", op="sum")
    edge(g, "cut", "loss")
    assert set(hide_shape_ops(g)) == {"cut", "loss"}


def module_graph() -> nx.DiGraph:
    """x -> [layers.0: fc, act, own add] -> [layers.1: fc, act] -> head.fc -> loss."""
    g = nx.DiGraph()
    add(g, "x", "input")
    h = "x"
    for k in (0, 1):
        w = add(g, f"w{k}", "param", name=f"layers.{k}.fc.weight")  # no module: from its name
        fc = add(g, f"fc{k}", op="linear", module=f"layers.{k}.fc")
        act = add(g, f"act{k}", op="relu", module=f"layers.{k}.act")
        edge(g, h, fc)
        edge(g, w, fc, 1)
        edge(g, fc, act)
        h = act
        if k == 0:
            add(g, "res", op="add", module="layers.0")  # a functional op in layers.0's forward
            edge(g, act, "res")
            edge(g, "x", "res", 1)
            h = "res"
    add(g, "head", op="linear", module="head.fc", shape=(2, 1))
    add(g, "loss", "loss", op="mse_loss", module="criterion.inner", shape=())
    edge(g, h, "head")
    edge(g, "head", "loss")
    return g


def test_module_depth():
    assert module_depth(module_graph()) == 3
    assert module_depth(shaped_graph()) == 1  # fc.weight's owner
    assert module_depth(nx.DiGraph()) == 0


def test_collapse_by_first_part_and_by_two_parts():
    g = module_graph()
    before = snapshot(g)
    one = collapse_modules(g, 1)
    assert same(snapshot(g), before)
    assert sorted(one) == ["group:head", "group:layers", "loss", "x"]
    group = one.nodes["group:layers"]
    assert group["kind"] == "group" and group["op"] == "module" and group["name"] == "layers"
    assert group["members"] == ["act0", "act1", "fc0", "fc1", "res", "w0", "w1"]
    assert group["output"] == "act1" and group["shape"] == (2, 3)
    assert group["value"] is g.nodes["act1"]["value"] and group["grad"] is g.nodes["act1"]["grad"]
    into = one.edges["x", "group:layers"]
    assert into["members"] == [("x", "fc0"), ("x", "res")]
    assert torch.equal(into["grad"], torch.full((2, 3), 1.0))  # both edges leave x: summed
    two = collapse_modules(g, 2)
    assert sorted(two) == ["group:head.fc", "group:layers.0", "group:layers.1", "loss", "x"]
    # layers.0's own functional add folds with it: one box per block, still a DAG
    assert two.nodes["group:layers.0"]["members"] == ["act0", "fc0", "res", "w0"]
    assert two.nodes["group:layers.0"]["output"] == "res"
    assert sorted(two.predecessors("group:layers.0")) == ["x"]
    three = collapse_modules(g, 3)
    assert "res" in three and "group:layers.0.fc" in three  # shallower than 3 parts: visible
    assert sorted(three.predecessors("res")) == ["group:layers.0.act", "x"]
    assert collapse_modules(g, None).edges == g.edges


def test_parameter_belongs_to_the_module_named_in_it_even_where_used_elsewhere():
    g = module_graph()
    add(g, "tied", "param", name="layers.0.fc.bias")  # no module attribute; used by head
    edge(g, "tied", "head", 1)
    one = collapse_modules(g, 1)
    assert "tied" in one.nodes["group:layers"]["members"]
    out = one.edges["group:layers", "group:head"]
    assert out["members"] == [("act1", "head"), ("tied", "head")]
    assert out["grad"] is None  # two sources, two shapes: no sum


def test_unscoped_buffers_join_the_one_group_using_them():
    g = module_graph()
    add(g, "mean0", "constant", name="tensor7")  # e.g. a BatchNorm running mean, no scope
    add(g, "shared", "constant", name="tensor8")
    edge(g, "mean0", "fc0", 2)
    edge(g, "shared", "fc1", 2)
    edge(g, "shared", "head", 1)
    one = collapse_modules(g, 1)
    assert "mean0" in one.nodes["group:layers"]["members"]
    assert sorted(one.successors("shared")) == ["group:head", "group:layers"]
    two = collapse_modules(g, 2)
    assert "mean0" in two.nodes["group:layers.0"]["members"] and "mean0" not in two


def test_no_depth_means_a_plain_copy():
    g = module_graph()
    out = collapse_modules(g, None)
    assert out is not g and sorted(out.edges) == sorted(g.edges)
    assert all(out.nodes[v] == g.nodes[v] for v in g)
    with pytest.raises(ValueError):
        collapse_modules(g, -1)


def test_module_called_twice_with_an_outside_op_between_stays_expanded():
    g = nx.DiGraph()
    add(g, "x", "input")
    add(g, "enc1", op="linear", module="enc.fc")
    add(g, "mid", op="tanh")  # top level, between the two calls of enc
    add(g, "enc2", op="linear", module="enc.fc")
    add(g, "dec", op="linear", module="dec.fc")
    add(g, "loss", "loss", op="sum")
    for u, v in [("x", "enc1"), ("enc1", "mid"), ("mid", "enc2"), ("enc2", "dec"), ("dec", "loss")]:
        edge(g, u, v)
    out = collapse_modules(g, 1)
    assert nx.is_directed_acyclic_graph(out)
    assert {"enc1", "enc2", "mid", "group:dec"} <= set(out)
    assert "group:enc" not in out


def test_depth_zero_folds_every_scoped_node_or_nothing():
    g = module_graph()
    zero = collapse_modules(g, 0)
    assert sorted(zero) == ["group:", "loss", "x"]
    assert zero.nodes["group:"]["name"] == "model"
    add(g, "top", op="tanh")  # a top-level op between modules
    g.remove_edge("res", "fc1")
    edge(g, "res", "top")
    edge(g, "top", "fc1")
    assert sorted(collapse_modules(g, 0)) == sorted(g)  # the only group would close a cycle


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_scopes_always_give_a_dag_covering_every_node(data):
    n = data.draw(st.integers(2, 14))
    g = nx.DiGraph()
    scopes = ["", "a", "a.b", "a.c", "b", "b.d.e"]
    for i in range(n):
        kind = "loss" if i == n - 1 else "op"
        add(g, f"n{i}", kind, op="relu", module=data.draw(st.sampled_from(scopes)))
    for i in range(n - 1):  # every node leads on to a later one, and so to the loss
        edge(g, f"n{i}", f"n{data.draw(st.integers(i + 1, n - 1))}")
        for j in data.draw(st.lists(st.integers(i + 1, n - 1), max_size=2)):
            edge(g, f"n{i}", f"n{j}")
    depth = data.draw(st.integers(0, 3))
    out = collapse_modules(hide_shape_ops(g), depth)
    assert nx.is_directed_acyclic_graph(out)
    members = [m for _, a in out.nodes(data=True) if a["kind"] == "group" for m in a["members"]]
    visible = [v for v in out if out.nodes[v]["kind"] != "group"]
    assert sorted(members + visible) == sorted(g)
    assert f"n{n - 1}" in visible
