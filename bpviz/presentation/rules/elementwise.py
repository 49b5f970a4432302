"""Rules of the elementwise ops: arithmetic (add, sub, mul, div, pow) and functions (exp, log,
sqrt, tanh, sigmoid, relu, leaky_relu, gelu, abs, reciprocal, max/min)."""

from __future__ import annotations

import math

import torch

from bpviz.core.numbers import format_number
from bpviz.presentation.rules.base import (
    OpContext,
    Rule,
    _as_tensor,
    _base,
    _local,
    _n,
    _paren,
    _power,
    _rule,
    _tensor,
    _times,
    _unary,
)


# ----------------------------------------------------------------------------------- arithmetic
@_rule("Add", "Sub", "Rsub")
def _add(ctx: OpContext, slot: int) -> Rule | None:
    a, _ = ctx.operand(0)
    b, _ = ctx.operand(1)
    alpha = float(ctx.saved("alpha", 1) or 1)
    base = _base(ctx.autograd)
    sign = "−" if base in ("Sub", "Rsub") else "+"
    if base == "Rsub":  # other - alpha * self: slot 0 is subtracted
        expr = f"{b} {sign} {a}" if alpha == 1 else f"{b} {sign} {format_number(alpha)}·{a}"
        k = -alpha if slot == 0 else 1.0
    else:
        expr = f"{a} {sign} {b}" if alpha == 1 else f"{a} {sign} {format_number(alpha)}·{b}"
        k = 1.0 if slot == 0 else (alpha if sign == "+" else -alpha)
    u = a if slot == 0 else b
    text = format_number(k)
    return _local(ctx, expr, u, text, text, text, k)


@_rule("Neg")
def _neg(ctx: OpContext, slot: int) -> Rule | None:
    a, _ = ctx.operand(0)
    return _local(ctx, f"−{_paren(a)}", a, "−1", "-1", "−1", -1.0)


@_rule("Mul")
def _mul(ctx: OpContext, slot: int) -> Rule | None:
    a, x = ctx.operand(0, "self")
    b, y = ctx.operand(1, "other")
    other_name, other = (b, y) if slot == 0 else (a, x)
    if other is None:
        return None
    if ctx.op == "dropout" and slot == 0:  # dropout on the CPU multiplies by a scaled mask
        return _local(
            ctx,
            f"dropout({a})",
            a,
            "mask / (1 − p)",
            "mask/(1-p)",
            _tensor(other),
            other,
            "kept entries pass the gradient scaled by 1/(1 − p), dropped ones pass 0",
        )
    return _local(ctx, f"{_paren(a)}·{_paren(b)}", a if slot == 0 else b, other_name, other_name, _tensor(other), other)


@_rule("Div")
def _div(ctx: OpContext, slot: int) -> Rule | None:
    a, x = ctx.operand(0, "self")
    b, y = ctx.operand(1, "other")
    if y is None:
        return None
    expr = f"{_paren(a)} / {_paren(b)}"
    if slot == 0:
        return _local(ctx, expr, a, f"1 / {_paren(b)}", f"1/{b}", f"1 / {_tensor(y)}", 1 / y)
    if x is None:
        return None
    return _local(
        ctx, expr, b, f"−{_paren(a)} / {_power(b, 2)}", f"-{a}/{b}**2", f"−{_tensor(x)} / {_tensor(y)}²", -x / y**2
    )


@_rule("Pow")
def _pow(ctx: OpContext, slot: int) -> Rule | None:
    a, x = ctx.operand(0, "self")
    if ctx.autograd.endswith("Backward0"):  # a tensor to a number
        p = ctx.saved("exponent")
        if x is None or not isinstance(p, int | float):
            return None
        p = float(p)
        expr = _power(a, p)
        if p == 2:
            return _local(ctx, expr, a, _times(a, "2"), f"2*{a}", f"2 × {_tensor(x)}", 2 * x)
        coeff = format_number(p)
        rest = _power(a, p - 1)
        return _local(
            ctx,
            expr,
            a,
            f"{coeff}·{rest}",
            f"{coeff}*{a}**{format_number(p - 1)}",
            f"{_n(p)} × {_power(_tensor(x), p - 1)}",
            p * x ** (p - 1),
        )
    if ctx.autograd.endswith("Backward1"):  # a tensor to a tensor
        b, y = ctx.operand(1, "exponent")
        if x is None or y is None:
            return None
        expr = f"{_paren(a)}^{_paren(b)}"
        if slot == 0:
            return _local(
                ctx,
                expr,
                a,
                f"{b}·{_paren(a)}^({b} − 1)",
                f"{b}*{a}**({b} - 1)",
                f"{_tensor(y)} × {_tensor(x)}^({_tensor(y)} − 1)",
                y * x ** (y - 1),
            )
        return _local(
            ctx,
            expr,
            b,
            f"{_paren(a)}^{_paren(b)}·ln {a}",
            f"{a}**{b}*log({a})",
            f"{_tensor(x)}^{_tensor(y)} × ln {_tensor(x)}",
            x**y * torch.log(x),
        )
    if ctx.autograd.endswith("Backward2"):  # a number to a tensor: c ** x
        c = ctx.saved("self")
        b, y = ctx.operand(0, "exponent")
        if y is None or not isinstance(c, int | float):
            return None
        base = format_number(float(c))
        value = float(c) ** y * math.log(float(c))
        return _local(
            ctx,
            f"{base}^{_paren(b)}",
            b,
            f"{base}^{_paren(b)}·ln {base}",
            f"{base}**{b}*log({base})",
            f"{base}^{_tensor(y)} × ln {base}",
            value,
        )
    return None


# ----------------------------------------------------------------------------------- functions
@_rule("Exp")
def _exp(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    return _local(ctx, f"exp({a})", a, f"exp({a})", f"exp({a})", f"exp({_tensor(x)})", torch.exp(x))


@_rule("Log")
def _log(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    return _local(ctx, f"log({a})", a, f"1 / {_paren(a)}", f"1/{a}", f"1 / {_tensor(x)}", 1 / x)


@_rule("Sqrt")
def _sqrt(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    return _local(
        ctx,
        f"√{_paren(a)}",
        a,
        f"1 / (2√{_paren(a)})",
        f"1/(2*sqrt({a}))",
        f"1 / (2 × √{_tensor(x)})",
        0.5 / torch.sqrt(x),
    )


@_rule("Tanh")
def _tanh(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    t = torch.tanh(x)
    return _local(ctx, f"tanh({a})", a, f"1 − tanh²({a})", f"1 - tanh({a})**2", f"1 − {_tensor(t)}²", 1 - t**2)


@_rule("Sigmoid")
def _sigmoid(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    s = torch.sigmoid(x)
    return _local(
        ctx,
        f"σ({a})",
        a,
        f"σ({a})(1 − σ({a}))",
        f"sigmoid({a})*(1 - sigmoid({a}))",
        f"{_tensor(s)} × (1 − {_tensor(s)})",
        s * (1 - s),
    )


@_rule("Relu")
def _relu(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    return _local(
        ctx,
        f"relu({a})",
        a,
        f"[{a} > 0]",
        f"({a} > 0)",
        f"[{_tensor(x)} > 0]",
        (x > 0).to(x.dtype),
        "1 where the input is positive, else 0: relu passes the gradient or blocks it",
    )


@_rule("LeakyRelu")
def _leaky_relu(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    slope = ctx.saved("negative_slope", 0.01)
    if x is None or not isinstance(slope, int | float):
        return None
    k = format_number(float(slope))
    value = torch.where(x > 0, torch.ones_like(x), torch.full_like(x, float(slope)))
    return _local(
        ctx,
        f"leaky_relu({a})",
        a,
        f"1 if {a} > 0 else {k}",
        f"where({a} > 0, 1, {k})",
        f"[{_tensor(x)} > 0] ? 1 : {k}",
        value,
    )


@_rule("Gelu")
def _gelu(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    if ctx.saved("approximate", "none") == "tanh":
        c = math.sqrt(2 / math.pi)
        inner = c * (x + 0.044715 * x**3)
        t = torch.tanh(inner)
        value = 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)
        return _local(
            ctx,
            f"gelu({a})",
            a,
            f"½(1 + tanh u) + ½{a}(1 − tanh²u)·u′",
            f"0.5*(1 + tanh(u)) + 0.5*{a}*(1 - tanh(u)**2)*du",
            _tensor(value),
            value,
            f"u = √(2/π)({a} + 0.044715{a}³), the tanh approximation",
        )
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    pdf = torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    return _local(
        ctx,
        f"gelu({a})",
        a,
        f"Φ({a}) + {a}·φ({a})",
        f"Phi({a}) + {a}*phi({a})",
        f"{_tensor(cdf)} + {_tensor(x)} × {_tensor(pdf)}",
        cdf + x * pdf,
        "Φ: the standard normal CDF, φ: its density",
    )


@_rule("Abs")
def _abs(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    return _local(ctx, f"|{a}|", a, f"sign({a})", f"sign({a})", f"sign({_tensor(x)})", torch.sign(x))


@_rule("Reciprocal")
def _reciprocal(ctx: OpContext, slot: int) -> Rule | None:
    a, x = _unary(ctx)
    if x is None:
        return None
    return _local(ctx, f"1 / {_paren(a)}", a, f"−1 / {_power(a, 2)}", f"-1/{a}**2", f"−1 / {_tensor(x)}²", -1 / x**2)


@_rule("Max", "Min")
def _max(ctx: OpContext, slot: int) -> Rule | None:
    """max() and min() of a whole tensor: the gradient is routed to the entry that won."""
    a, x = _unary(ctx)
    result = _as_tensor(ctx.saved("result"))
    if x is None or result is None or result.numel() != 1 or not ctx.autograd.endswith("Backward1"):
        return None
    which = _base(ctx.autograd).lower()
    mask = (x == result).to(x.dtype)
    value = mask / mask.sum()  # ties share the gradient evenly, as autograd does
    return _local(
        ctx,
        f"{which}({a})",
        a,
        f"[{a} = {which}({a})]",
        f"({a} == {which}({a}))",
        f"[{_tensor(x)} = {_tensor(result)}]",
        value,
        f"{which} routes the gradient: 1 for the winning entry, 0 for the others",
    )
