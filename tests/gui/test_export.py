"""Export: PNG pixels, SVG text, PDF bytes, clipboard, and clear errors for bad paths."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

from bpviz.core.errors import BpvizError
from bpviz.core.stepper import StepSequence
from bpviz.gui.export import copy_to_clipboard, export_scene, fit_scale, source_rect
from bpviz.gui.graph_scene import GraphScene
from bpviz.gui.theme import DARK, LIGHT
from tests.gui.synthetic import chain_trace

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def scene(qapp):
    """The synthetic chain at its last backward step (values, gradients and edge labels shown)."""
    trace = chain_trace()
    seq = StepSequence(trace)
    s = GraphScene(LIGHT)
    s.set_graph(trace.graph, trace.loss_node, trace.diagnostics, lr=seq.lr)
    s.apply_state(seq.state_at(seq.last - 1), trace, lr=seq.lr)
    s.set_caption(trace.title, "Backward")
    return s


def test_png_covers_the_whole_scene_at_the_chosen_scale(scene, tmp_path):
    path = tmp_path / "graph.png"
    rect = source_rect(scene)
    result = export_scene(scene, path, scale=2.0)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (round(rect.width() * 2), round(rect.height() * 2))
    assert (result.width, result.height) == (image.width(), image.height())
    background = QColor(LIGHT.background)
    assert image.pixelColor(2, 2) == background
    # Inside every node box (graph area) and the legend, pixels differ from the background.
    for item in [scene.node_item(n) for n in scene.node_ids()] + [scene.legend]:
        centre = (item.sceneBoundingRect().center() - rect.topLeft()) * 2
        assert image.pixelColor(centre.toPoint()) != background, item
    # The node that is off-screen in a small view is still in the file: export is not the viewport.
    assert rect.contains(scene.node_item("x").sceneBoundingRect())


def test_png_dark_theme_fills_the_dark_background(scene, tmp_path):
    scene.set_theme(DARK)
    export_scene(scene, tmp_path / "dark.png", scale=1.0)
    image = QImage(str(tmp_path / "dark.png"))
    assert image.pixelColor(1, 1) == QColor(DARK.background)


def test_svg_parses_and_carries_the_labels_as_text(scene, tmp_path):
    path = tmp_path / "graph.svg"
    export_scene(scene, path)
    root = ET.parse(path).getroot()
    texts = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    for expected in (
        "x",
        "pow",
        "add",
        "loss",
        "grad = 56",
        "×4   14 × 4 = 56",
        "Nodes",
        "Edge gradient |g|, log scale",
        "gradient · backward pass",
    ):
        assert expected in texts, expected
    assert not list(root.iter(f"{SVG}image"))  # vectors, not cached pixmaps


def test_pdf_is_a_real_pdf(scene, tmp_path):
    path = tmp_path / "graph.pdf"
    result = export_scene(scene, path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 5000
    assert b"%%EOF" in data[-64:]
    assert (result.width, result.height) == (round(source_rect(scene).width()), round(source_rect(scene).height()))


def test_export_hides_tokens_and_restores_caches(scene, tmp_path):
    trace = chain_trace()
    seq = StepSequence(trace)
    state = seq.state_at(1)
    scene.apply_state(state, trace)
    scene.animate_step(state)
    (token,) = scene.animator.tokens()
    modes = {id(i): i.cacheMode() for i in scene.items()}
    export_scene(scene, tmp_path / "g.png", 1.0)
    assert token.isVisible()
    assert {id(i): i.cacheMode() for i in scene.items()} == modes
    scene.stop_animations()


def test_clipboard_gets_the_image(scene):
    image = copy_to_clipboard(scene, scale=1.0)
    got = QGuiApplication.clipboard().image()
    assert not got.isNull()
    assert (got.width(), got.height()) == (image.width(), image.height())


@pytest.mark.parametrize(
    "name, message",
    [
        ("graph.gif", "use a .png, .svg or .pdf"),
        ("graph", "use a .png, .svg or .pdf"),
        ("missing/graph.png", "does not exist"),
    ],
)
def test_bad_paths_raise_a_clear_error(scene, tmp_path, name, message):
    with pytest.raises(BpvizError, match=message):
        export_scene(scene, tmp_path / name)


def test_a_folder_is_not_a_file_name(scene, tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(BpvizError, match="is a folder"):
        export_scene(scene, tmp_path / "out.png")


def test_huge_rasters_are_scaled_down_and_bad_scales_rejected(scene):
    from PySide6.QtCore import QRectF

    assert fit_scale(QRectF(0, 0, 100, 100), 2.0) == 2.0
    scale = fit_scale(QRectF(0, 0, 200, 40000), 2.0)
    assert 40000 * scale <= 16384
    with pytest.raises(BpvizError, match="positive"):
        fit_scale(QRectF(0, 0, 10, 10), 0)


def test_svg_is_lean_and_draws_like_the_generator_output(scene, tmp_path, monkeypatch):
    """The SVG leaves out QSvgGenerator's empty groups and the font attributes a <text> inherits
    from its group, and renders exactly like the generator's own output."""
    from PySide6.QtSvg import QSvgRenderer

    import bpviz.gui.export as export

    lean, raw = tmp_path / "lean.svg", tmp_path / "raw.svg"
    export_scene(scene, lean)
    monkeypatch.setattr(export, "lean_svg", lambda svg: svg)
    export_scene(scene, raw)
    lean_root = ET.parse(lean).getroot()
    assert not [g for g in lean_root.iter(f"{SVG}g") if len(g) == 0]
    assert len(lean.read_bytes()) < 0.85 * len(raw.read_bytes())
    texts = list(lean_root.iter(f"{SVG}text"))
    assert texts and not any("font-family" in t.attrib for t in texts)

    def render(path):
        renderer = QSvgRenderer(str(path))
        image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        return image

    assert render(lean) == render(raw)


def test_a_full_disk_keeps_the_old_image_in_the_app(qtbot, open_window, dialogs, tmp_path, monkeypatch):
    import errno

    from bpviz.core import atomic

    def no_space(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    window = open_window()
    monkeypatch.setattr(atomic.os, "fsync", no_space)
    for name in ("keep.png", "keep.svg", "keep.pdf"):
        out = tmp_path / name
        out.write_bytes(b"old")
        assert not window.menus.export_to(str(out))
        assert out.read_bytes() == b"old"
        assert "No space left on device" in dialogs[-1][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pdf", "keep.png", "keep.svg"]
