"""Local derivative rules: what each op's derivative *is*, written out with the trace's numbers.

For an edge u -> v the rule says how v's op turns dL/dv into u's share of dL/du:

* elementwise ops (add, mul, pow, exp, relu, ...) and ops with a scalar output (sum, mean, the
  losses) have a *local derivative* ∂v/∂u of u's (or v's) shape: ``d(x²)/dx = 2x = 2 × 2 = 4``;
  the edge's gradient is ``dL/dv ⊙ local``, summed back to u's shape where u was broadcast;
* ops that mix entries (matmul, linear, conv2d, softmax, log_softmax) are written as their
  vector-Jacobian product: ``dL/dW = (dL/dy)ᵀ · x``, with the shapes ``[5×32] · [32×10]``.

:func:`edge_rule` reads an edge of a :class:`~bpviz.core.trace_record.Trace`; :func:`op_rule`
does the same from an autograd node and its inputs (the tests use it with random tensors, torch
as the oracle). Every rule is evaluated from its own formula here, so a wrong formula shows up as
a number that disagrees with autograd's (``tests/presentation/test_rules.py``). Ops without a
rule give None and the views fall back to the plain chain rule.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import torch

# The rule modules register their rules with the base on import.
from bpviz.presentation.rules import elementwise, mixing, reductions  # noqa: F401
from bpviz.presentation.rules.base import (
    _RULES,
    LOCAL,
    VJP,
    OpContext,
    Rule,
    _base,
    _paren,
    _shape,
    _tensor,
    _times,
    _up,
    supported_ops,
)

if TYPE_CHECKING:
    from bpviz.core.trace_record import Trace

__all__ = [
    "OpContext",
    "Rule",
    "edge_rule",
    "edge_vjp",
    "fan_in_rule",
    "op_rule",
    "path_rule",
    "rule_symbol",
    "short_rule",
    "supported_ops",
]


# ----------------------------------------------------------------------------------- entry points
def _combine(parts: list[Rule]) -> Rule:
    """One tensor feeding several inputs of one op (x·x): the rules add up."""
    first = parts[0]
    value = sum((p.value for p in parts[1:]), first.value)
    same = all(p.formula == first.formula for p in parts)
    if same and first.formula and first.kind == LOCAL:
        formula, symbolic = _times(_paren(first.formula), str(len(parts))), f"{len(parts)}*{first.symbolic}"
    else:
        formula = " + ".join(p.formula for p in parts)
        symbolic = " + ".join(p.symbolic for p in parts)
    numbers = " + ".join(p.numbers for p in parts) if all(p.numbers for p in parts) else ""
    if same and first.kind == LOCAL and first.numbers:
        numbers = f"{len(parts)} × {first.numbers}"  # x·x: 2x = 2 × 1.5
    return Rule(
        first.op,
        first.lhs,
        formula,
        symbolic,
        numbers,
        value,
        first.kind,
        first.shapes,
        (*first.notes, f"the same tensor feeds {len(parts)} inputs: their rules add up"),
    )


def op_rule(ctx: OpContext, slots: list[int], u_shape: tuple[int, ...] | None = None) -> Rule | None:
    """The rule for the input ``slots`` of the op ``ctx`` describes (several: one tensor feeding
    several inputs), or None where the op has no rule. ``u_shape``: the input's shape, to note a
    broadcast (the edge's gradient is then summed back to it)."""
    maker = _RULES.get(_base(ctx.autograd))
    if maker is None or not slots:
        return None
    try:
        parts = [maker(ctx, i) for i in slots]
    except (RuntimeError, TypeError, ValueError, IndexError):  # an unusual call: no rule, not a crash
        return None
    if any(p is None for p in parts):
        return None
    done = [p for p in parts if p is not None]
    rule = done[0] if len(done) == 1 else _combine(done)
    out = ctx.output
    # A scalar output (a loss, a sum): the local derivative is already dL/du's direction.
    if rule.kind == LOCAL and not rule.scalar and out is not None and out.numel() > 1:
        u_name = rule.lhs.rpartition("/d")[2]
        bare = rule.formula.replace("/", "").isalnum() or (rule.formula.startswith("[") and rule.formula.endswith("]"))
        local = rule.formula if bare else f"({rule.formula})"
        rule = replace(
            rule, shapes=f"dL/d{u_name} = dL/d{ctx.out_name} ⊙ {local}   {_shape(out)} ⊙ {_shape(rule.value)}"
        )
    if (
        rule.kind == LOCAL
        and u_shape is not None
        and out is not None
        and tuple(out.shape) != tuple(u_shape)
        and out.numel() > 1
        and out.numel() != math.prod(u_shape)
    ):
        shape = "[" + "×".join(map(str, u_shape)) + "]" if u_shape else "scalar"
        rule = replace(rule, notes=(*rule.notes, f"broadcast: {_shape(out)} is summed back to {shape} (sum_to_size)"))
    return rule


def edge_vjp(rule: Rule, upstream: torch.Tensor, u_shape: tuple[int, ...]) -> torch.Tensor:
    """The edge's gradient the rule gives: ``dL/dv ⊙ local`` summed to u's shape (broadcasting),
    or the rule's own value for matrix forms."""
    if rule.kind == VJP:
        return rule.value
    out = upstream * rule.value
    if tuple(out.shape) == tuple(u_shape):
        return out
    if out.numel() == math.prod(u_shape):  # [1] against a 0-dim scalar: the same numbers
        return out.reshape(u_shape)
    return out.sum_to_size(u_shape)


def _name(trace: Trace, node: str) -> str:
    return "L" if node == trace.loss_node else (trace.node(node)["name"] or node)


def context(trace: Trace, v: str) -> OpContext:
    """What the rules read about trace node ``v``: names and values of its inputs."""
    g = trace.graph
    inputs: dict[int, tuple[str, torch.Tensor | None]] = {}
    constants: list[tuple[str, torch.Tensor | None]] = []
    transposes: dict[int, str] = {}
    for p in sorted(g.predecessors(v)):
        e = trace.edge(p, v)
        a = trace.node(p)
        entry = (_name(trace, p), a["value"])
        if e["index"] and not e["detached"]:
            for i in e["index"]:
                inputs[i] = entry
            sources = list(g.predecessors(p)) if _base(a["autograd"]) == "T" else []
            if len(sources) == 1:
                transposes.update((i, _name(trace, sources[0])) for i in e["index"])
        else:
            constants.append(entry)
    node = trace.node(v)
    return OpContext(
        node["op"],
        node["autograd"],
        trace._autograd.get(v),
        inputs,
        node["value"],
        node["grad"],
        _name(trace, v),
        constants,
        transposes,
    )


def edge_rule(trace: Trace, u: str, v: str) -> Rule | None:
    """The local derivative rule of edge u -> v of ``trace`` (None: no gradient flows along it,
    or v's op has no rule)."""
    if not trace.graph.has_edge(u, v):
        return None
    e = trace.edge(u, v)
    if not e["index"] or e["detached"] or not trace.node(v)["autograd"]:
        return None
    rule = op_rule(context(trace, v), list(e["index"]), trace.node(u)["shape"])
    if rule is not None and _base(trace.node(v)["autograd"]) == "T":
        # A weight feeding linear through its transpose: say what that means for the weight.
        consumers = [c for c in trace.graph.successors(v) if trace.edge(v, c)["index"]]
        whole = path_rule(trace, [u, v, consumers[0]]) if len(consumers) == 1 else None
        if whole is not None:
            return replace(
                rule,
                formula=f"{rule.formula} = {whole.formula}",
                numbers=whole.numbers,
                kind=VJP,
                shapes=whole.shapes,
                notes=whole.notes,
            )
    return rule


def path_rule(trace: Trace, hops: list[str]) -> Rule | None:
    """The rule of a drawn edge that bridges hidden shape ops: the weight of ``linear`` seen
    through its transpose (W -> t -> linear) reads ``dL/dW = (dL/dy)ᵀ · x``. Other bridges: None."""
    if len(hops) == 2:
        return edge_rule(trace, *hops)
    if len(hops) != 3 or _base(trace.node(hops[1])["autograd"]) != "T":
        return None
    w, t, v = hops
    inner = edge_rule(trace, t, v)
    if inner is None or inner.kind != VJP or not inner.symbolic.endswith("@ g"):
        return None
    ctx = context(trace, v)
    a = inner.symbolic.split("^T")[0]
    wname, up = _name(trace, w), _up(ctx)
    value = inner.value.t()
    g = ctx.upstream
    _, x = ctx.operand(1, "mat1")
    numbers = f"{_tensor(g.t())} · {_tensor(x)}" if g is not None and x is not None else ""
    shapes = f"{_shape(g.t() if g is not None else None)} · {_shape(x)} → {_shape(value)}"
    return Rule(
        inner.op,
        f"dL/d{wname}",
        f"({up})ᵀ · {_paren(a)}",
        f"g^T @ {a}",
        numbers,
        value,
        VJP,
        shapes,
        (f"{ctx.op} uses {wname}ᵀ: the gradient of {wname} is that of {wname}ᵀ, transposed",),
    )


def rule_symbol(trace: Trace, u: str, v: str) -> str | None:
    """The symbolic local derivative of edge u -> v in ASCII (``2*x``), or None: what
    ``bpviz trace --json`` writes as the edge's ``rule``."""
    rule = edge_rule(trace, u, v)
    return rule.symbolic if rule is not None else None


# Longer rules would crowd the canvas: the inspector has room for them.
SHORT_MAX = 14


def short_rule(trace: Trace, u: str, v: str) -> str:
    """The canvas label's rule for a scalar edge u -> v of ``trace`` (``2x = 4``), or '' where
    there is none, the edge is not scalar, or the rule is too long for a label."""
    if not trace.graph.has_edge(u, v) or trace.edge(u, v)["local"] is None:
        return ""
    rule = edge_rule(trace, u, v)
    text = rule.short() if rule is not None else ""
    return text if len(text) <= SHORT_MAX else ""


def fan_in_rule(trace: Trace, node: str) -> Rule | None:
    """Fan-in accumulation: a tensor used by several ops gets the sum of what flows back along
    each use, ``dL/dx = (via pow) + (via mul) = 4 + 3 = 7``. None for a node used once."""
    g = trace.graph
    uses = [
        v
        for v in sorted(g.successors(node))
        if g.edges[node, v]["index"] and not g.edges[node, v]["detached"] and g.edges[node, v]["grad"] is not None
    ]
    if len(uses) < 2:
        return None
    grads: list[torch.Tensor] = [g.edges[node, v]["grad"] for v in uses]
    value = sum(grads[1:], grads[0])
    names = [_name(trace, v) for v in uses]
    parts = [_tensor(t) for t in grads]
    numbers = " + ".join(parts) if not any("‖·‖" in p for p in parts) else ""
    return Rule(
        "accumulate",
        f"dL/d{_name(trace, node)}",
        " + ".join(f"(via {n})" for n in names),
        " + ".join(f"g_{n}" for n in names),
        numbers,
        value.detach(),
        VJP,
        notes=(f"{_name(trace, node)} is used {len(uses)} times: autograd adds the gradients of its uses",),
    )
