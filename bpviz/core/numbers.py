"""The one way a float is written out: in constant nodes' names (the graph builder) and on
screen (:mod:`bpviz.presentation.format` re-exports it), so a constant 2 is named "2" exactly as
its value reads."""

from __future__ import annotations


def format_number(x: float) -> str:
    """Short, exact-looking display of a float: 56, -9, 0.25, 1.234e-07."""
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if 1e-4 <= abs(x) < 1e6:
        return f"{x:.6g}"
    return f"{x:.4g}"
