"""Auto-arrange: the app's layered layout applied to a network's blocks, as one move command."""

from __future__ import annotations

import networkx as nx

from bpviz.core.layout import layered_layout
from bpviz.core.network.commands import MoveBlocks
from bpviz.core.network.document import Network

BLOCK_SIZE = (150.0, 60.0)
LAYER_GAP = 70.0  # between columns of blocks
NODE_GAP = 40.0  # between blocks of a column


def arranged_positions(doc: Network, direction: str = "LR") -> dict[str, tuple[float, float]]:
    """Block id -> position (box centre) of a layered layout, data flowing left to right."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(doc.block_ids())
    for w in doc.sorted_wires():
        graph.add_edge(w.src, w.dst, index=doc.blocks[w.dst].spec.inputs.index(w.port))
    layout = layered_layout(
        graph, dict.fromkeys(doc.blocks, BLOCK_SIZE), direction=direction, layer_gap=LAYER_GAP, node_gap=NODE_GAP
    )
    return {b: (round(x, 1), round(y, 1)) for b, (x, y) in layout.positions.items()}


def arrange(doc: Network, direction: str = "LR") -> MoveBlocks:
    """A command that moves every block to its :func:`arranged_positions` place."""
    return MoveBlocks(doc, arranged_positions(doc, direction))
