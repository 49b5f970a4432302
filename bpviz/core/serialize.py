"""The JSON form of a Trace (schema in docs/trace-schema.md)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from bpviz.core.trace_record import Trace

SCHEMA_VERSION = 1
# Tensors with more elements than this are written as null, with a summary beside them.
MAX_ELEMENTS = 4096


def _number(x: float) -> float | str:
    # JSON has no NaN/Infinity; write them as strings so standard parsers still read the file.
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def tensor_json(t: torch.Tensor | None, max_elements: int = MAX_ELEMENTS) -> Any:
    """A number for one element, nested lists for small tensors, None for none or large ones."""
    if t is None or t.numel() > max_elements:
        return None
    t = t.detach()
    if t.is_complex():
        t = t.abs()
    if t.dim() == 0:
        return _number(float(t))
    lists = t.double().tolist()
    stack = [lists]
    while stack:
        items = stack.pop()
        for i, item in enumerate(items):
            if isinstance(item, list):
                stack.append(item)
            else:
                items[i] = _number(item)
    return lists


def summary_json(t: torch.Tensor | None) -> dict[str, Any] | None:
    """min, max, mean and norm of a tensor (for tensors too large to write out)."""
    if t is None or t.numel() == 0 or not t.is_floating_point():
        return None
    d = t.detach().double()
    return {
        k: _number(float(v)) for k, v in (("min", d.min()), ("max", d.max()), ("mean", d.mean()), ("norm", d.norm()))
    }


def trace_to_json(
    trace: Trace, max_elements: int = MAX_ELEMENTS, edge_rule: Callable[[str, str], str | None] | None = None
) -> dict[str, Any]:
    """The whole trace as JSON-ready data. ``edge_rule(u, v)``: the symbolic local derivative of
    an edge (``2*x``), written as its ``rule``; core knows no rules, so the caller passes them
    (:func:`bpviz.presentation.rules.rule_symbol`), else every ``rule`` is null."""
    g = trace.graph
    nodes = []
    for node_id, a in g.nodes(data=True):
        item = {
            "id": node_id,
            "kind": a["kind"],
            "name": a["name"],
            "op": a["op"],
            "autograd": a["autograd"],
            "module": a["module"],
            "shape": list(a["shape"]),
            "dtype": a["dtype"],
            "requires_grad": a["requires_grad"],
            "value": tensor_json(a["value"], max_elements),
            "grad": tensor_json(a["grad"], max_elements),
        }
        for key in ("value", "grad"):
            t = a[key]
            if t is not None and t.numel() > max_elements:
                item[f"{key}_summary"] = summary_json(t)
        nodes.append(item)
    edges = []
    for u, v, e in g.edges(data=True):
        edges.append(
            {
                "source": u,
                "target": v,
                "grad": tensor_json(e["grad"], max_elements),
                "local": _number(e["local"]) if e["local"] is not None else None,
                "detached": bool(e["detached"]),
                "rule": edge_rule(u, v) if edge_rule is not None else None,
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "title": trace.title,
        "loss": _number(trace.loss),
        "loss_node": trace.loss_node,
        "nodes": nodes,
        "edges": edges,
        "forward_order": list(trace.forward_order),
        "backward_order": list(trace.backward_order),
        "diagnostics": [d.to_json() for d in trace.diagnostics],
    }
