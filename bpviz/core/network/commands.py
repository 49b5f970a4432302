"""Edits of a network document as pure command objects with ``do`` and ``undo``.

A command is made against the document it will change: the constructor resolves and validates
everything that can be known then (a new block's id and name, a property's normalised value),
raising NetworkError with one sentence when the edit is impossible, so a GUI refuses it before it
reaches its undo stack. ``check(doc)`` repeats the checks that depend on the document's state
(a cycle, a taken name); ``do`` makes the change and remembers what it replaced, ``undo`` puts
that back. Nothing but commands changes a document, so undoing every command in reverse order
gives back the document as it was, byte for byte once saved.

A Qt ``QUndoCommand`` wraps one of these: ``redo()`` calls ``do(doc)``, ``undo()`` calls
``undo(doc)``, ``text`` is its text, and ``merge(other)`` implements ``mergeWith`` for a drag
that sends many moves. :class:`History` is the same stack without Qt (for tests and the CLI).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bpviz.core.network.catalogue import get_kind
from bpviz.core.network.document import Block, Network, Wire, check_name, check_position, validate_setting
from bpviz.core.network.errors import NetworkError

MAX_BLOCKS = 5000


class Command(ABC):
    """One undoable edit of a network document."""

    text: str = ""

    def check(self, doc: Network) -> None:  # noqa: B027 - most edits need no check beyond their constructor's
        """Raise NetworkError when the edit cannot be made on ``doc`` as it is now."""

    @abstractmethod
    def do(self, doc: Network) -> None:
        """Make the edit (after ``check``)."""

    @abstractmethod
    def undo(self, doc: Network) -> None:
        """Put back what ``do`` changed."""

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (done right after this one) into this command; False if it cannot."""
        return False


class AddBlock(Command):
    """Add a block of ``kind``; its id and name are chosen now, so redo makes the same block."""

    def __init__(
        self,
        doc: Network,
        kind: str,
        position: Sequence[float] = (0.0, 0.0),
        name: str | None = None,
        props: Mapping[str, Any] | None = None,
        block_id: str | None = None,
    ):
        spec = get_kind(kind)
        block_id = block_id or doc.new_block_id()
        name = check_name(name) if name is not None else doc.unique_name(spec.prefix)
        self.block = Block(block_id, kind, name, check_position(position), spec.validate(props or {}, name))
        self.text = f"Add {kind} {name}"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        if self.block.id in doc.blocks:
            raise NetworkError(f"The id '{self.block.id}' is taken; add the block again.")
        if any(b.name == self.block.name for b in doc.blocks.values()):
            raise NetworkError(f"A block is already called '{self.block.name}'; choose another name.")
        if len(doc.blocks) >= MAX_BLOCKS:
            raise NetworkError(f"A network holds at most {MAX_BLOCKS} blocks; delete some first.")

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.put_block(self.block)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.drop_block(self.block.id)


class DeleteBlocks(Command):
    """Delete blocks and every wire touching them."""

    def __init__(self, doc: Network, block_ids: Sequence[str]):
        self.ids = [doc.block(b).id for b in dict.fromkeys(block_ids)]
        self.blocks: list[Block] = []
        self.wires: list[Wire] = []
        names = ", ".join(doc.blocks[b].name for b in self.ids)
        self.text = f"Delete {names}"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        for b in self.ids:
            doc.block(b)

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        gone = set(self.ids)
        self.wires = [w for w in doc.sorted_wires() if w.src in gone or w.dst in gone]
        for w in self.wires:
            doc.drop_wire(w.key)
        self.blocks = [doc.drop_block(b) for b in self.ids]

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        for block in self.blocks:
            doc.put_block(block)
        for w in self.wires:
            doc.put_wire(w)


class Connect(Command):
    """Wire ``src``'s output into input ``port`` of ``dst``; an occupied input's old wire is
    replaced (and restored on undo)."""

    def __init__(self, doc: Network, src: str, dst: str, port: str | None = None):
        target = doc.block(dst)
        if port is None:  # the first free input, else the first input
            free = [p for p in target.spec.inputs if (dst, p) not in doc.wires]
            port = (free or list(target.spec.inputs) or [""])[0]
        doc.check_connect(src, dst, port)
        self.wire = Wire(dst, port, src)
        self.replaced: Wire | None = None
        self.text = f"Connect {doc.block(src).name} to {target.name}.{port}"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.check_connect(self.wire.src, self.wire.dst, self.wire.port)

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        self.replaced = doc.drop_wire(self.wire.key) if self.wire.key in doc.wires else None
        doc.put_wire(self.wire)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.drop_wire(self.wire.key)
        if self.replaced is not None:
            doc.put_wire(self.replaced)


class Disconnect(Command):
    """Remove the wire into input ``port`` of ``dst``."""

    def __init__(self, doc: Network, dst: str, port: str):
        if (dst, port) not in doc.wires:
            raise NetworkError(f"No wire goes into {doc.block(dst).name}.{port}.")
        self.wire = doc.wires[(dst, port)]
        self.text = f"Disconnect {doc.block(dst).name}.{port}"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        if doc.wires.get(self.wire.key) != self.wire:
            raise NetworkError("That wire is no longer there.")

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.drop_wire(self.wire.key)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.put_wire(self.wire)


class _ReplaceBlocks(Command):
    """Base of edits that swap block objects for changed copies (move, property, rename)."""

    def __init__(self) -> None:
        self.old: list[Block] = []

    @abstractmethod
    def _changed(self, doc: Network) -> list[Block]:
        """The changed copies of the blocks this edit replaces."""

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        new = self._changed(doc)
        self.old = [doc.blocks[b.id] for b in new]
        for block in new:
            doc.put_block(block)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        for block in self.old:
            doc.put_block(block)


class MoveBlocks(_ReplaceBlocks):
    """Move blocks to new positions; consecutive moves of the same blocks merge (one drag)."""

    def __init__(self, doc: Network, positions: Mapping[str, Sequence[float]]):
        super().__init__()
        self.positions = {doc.block(b).id: check_position(p) for b, p in positions.items()}
        self.text = "Move " + ", ".join(doc.blocks[b].name for b in self.positions)

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        for b in self.positions:
            doc.block(b)

    def _changed(self, doc: Network) -> list[Block]:
        out = []
        for b, pos in self.positions.items():
            old = doc.blocks[b]
            out.append(replace(old, position=pos))
        return out

    def merge(self, other: Command) -> bool:  # noqa: D102 - see Command
        if not isinstance(other, MoveBlocks) or set(other.positions) != set(self.positions):
            return False
        self.positions = dict(other.positions)
        return True


class SetProperty(_ReplaceBlocks):
    """Set one property of a block; the value is validated now (PropertyError if refused)."""

    def __init__(self, doc: Network, block_id: str, name: str, value: Any):
        super().__init__()
        block = doc.block(block_id)
        props = dict(block.props)
        props[name] = value
        self.block_id, self.name = block_id, name
        self.value = block.spec.validate(props, block.name)[name]
        self.text = f"Set {block.name}.{name}"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.block(self.block_id)

    def _changed(self, doc: Network) -> list[Block]:
        old = doc.blocks[self.block_id]
        props = dict(old.props)
        props[self.name] = self.value
        return [replace(old, props=props)]


class Rename(_ReplaceBlocks):
    """Give a block a new name (its id stays)."""

    def __init__(self, doc: Network, block_id: str, name: str):
        super().__init__()
        self.block_id, self.name = doc.block(block_id).id, check_name(name)
        self.text = f"Rename {doc.blocks[block_id].name} to {name}"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.block(self.block_id)
        if any(b.name == self.name and b.id != self.block_id for b in doc.blocks.values()):
            raise NetworkError(f"A block is already called '{self.name}'; choose another name.")

    def _changed(self, doc: Network) -> list[Block]:
        old = doc.blocks[self.block_id]
        return [replace(old, name=self.name)]


class SetSetting(Command):
    """Change a network setting: title, seed or lr."""

    def __init__(self, doc: Network, name: str, value: Any):
        self.name, self.value = name, validate_setting(name, value)
        self.old: Any = None
        self.text = f"Set {name}"

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        self.old = doc.settings[self.name]
        doc.put_setting(self.name, self.value)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.put_setting(self.name, self.old)


class ReplaceContent(Command):
    """Replace everything in the document with another network's blocks, wires and settings
    (File > New from a template into the open document; one undo brings the old one back)."""

    def __init__(self, doc: Network, other: Network, text: str = "Apply template"):
        self.new = other.copy()
        self.saved: Network | None = None
        self.text = text

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        self.saved = doc.copy()
        _swap(doc, self.new)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        assert self.saved is not None
        _swap(doc, self.saved)


def _swap(doc: Network, content: Network) -> None:
    for w in doc.sorted_wires():
        doc.drop_wire(w.key)
    for b in doc.block_ids():
        doc.drop_block(b)
    for name, value in content.settings.items():
        if doc.settings[name] != value:
            doc.put_setting(name, value)
    for b in content.block_ids():
        doc.put_block(content.blocks[b])
    for w in content.sorted_wires():
        doc.put_wire(w)


class Compound(Command):
    """Several commands as one undo step; each is made against the document as the ones before
    it leave it, so build it with :meth:`build` (which tries them on a copy)."""

    def __init__(self, commands: Sequence[Command], text: str):
        self.commands = list(commands)
        self.text = text

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        trial = doc.copy()
        for c in self.commands:
            c.check(trial)
            c.do(trial)

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        for c in self.commands:
            c.do(doc)

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        for c in reversed(self.commands):
            c.undo(doc)


def insert_on_wire(doc: Network, dst: str, port: str, kind: str, props: Mapping[str, Any] | None = None) -> Compound:
    """Put a new ``kind`` block on the wire into ``dst.port``: the wire's source feeds the new
    block's first input and the new block feeds ``dst.port`` (dropping a block onto a wire, and
    the "insert Flatten" fix)."""
    if (dst, port) not in doc.wires:
        raise NetworkError(f"No wire goes into {doc.block(dst).name}.{port} to insert a block on.")
    wire = doc.wires[(dst, port)]
    spec = get_kind(kind)
    if not spec.inputs:
        raise NetworkError(f"A {kind} block has no input, so it cannot sit on a wire.")
    a, b = doc.blocks[wire.src].position, doc.blocks[dst].position
    trial = doc.copy()
    add = AddBlock(trial, kind, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2), props=props)
    steps: list[Command] = [add]
    add.do(trial)
    # Made one at a time: the second wire is checked against the trial with the first in it.
    makes: tuple[Callable[[], Connect], ...] = (
        lambda: Connect(trial, wire.src, add.block.id, spec.inputs[0]),
        lambda: Connect(trial, add.block.id, dst, port),
    )
    for make in makes:
        step = make()
        step.do(trial)
        steps.append(step)
    return Compound(steps, f"Insert {kind} before {doc.blocks[dst].name}")


def duplicate(doc: Network, block_ids: Sequence[str], offset: Sequence[float] = (40.0, 40.0)) -> Compound:
    """Copies of blocks (new ids and names, shifted by ``offset``) with the wires among them."""
    trial = doc.copy()
    steps: list[Command] = []
    new_id: dict[str, str] = {}
    rank = {b: i for i, b in enumerate(doc.topological_order())}
    for b in sorted(dict.fromkeys(block_ids), key=lambda i: rank[doc.block(i).id]):
        old = doc.block(b)
        add = AddBlock(trial, old.kind, (old.position[0] + offset[0], old.position[1] + offset[1]), props=old.props)
        add.do(trial)
        steps.append(add)
        new_id[b] = add.block.id
    for w in doc.sorted_wires():
        if w.src in new_id and w.dst in new_id:
            c = Connect(trial, new_id[w.src], new_id[w.dst], w.port)
            c.do(trial)
            steps.append(c)
    return Compound(steps, "Duplicate")


class History:
    """An undo stack without Qt: ``push`` checks and does a command, ``undo``/``redo`` walk it."""

    def __init__(self, doc: Network):
        self.doc = doc
        self.done: list[Command] = []
        self.undone: list[Command] = []

    def push(self, command: Command) -> None:
        """Check and do ``command``; it drops whatever could be redone."""
        command.check(self.doc)
        command.do(self.doc)
        if not (self.done and self.done[-1].merge(command)):
            self.done.append(command)
        self.undone.clear()

    def undo(self) -> bool:
        """Undo the last command; False when there is none."""
        if not self.done:
            return False
        command = self.done.pop()
        command.undo(self.doc)
        self.undone.append(command)
        return True

    def redo(self) -> bool:
        """Redo the last undone command; False when there is none."""
        if not self.undone:
            return False
        command = self.undone.pop()
        command.check(self.doc)
        command.do(self.doc)
        self.done.append(command)
        return True
