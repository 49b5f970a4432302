"""The block catalogue: every kind of block the builder offers, looked up by name.

A kind says what its block is (level, role, ports, typed properties) and how it runs: a source
makes a tensor, an op calls a torch function, a module or loss block builds an ``nn.Module``.
Each kind also writes itself as Python (for code export) and may explain a shape it refuses
with one sentence and a fix (:class:`Advice`). Output port: every block has one, ``out``.

The kinds themselves live in :mod:`expression_blocks` (scalar-chain blocks) and
:mod:`layer_blocks` (nn layers); this module only defines what a kind is and the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bpviz.core.network.errors import NetworkError
from bpviz.core.network.properties import Prop

if TYPE_CHECKING:  # torch is imported where a kind runs, so the catalogue stays a light import
    from torch import Tensor, nn

EXPRESSION = "expression"
LAYER = "layer"

SOURCE = "source"  # makes a tensor: value, constant, Input, Target
OP = "op"  # a torch function of its inputs: add, exp, Concat...
MODULE = "module"  # an nn.Module called on its input: Linear, ReLU...
LOSS = "loss"  # an nn.Module loss called on (input, target)

OUT = "out"

Props = Mapping[str, Any]
Shape = tuple[int, ...]

# What a kind runs (see BlockKind). An op takes the properties and then its input tensors
# (OP kinds: one per input port) or the network's seed (SOURCE kinds), so its arity varies.
Op = Callable[..., "Tensor"]
MakeModule = Callable[[Props], "nn.Module"]
Code = Callable[[Props, list[str]], str]
Check = Callable[[Props, list["Tensor"]], "Advice | None"]
Meta = Callable[[Props, int], "Tensor"]

_F = TypeVar("_F")


@dataclass(frozen=True)
class FixSpec:
    """A fix a kind can propose: set one of the block's properties, or insert a block of kind
    ``insert`` on the refused wire. ``text`` is what the user reads ("set in_features to 8")."""

    text: str
    prop: str = ""
    value: Any = None
    insert: str = ""
    on_port: str = ""  # set ``prop`` on the block feeding this input instead


@dataclass(frozen=True)
class Advice:
    """Why a block cannot take the shapes on its input wires, and the fixes there are."""

    message: str
    port: str = ""
    fixes: tuple[FixSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class BlockKind:
    """One entry of the palette.

    ``op(props, inputs)`` (OP kinds) returns a tensor; ``module(props)`` (MODULE and LOSS kinds)
    returns an ``nn.Module``; ``code(props, args)`` is the Python expression that does the same
    (for MODULE/LOSS kinds the constructor, ``args`` unused; for SOURCE kinds ``args`` is
    ``[seed]``); ``check(props, inputs)`` gets the input tensors (on the meta device: shapes and
    dtypes, no data) and returns Advice when they cannot work, before torch is asked (torch's
    own message is the fallback). A SOURCE kind's ``op(props, seed)`` makes its tensor and
    ``meta(props, seed)`` the same tensor on the meta device (BuildError when its settings
    cannot make one). Callers use :meth:`run`, :meth:`make_source`, :meth:`make_meta` and
    :meth:`make_module`, which say so when a kind lacks the function asked for.
    """

    name: str
    level: str
    role: str
    summary: str
    prefix: str
    inputs: tuple[str, ...] = ()
    props: tuple[Prop, ...] = ()
    code: Code
    op: Op | None = None
    module: MakeModule | None = None
    check: Check | None = None
    meta: Meta | None = None
    prop_index: dict[str, Prop] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prop_index", {p.name: p for p in self.props})

    def run(self, props: Props, *inputs: Tensor) -> Tensor:
        """An OP kind's output for these input tensors."""
        return _given(self.op, self, "op")(props, *inputs)

    def make_source(self, props: Props, seed: int) -> Tensor:
        """A SOURCE kind's tensor, drawn from ``seed`` where it is random."""
        return _given(self.op, self, "op")(props, seed)

    def make_meta(self, props: Props, seed: int) -> Tensor:
        """A SOURCE kind's tensor on the meta device, or BuildError when its settings cannot make one."""
        return _given(self.meta, self, "meta")(props, seed)

    def make_module(self, props: Props) -> nn.Module:
        """A MODULE or LOSS kind's module (see also :func:`meta_module`)."""
        return _given(self.module, self, "module")(props)

    def defaults(self) -> dict[str, Any]:
        """Every property at its default, in catalogue order."""
        return {p.name: p.default for p in self.props}

    def validate(self, props: Mapping[str, Any], where: str) -> dict[str, Any]:
        """All properties validated and normalised, missing ones at their default, in catalogue
        order; an unknown property is refused (it would be silently lost on save)."""
        for name in props:
            if name not in self.prop_index:
                known = ", ".join(self.prop_index) or "none"
                raise NetworkError(
                    f"{where}: a {self.name} block has no property {str(name)[:40]!r} (it has: {known}); remove it."
                )
        return {p.name: p.validate(props.get(p.name, p.default), where) for p in self.props}


def _given(fn: _F | None, kind: BlockKind, what: str) -> _F:
    # The kind's roles say which of op, module and meta it has; asking for another is a bug.
    if fn is None:
        raise TypeError(f"a {kind.role} kind ({kind.name}) has no {what}")
    return fn


# A block's module may hold at most this many parameters: a typo (out_features=1000000) or a
# hostile file must not allocate gigabytes when the network is built.
MAX_PARAMETERS = 20_000_000


def meta_module(spec: BlockKind, props: Props) -> nn.Module:
    """The block's module built on the meta device (no memory, no random numbers drawn), or
    NetworkError when it would hold more than :data:`MAX_PARAMETERS` parameters."""
    import torch  # here, so the catalogue itself stays a light import

    with torch.device("meta"):
        module = spec.make_module(props)
    count = sum(p.numel() for p in module.parameters())
    if count > MAX_PARAMETERS:
        raise NetworkError(
            f"this block would hold {count:,} parameters, more than bpviz's {MAX_PARAMETERS:,}; make it smaller"
        )
    return module


_KINDS: dict[str, BlockKind] = {}


def register(*kinds: BlockKind) -> None:
    """Add kinds to the catalogue (each name once)."""
    for kind in kinds:
        if kind.name in _KINDS:
            raise ValueError(f"block kind {kind.name} registered twice")
        _KINDS[kind.name] = kind


def _load() -> None:
    # The kind modules register themselves on import; importing them here (not at the top)
    # keeps this module importable from them without a cycle.
    from bpviz.core.network import expression_blocks, layer_blocks  # noqa: F401


def kind_names(level: str | None = None) -> list[str]:
    """Every kind's name, expression kinds first, in palette order (or only one level's)."""
    _load()
    return [k.name for k in _KINDS.values() if level is None or k.level == level]


def get_kind(name: Any) -> BlockKind:
    """The kind called ``name``, or NetworkError listing the kinds there are."""
    _load()
    kind = _KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        shown = repr(name) if len(repr(name)) <= 40 else repr(name)[:37] + "..."
        raise NetworkError(
            f"There is no block kind {shown} (kinds are named like Linear, ReLU, add: "
            "see the palette); choose one of bpviz's kinds."
        )
    return kind
