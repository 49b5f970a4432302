"""The step-through sequence of a trace: forward, loss, backward, update.

The position (an int) is the single source of truth; :func:`state_at` derives from it what the
position has reached, so stepping back restores exactly the previous display. What of that the
user sees is the visibility policy's answer (:mod:`bpviz.presentation.visibility`).

Position 0 shows the leaves (inputs, parameters, constants) with their values. Then one step per
op in forward order (its value appears and travels its out-edges), one Loss step (the loss value,
dL/dL = 1), one step per op in backward order (the gradient travels each in-edge in reverse; each
edge shows its local derivative and upstream x local), and one Update step
(param ← param − lr × grad).

Steps carry no text: :mod:`bpviz.presentation.captions` writes what each one says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from bpviz.core.trace_record import Trace

PHASES = ("Start", "Forward", "Loss", "Backward", "Update")


@dataclass(frozen=True)
class Step:
    """One step: its phase, the node it acts on, and the edges it animates."""

    phase: str
    node: str | None
    edges: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DisplayState:
    """What one position has reached: the values, node gradients and edge gradients known, and
    in the Update step the updated parameter values (all in trace node ids)."""

    position: int
    phase: str
    step: Step
    values: frozenset[str]
    grads: frozenset[str]
    edge_grads: frozenset[tuple[str, str]]
    updated: dict[str, torch.Tensor] = field(default_factory=dict, compare=False)

    @property
    def active_node(self) -> str | None:
        """The node this step acts on."""
        return self.step.node

    @property
    def active_edges(self) -> tuple[tuple[str, str], ...]:
        """The edges this step animates (forward: out-edges; backward: in-edges)."""
        return self.step.edges


class StepSequence:
    """The ordered steps of a trace, and the display state at any position."""

    def __init__(self, trace: Trace, lr: float | None = None):
        self.trace = trace
        self.lr = trace.lr if lr is None else lr
        g = trace.graph
        self._leaves = frozenset(n for n, a in g.nodes(data=True) if a["kind"] not in ("op", "loss"))
        steps = [Step("Start", None, ())]
        for node in trace.forward_order:
            if node == trace.loss_node:
                continue
            steps.append(Step("Forward", node, tuple(sorted(g.out_edges(node)))))
        steps.append(Step("Loss", trace.loss_node, ()))
        for node in trace.backward_order:
            if g.nodes[node]["kind"] not in ("op", "loss"):
                continue
            steps.append(Step("Backward", node, tuple(sorted(g.in_edges(node)))))
        self.update_values = self._update_values()
        steps.append(Step("Update", None, ()))
        self.steps: tuple[Step, ...] = tuple(steps)
        self._forward_index = {s.node: i for i, s in enumerate(steps) if s.phase == "Forward" and s.node is not None}
        self._backward_index = {s.node: i for i, s in enumerate(steps) if s.phase in ("Backward",)}
        # A node's gradient is complete once every consumer has run its backward step.
        self._grad_ready: dict[str, int] = {}
        loss_bwd = self._backward_index.get(trace.loss_node, self.loss_position)
        for node in g.nodes:
            consumers = [v for _, v in g.out_edges(node) if not g.edges[node, v]["detached"]]
            if node == trace.loss_node:
                self._grad_ready[node] = self.loss_position
            elif consumers and g.nodes[node]["grad"] is not None:
                self._grad_ready[node] = max(self._backward_index.get(v, loss_bwd) for v in consumers)

    @property
    def loss_position(self) -> int:
        """Position of the Loss step."""
        return next(i for i, s in enumerate(self.steps) if s.phase == "Loss")

    @property
    def last(self) -> int:
        """The last valid position."""
        return len(self.steps) - 1

    def first_of(self, phase: str) -> int:
        """The first position of a phase."""
        return next(i for i, s in enumerate(self.steps) if s.phase == phase)

    def _update_values(self) -> dict[str, torch.Tensor]:
        out = {}
        for node, a in self.trace.graph.nodes(data=True):
            if node in self._leaves and a["requires_grad"] and a["grad"] is not None:
                out[node] = a["value"] - self.lr * a["grad"]
        return out

    def state_at(self, position: int) -> DisplayState:
        """The display at ``position`` (clamped to the valid range)."""
        position = max(0, min(position, self.last))
        step = self.steps[position]
        values = set(self._leaves)
        values.update(n for n, i in self._forward_index.items() if i <= position)
        if position >= self.loss_position:
            values.add(self.trace.loss_node)
        grads = {n for n, i in self._grad_ready.items() if i <= position}
        edge_grads: set[tuple[str, str]] = set()
        for node, i in self._backward_index.items():
            if i <= position:
                edge_grads.update(self.trace.graph.in_edges(node))
        updated = self.update_values if step.phase == "Update" else {}
        return DisplayState(
            position, step.phase, step, frozenset(values), frozenset(grads), frozenset(edge_grads), updated
        )
