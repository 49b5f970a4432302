"""Which numbers the user may see at a position: the one answer the canvas, the inspector, the
step bar and the exporters ask for.

The stepper (:meth:`bpviz.core.stepper.StepSequence.state_at`) says what a position has
*reached*; a :class:`VisibilityPolicy` says what of it, and of the rest, is *shown*. Each value,
gradient, edge gradient and update line is in one of three states:

* :data:`SHOWN`: drawn plainly, everywhere;
* :data:`MARKED`: not reached yet; the canvas waits for it, reference views (the inspector) show
  it with a "not reached yet" mark and a jump to the step where it appears;
* :data:`HIDDEN`: kept from the user everywhere (the predict mode hides a gradient until the
  user has guessed it).

The default policy shows what the stepper reached and marks the rest, which is what the app has
always done. Another mode swaps the policy; the views never decide on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpviz.presentation.captions import step_caption

if TYPE_CHECKING:  # the step bar imports this module before torch is loaded
    from bpviz.core.stepper import DisplayState, StepSequence

SHOWN = "shown"
MARKED = "marked"
HIDDEN = "hidden"


class VisibilityPolicy:
    """What is shown at a position. This class is the default policy: everything the stepper
    reached is shown, everything else is marked, nothing is hidden.

    A policy that hides things overrides :meth:`shown` (leave out what must not be drawn) and
    :meth:`unreached` (say :data:`HIDDEN` for it), and :meth:`diagnostics` if the findings must
    go too; every other answer, captions included, follows from those.
    """

    def shown(self, state: DisplayState) -> DisplayState:
        """The part of ``state`` the canvas and the exports draw (values, gradients, edge
        gradients and update lines, in trace ids); by default all of it."""
        return state

    def unreached(self, what: str) -> str:
        """:data:`MARKED` or :data:`HIDDEN`: how to treat a ``what`` (``"value"``,
        ``"gradient"``, ``"update"``) that :meth:`shown` leaves out."""
        return MARKED

    def value(self, state: DisplayState, node: str) -> str:
        """Whether the forward value of trace node ``node`` is shown, marked or hidden."""
        return SHOWN if node in self.shown(state).values else self.unreached("value")

    def grad(self, state: DisplayState, node: str) -> str:
        """Whether dL/d(node) is shown, marked or hidden."""
        return SHOWN if node in self.shown(state).grads else self.unreached("gradient")

    def edge_grad(self, state: DisplayState, u: str, v: str) -> str:
        """Whether the gradient along trace edge (u, v), and the upstream gradient its label
        multiplies by the local derivative, are shown, marked or hidden."""
        return SHOWN if (u, v) in self.shown(state).edge_grads else self.unreached("gradient")

    def update(self, state: DisplayState, node: str) -> str:
        """Whether the SGD update of parameter ``node`` (param − lr × grad) is shown, marked or
        hidden."""
        return SHOWN if node in self.shown(state).updated else self.unreached("update")

    def diagnostics(self, state: DisplayState | None) -> bool:
        """Whether the diagnostics (badges, their colours and messages) are shown; they speak
        of gradients, so a policy hiding gradients may hide them. By default always."""
        return True

    def caption(self, sequence: StepSequence, position: int) -> str:
        """The caption of the step at ``position``, without the numbers this policy hides."""
        state = sequence.state_at(position)
        node = state.step.node
        if node is None:
            return step_caption(sequence, position)
        return step_caption(
            sequence, position, show_value=self.value(state, node) != HIDDEN, show_grad=self.grad(state, node) != HIDDEN
        )


DEFAULT_POLICY = VisibilityPolicy()
