"""What a trace produces: the :class:`Trace` (a forward-direction graph of values, gradients and
local derivatives, with the step orders and diagnostics) and its :class:`Diagnostic` findings.

The graph's node and edge records are described and written in :mod:`bpviz.core.graph_records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import networkx as nx

from bpviz.core.graph_records import EdgeRecord, NodeRecord

if TYPE_CHECKING:
    import torch

KINDS = ("input", "param", "constant", "op", "loss")
# torch_fallback: once per process, the torch self-check failed (see bpviz.core.torch_compat).
DIAGNOSTIC_KINDS = (
    "none_grad",
    "nonfinite",
    "exploding",
    "vanishing",
    "dead_relu",
    "several_outputs",
    "torch_fallback",
)


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
    # Qualified module name -> its layer title (Linear(10→5)); empty for a loss() closure.
    module_titles: dict[str, str] = field(default_factory=dict)
    # Autograd nodes kept (with retained saved tensors) for on-demand dense Jacobians.
    _autograd: dict[str, Any] = field(default_factory=dict, repr=False)
    # (u, v) -> the value edge u -> v carries where u has several outputs used by different
    # ops (chunk, var_mean) and u's node shows only the first used one.
    _edge_values: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def node(self, node_id: str) -> NodeRecord:
        """The record of one node."""
        return cast(NodeRecord, self.graph.nodes[node_id])

    def edge_value(self, u: str, v: str) -> torch.Tensor | None:
        """The value that flows along edge u -> v: u's value, or, where u has several outputs
        used by different ops (``a, b = x.chunk(2)``), the output this edge carries."""
        value = self._edge_values.get((u, v))
        return value if value is not None else self.graph.nodes[u]["value"]  # type: ignore[no-any-return]

    def edge(self, u: str, v: str) -> EdgeRecord:
        """The record of one edge."""
        return cast(EdgeRecord, self.graph.edges[u, v])

    def find(self, name: str) -> str:
        """The id of the first node named ``name`` (raises KeyError if none)."""
        for node_id, attrs in self.graph.nodes(data=True):
            if attrs["name"] == name:
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
