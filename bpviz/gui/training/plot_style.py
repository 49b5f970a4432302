"""Shared look and helpers of the live training plots: colours, theme styling, cheap redraws,
tidy view ranges and display smoothing.

Everything here is about drawing; the values come from the engine unchanged (smoothing is a
view option, and the buffers keep the raw values).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QAction

from bpviz.gui.plot_export import PALETTE, plain_ticks
from bpviz.gui.theme import Theme

# More curves than PALETTE has colours: colour by depth instead (first layer dark, last bright),
# which makes a vanishing-gradient fan read at a glance.
DEPTH_MAP = "viridis"


def curve_colours(n: int) -> list[str]:
    """Distinct colours for ``n`` curves: the qualitative palette, or a depth scale for many."""
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    cmap = pg.colormap.get(DEPTH_MAP)
    # Stop short of viridis' palest yellow, which vanishes on a white background.
    return [cmap.map(0.9 * i / max(1, n - 1), mode="qcolor").name() for i in range(n)]


def positive(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points a log axis can show (finite and above zero)."""
    keep = np.isfinite(ys) & (ys > 0)
    return xs[keep], ys[keep]


# Round numbers for the x axis's end: the view jumps to the next one when the run outgrows it.
LADDER = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(value: float) -> float:
    """The smallest number of the form m x 10^k (m in LADDER) that is at least ``value``."""
    if value <= 1:
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    return next(m * base for m in LADDER if m * base >= value)


class TidyRange:
    """Keeps a plot's view on round numbers: x from the first step to a round step count, y
    (log) on whole decades. The axes then repaint their ticks only when the data outgrow the
    view, not on every update, which makes a live redraw about three times cheaper.

    Zooming or panning with the mouse hands the view to the user until a double-click.
    """

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self._user = False
        self.partners: list[TidyRange] = []
        self._last: tuple | None = None
        self._extent: tuple | None = None
        self.floor_y = 0.0
        plot.enableAutoRange(False)
        plot.getViewBox().sigRangeChangedManually.connect(self._on_user)
        plot.scene().sigMouseClicked.connect(self._on_click)

    @property
    def user(self) -> bool:
        """Whether the user zoomed or panned this plot or one whose step axis it shares."""
        return self._user or any(p._user for p in self.partners)

    @user.setter
    def user(self, value: bool) -> None:
        self._user = value

    def link_x(self, leader: TidyRange) -> None:
        """Share ``leader``'s step axis: the same x range in both plots, a zoom in one is a
        zoom in both, and neither takes the view back from the user until a double-click.

        Not pyqtgraph's setXLink: that lines plots up pixel by pixel on screen, which for two
        plots side by side (or of different widths) gives them different ranges."""
        self.partners.append(leader)
        leader.partners.append(self)
        for a, b in ((self, leader), (leader, self)):
            a.plot.getViewBox().sigXRangeChanged.connect(lambda _box, xr, b=b: b._follow_x(xr))

    def _follow_x(self, x_range) -> None:
        box = self.plot.getViewBox()
        if list(box.viewRange()[0]) != list(x_range):
            box.setXRange(*x_range, padding=0)

    def _on_user(self, *_args) -> None:
        self._user = True

    def _on_click(self, event) -> None:
        if event.double():
            for tidy in (self, *self.partners):
                tidy._user, tidy._last = False, None
            for tidy in (self, *self.partners):
                if tidy._extent is not None:
                    tidy.update(*tidy._extent)

    def update(self, x0: float, x1: float, y0: float, y1: float, log: bool, floor: str = "") -> None:
        """Fit the view to data spanning ``x0..x1`` and ``y0..y1`` (in data units). ``floor``
        (log axes): reserve a row one decade below the data, labelled ``floor`` on the axis,
        for values a log axis cannot place (:attr:`floor_y` is its height, in log10 units)."""
        self._extent = (x0, x1, y0, y1, log, floor)
        if self.user or not all(math.isfinite(v) for v in (x0, x1, y0, y1)):
            return
        xr = (x0, max(x0 + 1.0, nice_ceiling(x1)))
        if log:
            lo, hi = math.floor(math.log10(max(y0, 1e-300))), math.ceil(math.log10(max(y1, 1e-300)))
            # At least two decades: within one, the axis labels every minor tick and they collide.
            if hi - lo < 2:
                lo, hi = lo - (2 - (hi - lo)) // 2, lo + 2 - (2 - (hi - lo)) // 2
            self.floor_y = lo - 1
            yr: tuple[float, float] = (lo - 1 if floor else lo, hi)
        else:
            pad = 0.05 * (y1 - y0) or 0.5
            yr = (y0 - pad, y1 + pad)
        if (xr, yr, floor) != self._last:
            self._last = (xr, yr, floor)
            self.plot.setRange(xRange=xr, yRange=yr, padding=0.02)
            # Whole decades only: pyqtgraph would also label 2..9 within them, which collide.
            ticks = decade_ticks(lo, hi) if log else None
            if ticks is not None and floor:
                ticks[0].insert(0, (lo - 1, floor))
            self.plot.getAxis("left").setTicks(ticks)


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(k: int) -> str:
    """10^k as people write it: 0.01, 0.1, 1, 10, 100, else 10⁻⁵."""
    return f"{10.0**k:g}" if -2 <= k <= 2 else "10" + str(k).translate(SUPERSCRIPT)


def decade_ticks(lo: int, hi: int) -> list:
    """pyqtgraph ticks for a log axis (log10 units): labelled decades, at most about six."""
    every = max(1, math.ceil((hi - lo) / 6))
    major = [(k, decade_label(k)) for k in range(lo, hi + 1) if k % every == 0]
    minor = [(k, "") for k in range(lo, hi + 1) if k % every]
    return [major, minor]


def finite(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points a linear axis can show (finite)."""
    keep = np.isfinite(ys)
    return xs[keep], ys[keep]


def key_html(keys: list[tuple[str, str]], mark: str = "—") -> str:
    """A legend to append to a plot title: coloured marks with their names."""
    return "".join(f" &nbsp; <span style='color:{colour}'>{mark}</span> {name}" for colour, name in keys)


def style_plot(plot: pg.PlotItem, theme: Theme, title: str, left: str, bottom: str = "step") -> None:
    """Colours and labels of one plot, from the app theme. No grid lines: pyqtgraph draws them
    at every tick level, which triples the cost of each repaint while training."""
    plot.setTitle(f"<span style='color:{theme.text}; font-size:10pt'>{title}</span>")
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(theme.text_muted))
        axis.setTextPen(pg.mkPen(theme.text))
    plot.setLabel("left", left, color=theme.text_muted)
    plot.setLabel("bottom", bottom, color=theme.text_muted)
    for side in ("left", "bottom"):
        # "(x1e+27)" beside a log axis, or "(x0.001)" beside gradients, only puzzles a reader.
        plain_ticks(plot.getAxis(side))


def fast(plot: pg.PlotItem) -> None:
    """Draw at most a couple of points per pixel (keeping each pixel column's extremes) and only
    what is in view. Painting holds the GIL, and the training thread needs it back quickly."""
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)


def new_plot_widget(theme: Theme, name: str, dense: bool = True) -> pg.PlotWidget:
    """A PlotWidget on the theme's surface colour. ``dense``: curves of many points, drawn
    downsampled (not for histograms: clipping breaks their step mode)."""
    widget = pg.PlotWidget(background=theme.surface)
    widget.setObjectName(name)
    widget.setMinimumSize(220, 160)
    plot = widget.getPlotItem()
    plot.hideButtons()  # the "A" autoscale button: autoscaling is always on while training
    if dense:
        fast(plot)
    return widget


# Points per smoothing window: about this many independent points across the plot.
SMOOTH_POINTS = 60


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the windows shrink at both ends instead of padding."""
    n = len(values)
    if window <= 1 or n < 3:
        return values
    sums = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(n)
    lo = np.maximum(0, idx - window // 2)
    hi = np.minimum(n, idx + window // 2 + 1)
    return (sums[hi] - sums[lo]) / (hi - lo)


def smooth(ys: np.ndarray, log: bool) -> np.ndarray:
    """Values smoothed for display; on a log axis in log space (a geometric moving average),
    which follows a trend over decades without letting one spike lift the whole window."""
    window = max(1, len(ys) // SMOOTH_POINTS)
    if not log:
        return moving_average(ys, window)
    return 10.0 ** moving_average(np.log10(ys), window)


def add_smooth_action(plot: pg.PlotItem, on_change) -> QAction:
    """A "Smooth Curves" tick in the plot's right-click menu; calls ``on_change(bool)``."""
    menu = plot.getViewBox().menu
    act = QAction("Smooth Curves", menu)
    act.setCheckable(True)
    act.setChecked(True)
    act.setToolTip("Show a moving average instead of every step's value")
    act.toggled.connect(on_change)
    menu.addSeparator()
    menu.addAction(act)
    return act
