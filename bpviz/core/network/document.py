"""The network document: blocks with stable string ids, wires between their ports, positions,
properties and network settings. One source of truth for the builder.

Edits go through the command objects of :mod:`commands` (each with do and undo); this module
offers the queries they and the views need, and the few primitive changes commands are made of.
Every primitive change is announced to subscribers as a :class:`Change`, so a view can update
the one item that changed instead of redrawing everything.

Wiring rules (checked by :meth:`Network.check_connect`):

* a wire runs from a block's one output ``out`` to a named input of another block;
* an input takes one wire: connecting into an occupied input **replaces** the wire there (the
  connect command keeps the old wire and puts it back on undo), which is what dropping a wire on
  a port means in Orange and Ryven;
* a wire that would close a cycle, or that ends where it starts, is refused.
"""

from __future__ import annotations

import heapq
import keyword
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from torch import nn

from bpviz.core.network.catalogue import BlockKind, get_kind
from bpviz.core.network.errors import NetworkError
from bpviz.core.network.properties import FLOAT, INT, Prop

ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}\Z")
# Names the exported code and the scenario loader use for themselves, and nn.Module's own
# attributes (a block name becomes a submodule attribute): a block may not take them.
RESERVED_NAMES = frozenset(
    {
        "torch",
        "nn",
        "OrderedDict",
        "make_dataset",
        "loss",
        "model",
        "inputs",
        "loss_fn",
        "lr",
        "title",
        "Net",
        "self",
        "math",
    }
) | frozenset(n for n in dir(nn.Module) if not n.startswith("_"))

SETTINGS = (
    Prop("title", "str", "", "a title for the window and the exported file"),
    Prop("seed", INT, 0, "the seed of every random initial weight and randn input", 0, 2**31 - 1),
    Prop("lr", FLOAT, 0.1, "the learning rate of the update step", 1e-9, 100.0),
)
MAX_TITLE = 200


@dataclass(frozen=True)
class Block:
    """One block: ``id`` never changes; ``name`` is what the user reads (and the Python name
    of its tensor or module); ``props`` holds validated properties and ``values`` the module's
    saved parameters (``{"weight": nested tuples}``, empty: drawn from the seed); neither is
    ever mutated in place."""

    id: str
    kind: str
    name: str
    position: tuple[float, float] = (0.0, 0.0)
    props: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> BlockKind:
        """The block's kind from the catalogue."""
        return get_kind(self.kind)


@dataclass(frozen=True, order=True)
class Wire:
    """A wire from block ``src``'s output to input ``port`` of block ``dst``."""

    dst: str
    port: str
    src: str

    @property
    def key(self) -> tuple[str, str]:
        """The input this wire feeds; an input takes one wire, so this identifies the wire."""
        return (self.dst, self.port)


@dataclass(frozen=True)
class Change:
    """What one primitive edit changed: ``what`` is ``"block"``, ``"wire"`` or ``"settings"``;
    ``key`` the block id, the wire's (dst, port), or the setting's name; ``old``/``new`` are
    None when the thing was added or removed."""

    what: str
    key: Any
    old: Any
    new: Any


@lru_cache(maxsize=65536)
def natural_key(text: str) -> tuple[int | str, ...]:
    """Sort key that puts b2 before b10 (cached: ids are sorted on every walk)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def validate_setting(name: str, value: Any) -> Any:
    """A network setting checked and normalised, or NetworkError."""
    for prop in SETTINGS:
        if prop.name == name:
            if prop.type == "str":
                if not isinstance(value, str) or len(value) > MAX_TITLE or "\n" in value:
                    raise NetworkError(f"The title must be one line of at most {MAX_TITLE} characters.")
                return value
            return prop.validate(value, "the network")
    raise NetworkError(f"A network has no setting '{name}'; use one of {', '.join(p.name for p in SETTINGS)}.")


def _shown(value: Any) -> str:
    """``repr(value)`` cut to 40 characters: a message quotes what it refuses, never all of it."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_position(pos: Any) -> tuple[float, float]:
    """A block position as two finite floats within ±1e9, or NetworkError."""
    try:
        # Two numbers: not the characters of a string ("12") or an object's keys, nor text or booleans.
        if isinstance(pos, (str, bytes, Mapping)):
            raise TypeError
        x, y = (_coordinate(v) for v in pos)
    except (TypeError, ValueError):
        raise NetworkError(f"A position is two numbers (x, y), got {_shown(pos)}.") from None
    if not (abs(x) < 1e9 and abs(y) < 1e9):
        raise NetworkError(f"Position {_shown(pos)} is off the canvas; keep x and y within ±1e9.")
    return (x, y)


def _coordinate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError
    return float(value)


def check_name(name: Any) -> str:
    """A block name: a Python identifier of at most 40 characters, not a reserved word."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or keyword.iskeyword(name):
        raise NetworkError(
            f"{_shown(name)} cannot name a block; use a letter followed by letters, digits "
            "or _ (at most 40), not a Python keyword."
        )
    if name in RESERVED_NAMES:
        raise NetworkError(f"'{name}' is reserved for bpviz's own code; choose another block name.")
    return name


class Network:
    """A network document. Read it freely; change it only through :mod:`commands`."""

    def __init__(self, title: str = "", seed: int = 0, lr: float = 0.1):
        self.blocks: dict[str, Block] = {}
        self.wires: dict[tuple[str, str], Wire] = {}
        self.settings: dict[str, Any] = {p.name: p.default for p in SETTINGS}
        self.settings.update(
            title=validate_setting("title", title), seed=validate_setting("seed", seed), lr=validate_setting("lr", lr)
        )
        self._listeners: list[Callable[[Change], None]] = []

    # -- subscribers --------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener(change)`` after every primitive change."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Change], None]) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def _emit(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    # -- queries ------------------------------------------------------------------------
    @property
    def title(self) -> str:
        """The network's title setting."""
        title: str = self.settings["title"]
        return title

    @property
    def seed(self) -> int:
        """The seed of random initial weights and randn inputs."""
        seed: int = self.settings["seed"]
        return seed

    @property
    def lr(self) -> float:
        """The learning rate the scenario gets."""
        lr: float = self.settings["lr"]
        return lr

    def block(self, block_id: str) -> Block:
        """The block with this id, or NetworkError."""
        try:
            return self.blocks[block_id]
        except (KeyError, TypeError):
            raise NetworkError(f"There is no block '{block_id}' in this network.") from None

    def block_ids(self) -> list[str]:
        """Every block id in natural order (b1, b2, ..., b10)."""
        return sorted(self.blocks, key=natural_key)

    def by_name(self, name: str) -> Block:
        """The block called ``name``, or NetworkError."""
        for block in self.blocks.values():
            if block.name == name:
                return block
        raise NetworkError(f"There is no block named '{name}' in this network.")

    def sorted_wires(self) -> list[Wire]:
        """Every wire, ordered by destination block (natural order) and port."""
        return sorted(self.wires.values(), key=lambda w: (natural_key(w.dst), w.port))

    def inputs_of(self, block_id: str) -> dict[str, Wire]:
        """The wires into a block, by input port."""
        block = self.block(block_id)
        return {p: self.wires[(block_id, p)] for p in block.spec.inputs if (block_id, p) in self.wires}

    def consumers(self, block_id: str) -> list[Wire]:
        """The wires out of a block, in order."""
        return sorted((w for w in self.wires.values() if w.src == block_id), key=lambda w: (natural_key(w.dst), w.port))

    def reaches(self, start: str, goal: str) -> bool:
        """True when a path of wires leads from ``start`` to ``goal`` (iterative walk)."""
        out: dict[str, list[str]] = {}
        for w in self.wires.values():
            out.setdefault(w.src, []).append(w.dst)
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for nxt in out.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def topological_order(self, ids: Iterable[str] | None = None) -> list[str]:
        """Block ids so that every wire runs forward; ties in natural id order (deterministic)."""
        chosen = set(self.blocks if ids is None else ids)
        indegree = dict.fromkeys(chosen, 0)
        out: dict[str, list[str]] = {b: [] for b in chosen}
        for w in self.wires.values():
            if w.src in chosen and w.dst in chosen:
                indegree[w.dst] += 1
                out[w.src].append(w.dst)
        heap = [(natural_key(b), b) for b, d in indegree.items() if d == 0]
        heapq.heapify(heap)
        order = []
        while heap:
            _, b = heapq.heappop(heap)
            order.append(b)
            for nxt in out[b]:
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    heapq.heappush(heap, (natural_key(nxt), nxt))
        if len(order) != len(chosen):
            raise NetworkError("The network has a cycle; remove one of the wires that close it.")
        return order

    def check_connect(self, src: str, dst: str, port: str) -> None:
        """Raise NetworkError (one sentence) unless ``src.out -> dst.port`` may be wired."""
        source, target = self.block(src), self.block(dst)
        if port not in target.spec.inputs:
            ports = ", ".join(target.spec.inputs) or "none"
            raise NetworkError(f"{target.name} has no input '{port}' (its inputs: {ports}).")
        if src == dst:
            raise NetworkError(
                f"A wire from {source.name} back into itself would be a cycle; wire it to another block."
            )
        if self.reaches(dst, src):
            raise NetworkError(
                f"Wiring {source.name} into {target.name} would close a cycle "
                f"({target.name} already feeds {source.name}); autograd needs an "
                "acyclic graph."
            )

    def new_block_id(self) -> str:
        """A fresh id ``bN``, one above the highest in use (never reused while that block exists)."""
        highest = 0
        for block_id in self.blocks:
            if block_id[:1] == "b" and block_id[1:].isdigit():
                highest = max(highest, int(block_id[1:]))
        return f"b{highest + 1}"

    def unique_name(self, prefix: str) -> str:
        """``prefix`` + the smallest number that makes a name no block has (fc1, fc2...)."""
        taken = {b.name for b in self.blocks.values()}
        n = 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"

    def copy(self) -> Network:
        """An independent document with the same content (blocks and wires are immutable, so
        sharing them is safe) and no subscribers: for trying an edit before making it."""
        other = Network.__new__(Network)
        other.blocks = dict(self.blocks)
        other.wires = dict(self.wires)
        other.settings = dict(self.settings)
        other._listeners = []
        return other

    # -- primitive changes (commands only) ---------------------------------------------
    def put_block(self, block: Block) -> None:
        """Add or replace a block (by id)."""
        old = self.blocks.get(block.id)
        self.blocks[block.id] = block
        self._emit(Change("block", block.id, old, block))

    def drop_block(self, block_id: str) -> Block:
        """Remove a block that no wire touches; returns it."""
        old = self.blocks.pop(block_id)
        self._emit(Change("block", block_id, old, None))
        return old

    def put_wire(self, wire: Wire) -> None:
        """Add a wire into a free input."""
        assert wire.key not in self.wires, "put_wire into an occupied input"
        self.wires[wire.key] = wire
        self._emit(Change("wire", wire.key, None, wire))

    def drop_wire(self, key: tuple[str, str]) -> Wire:
        """Remove the wire into input ``key``; returns it."""
        old = self.wires.pop(key)
        self._emit(Change("wire", key, old, None))
        return old

    def put_setting(self, name: str, value: Any) -> None:
        """Set one network setting (already validated)."""
        old = self.settings[name]
        self.settings[name] = value
        self._emit(Change("settings", name, old, value))
