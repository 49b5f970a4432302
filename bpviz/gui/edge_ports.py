"""Where edges meet the boxes: each node's out-edges leave from ports spread along its bottom
side and its in-edges arrive at ports along its top (in a left-to-right layout: its right and
left sides), ordered by where they go to or come from, so that edges do not cross at the boxes.

A layered layout always puts an edge's target further along the flow. A layout from the user's
own positions need not: a block placed under another in a left-to-right network is reached
from the bottom side to the top side (and one placed beside another in a top-to-bottom network
from side to side), instead of a curve that leaves rightwards and loops back to the left.
"""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import QPointF, QRectF

PORT_SPACING = 16.0
CLEAR_GAP = 8.0  # how far past a box's far side the target must start to count as further along

Edge = tuple[str, str]


def edge_ports(
    graph: nx.DiGraph, rects: dict[str, QRectF], routes: dict, horizontal: bool = False
) -> tuple[dict[Edge, QPointF], dict[Edge, QPointF], set[Edge]]:
    """The out-port and in-port of every edge of ``graph``, in scene coordinates, and the edges
    drawn across the layout's direction (see the module docstring).

    ``rects`` are the nodes' scene rectangles and ``routes`` the layout's points per edge (an
    edge with bends is ordered by its first or last bend, else by the box at its other end).
    """
    turned = {(u, v) for u, v in graph.edges if _crosswise(rects[u], rects[v], horizontal)}

    def along(edge: Edge, first: bool) -> float:
        """Where the edge's other end lies along the side its port is on."""
        sideways = horizontal != (edge in turned)  # the ports are on the left and right sides
        route = routes.get(edge)
        if route and len(route) > 2:
            point = route[1] if first else route[-2]
            return point[1] if sideways else point[0]
        centre = rects[edge[1] if first else edge[0]].center()
        return centre.y() if sideways else centre.x()

    out_port: dict[Edge, QPointF] = {}
    in_port: dict[Edge, QPointF] = {}
    for n, r in rects.items():
        # Lists from successors/predecessors: networkx's per-node edge views count every edge
        # of the graph for len(), which made this quadratic.
        for edges, first, ports in (
            ([(n, s) for s in graph.successors(n)], True, out_port),
            ([(p, n) for p in graph.predecessors(n)], False, in_port),
        ):
            order = {e: (along(e, first), e) for e in edges}
            for sideways in (False, True):
                side = sorted((e for e in edges if (horizontal != (e in turned)) is sideways), key=order.__getitem__)
                _spread(side, r, sideways, first, ports)
    return out_port, in_port, turned


def _crosswise(source: QRectF, target: QRectF, horizontal: bool) -> bool:
    """Whether an edge is better drawn across the layout's direction: its target is not further
    along the flow but clearly beyond the source the other way (below it, left to right; to its
    right, top to bottom)."""
    if horizontal:
        return target.left() < source.right() + CLEAR_GAP and target.top() >= source.bottom() + CLEAR_GAP
    return target.top() < source.bottom() + CLEAR_GAP and target.left() >= source.right() + CLEAR_GAP


def _spread(edges: list[Edge], r: QRectF, sideways: bool, outgoing: bool, ports: dict[Edge, QPointF]) -> None:
    """Ports for ``edges`` spread along one side of ``r``: the right (out) or left (in) side when
    ``sideways``, else the bottom (out) or top (in)."""
    k = len(edges)
    if sideways:
        x = r.right() if outgoing else r.left()
        step = min(PORT_SPACING, (r.height() - 16) / max(1, k - 1))
        for i, e in enumerate(edges):
            ports[e] = QPointF(x, r.center().y() + (i - (k - 1) / 2) * step)
        return
    y = r.bottom() if outgoing else r.top()
    step = min(PORT_SPACING, (r.width() - 24) / max(1, k - 1))
    for i, e in enumerate(edges):
        ports[e] = QPointF(r.center().x() + (i - (k - 1) / 2) * step, y)
