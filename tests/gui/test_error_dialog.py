"""An error nobody foresaw while opening a scenario: one sentence in the dialog, the traceback
only behind "Show Details...", and the window keeps what it showed."""

from __future__ import annotations

from bpviz.core import trace as trace_module
from tests.gui.helpers import TRACE_TIMEOUT_MS

LONG = "value cannot be converted to type double without overflow\n" + "  dispatcher line\n" * 60


def test_an_unexpected_error_shows_one_sentence_with_the_traceback_behind_details(
    qtbot, open_window, dialogs, monkeypatch
):
    window = open_window()
    trace = window.document.trace

    def broken(scenario, thresholds=None):
        raise RuntimeError(LONG)

    monkeypatch.setattr(trace_module, "trace_scenario", broken)
    with qtbot.waitSignal(window.document.openFailed, timeout=TRACE_TIMEOUT_MS):
        window.document.open_spec("lesson:square")
    [(title, text)] = dialogs
    assert title == "Cannot open scenario"
    assert text == (
        "Unexpected RuntimeError: value cannot be converted to type double without overflow…; "
        "the full error is under Show Details."
    )
    [details] = dialogs.details
    assert "Traceback" in details and "dispatcher line" in details and "def broken" not in text
    assert window.document.trace is trace


def test_a_long_first_line_is_shortened_in_the_sentence():
    from bpviz.core.errors import MAX_UNEXPECTED_CHARS, unexpected_message

    message = unexpected_message(ValueError("x" * 1000))
    assert message == "ValueError: " + "x" * MAX_UNEXPECTED_CHARS + "…"
