"""Graphs past the drawing limit: the app says so in one sentence and keeps what it shows; a
level of detail that would pass the limit is refused the same way. The limit is lowered here
(bpviz.core.draw_limit.MAX_DRAWN_BOXES), so the graphs stay small and the tests quick."""

from __future__ import annotations

import pytest

from bpviz.core import draw_limit
from tests.commands.test_export_size_limit import loop_file
from tests.gui.helpers import TRACE_TIMEOUT_MS


@pytest.fixture
def limit_40(monkeypatch):
    monkeypatch.setattr(draw_limit, "MAX_DRAWN_BOXES", 40)


def test_a_graph_over_the_limit_is_refused_and_the_previous_one_stays(qtbot, open_window, dialogs, tmp_path, limit_40):
    window = open_window()
    window.document.go_to("backward")
    before_nodes, before_title = sorted(window.scene.node_ids()), window.windowTitle()
    position, trace = window.controller.position, window.document.trace
    path = loop_file(tmp_path, 10)  # 44 boxes
    with qtbot.waitSignal(window.document.openFailed, timeout=TRACE_TIMEOUT_MS) as blocker:
        window.document.open_spec(str(path))
    text = blocker.args[0]
    assert dialogs == [("Cannot open scenario", text)]
    assert text == (
        "This graph has 44 boxes, more than the 40 bpviz draws; shorten the loop or the model, or "
        f"read every number with `bpviz trace {path} --json trace.json`, which has no size limit."
    )
    assert window.document.trace is trace and window.document.source.label == "lesson:chain56"
    assert sorted(window.scene.node_ids()) == before_nodes
    assert window.windowTitle() == before_title and window.controller.position == position
    assert not window.document.runner.busy


def test_a_graph_at_the_limit_opens(qtbot, open_window, dialogs, tmp_path, limit_40):
    window = open_window()
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.document.open_spec(str(loop_file(tmp_path, 9)))  # 40 boxes
    assert len(window.scene.node_ids()) == 40
    assert dialogs == []


def test_a_level_of_detail_over_the_limit_is_refused_and_the_view_stays(qtbot, open_window, dialogs, monkeypatch):
    window = open_window("lesson:mlp_10_5_1")
    doc = window.document
    layers = sorted(window.scene.node_ids())
    ops = doc.trace.graph.number_of_nodes()
    assert doc.collapse == "layers" and len(layers) < ops
    monkeypatch.setattr(draw_limit, "MAX_DRAWN_BOXES", ops - 1)
    changed: list[bool] = []
    doc.viewChanged.connect(lambda: changed.append(True))
    doc.set_collapse(None)
    assert dialogs == [("Too many boxes to draw", draw_limit.view_refusal(ops))]
    assert doc.collapse == "layers" and sorted(window.scene.node_ids()) == layers and not changed
    # Opening a layer that stays within the limit still works.
    first = next(n for n, a in doc.view_graph.nodes(data=True) if a["kind"] == "group")
    assert doc.toggle_layer(first) and changed == [True]


def test_showing_shape_ops_again_over_the_limit_is_refused_and_the_menu_says_so(
    qtbot, open_window, dialogs, monkeypatch
):
    window = open_window("lesson:mlp_10_5_1")
    doc, action = window.document, window.menus.hide_shape
    doc.set_collapse(None)
    action.setChecked(True)
    hidden = doc.view_graph.number_of_nodes()
    assert doc.hide_shape_ops and hidden < doc.trace.graph.number_of_nodes()
    monkeypatch.setattr(draw_limit, "MAX_DRAWN_BOXES", hidden)
    action.setChecked(False)
    assert len(dialogs) == 1 and dialogs[0][0] == "Too many boxes to draw"
    assert doc.hide_shape_ops and len(window.scene.node_ids()) == hidden
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    view_menu.aboutToShow.emit()
    assert action.isChecked()


def test_bpviz_show_refuses_before_any_window_opens(qapp, monkeypatch, limit_40):
    import torch

    import bpviz
    import bpviz.gui.main_window
    from bpviz.core.errors import BpvizError

    def no_window(*args, **kwargs):
        raise AssertionError("a window was made for a graph past the limit")

    monkeypatch.setattr(bpviz.gui.main_window, "MainWindow", no_window)
    leaf = torch.tensor([1.0], requires_grad=True)

    def loss():
        x = leaf
        for _ in range(10):
            x = x * 1.0001 + 0.0
        return (x**2).sum()

    with pytest.raises(BpvizError, match=r"44 boxes, more than the 40 bpviz draws.*`bpviz\.trace\(\.\.\.\)`"):
        bpviz.show(loss)
