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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from bpviz.core.numbers import format_number

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

TIMES = " × "
# Tensors with at most this many entries are written out; larger ones are summarised.
WRITE_OUT_MAX = 6
LOCAL = "local"  # Rule.kind: value is ∂v/∂u (v's shape, or u's for a scalar output)
VJP = "vjp"  # Rule.kind: value is the edge's gradient (u's shape)


# ----------------------------------------------------------------------------------- formatting
def _n(x: float) -> str:
    """A number inside a formula: negatives in parentheses so signs never read as operators."""
    text = format_number(round(x, 6) if abs(x) >= 1e-4 else x)
    return f"({text})" if text.startswith("-") else text


def _shape(t: torch.Tensor | None) -> str:
    if t is None:
        return "[?]"
    return "[" + "×".join(map(str, t.shape)) + "]" if t.dim() else "scalar"


def _tensor(t: torch.Tensor) -> str:
    """A tensor in a formula: the number, the entries written out, or shape, norm and range."""
    t = t.detach()
    if t.numel() == 1:
        return _n(float(t.reshape(())))
    if t.numel() <= WRITE_OUT_MAX:

        def rows(x: torch.Tensor) -> str:
            if x.dim() <= 1:
                return "[" + ", ".join(format_number(round(float(v), 4)) for v in x.reshape(-1)) + "]"
            return "[" + ", ".join(rows(r) for r in x) + "]"

        return rows(t)
    d = t.double()
    return (
        f"{_shape(t)} ‖·‖={format_number(round(float(d.norm()), 4))} "
        f"range [{format_number(round(float(d.min()), 4))}, {format_number(round(float(d.max()), 4))}]"
    )


def _value(t: torch.Tensor) -> str:
    """The result after the last ``=``: exact for scalars."""
    t = t.detach()
    return format_number(float(t.reshape(()))) if t.numel() == 1 else _tensor(t)


def _times(name: str, coefficient: str) -> str:
    """``2x`` for one-letter names, ``2·w1`` otherwise (juxtaposition only where it reads)."""
    return f"{coefficient}{name}" if len(name) == 1 else f"{coefficient}·{name}"


def _paren(name: str) -> str:
    """A name inside a larger expression: bracketed if it is itself an expression."""
    return f"({name})" if re.search(r"[\s+\-*/·]", name) else name


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _power(name: str, p: float) -> str:
    """``x²``, ``x⁻¹``, ``x^0.5``."""
    if p == 1:
        return name
    text = format_number(p)
    if re.fullmatch(r"-?\d", text):
        return _paren(name) + text.translate(_SUPERSCRIPT)
    return f"{_paren(name)}^{text}"


# ----------------------------------------------------------------------------------- the rule
@dataclass(frozen=True)
class Rule:
    """The local derivative rule of one edge u -> v.

    ``lhs`` names what is derived (``d(x²)/dx``, ``dL/dW``), ``formula`` is the rule in symbols
    (``2x``, ``(dL/dy)ᵀ · x``), ``symbolic`` the same in ASCII for JSON (``2*x``), ``numbers`` the
    rule with the trace's numbers filled in (``2 × 2``; '' where they are too many), ``value`` the
    rule evaluated (a tensor: ∂v/∂u for ``kind`` :data:`LOCAL`, the edge's gradient for
    :data:`VJP`), ``shapes`` the shapes of a matrix form (``[5×32] · [32×10] → [5×10]``) and
    ``notes`` what else applies (broadcasting, fan-in of one tensor into two inputs).
    """

    op: str
    lhs: str
    formula: str
    symbolic: str
    numbers: str
    value: torch.Tensor
    kind: str = LOCAL
    shapes: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def scalar(self) -> bool:
        """Whether the rule's value is one number."""
        return self.value.numel() == 1

    def value_text(self) -> str:
        """The value: exact for scalars, written out when small, else summarised."""
        return _value(self.value)

    def line(self, numbers: bool = True) -> str:
        """``d(x²)/dx = 2x = 2 × 2 = 4``; without ``numbers`` only ``d(x²)/dx = 2x``."""
        parts = [self.lhs, self.formula]
        if numbers:
            if self.numbers and "‖·‖" not in self.numbers and self.numbers not in (self.formula, self.value_text()):
                parts.append(self.numbers)
            if self.value_text() != self.formula:
                parts.append(self.value_text())
        return " = ".join(parts)

    def lines(self, numbers: bool = True) -> list[str]:
        """The rule for the inspector: the rule line (with the numbers where ``numbers``), then
        for tensors the numbers written out (small) or the value summarised (large), the
        shapes, and the notes. Without ``numbers`` nothing of the trace's values is shown."""
        if self.scalar:
            out = [self.line(numbers)]
        else:
            out = [f"{self.lhs} = {self.formula}"]
            if numbers:
                # Operands too large to write out would make a line of summaries: the value says it.
                if self.numbers and "‖·‖" not in self.numbers and self.numbers != self.value_text():
                    out.append(f"  = {self.numbers}")
                out.append(f"  = {self.value_text()}")
        if self.shapes:
            out.append(self.shapes)
        out.extend(self.notes)
        return out

    def short(self) -> str:
        """A canvas label for a scalar local derivative: ``2x = 4``; '' where the rule is just
        its number (an add's 1: the label's ×1 says it all), for tensors and matrix forms."""
        if not self.scalar or self.kind != LOCAL:
            return ""
        value = self.value_text()
        return "" if self.formula == value else f"{self.formula} = {value}"


# ----------------------------------------------------------------------------------- contexts
@dataclass
class OpContext:
    """What a rule reads about one op v: its names, operand values and the autograd node.

    ``inputs`` maps input slot -> (name, value) for the inputs a gradient flows to;
    ``constants`` are v's other inputs (names and values: python numbers, targets), in no
    particular slot; ``node`` is v's autograd node (its saved tensors hold exponents, targets
    and options), ``output`` v's value and ``upstream`` dL/dv (None: not known).
    """

    op: str
    autograd: str
    node: Any
    inputs: dict[int, tuple[str, torch.Tensor | None]]
    output: torch.Tensor | None = None
    upstream: torch.Tensor | None = None
    out_name: str = "y"
    constants: list[tuple[str, torch.Tensor | None]] = field(default_factory=list)
    # Input slot -> the name of the tensor it is the transpose of (linear's Wᵀ is W's transpose).
    transposes: dict[int, str] = field(default_factory=dict)

    def saved(self, attr: str, default: Any = None) -> Any:
        """A saved attribute of the autograd node (``_saved_exponent``), or ``default``."""
        try:
            return getattr(self.node, f"_saved_{attr}")
        except (AttributeError, RuntimeError):  # freed buffers raise RuntimeError
            return default

    def operand(self, slot: int, saved: str | None = None) -> tuple[str, torch.Tensor | None]:
        """Name and value of input ``slot``; a slot without gradient (a constant) is found among
        the constants, its value in the node's ``saved`` attribute."""
        if slot in self.inputs:
            name, value = self.inputs[slot]
            if value is None and saved is not None:
                value = _as_tensor(self.saved(saved))
            return name, value
        value = _as_tensor(self.saved(saved)) if saved is not None else None
        if len(self.constants) == 1:
            name, const = self.constants[0]
            return name, value if value is not None else const
        if value is not None and value.numel() == 1:
            return format_number(float(value.reshape(()))), value
        return "c", value


def _as_tensor(x: Any) -> torch.Tensor | None:
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, int | float | bool):
        return torch.tensor(float(x), dtype=torch.float64)
    return None


def _base(name: str) -> str:
    """``MulBackward0`` -> ``Mul``."""
    return re.sub(r"Backward\d*$", "", name)


# A rule maker: (context, slot of u) -> the rule for that slot, or None.
_Maker = Callable[[OpContext, int], "Rule | None"]
_RULES: dict[str, _Maker] = {}


def _rule(*autograd: str) -> Callable[[_Maker], _Maker]:
    def register(fn: _Maker) -> _Maker:
        for name in autograd:
            _RULES[name] = fn
        return fn

    return register


def supported_ops() -> list[str]:
    """The autograd node classes (without ``Backward0``) that have a rule."""
    return sorted(_RULES)


def _local(
    ctx: OpContext,
    expr: str,
    u: str,
    formula: str,
    symbolic: str,
    numbers: str,
    value: torch.Tensor | float,
    note: str = "",
) -> Rule:
    """An elementwise rule: ``d(expr)/du = formula = numbers = value``."""
    if not isinstance(value, torch.Tensor):
        value = torch.tensor(float(value), dtype=torch.float64)
    notes = (note,) if note else ()
    return Rule(ctx.op, f"d({expr})/d{u}", formula, symbolic, numbers, value.detach(), LOCAL, notes=notes)


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
def _unary(ctx: OpContext) -> tuple[str, torch.Tensor | None]:
    return ctx.operand(0, "self")


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


# ----------------------------------------------------------------------------------- matrix forms
def _vjp(
    ctx: OpContext,
    lhs: str,
    formula: str,
    symbolic: str,
    numbers: str,
    value: torch.Tensor,
    shapes: str,
    note: str = "",
) -> Rule:
    return Rule(ctx.op, lhs, formula, symbolic, numbers, value.detach(), VJP, shapes, (note,) if note else ())


def _up(ctx: OpContext) -> str:
    return f"dL/d{ctx.out_name}"


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
        rule = Rule(
            rule.op,
            rule.lhs,
            rule.formula,
            rule.symbolic,
            rule.numbers,
            rule.value,
            rule.kind,
            f"dL/d{u_name} = dL/d{ctx.out_name} ⊙ {local}   {_shape(out)} ⊙ {_shape(rule.value)}",
            rule.notes,
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
        rule = Rule(
            rule.op,
            rule.lhs,
            rule.formula,
            rule.symbolic,
            rule.numbers,
            rule.value,
            rule.kind,
            rule.shapes,
            (*rule.notes, f"broadcast: {_shape(out)} is summed back to {shape} (sum_to_size)"),
        )
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
            return Rule(
                rule.op,
                rule.lhs,
                f"{rule.formula} = {whole.formula}",
                rule.symbolic,
                whole.numbers,
                rule.value,
                VJP,
                whole.shapes,
                whole.notes,
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
