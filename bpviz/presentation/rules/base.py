"""The frame of the local derivative rules: number and tensor formatting, the Rule record, the
context a rule reads an op from, and the registry the rule modules add to (see the package)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from bpviz.core.numbers import format_number

if TYPE_CHECKING:
    pass


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


def _unary(ctx: OpContext) -> tuple[str, torch.Tensor | None]:
    return ctx.operand(0, "self")


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
