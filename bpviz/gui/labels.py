"""Edge-label placement: slide each label along its edge until it overlaps nothing placed yet.

Greedy and deterministic (labels are visited top to bottom, left to right), with a grid of
buckets so a fully labelled 2,000-edge graph stays fast.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF

# Fractions along the edge to try, best (the middle of the gap between layers) first.
CANDIDATES = (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8, 0.12, 0.88)
CELL = 128.0
PAD = 3.0


class _Grid:
    """Rectangles bucketed by grid cell, for overlap queries."""

    def __init__(self):
        self._cells: dict[tuple[int, int], list[QRectF]] = {}

    def _keys(self, r: QRectF):
        for i in range(int(r.left() // CELL), int(r.right() // CELL) + 1):
            for j in range(int(r.top() // CELL), int(r.bottom() // CELL) + 1):
                yield i, j

    def add(self, r: QRectF) -> None:
        for key in self._keys(r):
            self._cells.setdefault(key, []).append(r)

    def hits(self, r: QRectF) -> bool:
        return any(r.intersects(o) for key in self._keys(r) for o in self._cells.get(key, ()))


class LabelPlacer:
    """Places edge labels around fixed obstacles (the node boxes), indexed once per layout."""

    def __init__(self, obstacles):
        self._obstacles = _Grid()
        for r in obstacles:
            self._obstacles.add(r)

    def place(self, edges) -> None:
        """Place the labels of ``edges`` (EdgeItems with text) avoiding the obstacles and each
        other; a label that fits nowhere stays in the middle of its edge."""
        placed = _Grid()

        def free(r: QRectF) -> bool:
            return not (self._obstacles.hits(r) or placed.hits(r))

        mids = {e: e.label_rect_at(0.5) for e in edges}
        for edge in sorted(edges, key=lambda e: (mids[e].top(), mids[e].left(), e.u, e.v)):
            chosen = next((t for t in CANDIDATES
                           if free(edge.label_rect_at(t).adjusted(-PAD, -PAD, PAD, PAD))), CANDIDATES[0])
            edge.place_label(chosen)
            placed.add(edge.label_rect_at(chosen))
