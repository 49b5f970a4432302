"""The document: every kind of source opens through one API, loads once, and drives the widgets."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import pytest
import torch

from bpviz.core.scenario import load_scenario, scenario_from_model
from bpviz.core.sources import FileSource, LessonSource, ScenarioSource, source_from_spec
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from tests.gui.helpers import TRACE_TIMEOUT_MS


def _graph_summary(trace) -> tuple:
    """Node ids with kind, name, value and grad; edges with grad: what a graph shows."""

    def number(t):
        return None if t is None else t.detach().flatten().tolist()

    nodes = tuple(
        sorted(
            (n, a["kind"], a["name"], str(number(a["value"])), str(number(a["grad"])))
            for n, a in trace.graph.nodes(data=True)
        )
    )
    edges = tuple(sorted((u, v, str(number(a["grad"]))) for u, v, a in trace.graph.edges(data=True)))
    return nodes, edges, trace.loss


@pytest.fixture
def document(qtbot):
    from bpviz.gui.document import Document

    doc = Document()
    yield doc
    doc.runner.wait()


def _open(qtbot, doc, source) -> None:
    with qtbot.waitSignal(doc.opened, timeout=TRACE_TIMEOUT_MS):
        doc.open(source, trusted=True)


def test_a_lesson_a_file_and_a_model_open_through_one_api(qtbot, document, tmp_path):
    expected = _graph_summary(trace_scenario(load_scenario("lesson:relu_two_weights")))

    _open(qtbot, document, LessonSource("relu_two_weights"))
    assert _graph_summary(document.trace) == expected
    assert document.source.label == "lesson:relu_two_weights" and document.source.recent_path is None

    path = tmp_path / "two_weights.py"
    path.write_text(resources.files("bpviz.lessons").joinpath("relu_two_weights.py").read_text())
    _open(qtbot, document, source_from_spec(str(path)))
    assert isinstance(document.source, FileSource) and document.source.recent_path == str(path)
    assert _graph_summary(document.trace) == expected

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    x, y = torch.randn(4, 3), torch.randn(4, 1)
    scenario = scenario_from_model(model, x, y)
    _open(qtbot, document, ScenarioSource(scenario))
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    assert document.trace.loss == loss.item()
    for name, p in model.named_parameters():
        assert torch.equal(document.trace.graph.nodes[document.trace.find(name)]["grad"], p.grad)
    # Training gets a copy: the caller's model is not the one trained.
    trained = document.training_loader()()
    assert trained.model is not model
    assert all(torch.equal(a, b) for a, b in zip(trained.model.parameters(), model.parameters()))


def test_a_failed_open_keeps_what_is_shown(qtbot, document, tmp_path):
    _open(qtbot, document, LessonSource("chain56"))
    trace = document.trace
    with qtbot.waitSignal(document.openFailed, timeout=TRACE_TIMEOUT_MS) as blocker:
        document.open(FileSource(str(tmp_path / "missing.py")), trusted=True)
    assert "No scenario file" in blocker.args[0]
    assert document.trace is trace and document.source == LessonSource("chain56")


def test_signals_come_in_a_fixed_order(qtbot, document):
    seen: list[str] = []
    document.traceChanged.connect(lambda keep: seen.append(f"trace keep={keep}"))
    document.steps.stepped.connect(lambda pos, _one: seen.append(f"stepped {pos}"))
    document.opened.connect(lambda: seen.append("opened"))
    document.selectionChanged.connect(lambda: seen.append(f"selection {document.selection}"))
    _open(qtbot, document, LessonSource("chain56"))
    assert seen == ["trace keep=False", "stepped 0", "opened"]

    x = document.trace.find("x")
    document.select_node(x)
    seen.clear()
    # A live update of the same network keeps the selection and the position it is given.
    document.show_trace(document.trace, StepSequence(document.trace), position=3)
    assert seen == ["trace keep=True", "stepped 3", f"selection {x}"]
    assert document.steps.position == 3


def test_view_options_change_the_drawn_graph_not_the_trace(qtbot, document):
    _open(qtbot, document, LessonSource("residual_mlp"))
    assert document.collapse == "layers"  # a module network opens at layer level
    layers = document.view_graph
    document.set_collapse(None)
    full = document.view_graph
    assert full is document.trace.graph
    assert layers.number_of_nodes() < full.number_of_nodes()
    document.set_collapse(0)
    assert document.view_graph.number_of_nodes() < layers.number_of_nodes()
    group = next(n for n, a in document.view_graph.nodes(data=True) if a["kind"] == "group")
    assert document.node_attrs(group)["name"] == "ResidualMLP"
    document.select_node("not drawn")
    assert document.selection is None
    _open(qtbot, document, LessonSource("chain56"))
    assert document.collapse is None and document.view_graph is document.trace.graph


def test_layers_are_titled_and_open_and_close_with_a_double_click(qtbot, document):
    _open(qtbot, document, LessonSource("mlp_10_5_1"))
    graph = document.view_graph
    boxes = [a["name"] for _, a in graph.nodes(data=True) if a["kind"] == "group"]
    assert boxes == ["Linear(10→5)", "ReLU", "Linear(5→1)"]
    first = next(n for n, a in graph.nodes(data=True) if a["name"] == "Linear(10→5)")
    assert graph.nodes[first]["value"].shape == (32, 5)
    assert torch.equal(graph.nodes[first]["grad"], document.trace.graph.nodes[graph.nodes[first]["output"]]["grad"])
    assert document.toggle_layer(first)  # open: its weight, bias and ops appear
    opened = document.view_graph
    names = {a["name"] for _, a in opened.nodes(data=True)}
    assert {"0.weight", "0.bias", "ReLU", "Linear(5→1)"} <= names and "Linear(10→5)" not in names
    weight = document.trace.find("0.weight")
    assert document.toggle_layer(weight)  # close it again from one of its nodes
    assert [a["name"] for _, a in document.view_graph.nodes(data=True) if a["kind"] == "group"] == boxes
    assert not document.toggle_layer(document.trace.loss_node)


SIDE_EFFECT = """
import torch
with open({log!r}, "a") as fh:
    fh.write("ran\\n")
model = torch.nn.Linear(2, 1)
inputs = torch.tensor([[1.0, 2.0]])
target = torch.tensor([[3.0]])
lr = 0.1
"""


def test_a_scenario_file_runs_once_when_opened_and_trained(qtbot, open_window, tmp_path):
    log = tmp_path / "runs.log"
    path = tmp_path / "side_effect.py"
    path.write_text(SIDE_EFFECT.format(log=str(log)))
    window = open_window(str(path))
    assert log.read_text() == "ran\n"
    tc = window.training
    tc.set_shown(True)
    tc.step()
    qtbot.waitUntil(lambda: not tc.is_running() and tc.history.table.offered >= 1, timeout=TRACE_TIMEOUT_MS)
    assert window.document.last_error == ""
    assert log.read_text() == "ran\n"


def test_only_the_app_entry_imports_the_main_window():
    gui = Path(__file__).resolve().parents[2] / "bpviz" / "gui"
    importers = {
        path.relative_to(gui).as_posix()
        for path in sorted(gui.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "bpviz.gui.main_window"
    }
    assert sorted(importers) == ["app.py"]


LOGGING = """
import torch
with open({log!r}, "a") as fh:
    fh.write({tag!r} + "\\n")
x = torch.tensor(2.0, requires_grad=True)

def loss():
    return x * x
"""


def test_a_scenario_file_runs_only_after_the_user_agrees(qtbot, open_window, tmp_path, monkeypatch):
    from bpviz.gui import window_support

    window = open_window()
    doc = window.document
    answers: list[str | None] = []
    asked: list[str] = []

    def ask(_parent, path):
        asked.append(path)
        return answers.pop(0)

    monkeypatch.setattr(window_support, "ask_to_run", ask)
    log = tmp_path / "runs.log"
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text(LOGGING.format(log=str(log), tag="first"))
    second.write_text(LOGGING.format(log=str(log), tag="second"))
    shown = doc.trace

    answers.append(None)  # Cancel: nothing runs
    doc.open(FileSource(str(first)))
    assert asked == [str(first)] and not log.exists() and doc.trace is shown

    answers.append("file")
    with qtbot.waitSignal(doc.opened, timeout=TRACE_TIMEOUT_MS):
        doc.open(FileSource(str(first)))
    assert log.read_text() == "first\n"
    with qtbot.waitSignal(doc.opened, timeout=TRACE_TIMEOUT_MS):
        window.menus.reload.trigger()  # the same file, unchanged: no question
    assert len(asked) == 2 and log.read_text() == "first\nfirst\n"

    first.write_text(first.read_text() + "# edited\n")  # changed content: asked again
    answers.append(None)
    window.menus.reload.trigger()
    assert len(asked) == 3 and log.read_text() == "first\nfirst\n"

    answers.append("folder")
    with qtbot.waitSignal(doc.opened, timeout=TRACE_TIMEOUT_MS):
        doc.open(FileSource(str(first)))
    with qtbot.waitSignal(doc.opened, timeout=TRACE_TIMEOUT_MS):
        doc.open(FileSource(str(second)))  # same folder: trusted now
    assert len(asked) == 4 and log.read_text() == "first\nfirst\nfirst\nsecond\n"
    assert window.settings.trust_store().folders == {str(tmp_path.resolve())}


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, a window-modal dialog
def test_trust_can_be_revoked_from_the_file_menu(qtbot, open_window, monkeypatch, tmp_path):
    from PySide6.QtCore import Qt

    from bpviz.gui import window_support
    from bpviz.gui.trust_dialog import TrustDialog

    window = open_window()
    doc = window.document
    asked: list[str] = []
    monkeypatch.setattr(window_support, "ask_to_run", lambda _parent, path: asked.append(path))
    folder, kept = tmp_path / "lab", tmp_path / "kept.py"
    folder.mkdir()
    kept.write_text(LOGGING.format(log=str(tmp_path / "runs.log"), tag="kept"))
    doc.trust.allow_folder(str(folder))
    doc.trust.allow_file(str(kept))

    def dialog() -> TrustDialog:
        window.menus.trusted.trigger()
        found = [d for d in window.findChildren(TrustDialog) if d.isVisible()]
        assert len(found) == 1
        return found[0]

    shown = dialog()
    texts = [shown.entries.item(i).text() for i in range(shown.entries.count())]
    assert texts == [
        f"Folder: {folder.resolve()} (and everything in it)",
        f"File: {kept.resolve()} (as it was when you agreed)",
    ]
    assert not shown.revoke_button.isEnabled()
    shown.entries.item(0).setSelected(True)
    qtbot.mouseClick(shown.revoke_button, Qt.MouseButton.LeftButton)
    shown.reject()  # Cancel: nothing changes
    assert doc.trust.folders == {str(folder.resolve())}

    shown = dialog()
    shown.entries.item(0).setSelected(True)
    qtbot.mouseClick(shown.revoke_button, Qt.MouseButton.LeftButton)
    assert shown.entries.count() == 1
    shown.accept()
    assert doc.trust.folders == set() and window.settings.trust_store().folders == set()
    assert doc.trust.allows(str(kept)) and not doc.trust.allows(str(folder / "a.py"))

    shown = dialog()
    qtbot.mouseClick(shown.revoke_all_button, Qt.MouseButton.LeftButton)
    assert shown.entries.isHidden() and not shown.empty.isHidden()
    shown.accept()
    assert window.settings.trust_store().files == set()
    doc.open(FileSource(str(kept)))  # asked again, nothing runs
    assert asked == [str(kept)] and not (tmp_path / "runs.log").exists()


def test_only_python_files_can_be_dropped(qtbot, open_window, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl

    from bpviz.gui.main_window import _dropped_scenario

    text = tmp_path / "notes.txt"
    text.write_text("import os\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(text))])
    assert _dropped_scenario(mime) is None
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "scenario.py"))])
    assert _dropped_scenario(mime) == str(tmp_path / "scenario.py")


def test_a_network_file_opens_into_the_editor_from_open_drop_and_recent(qtbot, open_window, tmp_path):
    from PySide6.QtCore import QMimeData, QUrl

    from bpviz.cli import main
    from bpviz.gui.main_window import _dropped_scenario

    path = str(tmp_path / "net.bpviz")
    assert main(["new", "--template", "chain56", "-o", path]) == 0
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    assert _dropped_scenario(mime) == path  # a network may be dropped too
    window = open_window()
    window.menus.open_path(path)
    assert window.builder.parts is not None and window.builder.parts.session.path == path
    assert window.settings.recent_files()[0] == path
    window.menus.recent.actions()[0].trigger()  # Open Recent: into the editor again
    assert window.builder.parts.session.path == path
