"""Edits the editor's menus and gestures make from several core commands, each one undo step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bpviz.core.network.commands import AddBlock, Command, Compound, Connect, DeleteBlocks, Disconnect
from bpviz.core.network.document import Network


def add_after(
    doc: Network, src: str, kind: str, position: Sequence[float], props: Mapping[str, Any] | None = None
) -> Compound:
    """A new ``kind`` block at ``position`` fed by ``src`` on its first input (the quick-add
    menu of a wire released on empty canvas)."""
    trial = doc.copy()
    add = AddBlock(trial, kind, position, props=props)
    add.do(trial)
    connect = Connect(trial, src, add.block.id, add.block.spec.inputs[0])
    return Compound([add, connect], f"Add {kind} after {doc.block(src).name}")


def delete(doc: Network, block_ids: Sequence[str], wires: Sequence[tuple[str, str]]) -> Command:
    """Remove these wires and blocks (with every wire touching the blocks) as one step."""
    trial = doc.copy()
    steps: list[Command] = []
    gone = set(block_ids)
    for dst, port in wires:
        if dst not in gone and trial.wires.get((dst, port)) is not None and trial.wires[(dst, port)].src not in gone:
            step: Command = Disconnect(trial, dst, port)
            step.do(trial)
            steps.append(step)
    if block_ids:
        steps.append(DeleteBlocks(trial, block_ids))
    if len(steps) == 1:
        return steps[0]
    return Compound(steps, "Delete")
