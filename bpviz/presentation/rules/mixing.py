"""Rules of the ops that mix entries: matrix products, pooling, concatenation, the shape ops,
softmax, log_softmax and conv2d, written as vector-Jacobian products with their shapes."""

from __future__ import annotations

import torch

from bpviz.core.numbers import format_number
from bpviz.presentation.rules.base import (
    OpContext,
    Rule,
    _as_tensor,
    _base,
    _local,
    _paren,
    _rule,
    _shape,
    _tensor,
    _unary,
    _up,
    _vjp,
)


# ----------------------------------------------------------------------------------- matrix forms
@_rule("Mm", "Addmm")
def _mm(ctx: OpContext, slot: int) -> Rule | None:
    """y = A·B (mm, matmul) or y = β·bias + α·A·B (addmm, linear: B is Wᵀ)."""
    g = ctx.upstream
    add = _base(ctx.autograd) == "Addmm"
    off = 1 if add else 0
    a, mat_a = ctx.operand(off, "mat1" if add else "self")
    b, mat_b = ctx.operand(off + 1, "mat2")
    if g is None:
        return None
    up = _up(ctx)
    alpha = float(ctx.saved("alpha", 1) or 1) if add else 1.0
    scale = "" if alpha == 1 else f"{format_number(alpha)}·"
    if add and slot == 0:
        c, bias = ctx.operand(0)
        beta = float(ctx.saved("beta", 1) or 1)
        if bias is None:
            return None
        value = (beta * g).sum_to_size(bias.shape)
        coeff = "" if beta == 1 else f"{format_number(beta)}·"
        return _vjp(
            ctx,
            f"dL/d{c}",
            f"{coeff}Σ_rows {up}",
            "sum(g, rows)",
            f"Σ_rows {_tensor(g)}",
            value,
            f"{_shape(g)} → {_shape(bias)}",
            "the bias is added to every row: its gradient sums them",
        )
    if slot == off:
        if mat_b is None:
            return None
        value = alpha * g @ mat_b.t()
        # (Wᵀ)ᵀ = W: name the weight rather than the transpose op linear made of it.
        b_t = ctx.transposes.get(off + 1) or f"{_paren(b)}ᵀ"
        return _vjp(
            ctx,
            f"dL/d{a}",
            f"{scale}{up} · {b_t}",
            f"g @ {b}^T",
            f"{_tensor(g)} · {_tensor(mat_b.t())}",
            value,
            f"{_shape(g)} · {_shape(mat_b.t())} → {_shape(value)}",
        )
    if slot == off + 1:
        if mat_a is None:
            return None
        value = alpha * mat_a.t() @ g
        return _vjp(
            ctx,
            f"dL/d{b}",
            f"{scale}{_paren(a)}ᵀ · {up}",
            f"{a}^T @ g",
            f"{_tensor(mat_a.t())} · {_tensor(g)}",
            value,
            f"{_shape(mat_a.t())} · {_shape(g)} → {_shape(value)}",
        )
    return None


@_rule("Mv")
def _mv(ctx: OpContext, slot: int) -> Rule | None:
    """y = A·v (a matrix times a vector)."""
    g = ctx.upstream
    a, mat = ctx.operand(0, "self")
    b, vec = ctx.operand(1, "vec")
    if g is None or mat is None or vec is None:
        return None
    up = _up(ctx)
    if slot == 0:
        value = torch.outer(g, vec)
        return _vjp(
            ctx,
            f"dL/d{a}",
            f"{up} ⊗ {b}",
            f"outer(g, {b})",
            f"{_tensor(g)} ⊗ {_tensor(vec)}",
            value,
            f"{_shape(g)} ⊗ {_shape(vec)} → {_shape(value)}",
        )
    value = mat.t() @ g
    return _vjp(
        ctx,
        f"dL/d{b}",
        f"{_paren(a)}ᵀ · {up}",
        f"{a}^T @ g",
        f"{_tensor(mat.t())} · {_tensor(g)}",
        value,
        f"{_shape(mat.t())} · {_shape(g)} → {_shape(value)}",
    )


@_rule("Dot")
def _dot(ctx: OpContext, slot: int) -> Rule | None:
    """y = a·b of two vectors: like a product, each input's derivative is the other one."""
    a, x = ctx.operand(0, "self")
    b, y = ctx.operand(1, "tensor")
    other_name, other = (b, y) if slot == 0 else (a, x)
    if other is None:
        return None
    return _local(ctx, f"{_paren(a)}·{_paren(b)}", a if slot == 0 else b, other_name, other_name, _tensor(other), other)


@_rule("Bmm")
def _bmm(ctx: OpContext, slot: int) -> Rule | None:
    """y[i] = A[i]·B[i] for each batch entry i."""
    g = ctx.upstream
    a, mat_a = ctx.operand(0, "self")
    b, mat_b = ctx.operand(1, "mat2")
    if g is None or mat_a is None or mat_b is None:
        return None
    up = _up(ctx)
    if slot == 0:
        value = g @ mat_b.transpose(1, 2)
        return _vjp(
            ctx,
            f"dL/d{a}",
            f"{up} · {_paren(b)}ᵀ",
            f"g @ {b}^T",
            "",
            value,
            f"{_shape(g)} · {_shape(mat_b.transpose(1, 2))} → {_shape(value)}",
            "for each batch entry",
        )
    value = mat_a.transpose(1, 2) @ g
    return _vjp(
        ctx,
        f"dL/d{b}",
        f"{_paren(a)}ᵀ · {up}",
        f"{a}^T @ g",
        "",
        value,
        f"{_shape(mat_a.transpose(1, 2))} · {_shape(g)} → {_shape(value)}",
        "for each batch entry",
    )


@_rule("MaxPool2DWithIndices")
def _max_pool(ctx: OpContext, slot: int) -> Rule | None:
    """Each window's maximum gets the window's gradient; the other entries get 0."""
    a, x = ctx.operand(0, "self")
    g, indices = ctx.upstream, _as_tensor(ctx.saved("result1"))
    if g is None or x is None or indices is None or x.dim() < 3:
        return None
    flat = torch.zeros((*x.shape[:-2], x.shape[-2] * x.shape[-1]), dtype=g.dtype)
    value = flat.scatter_add(-1, indices.flatten(-2), g.flatten(-2)).reshape(x.shape)
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"{_up(ctx)} routed to each window's max",
        "scatter(g, argmax)",
        "",
        value,
        f"{_shape(g)} → {_shape(value)}",
        "max routes the gradient: the other entries of a window get 0",
    )


@_rule("Cat")
def _cat(ctx: OpContext, slot: int) -> Rule | None:
    """Concatenation: each input gets back its own slice of the gradient."""
    a, _ = ctx.operand(slot)
    g, dim = ctx.upstream, _dim(ctx)
    slots = range(max(ctx.inputs) + 1) if ctx.inputs else range(0)
    values = [ctx.inputs.get(i, ("", None))[1] for i in slots]
    if g is None or dim is None or any(v is None for v in values) or slot >= len(values):
        return None
    sizes = [int(v.shape[dim]) for v in values if v is not None]
    value = torch.split(g, sizes, dim)[slot]
    start = sum(sizes[:slot])
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"{_up(ctx)}[{start}:{start + sizes[slot]}] along dim {dim}",
        "split(g)",
        "",
        value,
        f"{_shape(g)} → {_shape(value)}",
        "each input gets back the part of the gradient it filled",
    )


def _input_shape(ctx: OpContext) -> tuple[int, ...] | None:
    sizes = ctx.saved("self_sym_sizes")
    if isinstance(sizes, tuple):
        return tuple(int(n) for n in sizes)
    _, x = _unary(ctx)
    return tuple(x.shape) if x is not None else None


@_rule("View", "UnsafeView", "Reshape", "ReshapeAlias", "Squeeze", "Unsqueeze")
def _view(ctx: OpContext, slot: int) -> Rule | None:
    """Ops that only reshape: the gradient takes the input's shape back, values unchanged."""
    a, _ = _unary(ctx)
    g, shape = ctx.upstream, _input_shape(ctx)
    if g is None or shape is None:
        return None
    value = g.reshape(shape)
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"{_up(ctx)} reshaped to {_shape(value)}",
        "reshape(g)",
        "",
        value,
        f"{_shape(g)} → {_shape(value)}",
        "a reshape moves no numbers: each entry's gradient goes back to it",
    )


@_rule("Expand")
def _expand(ctx: OpContext, slot: int) -> Rule | None:
    """Broadcasting made explicit: every copy sends its gradient back to the one original."""
    a, _ = _unary(ctx)
    g, shape = ctx.upstream, _input_shape(ctx)
    if g is None or shape is None:
        return None
    value = g.sum_to_size(shape)
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"{_up(ctx)} summed over the copies",
        "sum_to_size(g)",
        "",
        value,
        f"{_shape(g)} → {_shape(value)}",
        "broadcast: the gradients of the copies add up (sum_to_size)",
    )


@_rule("Transpose", "Permute")
def _permute(ctx: OpContext, slot: int) -> Rule | None:
    a, _ = _unary(ctx)
    g = ctx.upstream
    if g is None:
        return None
    if _base(ctx.autograd) == "Transpose":
        d0, d1 = ctx.saved("dim0"), ctx.saved("dim1")
        if not isinstance(d0, int) or not isinstance(d1, int):
            return None
        value = g.transpose(d0 - 2**64 if d0 >= 2**63 else d0, d1 - 2**64 if d1 >= 2**63 else d1)
    else:
        dims = ctx.saved("dims")
        if not isinstance(dims, tuple):
            return None
        order = [(d - 2**64 if d >= 2**63 else d) % g.dim() for d in dims]
        value = g.permute(*sorted(range(len(order)), key=order.__getitem__))
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"({_up(ctx)})ᵀ",
        "g^T",
        "",
        value,
        f"{_shape(g)} → {_shape(value)}",
        "the gradient's axes go back to where they came from",
    )


@_rule("T")
def _t(ctx: OpContext, slot: int) -> Rule | None:
    a, _ = _unary(ctx)
    g = ctx.upstream
    if g is None:
        return None
    return _vjp(ctx, f"dL/d{a}", f"({_up(ctx)})ᵀ", "g^T", f"{_tensor(g)}ᵀ", g.t(), f"{_shape(g)} → {_shape(g.t())}")


def _dim(ctx: OpContext) -> int | None:
    """The node's saved ``dim``: autograd hands a negative dim back as an unsigned 64-bit int."""
    dim = ctx.saved("dim")
    if not isinstance(dim, int):
        return None
    return dim - 2**64 if dim >= 2**63 else dim


@_rule("Softmax")
def _softmax(ctx: OpContext, slot: int) -> Rule | None:
    a, _ = _unary(ctx)
    g, s, dim = ctx.upstream, _as_tensor(ctx.saved("result")), _dim(ctx)
    if g is None or s is None or not isinstance(dim, int):
        return None
    value = s * (g - (g * s).sum(dim, keepdim=True))
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"s ⊙ ({_up(ctx)} − Σ(s ⊙ {_up(ctx)}))",
        "s*(g - sum(s*g))",
        f"{_tensor(s)} ⊙ ({_tensor(g)} − Σ…)",
        value,
        f"{_shape(g)} → {_shape(value)}",
        f"s = softmax({a}) = {ctx.out_name}; Σ runs over dim {dim}",
    )


@_rule("LogSoftmax")
def _log_softmax(ctx: OpContext, slot: int) -> Rule | None:
    a, _ = _unary(ctx)
    g, out, dim = ctx.upstream, _as_tensor(ctx.saved("result")), _dim(ctx)
    if g is None or out is None or not isinstance(dim, int):
        return None
    s = torch.exp(out)
    value = g - s * g.sum(dim, keepdim=True)
    return _vjp(
        ctx,
        f"dL/d{a}",
        f"{_up(ctx)} − softmax({a}) · Σ{_up(ctx)}",
        "g - softmax(z)*sum(g)",
        f"{_tensor(g)} − {_tensor(s)} × Σ…",
        value,
        f"{_shape(g)} → {_shape(value)}",
        f"Σ runs over dim {dim}",
    )


@_rule("Convolution")
def _conv(ctx: OpContext, slot: int) -> Rule | None:
    from torch.nn import grad as nn_grad

    g = ctx.upstream
    a, X = ctx.operand(0, "input")
    k, W = ctx.operand(1, "weight")
    stride, padding = ctx.saved("stride"), ctx.saved("padding")
    dilation, groups = ctx.saved("dilation"), ctx.saved("groups", 1)
    if g is None or X is None or W is None or X.dim() != 4 or ctx.saved("transposed", False):
        return None
    opts = {"stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilation), "groups": groups}
    up = _up(ctx)
    where = f"stride {opts['stride']}, padding {opts['padding']}"
    if slot == 0:
        value = nn_grad.conv2d_input(X.shape, W, g, **opts)
        return _vjp(
            ctx,
            f"dL/d{a}",
            f"conv_transpose2d({up}, {k})",
            f"conv_transpose2d(g, {k})",
            "",
            value,
            f"{_shape(g)} ⋆ᵀ {_shape(W)} → {_shape(X)}",
            f"dL/d{a}[n,c,i,j] = Σ_o,p,q {up}[n,o,p,q]·{k}[o,c,i−p·s,j−q·s] ({where})",
        )
    if slot == 1:
        value = nn_grad.conv2d_weight(X, W.shape, g, **opts)
        return _vjp(
            ctx,
            f"dL/d{k}",
            f"{a} ⋆ {up}",
            f"conv2d_weight({a}, g)",
            "",
            value,
            f"{_shape(X)} ⋆ {_shape(g)} → {_shape(W)}",
            f"dL/d{k}[o,c,i,j] = Σ_n,p,q {up}[n,o,p,q]·{a}[n,c,p·s+i,q·s+j] ({where})",
        )
    if slot == 2:
        c, _ = ctx.operand(2)
        value = g.sum((0, 2, 3))
        return _vjp(
            ctx,
            f"dL/d{c}",
            f"Σ_n,h,w {up}",
            "sum(g, (n, h, w))",
            "",
            value,
            f"{_shape(g)} → {_shape(value)}",
            "each channel's bias is added at every position",
        )
    return None
