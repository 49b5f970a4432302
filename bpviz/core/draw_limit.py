"""How many boxes bpviz draws at most, and the sentences that refuse more.

Opening, every step and every export cost time in proportion to the boxes drawn, and a graph
far past this size no longer reads as a picture: a 10,000-step Python loop gives a column of
40,000 boxes, a file millions of pixels tall. Such a trace still has every number, in
``bpviz trace --json`` (which draws nothing and has no limit). The app and ``bpviz export``
check the drawn graph's size right after tracing, before any drawing work, and refuse with one
of these sentences; the limit is read at call time, so tests can lower it.
"""

from __future__ import annotations

import shlex

MAX_DRAWN_BOXES = 10_000


def drawing_refusal(count: int, spec: str | None = None) -> str | None:
    """The sentence refusing to open or export a graph of ``count`` boxes, or None when it is
    within :data:`MAX_DRAWN_BOXES`. ``spec`` (a scenario file or ``lesson:NAME``) names the
    source in the suggested ``bpviz trace`` command; without one the Python API is suggested."""
    if count <= MAX_DRAWN_BOXES:
        return None
    command = f"bpviz trace {shlex.quote(spec)} --json trace.json" if spec else "bpviz.trace(...)"
    return (
        f"This graph has {count:,} boxes, more than the {MAX_DRAWN_BOXES:,} bpviz draws; shorten "
        f"the loop or the model, or read every number with `{command}`, which has no size limit."
    )


def view_refusal(count: int) -> str | None:
    """The sentence refusing a level of detail that would draw ``count`` boxes, or None when it
    is within :data:`MAX_DRAWN_BOXES`."""
    if count <= MAX_DRAWN_BOXES:
        return None
    return (
        f"This view would draw {count:,} boxes, more than the {MAX_DRAWN_BOXES:,} bpviz draws; "
        "the view stays as it was (choose a coarser level of detail)."
    )
