"""The Qt face of the core's undoable commands: a QUndoCommand that runs one core Command.

Moves made during one drag share a drag number and merge into one undo step; a later drag of
the same blocks has another number, so it stays a step of its own.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from bpviz.core.network.commands import Command, MoveBlocks
from bpviz.core.network.document import Network

# QUndoStack only offers mergeWith to commands whose id() is the same non-negative number.
MOVE_ID = 1


class EditCommand(QUndoCommand):
    """``command`` made on ``doc`` by redo and taken back by undo; ``drag`` is the number of the
    drag a move belongs to (0: not part of a drag, never merged)."""

    def __init__(self, doc: Network, command: Command, drag: int = 0):
        super().__init__(command.text)
        self.doc = doc
        self.command = command
        self.drag = drag

    def redo(self) -> None:  # noqa: D102 - Qt API
        self.command.do(self.doc)

    def undo(self) -> None:  # noqa: D102 - Qt API
        self.command.undo(self.doc)

    def id(self) -> int:  # noqa: D102 - Qt API
        return MOVE_ID if isinstance(self.command, MoveBlocks) and self.drag else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802, D102 - Qt API
        if not isinstance(other, EditCommand) or other.drag != self.drag:
            return False
        return self.command.merge(other.command)
