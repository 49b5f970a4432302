"""Layout from positions: a graph drawn where the user put its parts, not in computed layers.

The builder's blocks have positions the user chose. Stepping the built network draws each block
as one or more boxes of the trace (its *cluster*): the box of the block's output, the constants
or parameters beside it, or, when the block is opened, all of its autograd ops. This module
places the clusters at the users' positions:

1. Every node joins a cluster: its own (``cluster_of``), else that of a neighbour (a Python
   number used by an op sits beside the op), else one placed after all the others.
2. Each cluster is laid out on its own around a reference point: one box with its leaves in a
   row beside it (below it when data flows left to right), or a small layered layout when it
   holds several ops.
3. The positions are scaled so the editor's spacing of small blocks becomes room for the larger
   boxes of the canvas and the edge labels between them.
4. Clusters that would still overlap (an opened block) push their neighbours aside: whole
   columns to the right, whole rows down, so every cluster keeps its place relative to the
   others (a block right of another stays right of it, one above stays above).

Everything is deterministic: ties are broken by sorted ids, never by insertion order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from bpviz.core.layout import DEFAULT_SIZE, Layout, Point, layered_layout, node_key

_SAME = 1e-6  # positions closer than this share a column (or a row)


@dataclass
class _Cluster:
    """One cluster: its nodes' offsets from its reference point and its extent around it."""

    key: str
    place: Point  # the user's position, in the caller's units
    offsets: dict[str, Point]
    left: float
    top: float
    right: float
    bottom: float
    routes: dict[tuple[str, str], list[Point]]


def _size(sizes: Mapping[str, tuple[float, float]], node: str) -> tuple[float, float]:
    w, h = sizes.get(node, DEFAULT_SIZE)
    return float(w), float(h)


def _rect(centre: Point, size: tuple[float, float]) -> tuple[float, float, float, float]:
    (x, y), (w, h) = centre, size
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def assign_clusters(graph: nx.DiGraph[str], cluster_of: Mapping[str, str]) -> dict[str, str | None]:
    """Each node's cluster: its own, else the cluster of its first consumer that has one, else
    of its first producer (by sorted ids, through chains of nodes without one); None when no
    node it is connected to has one."""
    out: dict[str, str | None] = {n: cluster_of.get(n) for n in graph.nodes}
    pending = sorted((n for n, c in out.items() if c is None), key=node_key)
    while pending:
        left = []
        for n in pending:
            found = None
            for neighbours in (graph.successors(n), graph.predecessors(n)):
                for m in sorted(neighbours, key=node_key):
                    if out[m] is not None:
                        found = out[m]
                        break
                if found is not None:
                    break
            if found is None:
                left.append(n)
            else:
                out[n] = found
        if len(left) == len(pending):
            break
        pending = left
    return out


def _anchor(graph: nx.DiGraph[str], members: list[str], rank: Mapping[str, int]) -> str:
    """The node showing the cluster's output: the last (in graph order) whose result leaves the
    cluster or goes nowhere."""
    inside = set(members)
    outputs = [n for n in members if not graph.out_degree(n) or any(s not in inside for s in graph.successors(n))]
    return max(outputs or members, key=lambda n: (rank[n], node_key(n)))


def _local(
    graph: nx.DiGraph[str],
    key: str,
    place: Point,
    members: list[str],
    sizes: Mapping[str, tuple[float, float]],
    rank: Mapping[str, int],
    direction: str,
    gaps: tuple[float, float],
) -> _Cluster:
    """A cluster laid out around its reference point (see the module notes)."""
    inside = set(members)
    anchor = _anchor(graph, members, rank)
    ops = [n for n in members if n == anchor or any(p in inside for p in graph.predecessors(n))]
    offsets: dict[str, Point] = {}
    routes: dict[tuple[str, str], list[Point]] = {}
    size = {n: _size(sizes, n) for n in members}
    if len(ops) == 1:
        # One box, and its leaves stacked just before it and off to the side (down and left
        # in a left to right flow, up and right top to bottom): each leaf's wire runs forward
        # into the box, and the wires between blocks, level with the boxes, stay clear.
        offsets[anchor] = (0.0, 0.0)
        leaves = sorted((n for n in members if n != anchor), key=node_key)
        tb = direction == "TB"
        flow, side = (1, 0) if tb else (0, 1)  # which of (width, height) runs along the flow
        across = size[anchor][side] / 2 + gaps[1] / 2
        for n in leaves:
            along = -(size[anchor][flow] / 2 + gaps[1] + size[n][flow] / 2)
            centre = across + size[n][side] / 2
            offsets[n] = (centre, along) if tb else (along, centre)
            across += size[n][side] + gaps[1] / 2
    else:
        # A small layered layout of the ops. Each wire from outside gets a stand-in source
        # there, so the layout keeps a lane free for it; the wire is drawn through that lane.
        sub = graph.subgraph(members).copy()
        sizes_in = dict(size)
        stand_ins: dict[tuple[str, str], str] = {}
        for v in members:
            for u in sorted(graph.predecessors(v), key=node_key):
                if u not in inside:
                    d = stand_ins[u, v] = f"\0from:{u}:{v}"
                    sub.add_edge(d, v, index=graph.edges[u, v].get("index"))
                    sizes_in[d] = (1.0, 1.0)
        inner = layered_layout(sub, sizes_in, direction=direction, layer_gap=gaps[0], node_gap=gaps[1])
        cx, cy = inner.width / 2, inner.height / 2
        offsets = {n: (x - cx, y - cy) for n, (x, y) in inner.positions.items() if n in inside}
        for e, r in inner.routes.items():
            if e[0] in inside:
                routes[e] = [(x - cx, y - cy) for x, y in r]
        for (u, v), d in stand_ins.items():
            # Bends only: the route's ends are filled in once the cluster has its place.
            routes[u, v] = [(x - cx, y - cy) for x, y in inner.routes[d, v][:-1]]
    rects = [_rect(offsets[n], size[n]) for n in members]
    return _Cluster(
        key,
        place,
        offsets,
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
        routes,
    )


def _lines(values: list[float]) -> list[int]:
    """The column (or row) of each value: equal values share one, numbered in order."""
    order = sorted(set(values))
    merged: list[float] = []
    for v in order:
        if not merged or v - merged[-1] > _SAME:
            merged.append(v)
    return [bisect_right(merged, v) - 1 for v in values]


def _push(
    centres: list[list[float]],
    clusters: list[_Cluster],
    axis: int,
    gap: float,
    pairs: set[tuple[int, int]] | None,
) -> None:
    """Move whole lines (columns for axis 0, rows for axis 1) forward along ``axis`` until no
    two clusters that overlap across it, and are in ``pairs`` (all when None), overlap along it.
    A line never moves less than the line before it, so the lines keep their order."""
    other = 1 - axis

    def span(i: int, ax: int) -> tuple[float, float]:
        c = clusters[i]
        lo, hi = (c.left, c.right) if ax == 0 else (c.top, c.bottom)
        return centres[i][ax] + lo, centres[i][ax] + hi

    line = _lines([centres[i][axis] for i in range(len(clusters))])
    lines: dict[int, list[int]] = {}
    for i, k in enumerate(line):
        lines.setdefault(k, []).append(i)
    shift = 0.0
    placed: list[int] = []
    for k in sorted(lines):
        need = shift
        for i in lines[k]:
            lo = span(i, axis)[0] + shift
            olo, ohi = span(i, other)
            for j in placed:
                if pairs is not None and (min(i, j), max(i, j)) not in pairs:
                    continue
                jlo, jhi = span(j, other)
                if jlo < ohi + gap and olo < jhi + gap:  # they overlap across the axis
                    need = max(need, shift + span(j, axis)[1] + gap - lo)
        shift = need
        for i in lines[k]:
            centres[i][axis] += shift
        placed += lines[k]


def placed_layout(
    graph: nx.DiGraph[str],
    places: Mapping[str, Point],
    cluster_of: Mapping[str, str],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    direction: str = "LR",
    pitch: tuple[float, float] = (1.0, 1.0),
    gaps: tuple[float, float] = (60.0, 30.0),
    inner_gaps: tuple[float, float] = (60.0, 30.0),
) -> Layout:
    """Lay ``graph`` out around the positions the user chose (see the module notes).

    ``places`` maps a cluster (a block) to its position, ``cluster_of`` a node to its cluster;
    ``sizes`` are the boxes' (width, height). ``direction`` (``"LR"`` or ``"TB"``) is the way data
    mostly flows, so leaves go beside their box, out of the wires' way. ``pitch`` is the
    distance of neighbouring positions in the caller's units (the editor's block plus its
    gap): it becomes the room the largest single box needs plus ``gaps`` (along the flow, where
    edge labels go; and across it). ``inner_gaps`` (along, across) space the boxes inside a
    cluster. Only each cluster's output box sets that room, so opening
    a block pushes its neighbours aside rather than spreading the whole drawing.
    """
    if direction not in ("TB", "LR"):
        raise ValueError(f"direction must be 'TB' or 'LR', not {direction!r}")
    sizes = sizes or {}
    nodes = sorted(graph.nodes, key=node_key)
    if not nodes:
        return Layout({}, {}, 0.0, 0.0, direction=direction)
    rank = {n: i for i, n in enumerate(nx.lexicographical_topological_sort(graph, key=node_key))}
    owner = assign_clusters(graph, {n: c for n, c in cluster_of.items() if c in places})
    members: dict[str, list[str]] = {}
    for n in nodes:
        members.setdefault(owner[n] or "", []).append(n)
    # Nodes tied to no position go after everything else, on the main line.
    known = [places[c] for c in members if c]
    far = (max((p[0] for p in known), default=0.0) + pitch[0], min((p[1] for p in known), default=0.0))
    clusters = [
        _local(graph, c, places[c] if c else far, members[c], sizes, rank, direction, inner_gaps)
        for c in sorted(members, key=node_key)
    ]
    # Scale: one pitch of the user's layout holds the largest output box plus the gaps.
    tb = direction == "TB"
    flow_gap, side_gap = gaps
    x_gap, y_gap = (side_gap, flow_gap) if tb else (flow_gap, side_gap)
    anchors = [_anchor(graph, members[c.key], rank) for c in clusters]
    boxes = [_size(sizes, a) for a in anchors]
    sx = (max(b[0] for b in boxes) + x_gap) / pitch[0]
    sy = (max(b[1] for b in boxes) + y_gap) / pitch[1]
    centres = [[c.place[0] * sx, c.place[1] * sy] for c in clusters]
    _separate_equal(centres, clusters)
    # Pairs are pushed apart the way they lie: side by side along x, one above the other along
    # y. A last pass along x over every pair leaves no overlap whatever the earlier passes did.
    horizontal: set[tuple[int, int]] = set()
    vertical: set[tuple[int, int]] = set()
    for i, a in enumerate(clusters):
        for j in range(i + 1, len(clusters)):
            b = clusters[j]
            # How far apart they are along each axis, in units of their joint extent.
            dx = abs(centres[i][0] - centres[j][0]) / (a.right - a.left + b.right - b.left)
            dy = abs(centres[i][1] - centres[j][1]) / (a.bottom - a.top + b.bottom - b.top)
            (horizontal if dx >= dy else vertical).add((i, j))
    _push(centres, clusters, 0, x_gap, horizontal)
    _push(centres, clusters, 1, y_gap, vertical)
    _push(centres, clusters, 0, x_gap, None)

    positions: dict[str, Point] = {}
    routes: dict[tuple[str, str], list[Point]] = {}
    external: list[tuple[str, str]] = []
    for c, (cx, cy) in zip(clusters, centres):
        for n, (ox, oy) in c.offsets.items():
            positions[n] = (cx + ox, cy + oy)
        for e, r in c.routes.items():
            routes[e] = [(cx + x, cy + y) for x, y in r]
            if e[0] not in c.offsets:  # a wire from outside: its bends, then the box it enters
                routes[e].append(positions[e[1]])
                external.append(e)
    for e in external:  # ... and first the box it leaves, placed by now
        routes[e].insert(0, positions[e[0]])
    left = min(cx + c.left for c, (cx, _) in zip(clusters, centres))
    top = min(cy + c.top for c, (_, cy) in zip(clusters, centres))
    right = max(cx + c.right for c, (cx, _) in zip(clusters, centres))
    bottom = max(cy + c.bottom for c, (_, cy) in zip(clusters, centres))
    positions = {n: (x - left, y - top) for n, (x, y) in positions.items()}
    routes = {e: [(x - left, y - top) for x, y in r] for e, r in routes.items()}
    return Layout(
        positions=positions,
        layers=dict.fromkeys(positions, 0),
        width=right - left,
        height=bottom - top,
        routes=routes,
        direction=direction,
    )


def _separate_equal(centres: list[list[float]], clusters: list[_Cluster]) -> None:
    """Clusters placed on the very same spot get rows of their own (in id order): otherwise
    they would share a row and a column, and nothing could push them apart."""
    seen: dict[tuple[float, float], int] = {}
    for i in range(len(clusters)):
        spot = (round(centres[i][0], 3), round(centres[i][1], 3))
        count = seen.get(spot, 0)
        seen[spot] = count + 1
        centres[i][1] += count * 100 * _SAME
