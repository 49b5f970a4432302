"""Expression blocks: the scalar chains of the seeds (x -> x^2 -> +3 -> ^2) built from leaves,
constants and torch functions. Each op runs exactly the Python its code export writes
(``a + b``, ``torch.exp(a)``), so a built chain and its exported file give the same graph.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch

from bpviz.core.network.catalogue import EXPRESSION, OP, SOURCE, Advice, BlockKind, Check, Props, register
from bpviz.core.network.properties import BOOL, FLOAT, OPTIONAL_INT, TENSOR, Prop, tensor_shape
from bpviz.core.network.pycode import number, tensor_literal

_VALUE = Prop("value", TENSOR, 1.0, "the initial value: a number or a nested list")
_DIM = Prop("dim", OPTIONAL_INT, None, "the dimension to reduce (empty: all of them)", minimum=-6, maximum=5)
_KEEPDIM = Prop("keepdim", BOOL, False, "keep the reduced dimension with size 1")


def _leaf(props: Props, seed: int) -> torch.Tensor:
    return torch.tensor(props["value"], dtype=torch.float32, requires_grad=props["requires_grad"])


def _value_meta(props: Props, seed: int) -> torch.Tensor:
    return torch.empty(tensor_shape(props["value"]), device="meta")


def _leaf_code(props: Props, args: list[str]) -> str:
    grad = ", requires_grad=True" if props["requires_grad"] else ""
    return f"torch.tensor({tensor_literal(props['value'])}{grad})"


def _constant(props: Props, seed: int) -> torch.Tensor:
    return torch.tensor(props["value"], dtype=torch.float32)


def _constant_code(props: Props, args: list[str]) -> str:
    return f"torch.tensor({tensor_literal(props['value'])})"


def broadcast_check(symbol: str, fix: str = "change one input's shape") -> Check:
    """The shape check of a two-input elementwise block: the inputs must broadcast; ``fix`` is
    the advice when they do not."""

    def check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
        a, b = inputs
        try:
            torch.broadcast_shapes(a.shape, b.shape)
        except RuntimeError:
            return Advice(
                f"{tuple(a.shape)} {symbol} {tuple(b.shape)} cannot broadcast: from the "
                f"right, each pair of sizes must be equal or one of them 1; {fix}",
                port="b",
            )
        return None

    return check


def _binary(
    name: str, symbol: str, summary: str, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
) -> BlockKind:
    return BlockKind(
        name=name,
        level=EXPRESSION,
        role=OP,
        summary=summary,
        prefix=name,
        inputs=("a", "b"),
        op=lambda props, a, b: fn(a, b),
        code=lambda props, args: f"{args[0]} {symbol} {args[1]}",
        check=broadcast_check(symbol),
    )


def _unary(name: str, summary: str) -> BlockKind:
    fn: Callable[[torch.Tensor], torch.Tensor] = getattr(torch, name)
    return BlockKind(
        name=name,
        level=EXPRESSION,
        role=OP,
        summary=summary,
        prefix=name,
        inputs=("x",),
        op=lambda props, x: fn(x),
        code=lambda props, args: f"torch.{name}({args[0]})",
    )


def _exponent(props: Props) -> float:
    # An integral exponent is written and run as an int (x ** 2), as a user writes it.
    e: float = props["exponent"]
    return int(e) if e.is_integer() else e


def _reduce(name: str, summary: str) -> BlockKind:
    def run(props: Props, x: torch.Tensor) -> torch.Tensor:
        method: Callable[..., torch.Tensor] = getattr(x, name)  # Tensor.sum or Tensor.mean
        if props["dim"] is None:
            return method()
        return method(dim=props["dim"], keepdim=props["keepdim"])

    def code(props: Props, args: list[str]) -> str:
        if props["dim"] is None:
            return f"{args[0]}.{name}()"
        keep = ", keepdim=True" if props["keepdim"] else ""
        return f"{args[0]}.{name}(dim={props['dim']}{keep})"

    def check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
        dim, x = props["dim"], inputs[0]
        if dim is not None and not -max(x.dim(), 1) <= dim < max(x.dim(), 1):
            last = max(x.dim(), 1) - 1
            return Advice(
                f"dim {dim} does not exist in a tensor of shape {tuple(x.shape)}; "
                f"set dim between {-last - 1} and {last}, or leave it empty to reduce all"
            )
        return None

    return BlockKind(
        name=name,
        level=EXPRESSION,
        role=OP,
        summary=summary,
        prefix=name,
        inputs=("x",),
        props=(_DIM, _KEEPDIM),
        op=run,
        code=code,
        check=check,
    )


def _matmul_check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
    a, b = inputs
    if a.dim() == 0 or b.dim() == 0:
        return Advice(
            "matmul needs tensors with at least one dimension, not a single number; use mul for a number",
            port="b" if b.dim() == 0 else "a",
        )
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.dim() == 1 else b.shape[-2]
    if inner_a != inner_b:
        return Advice(
            f"a {tuple(a.shape)} @ b {tuple(b.shape)}: a's last size {inner_a} must equal "
            f"b's {'size' if b.dim() == 1 else 'second-to-last size'} {inner_b}; "
            "change one of the shapes",
            port="b",
        )
    return None


register(
    BlockKind(
        name="value",
        level=EXPRESSION,
        role=SOURCE,
        prefix="w",
        summary="a leaf tensor you set; its gradient is what backpropagation computes",
        props=(_VALUE, Prop("requires_grad", BOOL, True, "compute dL/d(this value)")),
        op=_leaf,
        code=_leaf_code,
        meta=_value_meta,
    ),
    BlockKind(
        name="constant",
        level=EXPRESSION,
        role=SOURCE,
        prefix="c",
        summary="a fixed number or tensor (no gradient)",
        props=(_VALUE,),
        op=_constant,
        code=_constant_code,
        meta=_value_meta,
    ),
    _binary("add", "+", "a + b", operator.add),
    _binary("sub", "-", "a - b", operator.sub),
    _binary("mul", "*", "a * b (elementwise)", operator.mul),
    _binary("div", "/", "a / b (elementwise)", operator.truediv),
    BlockKind(
        name="pow",
        level=EXPRESSION,
        role=OP,
        summary="x ** exponent",
        prefix="pow",
        inputs=("x",),
        props=(Prop("exponent", FLOAT, 2.0, "the power", -1e6, 1e6),),
        op=lambda props, x: x ** _exponent(props),
        code=lambda props, args: f"{args[0]} ** {number(_exponent(props))}",
    ),
    _unary("exp", "e ** x"),
    _unary("log", "natural logarithm"),
    _unary("tanh", "hyperbolic tangent"),
    _unary("sigmoid", "1 / (1 + e ** -x)"),
    _unary("relu", "max(x, 0)"),
    _reduce("sum", "sum over a dimension or all"),
    _reduce("mean", "mean over a dimension or all"),
    BlockKind(
        name="matmul",
        level=EXPRESSION,
        role=OP,
        summary="matrix product a @ b",
        prefix="matmul",
        inputs=("a", "b"),
        op=lambda props, a, b: a @ b,
        code=lambda props, args: f"{args[0]} @ {args[1]}",
        check=_matmul_check,
    ),
)
