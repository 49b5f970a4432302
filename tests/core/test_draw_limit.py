"""The drawing limit: one sentence with the count, the limit and what to do, only past the limit."""

from __future__ import annotations

from bpviz.core import draw_limit
from bpviz.core.draw_limit import MAX_DRAWN_BOXES, drawing_refusal, view_refusal


def test_within_the_limit_nothing_is_refused():
    assert drawing_refusal(MAX_DRAWN_BOXES, "loop.py") is None
    assert view_refusal(MAX_DRAWN_BOXES) is None


def test_past_the_limit_one_sentence_names_the_count_the_limit_and_the_way_out():
    text = drawing_refusal(MAX_DRAWN_BOXES + 1, "my loop.py")
    assert text is not None and "\n" not in text
    assert f"{MAX_DRAWN_BOXES + 1:,} boxes" in text and f"{MAX_DRAWN_BOXES:,}" in text
    assert "shorten the loop" in text
    assert "`bpviz trace 'my loop.py' --json trace.json`" in text  # a command that can be pasted
    # Without a file to name (a model handed to bpviz.show), the Python API is suggested.
    assert "`bpviz.trace(...)`" in drawing_refusal(MAX_DRAWN_BOXES + 1)
    view = view_refusal(MAX_DRAWN_BOXES + 1)
    assert view is not None and f"{MAX_DRAWN_BOXES + 1:,} boxes" in view and "stays as it was" in view


def test_the_limit_is_read_when_called(monkeypatch):
    monkeypatch.setattr(draw_limit, "MAX_DRAWN_BOXES", 40)
    assert drawing_refusal(40) is None
    assert "41 boxes, more than the 40 bpviz draws" in drawing_refusal(41)
