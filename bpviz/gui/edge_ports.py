"""Where edges meet the boxes: each node's out-edges leave from ports spread along its bottom
side and its in-edges arrive at ports along its top (in a left-to-right layout: its right and
left sides), ordered by where they go to or come from, so that edges do not cross at the boxes."""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import QPointF, QRectF

PORT_SPACING = 16.0

Edge = tuple[str, str]


def edge_ports(
    graph: nx.DiGraph, rects: dict[str, QRectF], xs: dict[str, float], routes: dict, horizontal: bool = False
) -> tuple[dict[Edge, QPointF], dict[Edge, QPointF]]:
    """The out-port and in-port of every edge of ``graph``, in scene coordinates.

    ``rects`` are the nodes' scene rectangles, ``xs`` their positions along the layers (their y
    when ``horizontal``), and ``routes`` the layout's points per edge (an edge with bends is
    ordered by its first or last bend, else by the node at its other end).
    """
    along = 1 if horizontal else 0  # the coordinate that runs along a layer

    def neighbour_x(route, fallback: str, first: bool) -> float:
        if route and len(route) > 2:
            return route[1][along] if first else route[-2][along]
        return xs[fallback]

    out_port: dict[Edge, QPointF] = {}
    in_port: dict[Edge, QPointF] = {}
    for n, r in rects.items():
        # Lists from successors/predecessors: networkx's per-node edge views count every edge
        # of the graph for len(), which made this quadratic.
        outs = sorted([(n, s) for s in graph.successors(n)], key=lambda e: (neighbour_x(routes.get(e), e[1], True), e))
        ins = sorted(
            [(p, n) for p in graph.predecessors(n)], key=lambda e: (neighbour_x(routes.get(e), e[0], False), e)
        )
        if horizontal:
            for edges, x, ports in ((outs, r.right(), out_port), (ins, r.left(), in_port)):
                k = len(edges)
                step = min(PORT_SPACING, (r.height() - 16) / max(1, k - 1))
                for i, e in enumerate(edges):
                    ports[e] = QPointF(x, r.center().y() + (i - (k - 1) / 2) * step)
            continue
        for edges, y, ports in ((outs, r.bottom(), out_port), (ins, r.top(), in_port)):
            k = len(edges)
            step = min(PORT_SPACING, (r.width() - 24) / max(1, k - 1))
            for i, e in enumerate(edges):
                ports[e] = QPointF(r.center().x() + (i - (k - 1) / 2) * step, y)
    return out_port, in_port
