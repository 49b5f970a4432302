"""Stepping through lesson chain56 with the buttons, the keys, the slider and play."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from bpviz.presentation.captions import step_caption
from tests.gui.helpers import edge_text, node_texts, snapshot

BUTTONS = ("stepForward", "stepBack", "playPause", "resetSteps", "stepToEnd")


def button(window, name: str) -> QToolButton:
    found = window.findChild(QToolButton, name)
    assert found is not None, f"no button named {name}"
    return found


def click(qtbot, window, name: str) -> None:
    qtbot.mouseClick(button(window, name), Qt.MouseButton.LeftButton)


def test_controls_carry_object_and_accessible_names(open_window):
    from PySide6.QtWidgets import QSlider

    window = open_window()
    for name in BUTTONS:
        assert button(window, name).accessibleName() == name
    slider = window.findChild(QSlider, "stepSlider")
    assert slider is not None and slider.accessibleName() == "stepSlider"


def test_step_button_walks_every_step_with_the_expected_numbers(qtbot, open_window):
    window = open_window()
    seq = window.controller.sequence
    bar = window.step_bar
    assert window.controller.position == 0
    assert bar.phase_label.text() == "Start"
    assert "2" in node_texts(window, "x")  # the leaf value shows from the start
    assert not any(t.startswith("grad") for t in node_texts(window, "x"))
    phases = []
    for expected in range(1, seq.last + 1):
        click(qtbot, window, "stepForward")
        assert window.controller.position == expected
        assert bar.slider.value() == expected
        assert bar.phase_label.text() == seq.steps[expected].phase
        assert bar.caption_label.text() == step_caption(seq, expected)
        phases.append(bar.phase_label.text())
        if expected == seq.first_of("Backward") - 1:
            # Still before the backward pass: no edge carries a gradient label yet.
            assert edge_text(window, "x", "y") == ""
    assert phases[0] == "Forward" and "Loss" in phases and "Backward" in phases and phases[-1] == "Update"
    assert not button(window, "stepForward").isEnabled()  # nothing after the update
    # Backward phase revealed each local derivative on its edge, with its rule: 2z = 14, 1 and
    # 2x = 4, and 56 at x.
    assert edge_text(window, "z", "loss").startswith("×(2z = 14)")
    assert edge_text(window, "y", "z").startswith("×1 ")
    assert edge_text(window, "x", "y").startswith("×(2x = 4)")
    assert "14 × 4 = 56" in edge_text(window, "x", "y")
    assert "grad = 56" in node_texts(window, "x")
    # The update step: x <- 2 - 0.01 * 56 = 1.44 (lr 0.01 in this lesson).
    assert any(t.startswith("x ←") and t.endswith("= 1.44") for t in node_texts(window, "x"))


def test_gradient_at_x_appears_only_at_its_backward_step(qtbot, open_window):
    window = open_window()
    seq = window.controller.sequence
    x = window.trace.find("x")
    for pos in range(seq.last + 1):
        window.controller.set_position(pos)
        shown = "grad = 56" in window.scene.node_item(x).display_texts()
        assert shown == (x in seq.state_at(pos).grads), pos
    assert any(x in seq.state_at(p).grads for p in range(seq.last + 1))


def test_keys_walk_forward_back_home_and_end(qtbot, open_window):
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    seq = window.controller.sequence
    for expected in range(1, seq.last + 1):
        qtbot.keyClick(window, Qt.Key.Key_Right)
        assert window.controller.position == expected
        assert window.step_bar.phase_label.text() == seq.steps[expected].phase
    qtbot.keyClick(window, Qt.Key.Key_Right)  # clamped at the end
    assert window.controller.position == seq.last
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.controller.position == seq.last - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.controller.position == 0
    assert window.step_bar.slider.value() == 0
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.controller.position == seq.last
    assert window.step_bar.phase_label.text() == "Update"
    # Keys work with the focus on a dock too, not only on the canvas.
    window.inspector.setFocus()
    qtbot.keyClick(window.inspector, Qt.Key.Key_Home)
    assert window.controller.position == 0


def test_space_plays_to_the_end_and_stops(qtbot, open_window):
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.controller.set_speed(4.0)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.controller.is_playing
    assert button(window, "playPause").text() == "Pause"
    qtbot.waitUntil(lambda: not window.controller.is_playing, timeout=10_000)
    assert window.controller.position == window.controller.sequence.last
    assert button(window, "playPause").text() == "Play"


def test_play_button_pauses_and_speed_box_sets_the_interval(qtbot, open_window):
    window = open_window()
    box = window.step_bar.speed_box
    box.setCurrentIndex(box.findData(0.5))
    assert window.controller.interval_ms() == 1800
    assert window.scene.animator.duration() == 800
    click(qtbot, window, "playPause")
    assert window.controller.is_playing
    click(qtbot, window, "playPause")
    assert not window.controller.is_playing


@pytest.mark.parametrize("animate", [False, True])
def test_step_back_restores_exactly_the_previous_display(qtbot, open_window, animate):
    window = open_window(animate=animate)
    last = window.controller.sequence.last
    shots = [snapshot(window)]
    for _ in range(last):
        click(qtbot, window, "stepForward")
        shots.append(snapshot(window))
    assert len(set(shots)) == len(shots), "every step should change the display"
    for pos in range(last - 1, -1, -1):
        click(qtbot, window, "stepBack")
        assert window.controller.position == pos
        assert snapshot(window) == shots[pos], f"display differs after stepping back to {pos}"
    assert not window.scene.animator.tokens()


def test_reset_and_to_end_buttons(qtbot, open_window):
    window = open_window()
    click(qtbot, window, "stepToEnd")
    assert window.controller.position == window.controller.sequence.last
    assert window.step_bar.phase_label.text() == "Update"
    click(qtbot, window, "resetSteps")
    assert window.controller.position == 0
    assert window.step_bar.phase_label.text() == "Start"


def test_slider_sets_the_position_and_follows_it(qtbot, open_window):
    window = open_window()
    seq = window.controller.sequence
    slider = window.step_bar.slider
    assert (slider.minimum(), slider.maximum()) == (0, seq.last)
    backward = seq.first_of("Backward")
    slider.setValue(backward)
    assert window.controller.position == backward
    assert window.step_bar.phase_label.text() == "Backward"
    assert window.phase_status.text().startswith("Backward")
    window.controller.set_position(seq.loss_position)
    assert slider.value() == seq.loss_position
    assert window.step_bar.phase_label.text() == "Loss"


def test_a_single_step_forward_animates_tokens_along_the_edges(qtbot, open_window):
    window = open_window(animate=True)
    click(qtbot, window, "stepForward")
    tokens = window.scene.animator.tokens()
    assert tokens and all(not t.reverse for t in tokens)
    with qtbot.waitSignal(window.scene.animationFinished, timeout=5000):
        pass
    window.document.go_to("loss")  # a jump: shown at once, nothing travels
    assert not window.scene.animator.tokens()
    click(qtbot, window, "stepForward")
    assert window.scene.animator.tokens() and all(t.reverse for t in window.scene.animator.tokens())


def test_controller_clamps_and_reports_how_it_moved(qtbot):
    from bpviz.core.scenario import load_scenario
    from bpviz.core.stepper import StepSequence
    from bpviz.core.trace import trace_scenario
    from bpviz.gui.step_controller import StepController

    seq = StepSequence(trace_scenario(load_scenario("lesson:square")))
    c = StepController()
    moves = []
    c.stepped.connect(lambda pos, one: moves.append((pos, one)))
    c.set_sequence(seq)
    c.back()
    assert c.position == 0
    c.step()
    c.set_position(99)
    c.step()
    c.reset()
    assert moves == [(0, False), (1, True), (seq.last, False), (0, False)]
    c.set_position(-5)
    assert c.position == 0
    c.set_speed(2.0)
    assert c.interval_ms() == 450
    c.to_end()
    c.play()  # from the end, play starts over
    assert c.position == 0 and c.is_playing
    c.pause()
