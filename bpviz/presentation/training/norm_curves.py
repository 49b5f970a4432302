"""Which gradient-norm curves to draw, without Qt: parameters grouped per layer (a layer's norm
from its parameters' norms), ranked by their latest values, floor markers thinned, and the
parameters the gradient-flow chart shows. :mod:`bpviz.gui.training.plots` draws what this
decides.
"""

from __future__ import annotations

import math

import numpy as np

# More parameters than this: one curve per layer, and only the TOP_CURVES largest shown at first.
MANY_CURVES = 8
TOP_CURVES = 5
# Rows a curve's rank is judged on (the median of its latest values: batch noise would
# otherwise swap curves in and out of the top ones at every redraw).
RANK_ROWS = 20
# Floor markers drawn per curve at most (a gradient that stays zero would otherwise draw one
# marker per step; thinned, the row still spans the same steps).
MAX_FLOOR_MARKS = 150


def layer_of(name: str) -> str:
    """The module a parameter belongs to ("0.weight" -> "0"), or the name itself."""
    return name.rsplit(".", 1)[0] if "." in name else name


def group_by_layer(names: list[str]) -> list[tuple[str, list[int]]]:
    """Parameters grouped by module, in the model's order: (layer, column indices)."""
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        groups.setdefault(layer_of(name), []).append(j)
    return list(groups.items())


def layer_norm(norms: np.ndarray, columns: list[int]) -> np.ndarray:
    """The L2 norm of a layer's whole gradient from its parameters' norms (the square root of
    the sum of their squares); a NaN or Inf in any part stays. Columns without any gradient
    (all NaN: the parameter never got one) are left out."""
    parts = [norms[:, j] for j in columns if not np.all(np.isnan(norms[:, j]))]
    if not parts:
        return np.full(len(norms), np.nan)
    total: np.ndarray = np.sqrt(np.sum(np.square(np.stack(parts, axis=1)), axis=1))
    return total


def rank_key(values: np.ndarray) -> float:
    """How large a curve is now: the median of its last RANK_ROWS values; a NaN or Inf there
    ranks above everything (it is what the user must see)."""
    tail = values[-RANK_ROWS:]
    if not len(tail) or np.any(np.isinf(tail)) or (np.any(np.isnan(tail)) and not np.all(np.isnan(values))):
        return math.inf
    return float(np.median(tail))


def thin(x: np.ndarray) -> np.ndarray:
    """At most MAX_FLOOR_MARKS of these steps, evenly spread (the first and last kept)."""
    if len(x) <= MAX_FLOOR_MARKS:
        return x
    picked: np.ndarray = x[np.linspace(0, len(x) - 1, MAX_FLOOR_MARKS).astype(int)]
    return picked


def flow_names(names: list[str]) -> list[int]:
    """Indices of the parameters the gradient-flow chart shows: the weights (biases only add
    clutter, as in the usual plot_grad_flow), or everything when nothing is called weight."""
    weights = [i for i, n in enumerate(names) if not (n == "bias" or n.endswith(".bias"))]
    return weights or list(range(len(names)))
