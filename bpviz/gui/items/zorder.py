"""Draw order and cache modes of the canvas items, named once so every item agrees.

Edges sit under nodes so arrowheads tuck under boxes; edge labels sit above nodes because a label
that a node hides is useless; tokens travel above everything but the legend.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem

Z_EDGE = 0.0
Z_EDGE_ACTIVE = 1.0
Z_NODE = 10.0
Z_NODE_ACTIVE = 11.0
Z_EDGE_LABEL = 20.0
Z_TOKEN = 30.0
Z_LEGEND = 40.0

# Nodes paint text and tables: cache them as device pixmaps so panning a 2,000-node graph only
# blits. Edges span large rectangles (a pixmap per edge would cost more than it saves), and
# tokens move every frame, so they draw directly.
CACHE_NODE = QGraphicsItem.CacheMode.DeviceCoordinateCache
CACHE_EDGE = QGraphicsItem.CacheMode.NoCache
CACHE_TOKEN = QGraphicsItem.CacheMode.NoCache
CACHE_LEGEND = QGraphicsItem.CacheMode.DeviceCoordinateCache
# Zoomed out below LOD_TEXT a node is a few shapes, cheaper to draw than a device pixmap is to
# render again at every new zoom level (and hundreds of nodes are on screen): no cache there.
CACHE_NODE_ZOOMED_OUT = QGraphicsItem.CacheMode.NoCache

# Below this zoom (level of detail) nodes draw only their box: text would be unreadable anyway
# and is the expensive part of painting. Edge labels disappear, badges lose their symbol.
LOD_TEXT = 0.35
# Below this, a 7 px corner radius or an antialiased edge is under a pixel: boxes become plain
# rectangles, badges dots, edges plain lines.
LOD_SHAPE = 0.1


def node_cache_for(zoom: float) -> QGraphicsItem.CacheMode:
    """How nodes cache their painting at ``zoom``: device pixmaps only where they draw text."""
    return CACHE_NODE if zoom >= LOD_TEXT else CACHE_NODE_ZOOMED_OUT
