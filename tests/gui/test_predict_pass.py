"""Predict mode over a whole pass: the verdict belongs to its question, a question stepped past
counts as missed (like Show Me: asked, no point), and the end of the pass says the score."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui.helpers import open_and_wait


def _questions(window) -> list[int]:
    """The positions of the pass that ask a question (every one still open)."""
    bar, last = window.predict, window.controller.last
    return [p for p in range(last + 1) if bar.document.policy.pending(p) is not None]


def _go_to(window, position: int) -> None:
    while window.controller.position < position:
        window.step_bar.step_button.click()


def test_a_verdict_goes_when_its_question_does(qtbot, open_window):
    window = open_window()  # chain56
    bar = window.predict
    bar.toggle_action.trigger()
    first, second, third = _questions(window)
    _go_to(window, first)
    bar.entry.setText("7")
    bar.check_button.click()
    assert bar.feedback.text().startswith("Not 7")
    _go_to(window, second)  # stepped on without answering: a new question, no old verdict
    assert bar.question() is not None and bar.feedback.text() == ""
    bar.reveal_button.click()
    assert bar.feedback.text().startswith("It is ")
    window.step_bar.back_button.click()  # back: the verdict was the other step's
    assert bar.feedback.text() == ""
    _go_to(window, third)
    bar.hint_button.click()
    assert bar.feedback.text().startswith("Hint:")
    window.step_bar.reset_button.click()
    assert bar.feedback.text() == ""
    _go_to(window, third)
    assert bar.question() is not None and bar.feedback.text() == ""
    bar.entry.setText("x")
    bar.check_button.click()
    assert "is not a number" in bar.feedback.text()
    open_and_wait(qtbot, window, "lesson:relu_two_weights")  # a new scenario
    assert bar.feedback.text() == ""
    first, *_ = _questions(window)
    _go_to(window, first)
    bar.reveal_button.click()
    assert bar.feedback.text().startswith("It is ")
    window.step_bar.step_button.click()
    assert bar.feedback.text() == ""


def test_a_question_stepped_past_counts_as_missed(qtbot, open_window):
    window = open_window()  # chain56: three questions
    bar = window.predict
    bar.toggle_action.trigger()
    first, second, third = _questions(window)
    _go_to(window, first)
    bar.entry.setText(str(bar.question().answer))
    bar.entry.returnPressed.emit()
    assert bar.score.text().startswith("Score 1 of 1")
    _go_to(window, third)  # the second one stepped past, unanswered
    assert bar.score.text().startswith("Score 1 of 2")
    window.step_bar.back_button.click()  # its answer was shown: no second try
    assert window.controller.position == second and bar.question() is None
    _go_to(window, window.controller.last)  # the third one too
    assert bar.score.text().startswith("Score 1 of 3")
    assert window.settings.value("predict/lesson:chain56") == "1/3"


def test_the_end_of_the_pass_says_the_score_and_how_to_go_again(qtbot, open_window):
    window = open_window()
    open_and_wait(qtbot, window, "lesson:relu_two_weights")
    bar = window.predict
    bar.toggle_action.trigger()
    asked = _questions(window)
    _go_to(window, asked[0])
    bar.entry.setText(str(bar.question().answer))
    bar.check_button.click()
    window.step_bar.end_button.click()  # jumping to the end passes the rest
    assert not window.step_bar.step_button.isEnabled()
    prompt = bar.prompt.text()
    assert prompt == f"Done: 1 of {len(asked)} right. Reset (Home) to try again."
    assert "Step on" not in prompt and bar.score.text().startswith(f"Score 1 of {len(asked)}")
    assert window.settings.value("predict/lesson:relu_two_weights") == f"1/{len(asked)}"
    # Home, as the prompt says, from wherever the keyboard focus went: a new pass, every question
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    focus = QApplication.focusWidget()
    assert focus is not bar.entry, focus
    qtbot.keyClick(focus or window, Qt.Key.Key_Home)
    assert window.controller.position == 0
    assert bar.score.text().startswith("Score 0 of 0") and _questions(window) == asked
    assert bar.score.text().endswith(f"best 1 of {len(asked)}")
