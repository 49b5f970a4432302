"""Step captions: the trace's numbers for scalars, the size of tensors."""

from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.presentation.captions import START, UNKNOWN, step_caption


def captions(seq: StepSequence) -> list[str]:
    return [step_caption(seq, i) for i in range(seq.last + 1)]


def test_captions_give_scalars_and_the_shape_of_tensors():
    seq = StepSequence(trace_scenario(load_scenario("lesson:chain56")))
    chain = captions(seq)
    assert chain[0] == START
    assert chain[seq.loss_position] == "loss = 49; dL/dL = 1"
    backward = [c for c, s in zip(chain, seq.steps) if s.phase == "Backward"]
    assert backward[-1] == "y: dL/dy = 14 flows to its inputs"
    assert chain[-1] == "variable ← variable − 0.01 × grad"  # x is the scenario's own variable
    mlp = trace_scenario(load_scenario("lesson:mlp_10_5_1"))
    relu = mlp.graph.nodes[mlp.find("relu")]
    assert relu["value"].shape == (32, 5)
    assert "relu: relu = a 32×5 tensor" in captions(StepSequence(mlp))
    assert "relu: dL/drelu = a 32×5 tensor flows to its inputs" in captions(StepSequence(mlp))


def test_positions_are_clamped_and_numbers_can_be_withheld():
    seq = StepSequence(trace_scenario(load_scenario("lesson:chain56")))
    assert step_caption(seq, -3) == START and step_caption(seq, seq.last + 5) == step_caption(seq, seq.last)
    last_backward = max(i for i, s in enumerate(seq.steps) if s.phase == "Backward")
    assert step_caption(seq, last_backward, show_grad=False) == f"y: dL/dy = {UNKNOWN} flows to its inputs"
    assert step_caption(seq, seq.loss_position, show_value=False) == f"loss = {UNKNOWN}; dL/dL = 1"


def test_a_shape_only_op_says_it_only_rearranges_numbers():
    mlp = StepSequence(trace_scenario(load_scenario("lesson:mlp_10_5_1")))
    assert "t = t(0.weight) only rearranges numbers: dL/dt = a 10×5 tensor flows to its inputs" in captions(mlp)
