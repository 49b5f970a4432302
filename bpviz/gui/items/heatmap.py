"""Tiny heatmaps of small 2-D tensors, drawn as one image per tensor (one pixel per cell)."""

from __future__ import annotations

import math
import weakref
from array import array
from functools import lru_cache

from PySide6.QtGui import QImage

from bpviz.gui.items.style import colour
from bpviz.gui.theme import Theme, mix
from bpviz.presentation.format import TensorDisplay

HEAT_LEVELS = 64


def heat_image(theme: Theme, disp: TensorDisplay) -> QImage:
    """The heatmap of ``disp`` as an image with one pixel per cell (cached per theme for as long
    as ``disp`` lives)."""
    images = _HEAT_CACHE.get(disp)
    if images is None:
        images = _HEAT_CACHE[disp] = {}
    cached = images.get(theme.name)
    if cached is not None:
        return cached
    rows, cols = len(disp.matrix), len(disp.matrix[0])
    scale = max(abs(disp.lo), abs(disp.hi)) or 1.0
    lut, bad = _heat_lut(theme)
    # All pixels at once (Format_RGB32 is one native 0xffRRGGBB word per pixel): a setPixel call
    # per cell cost ten times as much. copy() gives the image its own memory.
    pixels = array(
        "I",
        [
            lut[round((max(-1.0, min(1.0, v / scale)) + 1) * HEAT_LEVELS)] if math.isfinite(v) else bad
            for row in disp.matrix
            for v in row
        ],
    )
    image = QImage(pixels.tobytes(), cols, rows, 4 * cols, QImage.Format.Format_RGB32).copy()
    images[theme.name] = image
    return image


# An entry goes when its display does (a node drops its display when its value changes), so the
# cache never holds more than the scene shows: a bounded dict that filled up over a long
# training run held up to 8,192 stale displays and images.
_HEAT_CACHE: weakref.WeakKeyDictionary[TensorDisplay, dict[str, QImage]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=8)
def _heat_lut(theme: Theme) -> tuple[list[int], int]:
    """Diverging colours from -1 (blue) through 0 (neutral) to +1 (red) in 2·HEAT_LEVELS+1 steps,
    as RGB ints, and the colour for NaN/Inf."""
    lut = []
    for k in range(2 * HEAT_LEVELS + 1):
        f = k / HEAT_LEVELS - 1
        hex_colour = mix(theme.heat_zero, theme.heat_positive if f > 0 else theme.heat_negative, abs(f))
        lut.append(colour(hex_colour).rgb())
    return lut, colour(theme.nonfinite).rgb()
