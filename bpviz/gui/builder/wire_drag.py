"""WireDrag: one wire being dragged from a block's output, as Orange and Ryven do it.

At the start every input port of the other blocks is asked once whether it would take the wire:
the wiring rules first (an input of the block itself, a cycle: refused), then the shapes on a
trial copy of the network (taken, or taken but red with a reason). The ports show the verdicts
while the mouse moves; the release decides what happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF

from bpviz.core.errors import BpvizError
from bpviz.core.network.document import Network
from bpviz.core.network.shapes import accepts
from bpviz.gui.builder.block_item import BlockItem
from bpviz.gui.builder.pending_wire_item import PendingWireItem
from bpviz.gui.builder.port_item import ACCEPT, IDLE, REFUSE, WARN, PortItem
from bpviz.gui.theme import Theme

# A release this close to an input port (scene pixels) lands on it: ports are small targets.
SNAP_DISTANCE = 16.0


@dataclass(frozen=True)
class Verdict:
    """Whether an input would take the wire: ``allowed`` (the wiring rules let it), ``reason``
    why not, or why the wire would be red ("" when it fits)."""

    allowed: bool
    reason: str


class WireDrag:
    """A wire from block ``src`` being dragged over ``blocks`` (block id -> item)."""

    def __init__(self, network: Network, src: str, blocks: dict[str, BlockItem], theme: Theme):
        self.network = network
        self.src = src
        self.blocks = blocks
        start = blocks[src].port_scene_pos("out")
        self.item = PendingWireItem(start, theme)
        self.verdicts: dict[tuple[str, str], Verdict] = {}
        for b, block in blocks.items():
            for port, port_item in block.inputs.items():
                verdict = self._judge(b, port)
                self.verdicts[(b, port)] = verdict
                state = (ACCEPT if not verdict.reason else WARN) if verdict.allowed else REFUSE
                port_item.set_state(state, verdict.reason)

    def _judge(self, dst: str, port: str) -> Verdict:
        try:
            self.network.check_connect(self.src, dst, port)
        except BpvizError as exc:
            return Verdict(False, str(exc))
        return Verdict(True, accepts(self.network, self.src, dst, port) or "")

    def port_near(self, pos: QPointF) -> PortItem | None:
        """The input port within :data:`SNAP_DISTANCE` of ``pos``, nearest first."""
        best: tuple[float, PortItem] | None = None
        for block in self.blocks.values():
            for port in block.inputs.values():
                d = (port.scenePos() - pos).manhattanLength()
                if d <= SNAP_DISTANCE and (best is None or d < best[0]):
                    best = (d, port)
        return best[1] if best is not None else None

    def best_port_of(self, block_id: str) -> str | None:
        """For a release on a block's body: its first input that takes the wire and fits, else
        its first free input the rules allow, else its first allowed input."""
        ports = list(self.blocks[block_id].inputs)
        allowed = [p for p in ports if self.verdicts[(block_id, p)].allowed]
        fitting = [
            p for p in allowed if not self.verdicts[(block_id, p)].reason and (block_id, p) not in self.network.wires
        ]
        free = [p for p in allowed if (block_id, p) not in self.network.wires]
        for choice in (fitting, free, allowed):
            if choice:
                return choice[0]
        return None

    def move(self, pos: QPointF) -> None:
        """Follow the mouse; snap to an input port that would take the wire."""
        port = self.port_near(pos)
        if port is not None and self.verdicts[(port.block_id, port.name)].allowed:
            pos = port.scenePos()
        self.item.set_end(pos)

    def finish(self) -> None:
        """Put every port back to its idle look."""
        for block in self.blocks.values():
            for port in block.inputs.values():
                port.set_state(IDLE)
