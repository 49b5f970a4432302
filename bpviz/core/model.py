"""The data a trace produces: a forward-direction graph of values, gradients and local derivatives.

Node attributes (``trace.graph.nodes[node_id]``):

=============  ==============================================================================
``kind``       ``"input"``, ``"param"``, ``"constant"``, ``"op"`` or ``"loss"``
``name``       parameter name (``layers.0.weight``), the scenario's variable name (``x``, ``w1``)
               or, for ops, the friendly op name
``op``         friendly op name (``linear``, ``relu``, ``pow``, ``mse_loss``); ``""`` for leaves
``autograd``   autograd node class (``AddmmBackward0``); ``""`` for leaves without one
``module``     module scope (``layers.0.fc``); ``""`` at top level
``shape``      tuple of ints
``dtype``      e.g. ``"float32"``
``value``      detached ``torch.Tensor`` (the forward value), ``None`` where unknown
``grad``       detached ``torch.Tensor``: dL/d(node), ``None`` where no gradient flows
``requires_grad``  bool
=============  ==============================================================================

Edge attributes (``trace.graph.edges[u, v]``), edges point from producer to consumer:

=============  ==============================================================================
``grad``       the part of dL/du that flows back along this edge (tensor of u's shape) or None;
               for fan-out, a node's ``grad`` is the sum of its out-edges' ``grad``
``local``      the local derivative dv/du as a float where u and v are scalars, else ``None``
               (use :meth:`Trace.jacobian` for a dense one on demand)
``index``      which input of v this edge feeds
``detached``   True where the value flowed through ``.detach()`` (no gradient can pass)
=============  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    import torch

KINDS = ("input", "param", "constant", "op", "loss")
DIAGNOSTIC_KINDS = ("none_grad", "nonfinite", "exploding", "vanishing", "dead_relu")


@dataclass(frozen=True)
class Diagnostic:
    """One finding about the pass: ``kind`` is one of :data:`DIAGNOSTIC_KINDS`."""

    kind: str
    node: str | None
    message: str
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON form: kind, node, message (plus detail where there is one)."""
        out: dict[str, Any] = {"kind": self.kind, "node": self.node, "message": self.message}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Trace:
    """One traced forward and backward pass.

    ``forward_order`` lists op node ids (including the loss node, last) in creation order;
    ``backward_order`` lists node ids in the order autograd ran them (the loss first, then ops,
    leaves when their gradient was accumulated).
    """

    graph: nx.DiGraph[str]
    loss: float
    loss_node: str
    forward_order: list[str]
    backward_order: list[str]
    diagnostics: list[Diagnostic]
    title: str = ""
    lr: float = 0.1
    # Autograd nodes kept (with retained saved tensors) for on-demand dense Jacobians.
    _autograd: dict[str, Any] = field(default_factory=dict, repr=False)

    def node(self, node_id: str) -> dict[str, Any]:
        """The attribute dict of one node."""
        return self.graph.nodes[node_id]

    def edge(self, u: str, v: str) -> dict[str, Any]:
        """The attribute dict of one edge."""
        return self.graph.edges[u, v]

    def find(self, name: str) -> str:
        """The id of the first node named ``name`` (raises KeyError if none)."""
        for node_id, attrs in self.graph.nodes(data=True):
            if attrs.get("name") == name:
                return node_id
        raise KeyError(name)

    def params(self) -> list[str]:
        """Ids of parameter nodes, in a stable order."""
        return [n for n, a in self.graph.nodes(data=True) if a["kind"] == "param"]

    def diagnostics_for(self, node_id: str) -> list[Diagnostic]:
        """The diagnostics that point at one node."""
        return [d for d in self.diagnostics if d.node == node_id]

    def jacobian(self, u: str, v: str, max_elements: int = 65536) -> torch.Tensor | None:
        """Dense local Jacobian dv/du for edge (u, v), shape ``v.shape + u.shape``.

        Computed on demand by calling v's autograd node once per output element; returns None
        when the edge has no autograd node behind it or the Jacobian would exceed
        ``max_elements`` entries.
        """
        from bpviz.core.jacobian import edge_jacobian

        return edge_jacobian(self, u, v, max_elements)
