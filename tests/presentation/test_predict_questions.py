"""Predict mode's questions: one per backward step that sends a gradient, a parameter's first."""

from __future__ import annotations

import torch

from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.presentation.predict import question_at


def _questions(lesson: str):
    sequence = StepSequence(trace_scenario(load_scenario(f"lesson:{lesson}")))
    found = [question_at(sequence, p) for p in range(len(sequence.steps))]
    return sequence.trace, [q for q in found if q is not None]


def test_relu_two_weights_asks_for_the_weights_gradients_the_lesson_promises():
    trace, questions = _questions("relu_two_weights")
    asked = {trace.node(q.edge[0])["name"]: q.answer for q in questions}
    # torch as the oracle: the seed's numbers, w1.grad = -9 and w2.grad = -3.
    x, w1, w2 = (torch.tensor(v, requires_grad=True) for v in (2.0, 0.5, 1.5))
    ((torch.relu(x * w1) * w2 - 3.0) ** 2).backward()
    assert asked["w1"] == w1.grad.item() == -9.0
    assert asked["w2"] == w2.grad.item() == -3.0


def test_chain56_asks_each_step_down_to_x():
    trace, questions = _questions("chain56")
    assert [trace.node(q.edge[0])["name"] for q in questions][-1] == "x"
    assert questions[-1].answer == 56.0 and questions[-1].check(56.0) and not questions[-1].check(14.0)
