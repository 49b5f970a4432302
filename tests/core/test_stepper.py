"""The step sequence: forward, loss, backward, update, derived from one position."""

import torch

from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario


def chain():
    tr = trace_scenario(load_scenario("lesson:chain56"))
    return tr, StepSequence(tr)


def test_phases_in_order():
    tr, seq = chain()
    assert [s.phase for s in seq.steps] == [
        "Start",
        "Forward",
        "Forward",
        "Loss",
        "Backward",
        "Backward",
        "Backward",
        "Update",
    ]
    assert seq.steps[seq.loss_position].node == tr.loss_node
    assert [s.node for s in seq.steps if s.phase == "Backward"] == ["loss", "op1", "op0"]


def test_values_appear_in_forward_order_and_grads_flow_back():
    tr, seq = chain()
    x, y, z = tr.find("x"), tr.find("y"), tr.find("z")
    s0 = seq.state_at(0)
    assert x in s0.values and y not in s0.values and not s0.grads
    s1 = seq.state_at(1)
    assert y in s1.values and z not in s1.values
    assert s1.active_edges == ((y, z),)
    loss = seq.state_at(seq.loss_position)
    assert tr.loss_node in loss.values and loss.grads == {tr.loss_node}
    first_back = seq.state_at(seq.loss_position + 1)
    assert first_back.edge_grads == {(z, tr.loss_node), ("const:loss:1", tr.loss_node)}
    assert z in first_back.grads and y not in first_back.grads
    end_back = seq.state_at(seq.last - 1)
    assert x in end_back.grads


def test_state_is_a_pure_function_of_position():
    _, seq = chain()
    forward = [seq.state_at(i) for i in range(seq.last + 1)]
    backward = [seq.state_at(i) for i in range(seq.last, -1, -1)][::-1]
    assert forward == backward
    assert seq.state_at(-5) == seq.state_at(0) and seq.state_at(999) == seq.state_at(seq.last)


def test_update_step_applies_sgd():
    tr, seq = chain()
    upd = seq.state_at(seq.last)
    assert upd.phase == "Update"
    x = tr.find("x")
    torch.testing.assert_close(upd.updated[x], torch.tensor([2.0 - 0.01 * 56]))


def test_detached_branch_nodes_never_get_grads():
    tr = trace_scenario(load_scenario("lesson:detached_branch"))
    seq = StepSequence(tr)
    end = seq.state_at(seq.last)
    assert tr.find("b") not in end.grads and tr.find("w") in end.grads
    assert tr.find("b") not in end.updated
