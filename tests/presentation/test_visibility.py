"""The visibility policy: the default shows what the stepper reached and marks the rest; another
policy hides numbers by overriding two methods, and every answer (captions too) follows."""

from dataclasses import replace

from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import DisplayState, StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.presentation.captions import UNKNOWN, step_caption
from bpviz.presentation.visibility import DEFAULT_POLICY, HIDDEN, MARKED, SHOWN, VisibilityPolicy


class HideGradients(VisibilityPolicy):
    """What a predict mode does: no gradient, and no diagnostic, is shown at all."""

    def shown(self, state: DisplayState) -> DisplayState:
        return replace(state, grads=frozenset(), edge_grads=frozenset(), updated={})

    def unreached(self, what: str) -> str:
        return HIDDEN if what in ("gradient", "update") else MARKED

    def diagnostics(self, state) -> bool:
        return False


def chain() -> StepSequence:
    return StepSequence(trace_scenario(load_scenario("lesson:chain56")))


def test_the_default_shows_what_is_reached_and_marks_the_rest():
    seq = chain()
    t = seq.trace
    x, y = t.find("x"), t.find("y")
    for position in range(seq.last + 1):
        state = seq.state_at(position)
        assert DEFAULT_POLICY.shown(state) is state
        assert DEFAULT_POLICY.value(state, y) == (SHOWN if y in state.values else MARKED)
        assert DEFAULT_POLICY.grad(state, x) == (SHOWN if x in state.grads else MARKED)
        assert DEFAULT_POLICY.edge_grad(state, x, y) == (SHOWN if (x, y) in state.edge_grads else MARKED)
        assert DEFAULT_POLICY.update(state, x) == (SHOWN if state.phase == "Update" else MARKED)
        assert DEFAULT_POLICY.diagnostics(state)
        assert DEFAULT_POLICY.caption(seq, position) == step_caption(seq, position)
    assert DEFAULT_POLICY.value(seq.state_at(0), t.loss_node) == MARKED  # the loss is not reached at step 0


def test_a_policy_that_hides_gradients_hides_them_everywhere():
    seq = chain()
    t = seq.trace
    x, y = t.find("x"), t.find("y")
    policy = HideGradients()
    end = seq.state_at(seq.last)
    assert policy.grad(end, x) == HIDDEN and policy.edge_grad(end, x, y) == HIDDEN
    assert policy.update(end, x) == HIDDEN and policy.value(end, y) == SHOWN
    assert not policy.diagnostics(end)
    backward = [i for i, s in enumerate(seq.steps) if s.phase == "Backward"]
    assert all(policy.caption(seq, i).endswith(f"= {UNKNOWN} flows to its inputs") for i in backward)
    assert policy.caption(seq, seq.loss_position) == step_caption(seq, seq.loss_position)
