"""Python literals for code export: numbers and tensors written so they read back exactly."""

from __future__ import annotations

import math
from typing import Any

import numpy


def number(x: float | int) -> str:
    """A number as Python source that evaluates to the same double (``2.0``, ``-0.5``, ``1e-05``)."""
    if isinstance(x, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x} as a literal")
    return repr(float(x))


def float32_text(x: float) -> str:
    """The shortest decimal that reads back as the same float32 as ``x`` (0.4521, not
    0.45210000872612): ``torch.tensor`` of either gives the same number."""
    return str(numpy.float32(x))


def float32_short(value: Any) -> Any:
    """A nested list of numbers with each float replaced by :func:`float32_text`'s (readable in a
    file, the same tensor once it is float32 again)."""
    if isinstance(value, (list, tuple)):
        return [float32_short(v) for v in value]
    return float(float32_text(value))


def tensor_literal(value: Any, as_int: bool = False) -> str:
    """A normalised tensor property (number or nested tuples) as a Python list literal that
    ``torch.tensor`` turns into the very float32 (or int64) tensor the builder made."""
    if isinstance(value, tuple):
        return "[" + ", ".join(tensor_literal(v, as_int) for v in value) + "]"
    return str(int(value)) if as_int else float32_text(value)


def call(func: str, positional: list[Any], keywords: list[tuple[str, Any, Any]]) -> str:
    """``func(p1, p2, key=value)`` with keywords left out where they equal their default."""
    parts = [_literal(p) for p in positional]
    parts += [f"{k}={_literal(v)}" for k, v, default in keywords if v != default]
    return f"{func}({', '.join(parts)})"


def _literal(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    if isinstance(v, tuple):
        inner = ", ".join(_literal(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    raise TypeError(f"no literal for {type(v).__name__}")
