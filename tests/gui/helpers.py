"""Shared helpers of the window tests: waiting for traces, reading what items show."""

from __future__ import annotations

TRACE_TIMEOUT_MS = 60_000


def open_and_wait(qtbot, window, spec) -> None:
    """Open ``spec`` in an existing window and wait until it is drawn."""
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.document.open_spec(spec)


def node_texts(window, name: str) -> list[str]:
    """What the node called ``name`` shows right now."""
    node = window.trace.find(name)
    return window.scene.node_item(node).display_texts()


def edge_text(window, u_name: str, v_name: str) -> str:
    """The label text of the edge between the nodes called ``u_name`` and ``v_name``."""
    t = window.trace
    return window.scene.edge_item(t.find(u_name), t.find(v_name)).label.text


def snapshot(window) -> tuple:
    """Everything the canvas and the step bar show: every item's texts, colours and flags."""
    scene = window.scene
    nodes = tuple((n, scene.node_item(n).visual_state()) for n in sorted(scene.node_ids()))
    edges = tuple(((u, v), scene.edge_item(u, v).visual_state()) for u, v in sorted(scene.graph.edges))
    bar = window.step_bar
    return (
        nodes,
        edges,
        bar.phase_label.text(),
        bar.caption_label.text(),
        bar.slider.value(),
        bar.position_label.text(),
        window.phase_status.text(),
    )
