"""What a node is, in a learner's words.

The trace's kinds say where a value came from (input, parameter, constant, op, loss). A learner
also needs to know what the update step changes: module parameters, and the leaves a scenario
marked ``requires_grad=True`` itself (``x`` in ``x → x² → +3 → ²``). The second are *variables*:
drawn like inputs, named "variable" on the box, in the legend, in the overview and in the update
caption. A built network's box is a *block* (the user's word in the editor), a collapsed
layer of any other network a module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VARIABLE = "variable"
BLOCK = "block"


def role(attrs: Mapping[str, Any]) -> str:
    """The node's kind, :data:`VARIABLE` for a non-parameter leaf the update changes, or
    :data:`BLOCK` for the box of a block of a built network."""
    kind = str(attrs["kind"])
    if kind in ("input", "constant") and attrs.get("requires_grad"):
        return VARIABLE
    if kind == "group" and attrs.get("op") == BLOCK:
        return BLOCK
    return kind


def updated_noun(roles: Iterable[str]) -> str:
    """What the update step changes: "param", "variable", or both."""
    present = set(roles)
    nouns = [noun for kind, noun in (("param", "param"), (VARIABLE, "variable")) if kind in present]
    return "/".join(nouns) or "param"
