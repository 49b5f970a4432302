"""Saved parameter values: a module block may keep its weights in the document (after training,
"keep these weights"), instead of drawing them from the seed. Only parameters are kept (not
BatchNorm's running statistics, which the traced training-mode pass does not read).

The seed's draws still happen in the same order and are then overwritten, so keeping one
block's weights leaves every other block's initial weights as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

import torch

from bpviz.core.errors import BpvizError
from bpviz.core.network.catalogue import LOSS, MODULE, BlockKind, get_kind, meta_module
from bpviz.core.network.commands import Command, Compound
from bpviz.core.network.document import Block, Network
from bpviz.core.network.errors import NetworkError
from bpviz.core.network.properties import TENSOR, Prop, tensor_shape
from bpviz.core.network.pycode import float32_short

_VALUE = Prop("values", TENSOR, 0.0)


def parameter_shapes(spec: BlockKind, props: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Name -> shape of each parameter the block's module has (none for other kinds)."""
    return dict(_parameter_shapes(spec.name, tuple(props.items())))


@lru_cache(maxsize=1024)
def _parameter_shapes(kind: str, props: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    spec = get_kind(kind)
    if spec.role not in (MODULE, LOSS):
        return ()
    return tuple((n, tuple(p.shape)) for n, p in meta_module(spec, dict(props)).named_parameters())


MAX_SAVED = 16


def validate_values(
    spec: BlockKind, props: Mapping[str, Any], values: Any, where: str, strict: bool = True
) -> dict[str, Any]:
    """``values`` normalised (nested tuples), or NetworkError naming the first problem: a
    non-numeric or non-finite entry or, when ``strict``, a parameter the block does not have or
    a shape it does not take. A file is read with ``strict=False``: weights kept before the
    block's settings changed are a state the app saves, so they must open again (shape
    inference then offers to reset them)."""
    if not isinstance(values, Mapping):
        raise NetworkError(f"{where}: values must map parameter names to nested lists of numbers.")
    if not values:
        return {}
    if not strict:
        if len(values) > MAX_SAVED:
            raise NetworkError(f"{where}: {len(values)} saved values; a block has at most {MAX_SAVED}.")
        out = {}
        for name, value in values.items():
            if not isinstance(name, str) or not name.isidentifier() or len(name) > 40:
                raise NetworkError(f"{where}: {str(name)[:40]!r} cannot name a parameter.")
            out[name] = _VALUE.validate(value, f"{where}: values.{name}")
        return out
    shapes = parameter_shapes(spec, props)
    out = {}
    for name in shapes:  # the module's own order
        if name not in values:
            continue
        value = _VALUE.validate(values[name], f"{where}: values.{name}")
        if tensor_shape(value) != shapes[name]:
            raise NetworkError(
                f"{where}: the saved {name} has shape {tensor_shape(value)} but the block "
                f"needs {shapes[name]}; reset its values or set its properties back."
            )
        out[name] = value
    for name in values:
        if name not in shapes:
            known = ", ".join(shapes) or "none"
            raise NetworkError(f"{where}: a {spec.name} block has no parameter {str(name)[:40]!r} (it has: {known}).")
    return out


def values_issue(block: Block) -> str | None:
    """Why the block's saved values no longer fit its properties (a sentence), or None. Only
    names and shapes are compared: the numbers were checked when they were saved."""
    if not block.values:
        return None
    try:
        shapes = parameter_shapes(block.spec, block.props)
    except BpvizError:
        return None  # the block's own settings are the problem; shape inference says so
    for name, value in block.values.items():
        if name not in shapes:
            return f"{block.name} has saved values for {name}, which it no longer has"
        if tensor_shape(value) != shapes[name]:
            return f"{block.name}'s saved {name} has shape {tensor_shape(value)} but the block now needs {shapes[name]}"
    return None


class SetValues(Command):
    """Keep parameter values in a block (``values``), or drop them (``None``: back to the seed's)."""

    def __init__(self, doc: Network, block_id: str, values: Mapping[str, Any] | None):
        block = doc.block(block_id)
        self.block_id = block.id
        self.values = validate_values(block.spec, block.props, values or {}, block.name)
        self.old: Block | None = None
        self.text = f"Keep {block.name}'s weights" if self.values else f"Reset {block.name}'s weights"

    def check(self, doc: Network) -> None:  # noqa: D102 - see Command
        doc.block(self.block_id)

    def do(self, doc: Network) -> None:  # noqa: D102 - see Command
        self.old = doc.blocks[self.block_id]
        doc.put_block(replace(self.old, values=self.values))

    def undo(self, doc: Network) -> None:  # noqa: D102 - see Command
        assert self.old is not None
        doc.put_block(self.old)


def keep_values(doc: Network, modules: Mapping[str, torch.nn.Module]) -> Compound:
    """One undo step that keeps the current parameters of ``modules`` (block id -> module, e.g.
    a :class:`~bpviz.core.network.build.BuiltNetwork`'s after training) in their blocks."""
    steps: list[Command] = []
    for block_id in sorted(modules, key=doc.block_ids().index):
        params = {n: float32_short(p.detach().tolist()) for n, p in modules[block_id].named_parameters()}
        if params:
            steps.append(SetValues(doc, block_id, params))
    return Compound(steps, "Keep trained weights")


def load_values(block: Block, module: torch.nn.Module) -> None:
    """Copy a block's saved values into its freshly built module."""
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in block.values.items():
            params[name].copy_(torch.tensor(value, dtype=params[name].dtype))
