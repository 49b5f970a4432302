"""TensorPainter's remembered widths and its eliding shortcut give exactly what Qt's own calls
give; heatmap images hold one pixel per cell in the theme's diverging scale."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt

from bpviz.gui.items import heatmap, tensor_block
from bpviz.gui.items.tensor_block import ROLES, painter_for
from bpviz.gui.theme import DARK, LIGHT
from bpviz.presentation.format import TensorDisplay

TEXTS = (
    "w",
    "x1",
    "layers.0.weight",
    "‖·‖ 3.162 · min -1 · max 2",
    "grad ‖g‖=0.0001234",
    "a_very_long_parameter_name_inside_a_module.weight",
    "θ ← θ − 0.1·g",
)


def test_elided_matches_qt_at_and_around_the_width_of_the_text(qapp):
    for theme in (LIGHT, DARK):
        tp = painter_for(theme)
        for role in ROLES:
            fm = tp.fm[role]
            for text in TEXTS:
                full = fm.horizontalAdvance(text)
                widths = [full + d for d in (-30, -1, -1 / 64, -1 / 128, 0, 1 / 128, 1 / 64, 0.5, 8)]
                for mode in (Qt.TextElideMode.ElideRight, Qt.TextElideMode.ElideMiddle):
                    for width in [0.0, 12.0, *widths]:
                        assert tp.elided(text, role, width, mode) == fm.elidedText(text, mode, width), (
                            theme.name,
                            role,
                            text,
                            width,
                            mode,
                        )


def test_remembered_widths_are_qts_and_stay_bounded(qapp, monkeypatch):
    tp = painter_for(LIGHT)
    monkeypatch.setattr(tensor_block, "_WIDTHS_MAX", 3)
    tp._widths.clear()
    for text in TEXTS:
        assert tp.width(text, "small") == tp.fm["small"].horizontalAdvance(text)
        assert tp.width(text, "small") == tp.fm["small"].horizontalAdvance(text)
        assert len(tp._widths) <= 3


def test_heatmap_pixels_follow_the_scale_row_by_row(qapp):
    lut, bad = heatmap._heat_lut(LIGHT)
    # Two rows of three: a swap of rows and columns changes the image's size and pixels.
    matrix = ((-2.0, -1.0, 0.0), (1.0, 2.0, math.nan))
    disp = TensorDisplay("heatmap", "", matrix=matrix, lo=-2.0, hi=2.0)
    image = heatmap.heat_image(LIGHT, disp)
    assert (image.width(), image.height()) == (3, 2)
    levels = heatmap.HEAT_LEVELS
    expected = ((lut[0], lut[levels // 2], lut[levels]), (lut[levels * 3 // 2], lut[2 * levels], bad))
    assert tuple(tuple(image.pixel(j, i) for j in range(3)) for i in range(2)) == expected
    tall = heatmap.heat_image(
        LIGHT, TensorDisplay("heatmap", "", matrix=((0.5,), (math.inf,), (-0.25,)), lo=-2.0, hi=2.0)
    )
    assert (tall.width(), tall.height()) == (1, 3)
    assert [tall.pixel(0, i) for i in range(3)] == [lut[round(1.25 * levels)], bad, lut[round(0.875 * levels)]]
