"""NetworkSession: the network being built, and everything that belongs to it but not to Qt's
widgets: its undo stack, its file, its inferred shapes and the blocks selected in the editor.

The core :class:`~bpviz.core.network.document.Network` is the one source of truth; the session
is its Qt owner. Every edit is pushed here (a refused one becomes a ``message``), every change
is re-announced as ``changed(Change)``, and shapes are inferred again once per undo-stack step
that changed more than positions, so a drag re-infers nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from bpviz.core.errors import BpvizError
from bpviz.core.network.commands import Command, ReplaceContent
from bpviz.core.network.document import Block, Change, Network
from bpviz.core.network.fileformat import dumps
from bpviz.core.network.shapes import Shapes, infer_shapes
from bpviz.gui.builder.undo import EditCommand


class NetworkSession(QObject):
    """The builder's network, its undo stack, file path and shapes.

    Signals: ``changed(Change)`` after each primitive change of the network; ``shapesChanged()``
    the inferred shapes are new; ``selectionChanged()`` other blocks are selected;
    ``fileChanged()`` the path or the unsaved state changed; ``message(str)`` an edit was refused
    (one sentence, for the status bar); ``edited()`` an undo step that changed what the network
    computes (not only where its blocks are) was done, undone or redone.
    """

    changed = Signal(object)
    shapesChanged = Signal()
    selectionChanged = Signal()
    fileChanged = Signal()
    message = Signal(str)
    edited = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.network = Network(title="untitled")
        self.stack = QUndoStack(self)
        self.path: str | None = None
        self.selection: tuple[str, ...] = ()
        self.shapes: Shapes = infer_shapes(self.network)
        self._saved = dumps(self.network)
        self._dirty = False
        self._stale = False
        self._drag = 0
        self.network.subscribe(self._on_change)
        self.stack.indexChanged.connect(self._after_step)

    # ------------------------------------------------------------------------ edits
    def push(self, command: Command, drag: int = 0) -> bool:
        """Check ``command`` and put it on the undo stack (which does it); False, with the
        reason as ``message``, when the network cannot take it."""
        try:
            command.check(self.network)
        except BpvizError as exc:
            self.message.emit(str(exc))
            return False
        self.stack.push(EditCommand(self.network, command, drag))
        return True

    def new_drag(self) -> int:
        """A number for the moves of one drag (they merge into one undo step)."""
        self._drag += 1
        return self._drag

    def replace(self, network: Network, path: str | None, undoable: bool, text: str) -> None:
        """Show ``network``'s content (a template, an opened file) under ``path``: one undo step
        when ``undoable``, else the undo history starts over. Its content counts as saved."""
        command = ReplaceContent(self.network, network, text)
        self.select(())
        if undoable:
            self.push(command)
        else:
            self.stack.clear()
            command.do(self.network)
            self._after_step()
        self.path = path
        self.mark_saved()

    # ------------------------------------------------------------------------ file state
    @property
    def dirty(self) -> bool:
        """Whether the network differs from what was last saved (or opened, or made new)."""
        return self._dirty

    def mark_saved(self, path: str | None = None) -> None:
        """The network as it is now is what the file holds (after a save or an open)."""
        if path is not None:
            self.path = path
        self._saved = dumps(self.network)
        self._dirty = False
        self.fileChanged.emit()

    def mark_unsaved(self) -> None:
        """The network as it is now is in no file (a network brought back from an autosave)."""
        self._saved = ""
        self._update_dirty()

    def _update_dirty(self) -> None:
        dirty = dumps(self.network) != self._saved
        if dirty != self._dirty:
            self._dirty = dirty
            self.fileChanged.emit()

    # ------------------------------------------------------------------------ selection
    def select(self, block_ids: Sequence[str]) -> None:
        """Select these blocks (those the network has), in natural order."""
        chosen = tuple(b for b in self.network.block_ids() if b in set(block_ids))
        if chosen != self.selection:
            self.selection = chosen
            self.selectionChanged.emit()

    @property
    def selected_block(self) -> str | None:
        """The one selected block's id, None unless exactly one is selected."""
        return self.selection[0] if len(self.selection) == 1 else None

    # ------------------------------------------------------------------------ changes
    def _on_change(self, change: Change) -> None:
        if not (
            change.what == "block"
            and change.old is not None
            and change.new is not None
            and _moved_only(change.old, change.new)
        ):
            self._stale = True
        self.changed.emit(change)

    def _after_step(self, _index: int = 0) -> None:
        if self.selection and any(b not in self.network.blocks for b in self.selection):
            self.select(self.selection)
        self._update_dirty()
        if self._stale:
            self._stale = False
            self.refresh_shapes()
            self.edited.emit()

    def refresh_shapes(self) -> None:
        """Infer every wire's shape again and announce it."""
        self.shapes = infer_shapes(self.network)
        self.shapesChanged.emit()


def _moved_only(old: Block, new: Block) -> bool:
    """True when two versions of a block differ in their position only."""
    return replace(old, position=(0.0, 0.0)) == replace(new, position=(0.0, 0.0))
