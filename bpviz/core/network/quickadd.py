"""Quick-add: the blocks that fit a wire's shape, for the menu that opens when a wire is released
on empty canvas (Orange's and Ryven's filtered quick menu).

A kind fits when a new block of it, with its default properties, takes the wire's shape on its
first input; or when one of its own setting fixes makes it fit (a Linear after (32, 8) is
offered with in_features = 8). Kinds with two inputs are offered whenever the first fits, since
their second wire is not there yet to check.
"""

from __future__ import annotations

from typing import Any

import torch

from bpviz.core.errors import BpvizError
from bpviz.core.network.catalogue import SOURCE, Advice, get_kind, kind_names
from bpviz.core.network.document import Network
from bpviz.core.network.shapes import InputSpecs, Shapes, infer_one, infer_shapes


def fitting_kinds(
    doc: Network, src: str, level: str | None = None, shapes: Shapes | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(kind, properties) for every kind that can take block ``src``'s output, in palette order;
    pass the properties to AddBlock. Every non-source kind when ``src``'s shape is not known."""
    shapes = shapes or infer_shapes(doc)
    shape = shapes.outputs.get(src)
    dtype = getattr(torch, shapes.dtypes.get(src, "float32"))
    out = []
    for name in kind_names(level):
        spec = get_kind(name)
        if spec.role == SOURCE:
            continue
        props = spec.defaults()
        if shape is None or len(spec.inputs) > 1:
            out.append((name, props))
            continue
        fitted = _fit(name, props, ((shape, dtype),))
        if fitted is not None:
            out.append((name, fitted))
    return out


def _fit(name: str, props: dict[str, Any], inputs: InputSpecs) -> dict[str, Any] | None:
    outcome = infer_one(name, tuple(props.items()), inputs)
    if not isinstance(outcome, Advice):
        return props
    spec = get_kind(name)
    for fix in outcome.fixes:
        if not fix.prop or fix.on_port:
            continue
        try:
            changed = spec.validate({**props, fix.prop: fix.value}, name)
        except BpvizError:
            continue
        if not isinstance(infer_one(name, tuple(changed.items()), inputs), Advice):
            return changed
    return None
