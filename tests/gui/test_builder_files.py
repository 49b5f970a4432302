"""The builder's files: File ▸ New Network (empty or a template, undoable), Save and Save As
(atomic, lossless), File ▸ Open accepting .bpviz files into the editor (a bad one is one
sentence and changes nothing), the unsaved-changes question on open and close, and Export as
Python (a scenario file that traces to the same numbers)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from bpviz.core.network import fileformat
from bpviz.core.network.build import build
from bpviz.core.network.commands import SetProperty
from bpviz.core.network.templates import make_template, template_names
from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario
from bpviz.gui.builder.new_dialog import NewNetworkDialog
from tests.gui.builder_helpers import block_id, dumps
from tests.gui.helpers import open_and_wait


def answer_save_dialog(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))


def answer_open_dialog(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))


def answer_question(monkeypatch, button):
    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def edit(window):
    session = window.builder.session
    assert session.push(SetProperty(session.network, block_id(window, "c"), "value", 4.0))


def test_new_network_from_a_template_is_one_undo_step(builder, monkeypatch):
    window = builder("chain56")
    before = dumps(window)

    def choose_xor(dialog):
        dialog.list.setCurrentRow(template_names().index("xor"))
        return NewNetworkDialog.DialogCode.Accepted

    monkeypatch.setattr(NewNetworkDialog, "exec", choose_xor)
    window.builder.new_action.trigger()
    assert dumps(window) == fileformat.dumps(make_template("xor"))
    assert not window.builder.session.dirty and window.builder.session.path is None
    window.builder.undo_action.trigger()
    assert dumps(window) == before


def test_save_as_then_save_write_the_file_atomically_and_losslessly(builder, monkeypatch, tmp_path):
    window = builder("residual_mlp")
    session = window.builder.session
    assert not session.dirty
    edit_target = session.network.by_name("fc2").id
    session.push(SetProperty(session.network, edit_target, "bias", False))
    assert session.dirty and "•" in window.windowTitle()
    path = tmp_path / "res.bpviz"
    answer_save_dialog(monkeypatch, tmp_path / "res")  # the suffix is added
    window.builder.save_as_action.trigger()
    assert fileformat.dumps(fileformat.load(path)) == dumps(window)
    assert not session.dirty and session.path == str(path) and "•" not in window.windowTitle()
    session.push(SetProperty(session.network, edit_target, "bias", True))
    window.builder.save_action.trigger()  # no dialog: the file is known
    assert fileformat.load(path).by_name("fc2").props["bias"] is True
    assert [p.name for p in tmp_path.iterdir()] == ["res.bpviz"]  # no temporary file left


def test_file_open_accepts_a_network_and_refuses_a_bad_one_in_one_sentence(builder, monkeypatch, tmp_path, dialogs):
    window = builder("chain56")
    good = tmp_path / "mlp.bpviz"
    fileformat.save(make_template("mlp_10_5_1"), good)
    answer_open_dialog(monkeypatch, good)
    window.menus.open.trigger()
    assert dumps(window) == good.read_text()
    assert window.builder.session.path == str(good)
    assert window.builder.parts.stack.currentWidget() is window.builder.parts.panel
    assert not window.builder.session.stack.canUndo()  # an opened file starts a new history
    bad = tmp_path / "bad.bpviz"
    bad.write_text('{"format": "bpviz-network", "version": 1, "blocks": [{"id": "b1", "kind": "os.system"}]}')
    answer_open_dialog(monkeypatch, bad)
    window.menus.open.trigger()
    assert dumps(window) == good.read_text()
    ((title, message),) = dialogs
    assert title == "Cannot open the network" and "bad.bpviz" in message and "os.system" in message
    assert message.count(". ") == 0 and message.endswith(".")


@pytest.mark.parametrize(
    "button, opened", [(QMessageBox.StandardButton.Cancel, False), (QMessageBox.StandardButton.Discard, True)]
)
def test_unsaved_changes_are_asked_about_before_opening(builder, monkeypatch, tmp_path, button, opened):
    window = builder("chain56")
    edit(window)
    changed = dumps(window)
    other = tmp_path / "xor.bpviz"
    fileformat.save(make_template("xor"), other)
    asked = answer_question(monkeypatch, button)
    assert window.builder.open_network(str(other)) is opened
    assert asked and "Save the changes" in asked[0]
    assert (dumps(window) == other.read_text()) is opened and (dumps(window) == changed) is not opened


def test_unsaved_changes_are_asked_about_before_closing(builder, monkeypatch, tmp_path):
    window = builder("chain56")
    edit(window)
    asked = answer_question(monkeypatch, QMessageBox.StandardButton.Cancel)
    assert not window.close() and window.isVisible() and len(asked) == 1
    path = tmp_path / "kept.bpviz"
    answer_save_dialog(monkeypatch, path)
    answer_question(monkeypatch, QMessageBox.StandardButton.Save)
    assert window.close()
    assert fileformat.load(path).by_name("c").props["value"] == 4.0


def test_export_as_python_traces_to_the_same_numbers(builder, monkeypatch, tmp_path):
    window = builder("relu_two_weights")
    path = tmp_path / "net.py"
    answer_save_dialog(monkeypatch, path)
    window.builder.export_python_action.trigger()
    exported = trace_scenario(load_scenario(str(path)))
    built = trace_scenario(build(window.builder.session.network).scenario)
    assert exported.loss == built.loss
    grads = {a["name"]: a["grad"] for _, a in exported.graph.nodes(data=True) if a["kind"] in ("param", "input")}
    assert float(grads["w1"]) == -9.0 and float(grads["w2"]) == -3.0


def test_a_model_scenario_opens_into_the_editor_and_a_closure_says_why_not(open_window, qtbot, dialogs):
    window = open_window("lesson:mlp_10_5_1")
    shown_loss = float(window.trace.loss)
    assert window.builder.import_action.isEnabled()
    window.builder.import_action.trigger()
    net = window.builder.session.network
    assert {b.kind for b in net.blocks.values()} >= {"Input", "Linear", "ReLU", "Target", "MSELoss"}
    assert window.builder.mode == "build" and window.builder.parts.panel.isVisible()
    # The weights and data came along: the imported network computes the lesson's loss.
    assert float(trace_scenario(build(net).scenario).loss) == pytest.approx(shown_loss, rel=1e-6)
    open_and_wait(qtbot, window, "lesson:chain56")
    before = dumps(window)
    window.builder.import_action.trigger()
    ((title, message),) = dialogs
    assert title == "Cannot edit this scenario as a network" and "loss()" in message
    assert dumps(window) == before


def test_an_unsaved_network_is_autosaved_and_offered_back_after_a_crash(builder, monkeypatch, tmp_path):
    from bpviz.gui.builder.autosave import FILE_NAME, Autosave

    window = builder("chain56")
    session = window.builder.session
    saver = Autosave(session, str(tmp_path / "data"))
    assert not saver.save_now()  # nothing unsaved: nothing written
    edit(window)
    assert saver.save_now()
    path = tmp_path / "data" / FILE_NAME
    assert path.read_text() == dumps(window)
    crashed = dumps(window)
    # The next start (another window) finds the file and, asked, brings the network back.
    other = builder("empty")
    asked = answer_question(monkeypatch, QMessageBox.StandardButton.Yes)
    assert other.builder.offer_autosaved(str(tmp_path / "data"))
    assert asked and "Restore it?" in asked[0]
    assert dumps(other) == crashed and other.builder.session.dirty
    # Saving (here: declaring it saved) removes the file; a "No" removes it too.
    session.mark_saved()
    assert not path.exists()
    session.push(SetProperty(session.network, block_id(window, "c"), "value", 5.0))
    saver.save_now()
    answer_question(monkeypatch, QMessageBox.StandardButton.No)
    assert not other.builder.offer_autosaved(str(tmp_path / "data")) and not path.exists()
