"""Predict mode: each backward step's gradient is asked before it is shown, and checked."""

from __future__ import annotations

from bpviz.presentation.predict import question_at
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
    assert bar.score.text().startswith("Score 1 of 3")
    assert window.settings.value("predict/lesson:chain56") == "1/3"


def test_nothing_unreached_is_shown_in_predict_mode(qtbot, open_window):
    window = open_window()
    bar = window.predict
    for lesson in ("lesson:chain56", "lesson:relu_two_weights", "lesson:square_plus_linear"):
        open_and_wait(qtbot, window, lesson)
        bar.set_enabled(True)
        seq, scene = window.controller.sequence, window.scene
        for position in range(seq.last + 1):
            window.controller.set_position(position)
            state = seq.state_at(position)
            question = question_at(seq, position)
            open_question = question is not None and bar.question() is not None
            shown_grads = window.document.policy.shown(state).grads
            for node in scene.node_ids():
                texts = scene.node_item(node).display_texts()
                if node not in shown_grads:
                    assert not any(t.startswith("grad") for t in texts), (lesson, position, node)
            if open_question:
                assert edge_text(window, *[window.trace.node(n)["name"] for n in question.edge]) == ""
                assert window.inspector.formula_text() == ""
            if position < seq.last:
                assert "Hidden while you predict" in window.diagnostics.summary.text()
            if open_question:
                bar.reveal()
        bar.set_enabled(False)


def test_predict_mode_off_restores_the_normal_display(qtbot, open_window):
    window = open_window()
    window.document.go_to("end")
    before = node_texts(window, "x")
    window.predict.set_enabled(True)
    window.predict.set_enabled(False)
    window.document.go_to("end")
    assert node_texts(window, "x") == before and not window.predict.isVisible()
