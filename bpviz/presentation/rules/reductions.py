"""Rules of the reductions (sum, mean) and the losses (mse, binary cross-entropy, nll)."""

from __future__ import annotations

import torch

from bpviz.presentation.rules.base import (
    OpContext,
    Rule,
    _as_tensor,
    _local,
    _paren,
    _rule,
    _shape,
    _tensor,
    _unary,
    _up,
    _vjp,
)


# ----------------------------------------------------------------------------------- reductions
def _spread(ctx: OpContext, x: torch.Tensor) -> tuple[torch.Tensor, str] | None:
    """dL/d(output) of a reduction along some dims, put back in the input's shape (each output
    entry's gradient copied to the entries it summed), and the dims in words."""
    g, dims = ctx.upstream, ctx.saved("dim")
    if g is None or not isinstance(dims, tuple):
        return None
    norm = sorted((d - 2**64 if d >= 2**63 else d) % x.dim() for d in dims) if x.dim() else []
    if not ctx.saved("keepdim", False):
        for d in norm:
            g = g.unsqueeze(d)
    return g.expand(x.shape), ", ".join(map(str, norm))


@_rule("Sum")
def _sum(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    if ctx.output is not None and ctx.output.numel() > 1:  # along some dims
        spread = _spread(ctx, x)
        if spread is None:
            return None
        value, dims = spread
        return _vjp(
            ctx,
            f"dL/d{a}",
            f"{_up(ctx)} copied along dim {dims}",
            "expand(g)",
            "",
            value,
            f"{_shape(ctx.upstream)} → {_shape(x)}",
            "each entry counts once in its sum: ∂/∂ = 1",
        )
    return _local(
        ctx,
        f"Σ{_paren(a)}",
        a,
        "1",
        "1",
        "1",
        torch.ones_like(x),
        "every entry counts once: the upstream gradient is copied to each",
    )


@_rule("Mean")
def _mean(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None or ctx.output is None:
        return None
    n = x.numel() // max(1, ctx.output.numel())
    if ctx.output.numel() > 1:  # along some dims
        spread = _spread(ctx, x)
        if spread is None:
            return None
        value, dims = spread
        return _vjp(
            ctx,
            f"dL/d{a}",
            f"{_up(ctx)} / N copied along dim {dims}",
            "expand(g)/N",
            "",
            value / n,
            f"{_shape(ctx.upstream)} → {_shape(x)}",
            f"N = {n} entries averaged into each output",
        )
    return _local(
        ctx,
        f"mean({a})",
        a,
        "1/N",
        "1/N",
        f"1 / {n}",
        torch.full_like(x, 1 / n),
        f"N = {n} entries averaged into each output",
    )


# ----------------------------------------------------------------------------------- losses
def _reduction(ctx: OpContext, x: torch.Tensor) -> tuple[float, str]:
    """The divisor of a loss's reduction (mean: N, sum: 1) and its text."""
    red = ctx.saved("reduction", 1)
    n = x.numel() if red == 1 else 1
    return float(n), (f" / {n}" if n != 1 else "")


@_rule("MseLoss")
def _mse(ctx: OpContext, slot: int) -> Rule | None:
    a, x = ctx.operand(0, "self")
    b, t = ctx.operand(1, "target")
    if x is None or t is None or ctx.saved("reduction", 1) not in (0, 1, 2):
        return None
    if ctx.output is not None and ctx.output.numel() != 1:
        return None
    n, by = _reduction(ctx, x)
    sign, u = ("", a) if slot == 0 else ("−", b)
    over = "/N" if by else ""
    value = (2 if slot == 0 else -2) * (x - t) / n
    return _local(
        ctx,
        f"mse({a}, {b})",
        u,
        f"{sign}2({a} − {b}){over}",
        f"{'-' if sign else ''}2*({a} - {b}){over}",
        f"{sign}2 × ({_tensor(x)} − {_tensor(t)}){by}",
        value,
    )


@_rule("BinaryCrossEntropy")
def _bce(ctx: OpContext, slot: int) -> Rule | None:
    a, p = ctx.operand(0, "self")
    b, t = ctx.operand(1, "target")
    if slot != 0 or p is None or t is None or ctx.saved("weight") is not None:
        return None
    if ctx.output is not None and ctx.output.numel() != 1:
        return None
    n, by = _reduction(ctx, p)
    over = "/N" if by else ""
    return _local(
        ctx,
        f"bce({a}, {b})",
        a,
        f"({a} − {b}) / ({a}(1 − {a})){over}",
        f"({a} - {b})/({a}*(1 - {a})){over}",
        f"({_tensor(p)} − {_tensor(t)}) / ({_tensor(p)} × (1 − {_tensor(p)})){by}",
        (p - t) / (p * (1 - p)) / n,
    )


@_rule("BinaryCrossEntropyWithLogits")
def _bce_logits(ctx: OpContext, slot: int) -> Rule | None:
    a, z = ctx.operand(0, "self")
    b, t = ctx.operand(1, "target")
    if slot != 0 or z is None or t is None or ctx.saved("weight") is not None or ctx.saved("pos_weight") is not None:
        return None
    if ctx.output is not None and ctx.output.numel() != 1:
        return None
    n, by = _reduction(ctx, z)
    over = "/N" if by else ""
    s = torch.sigmoid(z)
    return _local(
        ctx,
        f"bce_logits({a}, {b})",
        a,
        f"(σ({a}) − {b}){over}",
        f"(sigmoid({a}) - {b}){over}",
        f"({_tensor(s)} − {_tensor(t)}){by}",
        (s - t) / n,
    )


@_rule("NllLoss")
def _nll(ctx: OpContext, slot: int) -> Rule | None:
    a, x = ctx.operand(0, "self")
    target = _as_tensor(ctx.saved("target"))
    if slot != 0 or x is None or target is None or ctx.saved("weight") is not None or x.dim() not in (1, 2):
        return None
    red = ctx.saved("reduction", 1)
    if red not in (1, 2) or ctx.saved("ignore_index", -100) in target.tolist():
        return None
    rows = x.reshape(-1, x.shape[-1])
    onehot = torch.zeros_like(rows)
    onehot[torch.arange(rows.shape[0]), target.reshape(-1).long()] = 1
    n = rows.shape[0] if red == 1 else 1
    by = f" / {n}" if n != 1 else ""
    over = "/N" if by else ""
    note = (
        "cross_entropy = nll_loss(log_softmax(z), t): with the log_softmax before it, "
        "dL/dz = (softmax(z) − onehot(t))/N"
        if ctx.op == "cross_entropy"
        else ""
    )
    return _local(
        ctx,
        f"{'ce' if ctx.op == 'cross_entropy' else 'nll'}({a}, t)",
        a,
        f"−onehot(t){over}",
        f"-onehot(t){over}",
        f"−onehot({_tensor(target)}){by}",
        (-onehot / n).reshape(x.shape),
        note,
    )
