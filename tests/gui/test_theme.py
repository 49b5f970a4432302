"""Themes are pure data: the colour language, the gradient scale and the kind styles."""

from __future__ import annotations

import math

import pytest

from bpviz.gui.theme import DARK, LIGHT, GradScale, grad_level, grad_width


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_a_vanishing_gradient_has_a_colour_of_its_own(theme):
    scale = GradScale.spanning([0.0, 1e-9, 0.5, 1.0, None, math.nan])
    assert (scale.low, scale.high) == (1e-9, 1.0)
    tiny, zero, one = theme.grad_colour(1e-9, scale), theme.grad_colour(0.0, scale), theme.grad_colour(1.0, scale)
    assert len({tiny, zero, one}) == 3
    assert tiny == theme.grad_scale[0][1] and one == theme.grad_scale[-1][1] and zero == theme.grad_zero
    # In between, the colour moves on a log scale: 1e-4.5 is the middle of 1e-9..1.
    assert grad_level(10**-4.5, scale) == pytest.approx(0.5)
    assert theme.grad_colour(1e-6, scale) not in (tiny, one)
    assert theme.grad_colour(math.inf, scale) == theme.warning


def test_widths_grow_with_the_gradient_and_clamp_at_the_ends():
    scale = GradScale(1e-6, 100.0)
    widths = [grad_width(10.0**k, scale) for k in range(-8, 5)]
    assert widths == sorted(widths) and widths[0] == widths[1] and widths[-1] == widths[-2]
    assert grad_level(0.0, scale) == 0 and grad_level(math.nan, scale) == 1
    # One magnitude only (a one-edge graph): it is the largest there is.
    assert GradScale.spanning([0.25]).fraction(0.25) == 1.0
    assert GradScale.spanning([0.0, None]) == GradScale()


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_one_hue_per_meaning(theme):
    meanings = (theme.forward, theme.backward, theme.active, theme.warning)
    assert len(set(meanings)) == 4
    assert theme.token_forward == theme.forward and theme.token_backward == theme.backward
    assert theme.nonfinite == theme.exploding == theme.vanishing == theme.warning
    # No other role borrows a meaning's colour.
    others = (theme.selection, theme.update_text, theme.grad_zero, theme.edge, theme.heat_positive)
    others += tuple(theme.kind_style(k).accent for k in ("input", "param", "constant", "op", "loss", "group"))
    assert not set(others) & set(meanings)
    assert theme.kind_style("group") == theme.group and theme.kind_style("weird") == theme.op
