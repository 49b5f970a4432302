"""Edge crossings of a layered layout: the measure the layout minimises and benchmarks report."""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

    from bpviz.core.layout import Layout


def inversions(seq: Sequence[float]) -> int:
    """Pairs i < j with ``seq[i] > seq[j]`` (strictly): per item, the earlier ones above it."""
    seen: list[float] = []
    crossings = 0
    for value in seq:
        crossings += len(seen) - bisect_right(seen, value)
        insort(seen, value)
    return crossings


def count_crossings(graph: nx.DiGraph[str], layout: Layout) -> int:
    """Edge crossings of a layout, counted gap by gap between adjacent layers.

    An edge from layer i to layer j > i passes every layer in between, at the position its
    route gives there (a route as built here: two points per layer passed), or else where the
    straight line between its ends meets that layer. Two edges cross in a gap when their order
    along the layers strictly swaps; sharing an end is no crossing. Any layout with ``layers``
    and ``positions`` can be measured the same way, e.g. one read from graphviz.
    """
    axis = 0 if layout.direction == "TB" else 1
    gaps: dict[int, list[tuple[float, float]]] = {}
    for u, v in graph.edges:
        if layout.layers[u] > layout.layers[v]:
            u, v = v, u
        lu, lv = layout.layers[u], layout.layers[v]
        route = layout.routes.get((u, v)) or layout.routes.get((v, u), [])[::-1]
        span = lv - lu
        if len(route) == 2 * span and span > 1:
            along = [p[axis] for p in route[:1] + route[1:-1:2] + route[-1:]]
        else:
            a, b = layout.positions[u][axis], layout.positions[v][axis]
            along = [a + (b - a) * k / max(span, 1) for k in range(span + 1)]
        along = [round(a, 6) for a in along]  # float noise must not split shared ends
        for k in range(span):
            gaps.setdefault(lu + k, []).append((along[k], along[k + 1]))
    # Sorted by upper end, ties by lower end, so edges sharing an upper end never count.
    return sum(inversions([b for _, b in sorted(s)]) for s in gaps.values())
