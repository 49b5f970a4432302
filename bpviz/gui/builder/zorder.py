"""Draw order, cache modes and grid of the network editor's items, named once so every item agrees.

Wires sit under blocks so a wire ends tucked under the port it feeds; a wire being dragged is
drawn above everything, because it is what the user is looking at.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem

Z_WIRE = 0.0
Z_WIRE_SELECTED = 1.0
Z_BLOCK = 10.0
Z_BLOCK_SELECTED = 11.0
Z_PENDING_WIRE = 30.0

# Blocks paint text: device pixmaps make panning and dragging a network a blit. Wires change
# shape whenever a block moves, so a pixmap would be re-rendered on every frame of a drag.
CACHE_BLOCK = QGraphicsItem.CacheMode.DeviceCoordinateCache
CACHE_PORT = QGraphicsItem.CacheMode.NoCache
CACHE_WIRE = QGraphicsItem.CacheMode.NoCache
CACHE_PENDING_WIRE = QGraphicsItem.CacheMode.NoCache

# Blocks snap to this grid (scene pixels) when dropped, added or dragged.
GRID = 10.0


def snap(x: float, y: float) -> tuple[float, float]:
    """The grid point nearest to (x, y)."""
    return (round(x / GRID) * GRID, round(y / GRID) * GRID)
