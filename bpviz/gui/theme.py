"""Light and dark themes for the graph canvas: colours per node kind, diagnostics, edges, fonts.

Colours are plain ``#rrggbb`` strings so themes stay pure data (no Qt import); items turn them
into ``QColor`` when they paint. Node headers use a pastel tint with dark text (light theme) or a
deep tint with light text (dark theme), which keeps every label at a readable contrast while the
kind stays recognisable from the accent border and the header colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class KindStyle:
    """How one node kind looks: ``accent`` for the border and kind tag, ``tint`` for the header."""

    accent: str
    tint: str


@dataclass(frozen=True)
class Theme:
    """Every colour and font size the canvas and its export use."""

    name: str
    background: str
    surface: str  # node body
    text: str
    text_muted: str
    grid: str  # separators inside nodes, table lines
    input: KindStyle
    param: KindStyle
    constant: KindStyle
    op: KindStyle
    loss: KindStyle
    group: KindStyle
    none_grad: str
    nonfinite: str
    exploding: str
    vanishing: str
    dead_relu: str
    several_outputs: str  # a node whose outputs go to different ops: an explanation, not a fault
    edge: str
    edge_detached: str
    active: str  # the node and edges of the current step
    selection: str
    value_text: str
    grad_text: str
    update_text: str
    token_forward: str
    token_backward: str
    label_background: str
    # Edge colour by log10|grad|: (log10 value, colour) stops, low to high.
    grad_scale: tuple[tuple[float, str], ...]
    heat_negative: str
    heat_zero: str
    heat_positive: str
    font_family: str = "DejaVu Sans"
    mono_family: str = "DejaVu Sans Mono"
    # Pixel sizes, not points: an exported PDF has another DPI than the screen, and point-sized
    # text would then no longer fit the boxes that were measured for it.
    title_size: int = 13
    body_size: int = 11
    value_size: int = 14
    small_size: int = 10
    edge_label_size: int = 11

    def kind_style(self, kind: str) -> KindStyle:
        """The style of a node kind; unknown kinds look like ops."""
        return getattr(self, kind, self.op) if kind in KIND_NAMES else self.op

    def diagnostic_colour(self, kind: str) -> str:
        """The colour of one diagnostic kind (:data:`DIAGNOSTIC_NAMES`)."""
        return getattr(self, kind, self.text_muted) if kind in DIAGNOSTIC_NAMES else self.text_muted

    def grad_colour(self, magnitude: float) -> str:
        """The edge colour for a gradient of this magnitude (interpolated on ``grad_scale``)."""
        return _interpolate(self.grad_scale, grad_level(magnitude))


KIND_NAMES = ("input", "param", "constant", "op", "loss", "group")
DIAGNOSTIC_NAMES = ("none_grad", "nonfinite", "exploding", "vanishing", "dead_relu", "several_outputs")

# The log10|grad| range the colour scale and the edge widths span. Fixed rather than relative to
# the graph, so that a vanishing gradient (1e-6) looks vanishing in every graph.
GRAD_LOG_MIN = -6.0
GRAD_LOG_MAX = 2.0


def grad_level(magnitude: float) -> float:
    """log10 of a gradient magnitude, clamped to the colour scale's range (0 maps to the bottom)."""
    if not math.isfinite(magnitude):
        return GRAD_LOG_MAX
    if magnitude <= 0:
        return GRAD_LOG_MIN
    return max(GRAD_LOG_MIN, min(GRAD_LOG_MAX, math.log10(magnitude)))


def grad_width(magnitude: float, thin: float = 1.2, thick: float = 5.0) -> float:
    """Edge width for a gradient magnitude: thin at 1e-6, thick at 100 and above."""
    frac = (grad_level(magnitude) - GRAD_LOG_MIN) / (GRAD_LOG_MAX - GRAD_LOG_MIN)
    return thin + frac * (thick - thin)


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _interpolate(stops: tuple[tuple[float, str], ...], x: float) -> str:
    if x <= stops[0][0]:
        return stops[0][1]
    for (x0, c0), (x1, c1) in pairwise(stops):
        if x <= x1:
            f = (x - x0) / (x1 - x0) if x1 > x0 else 1.0
            a, b = _hex_to_rgb(c0), _hex_to_rgb(c1)
            return "#" + "".join(f"{round(p + f * (q - p)):02x}" for p, q in zip(a, b))
    return stops[-1][1]


def mix(colour: str, other: str, fraction: float) -> str:
    """``colour`` moved ``fraction`` (0..1) of the way towards ``other``."""
    return _interpolate(((0.0, colour), (1.0, other)), fraction)


LIGHT = Theme(
    name="light",
    background="#f6f7f9",
    surface="#ffffff",
    text="#1f2933",
    text_muted="#66707c",
    grid="#e3e7ec",
    input=KindStyle(accent="#2563eb", tint="#dce8fd"),
    param=KindStyle(accent="#b7791f", tint="#fcefd2"),
    constant=KindStyle(accent="#78808b", tint="#eceef1"),
    op=KindStyle(accent="#0f8a7e", tint="#d9f2ee"),
    loss=KindStyle(accent="#c0306b", tint="#fbe1ec"),
    group=KindStyle(accent="#5b6b82", tint="#e4e9f1"),
    none_grad="#9aa2ad",
    nonfinite="#dc2626",
    exploding="#ea6a0c",
    vanishing="#7c4ddb",
    dead_relu="#27303a",
    several_outputs="#4b7bb8",
    edge="#a3adba",
    edge_detached="#b9c0c9",
    active="#f2a60d",
    selection="#2f7cf6",
    value_text="#111827",
    grad_text="#c2410c",
    update_text="#15803d",
    token_forward="#2f7cf6",
    token_backward="#ea6a0c",
    label_background="#ffffff",
    # Cool and pale for tiny gradients, warm and strong for large ones; the hues go the long way
    # round through violet so no stretch of the scale mixes into a muddy grey-brown.
    grad_scale=(
        (-6.0, "#d3cdf2"),
        (-3.0, "#9a8ae6"),
        (-1.0, "#4f7be6"),
        (0.0, "#3b5bdb"),
        (0.5, "#9c36b5"),
        (1.0, "#e8590c"),
        (2.0, "#c92a2a"),
    ),
    heat_negative="#3b6fd8",
    heat_zero="#f4f5f7",
    heat_positive="#d8473b",
)

DARK = Theme(
    name="dark",
    background="#1b1e24",
    surface="#262a32",
    text="#e6e9ee",
    text_muted="#9aa3af",
    grid="#363b45",
    input=KindStyle(accent="#6ea0ff", tint="#22365a"),
    param=KindStyle(accent="#e4b04a", tint="#4a3a1c"),
    constant=KindStyle(accent="#9aa3ad", tint="#343943"),
    op=KindStyle(accent="#3cc4b4", tint="#1c4641"),
    loss=KindStyle(accent="#f06c9b", tint="#4e2236"),
    group=KindStyle(accent="#94a3b8", tint="#313a48"),
    none_grad="#6b7280",
    nonfinite="#f25555",
    exploding="#ff8a3d",
    vanishing="#a989f5",
    dead_relu="#0b0d10",
    several_outputs="#7aa2d6",
    edge="#5f6876",
    edge_detached="#4d5460",
    active="#ffc23d",
    selection="#5b9bff",
    value_text="#f3f5f8",
    grad_text="#ff9a52",
    update_text="#5fd68a",
    token_forward="#6ea8ff",
    token_backward="#ff9a52",
    label_background="#262a32",
    grad_scale=(
        (-6.0, "#4a4470"),
        (-3.0, "#7f6fd9"),
        (-1.0, "#5b8cf0"),
        (0.0, "#74a0ff"),
        (0.5, "#c77dde"),
        (1.0, "#ff8a3d"),
        (2.0, "#ff5c5c"),
    ),
    heat_negative="#5b8cf0",
    heat_zero="#30353e",
    heat_positive="#f06a5a",
)

THEMES = {"light": LIGHT, "dark": DARK}


def theme_by_name(name: str) -> Theme:
    """The theme called ``name`` ("light" or "dark"); raises KeyError otherwise."""
    return THEMES[name]
