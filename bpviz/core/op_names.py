"""Friendly names of the functions a forward pass calls: ``Tensor.__pow__`` -> ``pow``."""

from __future__ import annotations

import contextlib
from typing import Any

# Cached: the recorder names every call it sees, and most are the same few functions.
_NAMES: dict[Any, str] = {}


def friendly_name(func: Any) -> str:
    """``Tensor.__pow__`` -> ``pow``, ``torch.nn.functional.linear`` -> ``linear``."""
    try:
        return _NAMES[func]
    except (KeyError, TypeError):
        pass
    name = _friendly(func)
    with contextlib.suppress(TypeError):
        _NAMES[func] = name
    return name


def _friendly(func: Any) -> str:
    name = getattr(func, "__name__", None) or str(func)
    name = name.strip("_")
    if name.endswith("_") and not name.endswith("__"):
        name = name[:-1]  # relu_ -> relu: in-place or not, it is the same maths
    return name or "op"
