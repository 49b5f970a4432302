"""Pure helpers that turn tensors and numbers into what the canvas displays (no Qt here).

A tensor is displayed in one of four ways, chosen by :func:`describe`: a single number for
scalars, a compact table for up to :data:`TABLE_MAX` elements, a tiny heatmap for 2-D tensors up
to :data:`HEATMAP_MAX` elements, and a one-line summary (shape, norm, min/max) for anything larger.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from bpviz.core.numbers import format_number

TABLE_MAX = 12
HEATMAP_MAX = 64
# Vectors wider than TABLE_ROW_MAX, and matrices wider than TABLE_COL_MAX, wrap onto rows of
# TABLE_ROW_MAX cells so a node never becomes a long strip.
TABLE_ROW_MAX = 4
TABLE_COL_MAX = 6

__all__ = [
    "StatsCache",
    "TensorDisplay",
    "describe",
    "edge_label",
    "format_compact",
    "format_number",
    "l2_norm",
    "magnitude",
    "shape_text",
    "summary_text",
    "tensor_stats",
    "update_text",
]


@dataclass(frozen=True)
class TensorDisplay:
    """How to show one tensor: ``mode`` is ``none``, ``scalar``, ``table``, ``heatmap`` or ``summary``.

    ``text`` is always a one-line rendering (the number, or the summary); ``rows`` holds the
    table cells; ``matrix`` the heatmap values (rows of floats) with ``lo``/``hi`` their range.
    """

    mode: str
    text: str
    rows: tuple[tuple[str, ...], ...] = ()
    matrix: tuple[tuple[float, ...], ...] = ()
    lo: float = 0.0
    hi: float = 0.0


NO_VALUE = TensorDisplay("none", "—")


def format_compact(x: float) -> str:
    """A number in at most ~7 characters for table cells: 56, -0.25, 1.235, 3.1e-5."""
    if not math.isfinite(x):
        return {math.inf: "inf", -math.inf: "-inf"}.get(x, "nan")
    if x == int(x) and abs(x) < 1e5:
        return str(int(x))
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.3g}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def shape_text(shape: Iterable[int] | None) -> str:
    """``scalar`` for (), else the dimensions in brackets joined by ×: ``[3×4]``, ``[1]``."""
    shape = tuple(shape or ())
    return "scalar" if not shape else "[" + "×".join(str(d) for d in shape) + "]"


def magnitude(t: torch.Tensor | None, cache: StatsCache | None = None) -> float | None:
    """|t| for a one-element tensor, its L2 norm otherwise; None for None or empty tensors."""
    if t is None or t.numel() == 0:
        return None
    if t.numel() == 1:
        return abs(float(t.detach().reshape(())))
    return cache.norm(t) if cache is not None else l2_norm(t)


def _real(flat: torch.Tensor) -> torch.Tensor:
    """``flat`` itself when torch can reduce it as is (real floating point), else as float64."""
    return flat if flat.is_floating_point() else flat.double()


def l2_norm(t: torch.Tensor) -> float:
    """The L2 norm of ``t``, accumulated in float64 (one reduction, no float64 copy of ``t``)."""
    return float(torch.linalg.vector_norm(_real(t.detach().reshape(-1)), dtype=torch.float64))


def _stats(values: list[float]) -> tuple[float, float | None, float | None, int]:
    """(L2 norm, finite min, finite max, non-finite count) of a short list of floats."""
    finite = [v for v in values if math.isfinite(v)]
    norm = math.sqrt(math.fsum(v * v for v in values)) if len(finite) == len(values) else math.inf
    if any(v != v for v in values):
        norm = math.nan
    return (norm, min(finite) if finite else None, max(finite) if finite else None, len(values) - len(finite))


def tensor_stats(t: torch.Tensor) -> tuple[float, float | None, float | None, int]:
    """(L2 norm, finite min, finite max, non-finite count) of a tensor, in three reductions.

    One ``aminmax`` and one float64-accumulated norm; only when one of them is not finite (the
    tensor holds NaN or Inf) a second pass masks the finite elements. Never a Python loop over
    the elements: building a 2,000-node scene asks for thousands of these.
    """
    flat = _real(t.detach().reshape(-1))
    if flat.numel() == 0:
        return 0.0, None, None, 0
    lo_t, hi_t = torch.aminmax(flat)
    lo: float | None
    hi: float | None
    norm, lo, hi = (float(torch.linalg.vector_norm(flat, dtype=torch.float64)), float(lo_t), float(hi_t))
    if math.isfinite(norm) and math.isfinite(lo) and math.isfinite(hi):
        return norm, lo, hi, 0
    finite = flat[torch.isfinite(flat)]
    if finite.numel():
        lo_t, hi_t = torch.aminmax(finite)
        lo, hi = float(lo_t), float(hi_t)
    else:
        lo = hi = None
    return norm, lo, hi, flat.numel() - finite.numel()


def _summary(norm: float, lo: float | None, hi: float | None, bad: int) -> str:
    parts = [f"‖·‖ {format_compact(norm)}"]
    if lo is not None and hi is not None:  # both or neither: the range of the finite elements
        parts += [f"min {format_compact(lo)}", f"max {format_compact(hi)}"]
    if bad:
        parts.append(f"{bad} non-finite")
    return " · ".join(parts)


class StatsCache:
    """Statistics of the tensors of one graph, each computed once: a node's gradient is often
    the very tensor on the edge into it (129 of 140 edge gradients on the ResNet-18-like graph).

    Keyed by the tensor object, which the cache holds, so a key is never reused while cached.
    """

    def __init__(self) -> None:
        self._stats: dict[int, tuple[torch.Tensor, tuple[float, float | None, float | None, int]]] = {}
        self._norms: dict[int, tuple[torch.Tensor, float]] = {}

    def stats(self, t: torch.Tensor) -> tuple[float, float | None, float | None, int]:
        """:func:`tensor_stats` of ``t``."""
        hit = self._stats.get(id(t))
        if hit is None or hit[0] is not t:
            hit = self._stats[id(t)] = (t, tensor_stats(t))
        return hit[1]

    def norm(self, t: torch.Tensor) -> float:
        """The L2 norm of ``t`` (from its statistics when known)."""
        hit = self._stats.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1][0]
        known = self._norms.get(id(t))
        if known is None or known[0] is not t:
            known = self._norms[id(t)] = (t, l2_norm(t))
        return known[1]


def summary_text(t: torch.Tensor, cache: StatsCache | None = None) -> str:
    """``‖·‖ 3.162 · min -1 · max 2`` (NaN/Inf counts noted when present)."""
    return _summary(*(cache.stats(t) if cache is not None else tensor_stats(t)))


def describe(t: torch.Tensor | None, cache: StatsCache | None = None) -> TensorDisplay:
    """Choose how to display ``t`` (see the module docstring); ``cache`` keeps the statistics
    of the tensors of one graph."""
    if t is None:
        return NO_VALUE
    n = t.numel()
    if n > HEATMAP_MAX:
        # The tensor itself, not a detached alias, is the cache key: an edge's gradient is
        # usually the very tensor this node shows, and its norm is then not computed again.
        return TensorDisplay("summary", summary_text(t, cache))
    t = t.detach()
    if n == 1:
        return TensorDisplay("scalar", format_number(float(t.reshape(()))))
    if n == 0:
        return TensorDisplay("summary", "empty")
    # Small tensors: one conversion to Python floats, then plain Python (per-element torch calls
    # cost more than the whole rest of building a 2,000-node scene).
    values = t.double().reshape(-1).tolist()
    stats = _stats(values)
    summary = _summary(*stats)
    dims = [d for d in t.shape if d != 1] if t.dim() > 2 else list(t.shape)
    if n <= TABLE_MAX:
        cells = [format_compact(v) for v in values]
        if len(dims) == 2 and dims[1] <= TABLE_COL_MAX:
            rows = [tuple(cells[i : i + dims[1]]) for i in range(0, n, dims[1])]
        elif len(dims) <= 2:
            # Vectors and wide rows ([1×8]) wrap, so a node never becomes a long strip, into
            # rows of even length (5 values: 3 + 2, not 4 + 1).
            per_row = -(-n // -(-n // TABLE_ROW_MAX))
            rows = [tuple(cells[i : i + per_row]) for i in range(0, n, per_row)]
        else:
            return TensorDisplay("summary", summary)
        return TensorDisplay("table", summary, rows=tuple(rows))
    # Heatmaps drop unit dimensions: a [32×1] column becomes one row of 32 cells rather than a
    # tall strip (the node's shape line still says [32×1]).
    dims = [d for d in t.shape if d != 1]
    if len(dims) > 2:
        return TensorDisplay("summary", summary)
    cols = dims[-1]
    matrix = tuple(tuple(values[i : i + cols]) for i in range(0, n, cols))
    lo, hi = stats[1], stats[2]
    return TensorDisplay("heatmap", summary, matrix=matrix, lo=lo or 0.0, hi=hi or 0.0)


def edge_label(
    local: float | None,
    upstream: torch.Tensor | None,
    grad: torch.Tensor | None,
    detached: bool = False,
    norm: float | None = None,
    rule: str = "",
) -> str:
    """The chain-rule label of an edge once its gradient is known.

    Scalars: ``×4   14 × 4 = 56`` (local derivative, then upstream × local = this edge's
    gradient); with the short ``rule`` of the local derivative (``2x = 4``, from
    :meth:`bpviz.presentation.rules.Rule.short`) ``×(2x = 4)   14 × 4 = 56``. Tensors:
    ``grad ‖g‖=2.5``. Detached edges say so. ``norm``: ‖grad‖ if the caller has it already
    (:func:`magnitude`), so it is not computed twice.
    """
    if detached:
        return "detached"
    if grad is None:
        return "no grad"
    g = grad.detach()
    if local is not None and g.numel() == 1:
        up = magnitude_signed(upstream)
        head = f"×({rule})" if rule else f"×{format_number(local)}"
        if up is None:
            return f"{head}   = {format_number(float(g.reshape(())))}"
        return f"{head}   {format_number(up)} × {format_number(local)} = {format_number(float(g.reshape(())))}"
    if g.numel() == 1:
        return f"grad {format_number(float(g.reshape(())))}"
    return f"grad ‖g‖={format_compact(l2_norm(g) if norm is None else norm)}"


def magnitude_signed(t: torch.Tensor | None) -> float | None:
    """The float value of a one-element tensor (sign kept), else None."""
    if t is None or t.numel() != 1:
        return None
    return float(t.detach().reshape(()))


def update_text(
    name: str, lr: float, new: torch.Tensor, old: torch.Tensor | None = None, grad: torch.Tensor | None = None
) -> str:
    """The SGD update with the real numbers: ``x ← 2 − 0.01 × 56 = 1.44`` for scalars,
    ``w ← w − 0.1·g`` for tensors (long names like ``layers.0.weight`` become θ)."""
    sym = name if len(name) <= 6 else "θ"
    if new.numel() == 1:
        # Compact numbers: the line has to fit in the box next to five other numbers.
        result = format_compact(float(new.detach().reshape(())))
        if old is not None and grad is not None and old.numel() == 1 and grad.numel() == 1:
            o, g = float(old.reshape(())), float(grad.reshape(()))
            g_text = format_compact(g) if g >= 0 else f"({format_compact(g)})"
            return f"{sym} ← {format_compact(o)} − {format_number(lr)} × {g_text} = {result}"
        return f"{sym} ← {sym} − {format_number(lr)}·g = {result}"
    return f"{sym} ← {sym} − {format_number(lr)}·g"
