"""What a click on the canvas picks."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from bpviz.gui.items.badge_item import BadgeItem
from bpviz.gui.items.edge_item import EdgeItem, EdgeLabelItem
from bpviz.gui.items.node_item import NodeItem


def item_at(scene: QGraphicsScene, pos: QPointF) -> NodeItem | EdgeItem | None:
    """The node or edge under ``pos``, topmost first: a badge picks its node, a label its edge,
    and an edge is picked only on its stroke (not anywhere in its bounding box)."""
    item: QGraphicsItem | None
    for item in scene.items(pos):
        if isinstance(item, BadgeItem):
            item = item.parentItem()
        if isinstance(item, NodeItem):
            return item
        if isinstance(item, EdgeLabelItem):
            item = item.edge
        if isinstance(item, EdgeItem) and item.shape().contains(pos):
            return item
    return None
