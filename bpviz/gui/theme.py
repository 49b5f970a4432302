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
    # The colour language, one hue per meaning (the legend writes it down): values and the
    # forward pass, gradients and the backward pass, the current step, warnings.
    forward: str
    backward: str
    active: str  # the node and edges of the current step
    warning: str
    none_grad: str
    nonfinite: str  # warnings share the warning hue; the badge's symbol tells them apart
    exploding: str
    vanishing: str
    dead_relu: str
    several_outputs: str  # a node whose outputs go to different ops: an explanation, not a fault
    edge: str
    edge_detached: str
    selection: str
    value_text: str
    grad_text: str
    update_text: str
    token_forward: str
    token_backward: str
    label_background: str
    # Edge colour along a graph's GradScale: (fraction 0..1, colour) stops, small to large, all
    # in the backward hue (pale to deep); a zero gradient is grad_zero, a non-finite one the
    # warning colour.
    grad_scale: tuple[tuple[float, str], ...]
    grad_zero: str
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

    def grad_colour(self, magnitude: float, scale: GradScale | None = None) -> str:
        """The edge colour for a gradient of this magnitude on ``scale`` (the graph's range;
        default 1e-6..100): zero is ``grad_zero``, NaN/Inf the warning colour, the rest
        interpolated on ``grad_scale``."""
        if not math.isfinite(magnitude):
            return self.warning
        if magnitude <= 0:
            return self.grad_zero
        return _interpolate(self.grad_scale, grad_level(magnitude, scale or DEFAULT_SCALE))


# The smallest text, in screen pixels, the canvas draws when it chooses the zoom itself (the
# first view, Fit): a graph too big for that is shown at this size with an overview instead.
READABLE_PX = 9.0


def readable_zoom(theme: Theme) -> float:
    """The smallest zoom at which node titles and edge labels are READABLE_PX or larger."""
    return READABLE_PX / min(theme.title_size, theme.edge_label_size)


KIND_NAMES = ("input", "param", "constant", "op", "loss", "group")
DIAGNOSTIC_NAMES = ("none_grad", "nonfinite", "exploding", "vanishing", "dead_relu", "several_outputs")


@dataclass(frozen=True)
class GradScale:
    """The range of gradient magnitudes one graph spans, for its edges' colours and widths.

    Logarithmic from ``low`` (the smallest nonzero magnitude in the graph) to ``high`` (the
    largest finite one), so a vanishing 1e-9 gradient still gets a colour of its own beside a
    gradient of 1, and the legend can say which magnitudes the two ends stand for.
    """

    low: float = 1e-6
    high: float = 100.0

    @classmethod
    def spanning(cls, magnitudes) -> GradScale:
        """The scale from the smallest nonzero to the largest finite of ``magnitudes`` (None,
        zero and non-finite entries are skipped); the default scale when none is left."""
        finite = [m for m in magnitudes if m is not None and m > 0 and math.isfinite(m)]
        return cls(min(finite), max(finite)) if finite else cls()

    def fraction(self, magnitude: float) -> float:
        """Where ``magnitude`` sits on the scale, 0 (``low``) to 1 (``high``), clamped. A scale
        of one magnitude puts it at the top."""
        if not math.isfinite(magnitude):
            return 1.0
        if magnitude <= 0:
            return 0.0
        lo, hi = math.log10(self.low), math.log10(self.high)
        if hi <= lo:
            return 1.0
        return max(0.0, min(1.0, (math.log10(magnitude) - lo) / (hi - lo)))


DEFAULT_SCALE = GradScale()


def grad_level(magnitude: float, scale: GradScale = DEFAULT_SCALE) -> float:
    """Where a gradient magnitude sits on ``scale`` (0..1; zero at 0, non-finite at 1)."""
    return scale.fraction(magnitude)


def grad_width(magnitude: float, scale: GradScale = DEFAULT_SCALE, thin: float = 1.6, thick: float = 5.0) -> float:
    """Edge width for a gradient magnitude: thin at the bottom of ``scale``, thick at its top."""
    return thin + grad_level(magnitude, scale) * (thick - thin)


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


_LIGHT_FORWARD, _LIGHT_BACKWARD, _LIGHT_ACTIVE, _LIGHT_WARNING = "#1f63d6", "#b0239f", "#f29d0c", "#d42a2a"

LIGHT = Theme(
    name="light",
    background="#f6f7f9",
    surface="#ffffff",
    text="#1f2933",
    text_muted="#66707c",
    grid="#e3e7ec",
    input=KindStyle(accent="#3d6fc4", tint="#dde8fb"),
    param=KindStyle(accent="#4f7d14", tint="#e6f2d5"),
    constant=KindStyle(accent="#78808b", tint="#eceef1"),
    op=KindStyle(accent="#0f8a7e", tint="#d9f2ee"),
    loss=KindStyle(accent="#5b3cc4", tint="#e8e3fa"),
    group=KindStyle(accent="#5b6b82", tint="#e4e9f1"),
    forward=_LIGHT_FORWARD,
    backward=_LIGHT_BACKWARD,
    active=_LIGHT_ACTIVE,
    warning=_LIGHT_WARNING,
    none_grad="#9aa2ad",
    nonfinite=_LIGHT_WARNING,
    exploding=_LIGHT_WARNING,
    vanishing=_LIGHT_WARNING,
    dead_relu="#27303a",
    several_outputs="#5b6b82",
    edge="#a3adba",
    edge_detached="#b9c0c9",
    selection="#334155",
    value_text="#1a52b8",
    grad_text="#a01e90",
    update_text="#15803d",
    token_forward=_LIGHT_FORWARD,
    token_backward=_LIGHT_BACKWARD,
    label_background="#ffffff",
    # Pale to deep in the backward hue: the faintest edge still shows against the background.
    grad_scale=(
        (0.0, "#d9a5d2"),
        (0.35, "#cf6cc2"),
        (0.7, "#b0239f"),
        (1.0, "#6e0a63"),
    ),
    grad_zero="#8a929c",
    heat_negative="#3b6fd8",
    heat_zero="#f4f5f7",
    heat_positive="#c2630a",
)

_DARK_FORWARD, _DARK_BACKWARD, _DARK_ACTIVE, _DARK_WARNING = "#6ea8ff", "#ec6fdc", "#ffc23d", "#ff5c5c"

DARK = Theme(
    name="dark",
    background="#1b1e24",
    surface="#262a32",
    text="#e6e9ee",
    text_muted="#9aa3af",
    grid="#363b45",
    input=KindStyle(accent="#7fa6e8", tint="#233656"),
    param=KindStyle(accent="#9ccc5a", tint="#2d3d1d"),
    constant=KindStyle(accent="#9aa3ad", tint="#343943"),
    op=KindStyle(accent="#3cc4b4", tint="#1c4641"),
    loss=KindStyle(accent="#a690ff", tint="#342a5a"),
    group=KindStyle(accent="#94a3b8", tint="#313a48"),
    forward=_DARK_FORWARD,
    backward=_DARK_BACKWARD,
    active=_DARK_ACTIVE,
    warning=_DARK_WARNING,
    none_grad="#6b7280",
    nonfinite=_DARK_WARNING,
    exploding=_DARK_WARNING,
    vanishing=_DARK_WARNING,
    dead_relu="#0b0d10",
    several_outputs="#7d8aa0",
    edge="#5f6876",
    edge_detached="#4d5460",
    selection="#64748b",
    value_text="#9cc3ff",
    grad_text="#f28de4",
    update_text="#5fd68a",
    token_forward=_DARK_FORWARD,
    token_backward=_DARK_BACKWARD,
    label_background="#262a32",
    # Dim to bright in the backward hue (on a dark background bright reads as large).
    grad_scale=(
        (0.0, "#5e3a5a"),
        (0.35, "#9a4a8e"),
        (0.7, "#ec6fdc"),
        (1.0, "#ffc4f5"),
    ),
    grad_zero="#7b838f",
    heat_negative="#5b8cf0",
    heat_zero="#30353e",
    heat_positive="#e58a3a",
)

THEMES = {"light": LIGHT, "dark": DARK}


def theme_by_name(name: str) -> Theme:
    """The theme called ``name`` ("light" or "dark"); raises KeyError otherwise."""
    return THEMES[name]
