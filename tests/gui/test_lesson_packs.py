"""File ▸ Open Lesson Pack: lessons in a menu, predict mode on, the pack's steps and locks."""

from __future__ import annotations

import json

from tests.gui.helpers import TRACE_TIMEOUT_MS


def test_a_pack_opens_its_lessons_in_predict_mode_with_its_steps_and_locks(qtbot, open_window, tmp_path):
    window = open_window()
    seq = window.controller.sequence  # chain56: backward steps 4, 5, 6
    pack = tmp_path / "week3.json"
    pack.write_text(
        json.dumps(
            {
                "format": "bpviz-lesson-pack",
                "version": 1,
                "title": "Week 3",
                "lessons": [
                    {
                        "title": "Three links",
                        "scenario": "lesson:chain56",
                        "ask": [6],
                        "locked": ["training", "inspector", "predict"],
                    },
                    {"title": "Warm-up", "scenario": "lesson:square"},
                ],
            }
        )
    )
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        assert window.packs.open_pack(str(pack))
    menu = window.packs.menu
    assert menu.title() == "&Pack: Week 3" and [a.text() for a in menu.actions()] == ["1. Three links", "2. Warm-up"]
    bar = window.predict
    assert bar.enabled and not bar.toggle_action.isEnabled()
    assert not window.training.show_action.isEnabled() and not window.inspector.isVisible()
    asked = []
    for position in range(seq.last + 1):
        window.controller.set_position(position)
        if bar.question() is not None:
            asked.append(position)
            bar.reveal()
    assert asked == [6]
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        menu.actions()[1].trigger()  # the next lesson: nothing locked
    assert window.inspector.isVisible()
    assert bar.toggle_action.isEnabled() and bar.enabled and bar.ask is None
    assert not window.training.show_action.isEnabled()  # still predicting
    bar.set_enabled(False)
    assert window.training.show_action.isEnabled()


def test_a_broken_pack_is_a_dialog_and_changes_nothing(qtbot, open_window, dialogs, tmp_path):
    window = open_window()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert not window.packs.open_pack(str(bad))
    assert "is not a lesson pack" in dialogs[-1][1]
    assert window.document.source.label == "lesson:chain56" and not window.packs.menu.actions()
