"""Themes are pure data: the gradient scale and the kind styles."""

from __future__ import annotations

import math

from bpviz.gui.theme import DARK, LIGHT, grad_level, grad_width


def test_gradient_scale_is_monotonic_in_width_and_clamped():
    widths = [grad_width(10.0**k) for k in range(-8, 5)]
    assert widths == sorted(widths) and widths[0] == widths[1] and widths[-1] == widths[-2]
    assert grad_level(0.0) == -6 and grad_level(math.nan) == 2
    for theme in (LIGHT, DARK):
        assert theme.grad_colour(1e-9) == theme.grad_scale[0][1]
        assert theme.grad_colour(1e9) == theme.grad_scale[-1][1]
        assert theme.kind_style("group") == theme.group and theme.kind_style("weird") == theme.op
