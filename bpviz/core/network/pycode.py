"""Python literals for code export: numbers and tensors written so they read back exactly."""

from __future__ import annotations

import math
from typing import Any


def number(x: float | int) -> str:
    """A number as Python source that evaluates to the same double (``2.0``, ``-0.5``, ``1e-05``)."""
    if isinstance(x, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot write {x} as a literal")
    return repr(float(x))


def tensor_literal(value: Any, as_int: bool = False) -> str:
    """A normalised tensor property (number or nested tuples) as a Python list literal; floats
    keep their repr, so ``torch.tensor`` rounds them to the same float32 the builder made."""
    if isinstance(value, tuple):
        return "[" + ", ".join(tensor_literal(v, as_int) for v in value) + "]"
    return str(int(value)) if as_int else number(value)


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
