"""The stepping view of a built network: one box per block, where the user put the block.

A block that made several nodes of the trace (a Linear's transpose, matmul and parameters; a
``pow``'s op and its exponent) folds into one box named after the block, which shows the
block's output value and gradient; a block of one node is drawn as that node. The loss stays
its own box, as in every view. Opening a block (a double-click) shows its autograd ops instead,
laid out around the block's place; wires between blocks are the trace edges between their
nodes, so they carry the gradients as any edge does.

The layout is :func:`~bpviz.core.placed_layout.placed_layout` of the blocks' editor positions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from bpviz.core.layout import Layout, Point
from bpviz.core.network.arrange import BLOCK_SIZE, LAYER_GAP, NODE_GAP
from bpviz.core.network.build import BuiltNetwork
from bpviz.core.network.document import Network
from bpviz.core.network.mapping import trace_blocks
from bpviz.core.placed_layout import placed_layout
from bpviz.core.views import GROUP_PREFIX, fold_groups

# Room between neighbouring blocks on the canvas: along the flow for one edge label (a
# gradient and its chain-rule factors), across it for a little air.
FLOW_GAP = 160.0
SIDE_GAP = 44.0
# Inside an opened block: the gaps of the app's layered layout.
INNER_GAPS = (78.0, 34.0)
# The distance of two neighbouring blocks in the editor after an auto-arrange.
EDITOR_PITCH = (BLOCK_SIZE[0] + LAYER_GAP, BLOCK_SIZE[1] + NODE_GAP)


def flow_direction(doc: Network) -> str:
    """``"LR"`` when the wires mostly run sideways in the editor, ``"TB"`` when mostly down."""
    along = across = 0.0
    for w in doc.sorted_wires():
        (x0, y0), (x1, y1) = doc.blocks[w.src].position, doc.blocks[w.dst].position
        along += abs(x1 - x0)
        across += abs(y1 - y0)
    return "LR" if along >= across else "TB"


@dataclass
class BlockArrangement:
    """How the trace of a built network is drawn on the blocks the user placed.

    ``blocks_of`` maps trace node -> block id, ``names`` block id -> name, ``places`` block id ->
    editor position, ``titles`` block name -> the title of its box; ``direction`` is the way the
    data flows; ``expanded`` the blocks (by name) open when the trace is first shown.
    """

    blocks_of: dict[str, str]
    names: dict[str, str]
    places: dict[str, Point]
    titles: dict[str, str] = field(default_factory=dict)
    direction: str = "LR"
    expanded: frozenset[str] = frozenset()

    @classmethod
    def of(cls, built: BuiltNetwork, doc: Network, trace: Any, expanded: Collection[str] = ()) -> BlockArrangement:
        """The arrangement of ``trace``, the trace of ``built`` (the build of ``doc``)."""
        blocks_of = trace_blocks(built, trace)
        names = {b: doc.blocks[b].name for b in doc.block_ids()}
        titles = {}
        for b, name in names.items():
            module_title = trace.module_titles.get(name, "")
            # A layer says what it is (Linear(10→5)) and, when the user renamed it, which one.
            kind = doc.blocks[b].kind
            if module_title and module_title != name:
                titles[name] = f"{name}: {module_title}"
            else:
                titles[name] = f"{name}: {kind}"
        places = {b: doc.blocks[b].position for b in names}
        return cls(blocks_of, names, places, titles, flow_direction(doc), frozenset(expanded) & set(names.values()))

    def _groups(self, graph: nx.DiGraph[str], expanded: Collection[str]) -> dict[str, str]:
        """Node -> block name, for the nodes that fold into their block's box."""
        by_block: dict[str, list[str]] = {}
        for n, attrs in graph.nodes(data=True):
            block = self.blocks_of.get(n)
            if block is not None and attrs["kind"] != "loss":
                by_block.setdefault(block, []).append(n)
        return {
            n: self.names[b]
            for b, nodes in by_block.items()
            if len(nodes) > 1 and self.names[b] not in expanded
            for n in nodes
        }

    def view(self, graph: nx.DiGraph[str], expanded: Collection[str] = ()) -> nx.DiGraph[str]:
        """``graph`` (the trace's, or a view of it without shape ops) with each block of several
        nodes folded into the box ``group:NAME``, except the blocks named in ``expanded``."""
        groups = self._groups(graph, expanded)
        out = fold_groups(graph, groups, self.titles)
        for _, attrs in out.nodes(data=True):
            if attrs["kind"] == "group":
                attrs["op"] = "block"  # a box the user built, not necessarily an nn.Module (see roles)
        # A block drawn as its one op is named as the user named the block ("z", tagged add).
        ops: dict[str, list[str]] = {}
        for n, attrs in out.nodes(data=True):
            block = self.blocks_of.get(n)
            if block is not None and attrs["kind"] != "constant":
                ops.setdefault(block, []).append(n)
        for block, nodes in ops.items():
            attrs = out.nodes[nodes[0]]
            if len(nodes) == 1 and attrs["kind"] in ("op", "loss"):
                attrs["name"] = self.names[block]
        return out

    def block_of(self, graph: nx.DiGraph[str], node: str) -> str | None:
        """The block a drawn box belongs to (None: a box of no block)."""
        if node in graph and graph.nodes[node]["kind"] == "group":
            members = graph.nodes[node]["members"]
            return self.blocks_of.get(members[0]) if members else None
        return self.blocks_of.get(node)

    def can_open(self, graph: nx.DiGraph[str], node: str) -> bool:
        """Whether a drawn box is a folded block (a double-click opens it)."""
        return node in graph and graph.nodes[node]["kind"] == "group" and node.startswith(GROUP_PREFIX)

    def opened_block(self, node: str, expanded: Collection[str]) -> str | None:
        """The name of the opened block a drawn node of the trace belongs to, or None."""
        block = self.blocks_of.get(node)
        name = self.names.get(block) if block is not None else None
        return name if name in expanded else None

    def layout(self, graph: nx.DiGraph[str], sizes: Mapping[str, tuple[float, float]]) -> Layout:
        """Where the boxes of ``graph`` (a :meth:`view`) go: at the blocks' places."""
        cluster_of = {}
        for n in graph.nodes:
            block = self.block_of(graph, n)
            if block is not None:
                cluster_of[n] = block
        return placed_layout(
            graph,
            self.places,
            cluster_of,
            sizes,
            direction=self.direction,
            pitch=EDITOR_PITCH,
            gaps=(FLOW_GAP, SIDE_GAP),
            inner_gaps=INNER_GAPS,
        )
