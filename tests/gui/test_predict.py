"""Predict mode: each backward step's gradient is asked before it is shown, and checked."""

from __future__ import annotations

from tests.gui.helpers import edge_text, node_texts, open_and_wait


def _to_next_question(window) -> None:
    bar = window.predict
    while bar.question() is None and window.controller.position < window.controller.last:
        window.controller.step()


def test_a_gradient_is_asked_before_it_is_shown(qtbot, open_window):
    window = open_window()  # chain56: dL/dx = 14 × 1 × 4 = 56
    bar, doc = window.predict, window.document
    assert bar.toggle_action in window.menus.toolbar.actions()
    bar.toggle_action.trigger()
    assert bar.isVisible() and window.controller.position == 0
    assert not any(t.startswith("grad") for t in node_texts(window, "x"))
    # The legend's gradient scale would give 56 away: its ends are "?" until the pass is done.
    assert window.scene.legend.scale_labels() == ("?", "?")
    assert "56" not in " ".join(window.scene.legend.texts())
    _to_next_question(window)
    question = bar.question()
    assert question is not None and question.answer == 14.0 and "loss back to z" in question.prompt
    assert edge_text(window, "z", "loss") == ""  # not shown until answered
    bar.entry.setText("7")
    bar.check()
    assert "Not 7" in bar.feedback.text() and bar.question() is not None
    assert edge_text(window, "z", "loss") == ""
    bar.hint()
    assert "upstream × local" in bar.feedback.text()
    bar.entry.setText("14")
    bar.check()
    assert bar.feedback.text().startswith("Right: 1 × 14 = 14")
    assert "14" in edge_text(window, "z", "loss")
    assert bar.score.text().startswith("Score 1 of 1")
    # The rest of the pass: Show Me reveals without a point; dL/dx = 56 appears only at the end.
    while window.controller.position < window.controller.last:
        if bar.question() is not None:
            assert doc.trace.find("x") not in doc.policy.shown(window.controller.state()).grads
            bar.reveal()
        window.controller.step()
    assert "grad = 56" in node_texts(window, "x")
    assert window.scene.legend.scale_labels() == ("14", "56")
    assert bar.score.text().startswith("Score 1 of 3")
    assert window.settings.value("predict/lesson:chain56") == "1/3"


def test_nothing_unreached_is_shown_in_predict_mode(qtbot, open_window):
    """Every lesson, every step: no box shows a gradient the policy withholds, no edge label the
    gradient of an edge not reached, no diagnostics before the end, no answer in the inspector."""
    from bpviz.core.scenario import lesson_names

    window = open_window()
    bar = window.predict
    for lesson in lesson_names():
        open_and_wait(qtbot, window, f"lesson:{lesson}")
        window.document.set_collapse(None)  # every op drawn: every number checked
        bar.set_enabled(True)
        seq, scene = window.controller.sequence, window.scene
        for position in range(seq.last + 1):
            window.controller.set_position(position)
            shown = window.document.policy.shown(seq.state_at(position))
            for node in scene.node_ids():
                if node not in shown.grads:
                    texts = scene.node_item(node).display_texts()
                    assert not any(t.startswith("grad") for t in texts), (lesson, position, node)
            for u, v in scene.graph.edges:
                if (u, v) not in shown.edge_grads:
                    assert scene.edge_item(u, v).label.text == "", (lesson, position, u, v)
            if bar.question() is not None:
                assert window.inspector.formula_text() == ""
                bar.reveal()
            if position < seq.last:
                assert "Hidden while you predict" in window.diagnostics.summary.text()
        bar.set_enabled(False)


def test_predict_mode_off_restores_the_normal_display(qtbot, open_window):
    window = open_window()
    window.document.go_to("end")
    before = node_texts(window, "x")
    window.predict.set_enabled(True)
    window.predict.set_enabled(False)
    window.document.go_to("end")
    assert node_texts(window, "x") == before and not window.predict.isVisible()


def test_training_is_out_of_reach_while_predicting(qtbot, open_window):
    window = open_window()
    training = window.training.show_action
    training.setChecked(True)
    window.predict.set_enabled(True)
    assert not training.isEnabled() and not training.isChecked()
    window.predict.set_enabled(False)
    assert training.isEnabled()
