"""What a node is, in a learner's words.

The trace's kinds say where a value came from (input, parameter, constant, op, loss). A learner
also needs to know what the update step changes: module parameters, and the leaves a scenario
marked ``requires_grad=True`` itself (``x`` in ``x → x² → +3 → ²``). The second are *variables*:
drawn like inputs, named "variable" on the box, in the legend, in the overview and in the update
caption.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VARIABLE = "variable"


def role(attrs: Mapping[str, Any]) -> str:
    """The node's kind, or :data:`VARIABLE` for a non-parameter leaf the update changes."""
    kind = str(attrs["kind"])
    if kind in ("input", "constant") and attrs.get("requires_grad"):
        return VARIABLE
    return kind


def updated_noun(roles: Iterable[str]) -> str:
    """What the update step changes: "param", "variable", or both."""
    present = set(roles)
    nouns = [noun for kind, noun in (("param", "param"), (VARIABLE, "variable")) if kind in present]
    return "/".join(nouns) or "param"
