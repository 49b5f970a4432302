"""The records a trace's graph stores on its nodes and edges, and the one place that writes them.

networkx keeps one attribute dict per node and per edge; these TypedDicts name its keys and
types, and every record is made by :func:`node_record`, :func:`edge_record` (the graph builder)
or :func:`group_record`, :func:`view_edge_record` (the display views of :mod:`bpviz.core.views`).
Every key of a record is always present, so readers index it (``attrs["grad"]``) rather than
guess with ``.get``; only :class:`ViewEdgeRecord`'s keys are optional.

Node records (``trace.graph.nodes[node_id]``):

=================  ==========================================================================
``kind``           ``"input"``, ``"param"``, ``"constant"``, ``"op"`` or ``"loss"``
                   (``"group"`` in a collapsed view)
``name``           parameter name (``layers.0.weight``), the scenario's variable name (``x``,
                   ``w1``) or, for ops, the friendly op name
``op``             friendly op name (``linear``, ``relu``, ``pow``, ``mse_loss``); ``""`` for
                   leaves
``autograd``       autograd node class (``AddmmBackward0``); ``""`` for leaves without one
``module``         module scope (``layers.0.fc``); ``""`` at top level
``shape``          tuple of ints
``dtype``          e.g. ``"float32"``
``value``          detached ``torch.Tensor`` (the forward value), ``None`` where unknown
``grad``           detached ``torch.Tensor``: dL/d(node), ``None`` where no gradient flows
``requires_grad``  bool
=================  ==========================================================================

Edge records (``trace.graph.edges[u, v]``), edges point from producer to consumer:

=============  ==============================================================================
``grad``       the part of dL/du that flows back along this edge (tensor of u's shape) or None;
               for fan-out, a node's ``grad`` is the sum of its out-edges' ``grad``
``local``      the local derivative dv/du as a float where u and v are scalars, else ``None``
               (use :meth:`~bpviz.core.trace_record.Trace.jacobian` for a dense one on demand)
``index``      which inputs of v this edge feeds (a list: ``x * x`` feeds both; empty for data
               edges, along which no gradient can flow)
``detached``   True where the value flowed through ``.detach()`` (no gradient can pass)
=============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict, cast

if TYPE_CHECKING:
    import torch

Edge = tuple[str, str]


class NodeRecord(TypedDict):
    """The attributes of one node of a trace graph (see the module docstring)."""

    kind: str
    name: str
    op: str
    autograd: str
    module: str
    shape: tuple[int, ...]
    dtype: str
    value: torch.Tensor | None
    grad: torch.Tensor | None
    requires_grad: bool


class GroupRecord(NodeRecord):
    """A collapsed module's box in a view: ``members`` are the trace nodes folded into it,
    ``output`` the one member whose value leaves it (None when several do). Shape, dtype, value,
    gradient and requires_grad are the output's (empty without a single output)."""

    members: list[str]
    output: str | None


class EdgeRecord(TypedDict):
    """The attributes of one edge of a trace graph (see the module docstring)."""

    grad: torch.Tensor | None
    local: float | None
    index: list[int]
    detached: bool


class ViewEdgeRecord(EdgeRecord, total=False):
    """A drawn edge of a view: ``bridged`` lists the hidden shape ops it passes (in path order),
    ``members`` the trace-level edges it stands for (collapsed modules)."""

    bridged: list[str]
    members: list[Edge]


def node_record(
    kind: str,
    name: str,
    *,
    op: str = "",
    autograd: str = "",
    module: str = "",
    shape: tuple[int, ...] = (),
    dtype: str = "",
    value: torch.Tensor | None = None,
    grad: torch.Tensor | None = None,
    requires_grad: bool = False,
) -> NodeRecord:
    """A node's record; the gradient is usually filled in after the backward pass."""
    return {
        "kind": kind,
        "name": name,
        "op": op,
        "autograd": autograd,
        "module": module,
        "shape": shape,
        "dtype": dtype,
        "value": value,
        "grad": grad,
        "requires_grad": requires_grad,
    }


def edge_record(
    index: list[int], *, grad: torch.Tensor | None = None, local: float | None = None, detached: bool = False
) -> EdgeRecord:
    """An edge's record; gradient and local derivative are usually filled in after the backward
    pass."""
    return {"grad": grad, "local": local, "index": index, "detached": detached}


def group_record(
    module: str, members: list[str], output: str | None, source: NodeRecord | None, title: str = ""
) -> GroupRecord:
    """The box of a collapsed module ``module`` (``""``: the whole model) holding ``members``;
    ``source`` is the record of its single output, if it has one; ``title`` (Linear(10→5))
    names the box, else the module's name does."""
    out = source if source is not None else node_record("group", "")
    return {
        "kind": "group",
        "name": title or module or "model",
        "op": "module",
        "autograd": "",
        "module": module,
        "shape": out["shape"],
        "dtype": out["dtype"],
        "value": out["value"],
        "grad": out["grad"],
        "requires_grad": out["requires_grad"],
        "members": members,
        "output": output,
    }


def view_edge_record(
    base: ViewEdgeRecord,
    grad: torch.Tensor | None,
    local: float | None,
    detached: bool,
    index: list[int],
    bridged: list[str] | None = None,
    members: list[Edge] | None = None,
) -> ViewEdgeRecord:
    """A drawn edge of a view made from ``base``, the record of the first edge it stands for
    (a view's edge when views are stacked: its view keys are kept unless ``bridged`` or
    ``members`` replace them)."""
    record: ViewEdgeRecord = {"grad": grad, "local": local, "index": index, "detached": detached}
    bridged = base.get("bridged") if bridged is None else bridged
    if bridged is not None:
        record["bridged"] = bridged
    members = base.get("members") if members is None else members
    if members is not None:
        record["members"] = members
    return record


def as_node(attrs: Mapping[str, Any]) -> NodeRecord:
    """A graph's node attribute dict read as the record it holds (networkx types it loosely)."""
    return cast(NodeRecord, attrs)


def as_edge(attrs: Mapping[str, Any]) -> ViewEdgeRecord:
    """A graph's edge attribute dict read as the record it holds (a view's may carry more)."""
    return cast(ViewEdgeRecord, attrs)
