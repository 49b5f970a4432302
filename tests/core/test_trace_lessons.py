"""Every lesson reproduces its seed's numbers, and every gradient equals plain torch's."""

import pytest
import torch

from bpviz.core.scenario import lesson_names, load_scenario
from bpviz.core.trace import trace_scenario
from tests.core.oracle import plain_param_grads


def num(t):
    return float(t.reshape(()))


def test_chain56_values_grads_and_locals():
    tr = trace_scenario(load_scenario("lesson:chain56"))
    g = tr.graph
    x, y, z, loss = tr.find("x"), tr.find("y"), tr.find("z"), tr.loss_node
    assert [num(g.nodes[n]["value"]) for n in (x, y, z, loss)] == [2, 4, 7, 49]
    assert [num(g.nodes[n]["grad"]) for n in (x, y, z, loss)] == [56, 14, 14, 1]
    assert g.edges[x, y]["local"] == 4
    assert g.edges[y, z]["local"] == 1
    assert g.edges[z, loss]["local"] == 14
    assert tr.loss == 49
    assert tr.forward_order == [y, z, loss]
    assert tr.backward_order == [loss, z, y, x]
    assert tr.diagnostics == []


def test_square_and_square_plus_linear():
    tr = trace_scenario(load_scenario("lesson:square"))
    assert num(tr.node(tr.find("x"))["grad"]) == 6
    tr = trace_scenario(load_scenario("lesson:square_plus_linear"))
    x = tr.find("x")
    assert num(tr.node(x)["grad"]) == 7
    parts = sorted(num(tr.edge(x, v)["grad"]) for v in tr.graph.successors(x))
    assert parts == [3, 4]  # each use carries its own part; the node's gradient is their sum


def test_relu_two_weights_seed_numbers():
    tr = trace_scenario(load_scenario("lesson:relu_two_weights"))
    assert num(tr.node(tr.find("w1"))["grad"]) == -9
    assert num(tr.node(tr.find("w2"))["grad"]) == -3
    assert tr.loss == 2.25
    assert tr.node(tr.find("w1"))["kind"] == "param"


def test_dead_relu_lesson_reports_dead_unit():
    tr = trace_scenario(load_scenario("lesson:dead_relu"))
    dead = [d for d in tr.diagnostics if d.kind == "dead_relu"]
    assert dead and 1 in dead[0].detail["units"]
    w = tr.node(tr.find("0.weight"))["grad"]
    assert torch.all(w[1] == 0)


def test_deep_sigmoid_vanishes_and_deep_relu_does_not():
    sig = trace_scenario(load_scenario("lesson:deep_sigmoid"))
    relu = trace_scenario(load_scenario("lesson:deep_relu"))
    first_sig = sig.node(sig.find("0.weight"))["grad"].norm()
    last_sig = sig.node(sig.find("40.weight"))["grad"].norm()
    assert first_sig < 1e-6 and first_sig < last_sig * 1e-6
    assert any(d.kind == "vanishing" and d.node == "param:0.weight" for d in sig.diagnostics)
    assert relu.node(relu.find("0.weight"))["grad"].norm() > 1e-3
    assert not any(d.kind == "vanishing" for d in relu.diagnostics)


def test_detached_branch_reports_none_grad_with_reason():
    tr = trace_scenario(load_scenario("lesson:detached_branch"))
    b = tr.find("b")
    assert tr.node(b)["grad"] is None
    (diag,) = [d for d in tr.diagnostics if d.kind == "none_grad"]
    assert diag.node == b and diag.detail["reason"] == "detached"
    assert any(e["detached"] for _, _, e in tr.graph.edges(data=True))


def test_log_softmax_naive_nan_and_stable_finite():
    naive = trace_scenario(load_scenario("lesson:log_softmax_naive"))
    kinds = {(d.kind, d.detail.get("pass")) for d in naive.diagnostics}
    assert ("nonfinite", "backward") in kinds
    back = next(d for d in naive.diagnostics if d.detail.get("pass") == "backward")
    assert naive.node(back.node)["op"] == "log"
    stable = trace_scenario(load_scenario("lesson:log_softmax_stable"))
    assert not any(d.kind == "nonfinite" for d in stable.diagnostics)


def test_linear_fit_and_batch_shapes():
    tr = trace_scenario(load_scenario("lesson:linear_batch"))
    assert tr.node(tr.find("weight"))["grad"].shape == (1, 10)
    assert tr.node(tr.find("inputs"))["shape"] == (32, 10)


@pytest.mark.parametrize("name", lesson_names())
def test_every_lesson_matches_plain_torch(name):
    sc = load_scenario(f"lesson:{name}")
    oracle = plain_param_grads(sc)
    tr = trace_scenario(sc)
    for pname, grad in oracle.items():
        node = tr.node(tr.find(pname))
        if grad is None:
            assert node["grad"] is None
        else:
            torch.testing.assert_close(node["grad"], grad, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", lesson_names())
def test_every_op_has_a_value_and_edges_sum_to_node_grad(name):
    tr = trace_scenario(load_scenario(f"lesson:{name}"))
    g = tr.graph
    for n in tr.forward_order:
        assert g.nodes[n]["value"] is not None, n
    for n, a in g.nodes(data=True):
        parts = [g.edges[n, v]["grad"] for v in g.successors(n) if g.edges[n, v]["grad"] is not None]
        if parts and a["grad"] is not None:
            torch.testing.assert_close(sum(parts[1:], parts[0]), a["grad"], equal_nan=True)


def test_ops_take_the_names_the_scenario_gave_them():
    tr = trace_scenario(load_scenario("lesson:relu_two_weights"))
    names = [tr.node(n)["name"] for n in tr.forward_order]
    assert names == ["z1", "a1", "y", "sub", "loss"]
    assert [tr.node(n)["op"] for n in tr.forward_order] == ["mul", "relu", "mul", "sub", "pow"]
    model = trace_scenario(load_scenario("lesson:mlp_10_5_1"))
    assert model.node(model.loss_node)["name"] == "loss"
    assert model.node(model.loss_node)["op"] == "mse_loss"
