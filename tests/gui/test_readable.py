"""Readable at any size: on the first view of every lesson, at 1440x900 and 1366x768, and of a
2,000-node graph, no node title or edge label is drawn below 9 px, and no edge label covers
another label or a box (measured from the items' scene rects and the view's transform)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication

from bpviz.core.scenario import lesson_names
from bpviz.gui.items.style import font
from bpviz.gui.theme import READABLE_PX
from tests.gui.helpers import TRACE_TIMEOUT_MS

SIZES = [(1440, 900), (1366, 768)]


def _window(qtbot, size):
    from bpviz.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.menus.animate.setChecked(False)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def _settle() -> None:
    for _ in range(3):  # the first view is framed once the layouts have settled
        QApplication.processEvents()


def _overlaps(rects: list[tuple[str, QRectF]], others: list[tuple[str, QRectF]] | None = None) -> list[str]:
    """Pairs of intersecting rectangles: within ``rects``, or between ``rects`` and ``others``
    (a sweep along x, so a 2,000-edge graph stays quick)."""
    tagged = [(r.left(), 0, name, r) for name, r in rects] + [(r.left(), 1, name, r) for name, r in others or []]
    tagged.sort(key=lambda t: (t[0], t[1], t[2]))
    found, active = [], []
    for left, group, name, r in tagged:
        active = [a for a in active if a[3].right() > left]
        for _, g, other, o in active:
            if (others is None or g != group) and r.intersects(o):
                found.append(f"{other} / {name}")
        active.append((left, group, name, r))
    return found


def readability_problems(window) -> list[str]:
    """What the canvas draws too small or on top of something else, right now."""
    view, scene = window.view, window.scene
    t = view.transform()
    assert t.m11() == pytest.approx(t.m22()) and t.m12() == t.m21() == 0  # zoom only
    zoom = t.m11()
    theme = scene.theme()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    problems = []
    title_px = font(theme, "title").pixelSize() * zoom
    label_px = font(theme, "edge").pixelSize() * zoom
    boxes = [(n, scene.node_item(n).scene_rect()) for n in scene.node_ids()]
    if title_px < READABLE_PX and any(shown.intersects(r) for _, r in boxes):
        problems.append(f"node titles drawn at {title_px:.1f} px")
    labels = []
    for u, v in scene.graph.edges:
        label = scene.edge_item(u, v).label
        if label.isVisible():
            rect = label.sceneBoundingRect()
            labels.append((f"{u}->{v}", rect))
            if label_px < READABLE_PX and shown.intersects(rect):
                problems.append(f"edge label {u}->{v} drawn at {label_px:.1f} px")
    problems += [f"labels overlap: {pair}" for pair in _overlaps(labels)]
    problems += [f"label on a box: {pair}" for pair in _overlaps(labels, boxes)]
    return problems


def _check_first_view_and_backward(window) -> None:
    _settle()
    assert readability_problems(window) == []
    # The edge labels come with the backward pass: all of them at its end, on the same view.
    window.document.go_to("backward")
    _settle()
    assert any(window.scene.edge_item(*e).label.isVisible() for e in window.scene.graph.edges)
    assert readability_problems(window) == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lesson", lesson_names())
def test_every_lesson_is_readable_on_its_first_view(qtbot, lesson, size):
    window = _window(qtbot, size)
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.document.open_spec(f"lesson:{lesson}")
    _check_first_view_and_backward(window)
    window.document.runner.wait()


def test_a_2000_node_graph_is_readable_on_its_first_view(qtbot, monkeypatch):
    import torch

    import bpviz
    import bpviz.gui.document as document_module
    from bpviz.core.stepper import StepSequence

    torch.manual_seed(0)
    layers = []
    for _ in range(400):
        layers += [torch.nn.Linear(16, 16), torch.nn.ReLU()]
    trace = bpviz.trace(torch.nn.Sequential(*layers), torch.randn(8, 16), target=torch.randn(8, 16))
    assert trace.graph.number_of_nodes() >= 2000
    # Every op drawn, not one box per layer: the view the size is about.
    monkeypatch.setattr(document_module, "default_level", lambda graph: None)
    window = _window(qtbot, SIZES[1])
    window.document.show_loaded(None, None, trace, StepSequence(trace))
    assert len(window.scene.node_ids()) >= 2000
    _check_first_view_and_backward(window)
    assert window.view.minimap.isVisible()
