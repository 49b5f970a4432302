"""Predict mode: the learner works out each backward step's gradient before it is shown.

At a backward step, the op ``v`` sends its gradient dL/dv back along each input edge ``(u, v)``:
upstream × local. The question asks for the part that reaches one input that receives a
gradient (for a tensor: its first entry): a parameter if there is one, else a variable, else
the first input. Until the question is answered (or given up), the
:class:`PredictPolicy` hides what the step would reveal, and every number the stepper has not
reached yet is hidden rather than marked, on the canvas, in the captions and in the inspector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bpviz.core.numbers import format_number
from bpviz.presentation.roles import VARIABLE, role
from bpviz.presentation.visibility import HIDDEN, VisibilityPolicy

if TYPE_CHECKING:
    from bpviz.core.stepper import DisplayState, StepSequence

# An answer counts when it is this close to torch's number (relative, with an absolute floor for
# answers near zero): learners round, and float32 sums differ in the last digits.
REL_TOL = 1e-2
ABS_TOL = 1e-3
_ASK_FIRST = {"param": 0, VARIABLE: 1}


@dataclass(frozen=True)
class Question:
    """What the learner is asked at one backward step: the gradient flowing along ``edge``."""

    position: int
    edge: tuple[str, str]
    prompt: str
    hint: str
    answer: float

    def check(self, guess: float) -> bool:
        """Whether ``guess`` is torch's answer within the tolerance."""
        return math.isfinite(guess) and math.isclose(guess, self.answer, rel_tol=REL_TOL, abs_tol=ABS_TOL)

    def explanation(self, upstream: float | None, local: float | None) -> str:
        """The answer written as the chain rule with the numbers (where they are scalars)."""
        if upstream is not None and local is not None:
            return f"{format_number(upstream)} × {format_number(local)} = {format_number(self.answer)}"
        return format_number(self.answer)


def question_at(sequence: StepSequence, position: int) -> Question | None:
    """The question of the step at ``position``: None unless it is a backward step that sends a
    gradient to at least one input."""
    step = sequence.steps[position]
    if step.phase != "Backward" or step.node is None:
        return None
    trace = sequence.trace
    v = trace.node(step.node)
    # Ask about what the update will change first (w1 in z1 = x · w1), then any other input:
    # the parameters' gradients are the numbers a lesson is about.
    edges = sorted(step.edges, key=lambda e: _ASK_FIRST.get(role(trace.node(e[0])), len(_ASK_FIRST)))
    for u, target in edges:
        grad = trace.edge(u, target)["grad"]
        if grad is None or trace.edge(u, target)["detached"]:
            continue
        name_u, name_v = trace.node(u)["name"], v["name"]
        entry = "" if grad.numel() == 1 else f" (its first entry, of {'×'.join(map(str, grad.shape))})"
        return Question(
            position=position,
            edge=(u, target),
            prompt=f"How much gradient flows from {name_v} back to {name_u}{entry}?",
            hint=f"upstream × local: dL/d{name_v} × d{name_v}/d{name_u}",
            answer=float(grad.reshape(-1)[0]),
        )
    return None


class PredictPolicy(VisibilityPolicy):
    """Hides what the stepper has not reached, and what the current step would reveal until its
    question in ``sequence`` is answered (``answered``: positions done). Diagnostics speak of
    gradients: they show only once the pass is complete."""

    def __init__(
        self, sequence: StepSequence, answered: frozenset[int] = frozenset(), ask: frozenset[int] | None = None
    ):
        self.sequence = sequence
        self.answered = answered
        self.ask = ask  # the positions a lesson pack asks about (None: every backward step)

    def pending(self, position: int) -> Question | None:
        """The question at ``position`` if it is asked and still open."""
        if position in self.answered or (self.ask is not None and position not in self.ask):
            return None
        return question_at(self.sequence, position)

    def shown(self, state: DisplayState) -> DisplayState:  # noqa: D102 - see VisibilityPolicy
        if state.position == 0 or self.pending(state.position) is None:
            return state
        before = self.sequence.state_at(state.position - 1)
        return replace(state, grads=before.grads, edge_grads=before.edge_grads, updated=before.updated)

    def unreached(self, what: str) -> str:  # noqa: D102 - see VisibilityPolicy
        return HIDDEN

    def diagnostics(self, state: DisplayState | None) -> bool:  # noqa: D102 - see VisibilityPolicy
        return state is not None and state.position == self.sequence.last
