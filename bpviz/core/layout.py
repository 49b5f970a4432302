"""Layered (Sugiyama-style) layout of a forward-direction graph, in pure Python (no graphviz).

1. Layers, as late as possible: each node one layer before its first consumer, sinks last, so
   parameters sit right beside the op using them (topological generations would put them all
   in row 0, with hundreds of crossings).
2. Long edges become chains of internal dummy nodes, so the next steps see them.
3. Order: depth-first from the sinks (planar for trees), then barycenter sweeps if needed.
4. Coordinates: sweeps pull each node to the weighted median of its neighbours, and per layer an
   isotonic regression keeps boxes apart. Edges on long paths weigh most, so the main data path
   is a straight line.

Walks are iterative (300-layer chains, 2,000+ nodes); every order comes from sorted keys, never
from set iteration or node insertion order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx

from bpviz.core.crossings import inversions

DEFAULT_SIZE = (120.0, 50.0)
_ORDER_SWEEPS = 8  # barycenter sweeps (alternating down and up) at most
_PLACE_SWEEPS = 8  # coordinate sweeps at most; they usually settle after three
_SOURCE_WEIGHT = 1e-3  # weight of edges that leave a source node
_LAST = float("inf")  # sort key of inputs at an unknown argument position
_DIGITS = re.compile(r"(\d+)")

Point = tuple[float, float]


@dataclass
class Layout:
    """Where every node goes: ``positions`` are box centres in scene pixels.

    With ``direction="TB"`` layers run top to bottom (y grows downward, as in Qt scenes); with
    ``"LR"`` left to right. ``order[i]`` lists layer i's nodes in drawing order.
    ``routes[(u, v)]`` is each edge's polyline: from u's centre to v's, with two points for each
    layer it passes, where it enters and leaves that layer's band; there it runs upright in the
    space kept free between boxes. Draw edges along routes: straight lines may cross boxes.
    """

    positions: dict[str, Point]
    layers: dict[str, int]
    width: float
    height: float
    order: list[list[str]] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Point]] = field(default_factory=dict)
    direction: str = "TB"


def node_key(node: object) -> tuple[tuple[str | int, ...], str]:
    """A total, natural sort key for node ids ("n2" before "n10"), whatever their form."""
    text = str(node)
    if text.isdigit():  # the common case, counter ids; same key as the general form
        return ("", int(text), ""), text
    parts: list[str | int] = _DIGITS.split(text)
    # re.split alternates text and digits, so the parts compare str with str, int with int.
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts), text


def _argument_position(index: object) -> float | int:
    """Sort key from an edge's ``index`` (an int, or a list when one tensor feeds several
    inputs): inputs are drawn in argument order, unknown ones last (then by id)."""
    if type(index) is int:
        return index
    if isinstance(index, (list, tuple)):
        return min([i for i in index if type(i) is int], default=_LAST)
    return _LAST


def layered_layout(
    graph: nx.DiGraph[str],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    direction: str = "TB",
    layer_gap: float = 60.0,
    node_gap: float = 30.0,
) -> Layout:
    """Lay out a DAG in layers; equal graphs get equal layouts whatever their insertion order.

    ``sizes`` maps node id to ``(width, height)`` in pixels (missing nodes get
    :data:`DEFAULT_SIZE`). Raises ValueError for a graph with a cycle or an unknown direction.
    """
    if direction not in ("TB", "LR"):
        raise ValueError(f"direction must be 'TB' or 'LR', not {direction!r}")
    names = sorted(graph.nodes, key=node_key)
    n = len(names)
    if n == 0:
        return Layout({}, {}, 0.0, 0.0, direction=direction)
    rank = {v: i for i, v in enumerate(names)}
    # Breadth is a box's extent along its layer, depth across it.
    dims = [tuple(map(float, (sizes or {}).get(v, DEFAULT_SIZE))) for v in names]
    breadth = [d[0] if direction == "TB" else d[1] for d in dims]
    depth = [d[1] if direction == "TB" else d[0] for d in dims]
    keyed: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    index: object  # an int, or a list of them (see _argument_position)
    for u, v, index in graph.edges(data="index"):
        keyed[rank[v]].append((_argument_position(index), rank[u]))
        succs[rank[u]].append(rank[v])
    preds = [[u for _, u in sorted(k)] for k in keyed]
    to_sink = _longest_paths(succs, preds)
    if to_sink is None:
        raise ValueError("layered_layout needs a DAG; the graph has a cycle")
    deepest = max(to_sink)
    layer = [deepest - t for t in to_sink]
    asap = _longest_paths(preds, succs)
    assert asap is not None  # the same graph reversed: no cycle either
    up, upw, down, downw, edges = _add_dummies(preds, layer, asap)
    breadth += [0.0] * (len(layer) - n)  # dummies are thin; the gap alone keeps them apart
    order = _reduce_crossings(_initial_order(up, layer, n), up, down)
    across = _place(order, up, upw, down, downw, breadth, node_gap)

    # Layers stack by their tallest box plus the gap; the scene's origin is the top left.
    layer_depth = [0.0] * len(order)
    for i in range(n):
        if depth[i] > layer_depth[layer[i]]:
            layer_depth[layer[i]] = depth[i]
    centre, top = [], 0.0
    for d in layer_depth:
        centre.append(top + d / 2)
        top += d + layer_gap
    low = min([a - b / 2 for a, b in zip(across, breadth)])
    high = max([a + b / 2 for a, b in zip(across, breadth)])
    tb = direction == "TB"
    points = [(a - low, centre[k]) if tb else (centre[k], a - low) for a, k in zip(across, layer)]
    routes = {}
    for chain in edges:
        route = [points[chain[0]]]
        for d in chain[1:-1]:  # upright through each layer passed, so no box is clipped
            a, k = across[d] - low, layer[d]
            near, far = centre[k] - layer_depth[k] / 2, centre[k] + layer_depth[k] / 2
            route += [(a, near), (a, far)] if tb else [(near, a), (far, a)]
        routes[(names[chain[0]], names[chain[-1]])] = [*route, points[chain[-1]]]
    extent = top - layer_gap
    return Layout(
        positions=dict(zip(names, points)),
        layers=dict(zip(names, layer)),
        width=high - low if tb else extent,
        height=extent if tb else high - low,
        order=[[names[i] for i in row if i < n] for row in order],
        routes=routes,
        direction=direction,
    )


def _longest_paths(outs: list[list[int]], ins: list[list[int]]) -> list[int] | None:
    """Longest path from each node to one without ``outs`` (Kahn's algorithm, iterative);
    None when some node never finishes, which means the graph has a cycle."""
    length = [0] * len(outs)
    pending = [len(o) for o in outs]
    stack = [i for i, p in enumerate(pending) if not p]
    done = 0
    while stack:
        v = stack.pop()
        done += 1
        for u in ins[v]:
            if length[u] <= length[v]:
                length[u] = length[v] + 1
            pending[u] -= 1
            if not pending[u]:
                stack.append(u)
    return length if done == len(outs) else None


def _add_dummies(
    preds: list[list[int]], layer: list[int], asap: list[int]
) -> tuple[list[list[int]], list[list[float]], list[list[int]], list[list[float]], list[list[int]]]:
    """The proper layered graph: long edges become chains of dummy nodes (ids from n on).

    Returns up/down neighbour lists with parallel weights, and each edge's chain of ids. An edge
    weighs the length of the longest source-to-sink path through it, so the main data path
    outweighs side branches; edges leaving a source (a parameter, an input) weigh almost
    nothing, as such nodes can go anywhere.
    """
    n, last = len(preds), max(layer)
    up: list[list[int]] = [[] for _ in range(n)]
    upw: list[list[float]] = [[] for _ in range(n)]
    edges: list[list[int]] = []
    for v in range(n):
        for u in preds[v]:
            w = float(asap[u] + 1 + last - layer[v]) if asap[u] else _SOURCE_WEIGHT
            chain = [u]
            for k in range(layer[u] + 1, layer[v]):
                layer.append(k)
                up.append([chain[-1]])
                upw.append([w])
                chain.append(len(layer) - 1)
            up[v].append(chain[-1])
            upw[v].append(w)
            edges.append([*chain, v])
    down: list[list[int]] = [[] for _ in layer]
    downw: list[list[float]] = [[] for _ in layer]
    for v, (ins, ws) in enumerate(zip(up, upw)):
        for u, w in zip(ins, ws):
            down[u].append(v)
            downw[u].append(w)
    return up, upw, down, downw, edges


def _initial_order(up: list[list[int]], layer: list[int], n: int) -> list[list[int]]:
    """Depth-first order from the sinks through each node's inputs (planar for trees)."""
    last = max(layer)
    order: list[list[int]] = [[] for _ in range(last + 1)]
    seen = [False] * len(layer)
    # Every node reaches a sink and all sinks share the last layer, so the walk meets them all.
    for root in range(n):
        if layer[root] != last or seen[root]:
            continue
        seen[root] = True
        stack = [root]
        while stack:
            v = stack.pop()
            order[layer[v]].append(v)
            # Source inputs leftmost, then the rest, each in argument order: side branches such
            # as skip connections then leave the main path rightward, past no parameter edges.
            for group in (True, False):
                for u in reversed(up[v]):
                    if bool(up[u]) is group and not seen[u]:
                        seen[u] = True
                        stack.append(u)
    return order


def _reduce_crossings(order: list[list[int]], up: list[list[int]], down: list[list[int]]) -> list[list[int]]:
    """Barycenter sweeps, alternately down and up, while they help; the best order wins."""
    pos = [0] * len(up)

    def crossings() -> int:  # per gap: inversions of the lower ends listed in upper order
        for row in order:
            for i, v in enumerate(row):
                pos[v] = i
        return sum(inversions([p for u in upper for p in sorted([pos[w] for w in down[u]])]) for upper in order[:-1])

    best, best_order, stale = crossings(), [row[:] for row in order], 0
    for sweep in range(_ORDER_SWEEPS):
        if best == 0 or stale >= 2:
            break
        downward = sweep % 2 == 0
        nbrs = up if downward else down
        for k in range(1, len(order)) if downward else range(len(order) - 2, -1, -1):
            # Nodes without neighbours there keep their place.
            keyed = sorted(
                (sum([pos[u] for u in ns]) / len(ns) if ns else pos[v], pos[v], v)
                for v, ns in ((v, nbrs[v]) for v in order[k])
            )
            order[k] = [v for _, _, v in keyed]
            for i, v in enumerate(order[k]):
                pos[v] = i
        _transpose(order, up, down, pos)
        now = crossings()
        if now < best:
            best, best_order, stale = now, [row[:] for row in order], 0
        else:
            stale += 1
    return best_order


def _transpose(
    order: list[list[int]], up: list[list[int]], down: list[list[int]], pos: list[int], passes: int = 2
) -> None:
    """Swap neighbours in a layer wherever that alone removes crossings (as dot does)."""
    for _ in range(passes):
        swapped = False
        for row in order:
            # Other layers stay put while this one changes, so their positions can be cached.
            ends = [([pos[w] for w in up[v]], [pos[w] for w in down[v]]) for v in row]
            for i in range(len(row) - 1):
                pairs = [(p, q) for xs, ys in zip(ends[i], ends[i + 1]) for p in xs for q in ys]
                if sum(p < q for p, q in pairs) < sum(p > q for p, q in pairs):
                    row[i], row[i + 1] = row[i + 1], row[i]
                    ends[i], ends[i + 1] = ends[i + 1], ends[i]
                    pos[row[i]], pos[row[i + 1]] = i, i + 1
                    swapped = True
        if not swapped:
            return


def _weighted_median(points: list[tuple[float, float]]) -> float:
    """The weighted median of (value, weight) pairs; the midpoint where it falls on a tie."""
    points.sort()
    half = sum(w for _, w in points) / 2
    cum = 0.0
    for i, (x, w) in enumerate(points):
        cum += w
        if cum > half + 1e-9:
            return x
        if cum >= half - 1e-9:
            return (x + points[i + 1][0]) / 2
    return points[-1][0]


def _fit_row(row: list[int], offset: list[float], desired: list[float], priority: list[float], x: list[float]) -> None:
    """Positions closest to ``desired`` that keep the row's order and spacing, by priority.

    Subtracting each node's offset turns the spacing constraints into a monotone sequence, so
    this is isotonic regression, solved exactly by pool-adjacent-violators. Weights are
    lexicographic (the limit of weights ``BIG ** priority``): where nodes collide, the one of
    highest priority keeps its place and the others move aside, as in Sugiyama's priority
    method; nodes of equal priority meet halfway.
    """
    blocks: list[tuple[float, float, float, int]] = []  # (mean, priority, weight at that priority, count)
    for i in range(len(row)):
        mean, prio, w, count = desired[i] - offset[i], priority[i], 1.0, 1
        while blocks and blocks[-1][0] > mean:
            pmean, pprio, pw, pcount = blocks.pop()
            if pprio > prio:
                mean, prio, w = pmean, pprio, pw
            elif pprio == prio:
                mean = (pmean * pw + mean * w) / (pw + w)
                w += pw
            count += pcount
        blocks.append((mean, prio, w, count))
    i = 0
    for mean, _, _, count in blocks:
        for _ in range(count):
            x[row[i]] = mean + offset[i]
            i += 1


def _place(
    order: list[list[int]],
    up: list[list[int]],
    upw: list[list[float]],
    down: list[list[int]],
    downw: list[list[float]],
    breadth: list[float],
    gap: float,
) -> list[float]:
    """Positions along the layers: median sweeps, alternately up and down, until they settle."""
    x = [0.0] * len(up)
    offsets: list[list[float]] = []  # each node's least distance from the first of its row
    for row in order:
        offsets.append([0.0])
        for a, b in pairwise(row):
            offsets[-1].append(offsets[-1][-1] + (breadth[a] + breadth[b]) / 2 + gap)
        for v, off in zip(row, offsets[-1]):
            x[v] = off - offsets[-1][-1] / 2  # start centred on 0
    # A node's priority is the total weight of its edges to the reference layer.
    prio_up = [sum(w) if w else -1.0 for w in upw]
    prio_down = [sum(w) if w else -1.0 for w in downw]
    history: list[list[float]] = []
    # Upward first: the sinks' row anchors everything, and inputs land beside their consumers.
    for sweep in range(_PLACE_SWEEPS):
        if sweep % 2:
            rows, nbrs, wts, prio = range(1, len(order)), up, upw, prio_up
        else:
            rows, nbrs, wts, prio = range(len(order) - 2, -1, -1), down, downw, prio_down
        for k in rows:
            row, desired = order[k], []
            for v in row:
                ns = nbrs[v]
                if len(ns) == 1:
                    desired.append(x[ns[0]])
                elif ns:
                    desired.append(_weighted_median([(x[u], w) for u, w in zip(ns, wts[v])]))
                else:
                    desired.append(x[v])
            if len(row) == 1:
                x[row[0]] = desired[0]
            else:
                _fit_row(row, offsets[k], desired, [prio[v] for v in row], x)
        # Sweeps are deterministic and commute with shifting everything, so a shape seen before
        # repeats forever: a fixed point, or a two-sweep cycle (a node pulled one way going
        # down and the other way going up). Either way an upward sweep's result is final.
        for old in history:
            diffs = [p - q for p, q in zip(x, old)]
            if max(diffs) - min(diffs) < 1e-2:
                return history[-1] if sweep % 2 else x
        history = [*history[-1:], x[:]]
    return x
