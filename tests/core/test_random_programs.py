"""Torch is the oracle for random small programs: detach mixed with its own source, gradient
hooks on leaves and intermediates, in-place ops and multi-output ops (see random_programs)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz.core.errors import TraceError
from bpviz.core.scenario import Scenario
from bpviz.core.trace import trace_scenario
from tests.core import random_programs as rp


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, equal_nan=True)


def plain(seed):
    """Leaf gradients, and each recorded op's output gradient, from a plain backward()."""
    p = rp.make(seed)
    loss = rp.run(p)
    got, sent = {}, {}

    def hook_for(gf):
        def hook(grad_inputs, grad_outputs):
            got[gf] = grad_outputs[0].clone() if grad_outputs[0] is not None else None
            sent[gf] = tuple(g.clone() if g is not None else None for g in grad_inputs)

        return hook

    handles = [gf.register_hook(hook_for(gf)) for gf, _ in p.made if gf is not None]
    if loss.requires_grad:
        loss.backward()
    for h in handles:
        h.remove()
    node_grads = [(got.get(gf), sent.get(gf)) if gf is not None else (None, None) for gf, _ in p.made]
    return p, loss.detach(), node_grads


def traced(seed):
    p = rp.make(seed)
    scenario = Scenario(title="random", closure=lambda: rp.run(p), namespace=dict(p.leaves), source="random")
    return p, trace_scenario(scenario)


def check(seed):
    ref, ref_loss, ref_node_grads = plain(seed)
    if (
        not ref_loss.requires_grad
        and ref_loss.grad_fn is None
        and not any(t.grad is not None for t in ref.leaves.values())
    ):
        with pytest.raises(TraceError):
            traced(seed)
        return
    p, tr = traced(seed)
    program = "\n".join(p.text)
    close(torch.tensor(tr.loss), ref_loss.reshape(()))
    reasons = {d.node: d.message for d in tr.diagnostics if d.kind == "none_grad"}
    for name, t in ref.leaves.items():
        if not t.requires_grad:
            continue
        node = tr.find(name)
        got = tr.node(node)["grad"]
        if t.grad is None:
            assert got is None, (name, program)
            assert node in reasons, (name, program)
        else:
            assert got is not None, (name, program, reasons)
            close(got, t.grad)
            assert node not in reasons, (name, reasons[node], program)
    ids = {id(gf): n for n, gf in tr._autograd.items()}
    for gf, nr, value in p.outputs:  # each edge from a multi-output node carries its output
        u = ids.get(id(gf))
        for v in tr.graph.successors(u) if u is not None else ():
            consumer = tr._autograd.get(v)
            nrs = {k for f, k in consumer.next_functions if f is gf} if consumer is not None else set()
            if nrs == {nr}:
                close(tr.edge_value(u, v), value)
                if tr.node(u)["grad"] is not None:  # shown only when one output is used
                    assert (
                        len(
                            {
                                k
                                for w in tr.graph.successors(u)
                                if w in tr._autograd
                                for f, k in tr._autograd[w].next_functions
                                if f is gf
                            }
                        )
                        == 1
                    )
    for (gf, value), (ref_grad, ref_sent) in zip(p.made, ref_node_grads):
        node = ids.get(id(gf)) if gf is not None else None
        if node is None:
            continue
        for u in tr.graph.predecessors(node):  # each edge carries what torch's node sent
            edge = tr.edge(u, node)
            if edge["index"] and not edge["detached"] and ref_sent is not None:
                parts = [ref_sent[i] for i in edge["index"] if ref_sent[i] is not None]
                if parts:
                    close(edge["grad"], sum(parts[1:], parts[0]))
        a = tr.node(node)
        assert a["value"] is not None, (node, a["autograd"], program)
        close(a["value"], value)
        if ref_grad is None:
            assert a["grad"] is None, (node, program)
        else:
            assert a["grad"] is not None, (node, a["autograd"], program)
            close(a["grad"], ref_grad)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6))
def test_random_programs_match_plain_torch(seed):
    check(seed)


@pytest.mark.parametrize("seed", range(60))
def test_random_programs_fixed_seeds(seed):
    check(seed)
