"""Edge-label placement: slide each label along its edge until it overlaps nothing placed yet.

Greedy and deterministic: labels are visited top to bottom, left to right (by where the middle
of their edge is), and each takes the first spot along its edge (centred on it, or beside it)
where it overlaps neither a node box nor a label visited before it, and preferably no other
edge's curve either: a label lying across another edge reads as that edge's (two edges meeting
at a box, ``×(w2 = 1.5)`` over w2's own curve). Grids of buckets keep a fully labelled
2,000-edge graph fast.

The result is a function of the set of labelled edges alone, so applying a state gives the same
placement however the canvas got there. It is kept up to date incrementally: when a step adds or
removes a few labels, only those, and the later labels whose deciding spots overlap a label that
came, went or moved, are placed again, in visiting order, so each sees exactly what a placement
from scratch would show it. The other labels keep their spot without being looked at.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

if TYPE_CHECKING:
    from bpviz.gui.items.edge_item import EdgeItem

# Fractions along the edge to try, best (the middle of the gap between layers) first; each
# centred on the curve (side 0), then beside it (sides 1 and -1) where no centred spot is clear.
FRACTIONS = (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8, 0.12, 0.88)
CANDIDATES = tuple((t, 0) for t in FRACTIONS) + tuple((t, side) for t in FRACTIONS for side in (1, -1))
CELL = 128.0
PAD = 3.0


def _cells(r: QRectF) -> list[tuple[int, int]]:
    """The grid cells ``r`` touches."""
    x0, x1 = int(r.left() // CELL), int(r.right() // CELL)
    y0, y1 = int(r.top() // CELL), int(r.bottom() // CELL)
    return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]


class _Grid:
    """Rectangles bucketed by grid cell, for overlap queries."""

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], list[QRectF]] = {}

    def add(self, r: QRectF) -> None:
        for key in _cells(r):
            self._cells.setdefault(key, []).append(r)

    def hits(self, r: QRectF) -> bool:
        return any(r.intersects(o) for key in _cells(r) for o in self._cells.get(key, ()))


class _Label:
    """One labelled edge: its visiting order, its candidate spots (measured when first asked
    for) and the spot it holds."""

    __slots__ = ("_spots", "choice", "edge", "found", "order", "rect", "size", "tier", "watched")

    def __init__(self, edge: EdgeItem) -> None:
        self.edge = edge
        self.size = edge.label.size()
        mid = edge.label_rect_at(0.5)
        self.order = (mid.top(), mid.left(), edge.u, edge.v)
        self._spots: dict[int, tuple] = {}  # index -> (spot, padded spot, blocked by a box, on a curve)
        self.choice: int | None = None  # index into CANDIDATES of the spot held
        self.found = False  # whether that spot was free (else: the fallback)
        self.tier = 0  # 1: free of curves too, 2: free of boxes and labels only, 0: the fallback
        self.rect: QRectF | None = None  # the spot held (unpadded)
        self.watched: tuple[tuple[int, int], ...] = ()

    def _candidate(self, i: int) -> tuple:
        c = self._spots.get(i)
        if c is None:
            spot = self.edge.label_rect_at(*CANDIDATES[i])
            c = self._spots[i] = (spot, spot.adjusted(-PAD, -PAD, PAD, PAD), None, None)
        return c

    def spot(self, i: int) -> QRectF:
        return self._candidate(i)[0]

    def padded(self, i: int) -> QRectF:
        return self._candidate(i)[1]

    def blocked(self, i: int, obstacles: _Grid) -> bool:
        # Node boxes never move between layouts: whether one blocks a spot is asked once.
        spot, padded, b, c = self._candidate(i)
        if b is None:
            b = obstacles.hits(padded)
            self._spots[i] = (spot, padded, b, c)
        return b

    def on_curve(self, i: int, curves: _Curves) -> bool:
        # Curves, like boxes, stay put until the next layout: asked once.
        spot, padded, b, c = self._candidate(i)
        if c is None:
            c = curves.crossed(spot, self.edge)
            self._spots[i] = (spot, padded, b, c)
        return c

    def deciding(self) -> range:
        """The spots whose being free decided the choice: those up to the one held when it was
        free of curves too (all of them otherwise: every spot was looked at first)."""
        return range(self.choice + 1) if self.tier == 1 and self.choice is not None else range(len(CANDIDATES))

    def reset(self) -> None:
        self.choice, self.found, self.tier, self.rect, self.watched = None, False, 0, None, ()


class _Curves:
    """The edges' curves as the points of their flattened polygons, bucketed by grid cell."""

    def __init__(self, edges: Iterable[EdgeItem]) -> None:
        self._cells: dict[tuple[int, int], list[tuple[EdgeItem, float, float]]] = {}
        for edge in edges:
            for polygon in edge.path().toSubpathPolygons():
                for k in range(polygon.size()):
                    point = polygon.at(k)
                    x, y = point.x(), point.y()
                    self._cells.setdefault((int(x // CELL), int(y // CELL)), []).append((edge, x, y))

    def crossed(self, r: QRectF, own: EdgeItem) -> bool:
        """Whether another edge than ``own`` runs through ``r``."""
        left, right, top, bottom = r.left(), r.right(), r.top(), r.bottom()
        return any(
            edge is not own and left <= x <= right and top <= y <= bottom
            for key in _cells(r)
            for edge, x, y in self._cells.get(key, ())
        )


class LabelPlacer:
    """Places edge labels around fixed obstacles (the node boxes, and where it can the edges'
    curves), indexed once per layout."""

    def __init__(self, obstacles: Iterable[QRectF], curves: Iterable[EdgeItem] = ()) -> None:
        self._obstacles = _Grid()
        for r in obstacles:
            self._obstacles.add(r)
        self._curves = _Curves(curves)
        self._labels: dict[EdgeItem, _Label] = {}  # edge -> its placed label
        self._spare: dict[EdgeItem, _Label] = {}  # labels hidden now: measured already
        self._held: dict[tuple[int, int], set] = {}  # cell -> labels whose spot touches it
        self._watch: dict[tuple[int, int], set] = {}  # cell -> labels with a deciding spot there
        self.placed_last = 0  # labels (re)placed by the last place()

    def place(self, edges: Iterable[EdgeItem]) -> None:
        """Place the labels of ``edges`` (EdgeItems with text) avoiding the obstacles and each
        other; a label that fits nowhere stays in the middle of its edge. Labels no longer in
        ``edges`` go back to the middle of their edge. The result equals a placement of
        ``edges`` from scratch."""
        wanted = {e: e.label.size() for e in edges}
        gone = [label for edge, label in self._labels.items() if wanted.get(edge) != label.size]
        for label in gone:  # hidden, or the text changed size
            del self._labels[label.edge]
            self._unwatch(label)
            self._release(label)
        queue: list = []
        for label in gone:
            self._wake(label.rect, label.order, queue)
            label.reset()
            if label.edge not in wanted:
                label.edge.place_label(*CANDIDATES[0])
                self._spare[label.edge] = label
        for edge, size in wanted.items():
            if edge in self._labels:
                continue
            spare = self._spare.pop(edge, None)
            label = spare if spare is not None and spare.size == size else _Label(edge)
            self._labels[edge] = label
            heapq.heappush(queue, (label.order, id(label), label))
        done: set[int] = set()
        while queue:
            _, key, label = heapq.heappop(queue)
            if key not in done and self._labels.get(label.edge) is label:
                done.add(key)
                self._place_one(label, queue)
        self.placed_last = len(done)

    def extent(self, rect: QRectF, inside: QRectF, margin: float) -> QRectF:
        """``rect`` grown to hold, with ``margin`` around, every label placed now that reaches
        outside ``inside`` (the placer's own rectangles: no item queries)."""
        for label in self._labels.values():
            held = label.rect  # a placed label holds a spot
            if held is not None and not inside.contains(held):
                rect = rect.united(held.adjusted(-margin, -margin, margin, margin))
        return rect

    # ------------------------------------------------------------------ internals
    def _free(self, label: _Label, i: int) -> bool:
        if label.blocked(i, self._obstacles):
            return False
        r = label.padded(i)
        for cell in _cells(r):
            for other in self._held.get(cell, ()):
                if other.order < label.order and other.rect.intersects(r):
                    return False
        return True

    def _place_one(self, label: _Label, queue: list) -> None:
        spots = range(len(CANDIDATES))
        clear = next((i for i in spots if not label.on_curve(i, self._curves) and self._free(label, i)), None)
        free = clear if clear is not None else next((i for i in spots if self._free(label, i)), None)
        tier = 1 if clear is not None else 2 if free is not None else 0
        choice = free if free is not None else 0
        found = tier > 0
        if (choice, found, tier) == (label.choice, label.found, label.tier):
            return
        moved = choice != label.choice
        old = label.rect
        if moved and old is not None:
            self._release(label)
        self._unwatch(label)
        label.choice, label.found, label.tier = choice, found, tier
        if moved:
            label.rect = label.spot(choice)
            for cell in _cells(label.rect):
                self._held.setdefault(cell, set()).add(label)
            label.edge.place_label(*CANDIDATES[choice])
        label.watched = tuple({c for i in label.deciding() for c in _cells(label.padded(i))})
        for cell in label.watched:
            self._watch.setdefault(cell, set()).add(label)
        if moved:
            for r in (old, label.rect):
                if r is not None:
                    self._wake(r, label.order, queue)

    def _release(self, label: _Label) -> None:
        if label.rect is None:
            return
        for cell in _cells(label.rect):
            held = self._held.get(cell)
            if held is not None:
                held.discard(label)

    def _unwatch(self, label: _Label) -> None:
        for cell in label.watched:
            watch = self._watch.get(cell)
            if watch is not None:
                watch.discard(label)
        label.watched = ()

    def _wake(self, r: QRectF | None, order: tuple, queue: list) -> None:
        """Queue the later labels that a change of the spot ``r`` may move."""
        if r is None:
            return
        seen = set()
        for cell in _cells(r):
            for other in self._watch.get(cell, ()):
                if other.order > order and id(other) not in seen:
                    seen.add(id(other))
                    if any(other.padded(i).intersects(r) for i in other.deciding()):
                        heapq.heappush(queue, (other.order, id(other), other))
