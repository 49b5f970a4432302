"""The chain rule written out with the trace's own numbers (pure text, no Qt).

Every number comes from the trace: edge ``local`` derivatives, edge ``grad`` contributions and
node ``grad`` values. Nothing is multiplied here; the result after ``=`` is the gradient torch
computed, so the formula is a reading aid and torch stays the oracle.

* A node on a single scalar path to the loss: ``dL/dx = 14 × 1 × 4 = 56`` (locals from the loss
  end down to the node, as in dL/dz · dz/dy · dy/dx).
* A node used by several ops: the sum of its contributions, ``dL/dx = 4 + 3 = 7``, each one
  spelled out as upstream × local.
* Tensors: the structure (Jacobian-transpose times upstream gradient) with norms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpviz.core.numbers import format_number

if TYPE_CHECKING:
    import torch

    from bpviz.core.trace_record import Trace

TIMES = " × "


def _scalar(t: torch.Tensor | None) -> float | None:
    if t is None or t.numel() != 1:
        return None
    return float(t.detach().reshape(()))


def _num(x: float) -> str:
    """A number inside a formula: negatives in parentheses so signs never read as operators."""
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def _norm(t: torch.Tensor) -> str:
    import torch

    return format_number(round(float(torch.linalg.vector_norm(t.detach().double())), 6))


def _grad_edges(trace: Trace, node: str) -> list[str]:
    """Consumers of ``node`` that send a gradient back, in forward order (stable)."""
    g = trace.graph
    rank = {n: i for i, n in enumerate(trace.forward_order)}
    outs = [v for v in g.successors(node) if g.edges[node, v]["grad"] is not None and not g.edges[node, v]["detached"]]
    return sorted(outs, key=lambda v: (rank.get(v, len(rank)), v))


def sym(trace: Trace, node: str) -> str:
    """The name used in formulas: ``L`` for the loss, else the node's name."""
    return "L" if node == trace.loss_node else (trace.node(node)["name"] or node)


def scalar_chain(trace: Trace, node: str) -> tuple[list[tuple[str, str, float]], str]:
    """Follow single gradient-carrying scalar edges from ``node`` towards the loss.

    Returns the edges walked as ``(u, v, local)`` and the node where the walk stopped (the loss,
    or a node with several consumers or a non-scalar local derivative).
    """
    walked: list[tuple[str, str, float]] = []
    cur = node
    seen = {node}
    while cur != trace.loss_node:
        outs = _grad_edges(trace, cur)
        if len(outs) != 1:
            break
        local = trace.graph.edges[cur, outs[0]]["local"]
        if local is None or outs[0] in seen:
            break
        walked.append((cur, outs[0], float(local)))
        cur = outs[0]
        seen.add(cur)
    return walked, cur


def node_formula(trace: Trace, node: str) -> list[str]:
    """Lines explaining dL/d(node); the first line is the formula with numbers."""
    g = trace.graph
    attrs = trace.node(node)
    name = sym(trace, node)
    grad = attrs["grad"]
    if node == trace.loss_node:
        return ["dL/dL = 1", "The backward pass starts here."]
    if grad is None:
        if not attrs["requires_grad"]:
            return [f"dL/d{name}: {name} does not require grad, so autograd computes none for it."]
        return [f"dL/d{name}: no gradient reaches {name}."]
    outs = _grad_edges(trace, node)
    if not outs:
        scalar = _scalar(grad)
        return [f"dL/d{name} = {format_number(scalar)}" if scalar is not None else f"dL/d{name}: ‖·‖ = {_norm(grad)}"]
    g_node = _scalar(grad)
    if len(outs) == 1:
        walked, stop = scalar_chain(trace, node)
        if walked and g_node is not None:
            factors = [_num(local) for _, _, local in reversed(walked)]
            parts = [f"∂{sym(trace, v)}/∂{sym(trace, u)}" for u, v, _ in reversed(walked)]
            if stop != trace.loss_node:
                up = _scalar(g.nodes[stop]["grad"])
                if up is None:
                    return _tensor_single(trace, node, outs[0])
                factors.insert(0, _num(up))
                parts.insert(0, f"dL/d{sym(trace, stop)}")
            if len(factors) == 1:
                return [f"dL/d{name} = {parts[0]} = {format_number(g_node)}"]
            return [
                f"dL/d{name} = {TIMES.join(factors)} = {format_number(g_node)}",
                f"dL/d{name} = {' · '.join(parts)}",
                "The chain rule: multiply the local derivatives along the path to the loss.",
            ]
        return _tensor_single(trace, node, outs[0])
    contribs: list[torch.Tensor] = [g.edges[node, v]["grad"] for v in outs]
    scalars = [s for c in contribs if (s := _scalar(c)) is not None]
    if g_node is not None and len(scalars) == len(contribs):
        terms = " + ".join(_num(s) for s in scalars)
        lines = [
            f"dL/d{name} = {terms} = {format_number(g_node)}",
            f"{name} is used {len(outs)} times, so its gradient is the sum of the contributions:",
        ]
        for v, c in zip(outs, scalars):
            local = g.edges[node, v]["local"]
            up = _scalar(g.nodes[v]["grad"])
            if local is not None and up is not None:
                lines.append(
                    f"  via {sym(trace, v)}: dL/d{sym(trace, v)} × ∂{sym(trace, v)}/∂{name}"
                    f" = {_num(up)} × {_num(float(local))} = {format_number(c)}"
                )
            else:
                lines.append(f"  via {sym(trace, v)}: {format_number(c)}")
        return lines
    terms = " + ".join(f"(∂{sym(trace, v)}/∂{name})ᵀ·dL/d{sym(trace, v)}" for v in outs)
    lines = [
        f"dL/d{name} = {terms}",
        f"{name} is used {len(outs)} times, so its gradient is the sum of the contributions:",
    ]
    lines += [f"  via {sym(trace, v)}: ‖·‖ = {_norm(c)}" for v, c in zip(outs, contribs)]
    lines.append(f"  sum: ‖dL/d{name}‖ = {_norm(grad)}")
    return lines


def _tensor_single(trace: Trace, node: str, v: str) -> list[str]:
    name, vs = sym(trace, node), sym(trace, v)
    grad = trace.graph.nodes[node]["grad"]
    up = trace.graph.nodes[v]["grad"]
    lines = [f"dL/d{name} = (∂{vs}/∂{name})ᵀ · dL/d{vs}"]
    if up is not None:
        lines.append(f"‖dL/d{vs}‖ = {_norm(up)}  →  ‖dL/d{name}‖ = {_norm(grad)}")
    lines.append("Select the edge to see the local derivative (Jacobian).")
    return lines


def edge_formula(trace: Trace, u: str, v: str) -> list[str]:
    """Lines explaining the gradient that flows back along the edge u -> v."""
    e = trace.edge(u, v)
    us, vs = sym(trace, u), sym(trace, v)
    if e["detached"]:
        return [f"{us} reaches {vs} through .detach(): no gradient flows back along this edge."]
    grad = e["grad"]
    if grad is None:
        return [f"No gradient flows from {vs} back to {us}."]
    up = trace.graph.nodes[v]["grad"]
    local = e["local"]
    g = _scalar(grad)
    up_scalar = _scalar(up)
    if local is not None and g is not None and up_scalar is not None:
        return [
            f"dL/d{vs} × ∂{vs}/∂{us} = {_num(up_scalar)} × {_num(float(local))} = {format_number(g)}",
            f"upstream gradient × local derivative = this edge's share of dL/d{us}",
        ]
    lines = [
        f"dL/d{us} += (∂{vs}/∂{us})ᵀ · dL/d{vs}",
        f"this edge's share of dL/d{us}: the local Jacobian, transposed, times the upstream gradient",
    ]
    if up is not None:
        lines.append(f"‖dL/d{vs}‖ = {_norm(up)}  →  ‖share‖ = {_norm(grad)}")
    return lines
