"""The issue's acceptance tests, through the real widgets: chain56 built from palette blocks with
mouse drags, x = 2 typed into the property dock, stepped to the end: dL/dx = 56 with the local
derivatives 4, 1 and 14 on the wires (torch is the oracle); and the XOR template, bound to the
xor dataset, trained below loss 0.05 by the training controller."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt

from tests.gui.builder_helpers import add_from_palette, move_block, wire
from tests.gui.helpers import TRACE_TIMEOUT_MS

RUN_TIMEOUT_MS = 120_000


def type_into(qtbot, line, text: str) -> None:
    """Replace a line edit's text by typing, then press Enter."""
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def place(qtbot, window, kind: str, at: tuple[float, float]) -> str:
    """Double-click ``kind`` in the palette, then drag the new block to ``at``; its name."""
    block = add_from_palette(qtbot, window, kind)
    name = window.builder.session.network.blocks[block].name
    move_block(qtbot, window, name, at)
    return name


def chain56_by_torch() -> tuple[float, dict[str, float]]:
    """dL/dx and the local derivative of each op of x -> x² -> + 3 -> ² at x = 2, from torch."""

    def local(f, at: float) -> float:
        t = torch.tensor(at, requires_grad=True)
        return float(torch.autograd.grad(f(t), t)[0])

    x = torch.tensor(2.0, requires_grad=True)
    y = x**2
    z = y + 3
    (z**2).backward()
    return float(x.grad), {
        "dy/dx": local(lambda t: t**2, x.item()),
        "dz/dy": local(lambda t: t + 3, y.item()),
        "dL/dz": local(lambda t: t**2, z.item()),
    }


def test_build_chain56_from_the_palette_with_the_mouse_and_step_it(builder, qtbot):
    window = builder("empty")
    session = window.builder.session
    dock = window.builder.parts.properties
    place(qtbot, window, "value", (-420, 0))
    type_into(qtbot, dock.name_edit, "x")
    type_into(qtbot, dock.editors["value"].line, "2")
    y = place(qtbot, window, "pow", (-200, 0))
    c = place(qtbot, window, "constant", (-200, 140))
    type_into(qtbot, dock.editors["value"].line, "3")
    z = place(qtbot, window, "add", (20, 40))
    loss = place(qtbot, window, "pow", (240, 40))
    assert session.network.by_name("x").props["value"] == 2.0
    assert session.network.by_name(c).props["value"] == 3.0
    wire(qtbot, window, "x", y, "x")
    wire(qtbot, window, y, z, "a")
    wire(qtbot, window, c, z, "b")
    wire(qtbot, window, z, loss, "x")
    assert len(session.network.wires) == 4 and session.shapes.ok

    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.builder.step_action.trigger()
    window.document.steps.to_end()
    link = window.builder.parts.link
    edges = link.drawn_wires()  # the canvas edges each wire stands for
    net = session.network

    def label(dst: str, port: str) -> str:
        ((u, v),) = edges[(net.by_name(dst).id, port)]
        return window.scene.edge_item(u, v).label.text

    grad, local = chain56_by_torch()
    assert (grad, local["dy/dx"], local["dz/dy"], local["dL/dz"]) == (56.0, 4.0, 1.0, 14.0)

    def local_of(text: str) -> float:
        # "×4 ..." or, with the local derivative's rule, "×(2x = 4) ..."
        head = text.split("   ")[0].removeprefix("×")
        return float(head.strip("()").split("=")[-1])

    assert local_of(label(y, "x")) == local["dy/dx"] and "14 × 4 = 56" in label(y, "x")
    assert local_of(label(z, "a")) == local["dz/dy"]
    assert local_of(label(loss, "x")) == local["dL/dz"]
    x_node = window.trace.find("x")
    assert f"grad = {grad:g}" in window.scene.node_item(x_node).display_texts()
    assert float(window.trace.graph.nodes[x_node]["grad"]) == grad


@pytest.mark.slow
def test_the_xor_template_trains_below_loss_0_05(builder, qtbot, dialogs):
    window = builder("xor")
    net = window.builder.session.network
    assert net.by_name("x").props["dataset"] == "xor" and net.by_name("y").props["dataset"] == "xor"
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.builder.step_action.trigger()
    tc = window.training
    tc.set_shown(True)
    panel = tc.panel
    assert panel.run_button.isEnabled()
    panel.steps.setValue(2500)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tc.is_running() and not tc.live.busy(), timeout=RUN_TIMEOUT_MS)
    losses = tc.history.loss()
    assert len(losses) > 0 and losses[0] > 0.5 and losses[-1] < 0.05, losses[-1]
    assert not dialogs


def test_trained_weights_can_be_kept_in_the_network(builder, qtbot, dialogs):
    window = builder("xor")
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.builder.step_action.trigger()
    assert window.builder.keep_action.isEnabled()
    tc = window.training
    tc.set_shown(True)
    tc.panel.steps.setValue(200)
    qtbot.mouseClick(tc.panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tc.is_running() and not tc.live.busy(), timeout=RUN_TIMEOUT_MS)
    trained, untrained = float(window.trace.loss), float(tc.history.loss()[0])
    session = window.builder.session
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.builder.keep_action.trigger()  # an edit while stepping: it re-traces
    assert set(session.network.by_name("fc1").values) == {"weight", "bias"}
    # The network now starts where training left off (kept in float32's shortest text).
    assert float(window.trace.loss) == pytest.approx(trained, rel=1e-5)
    assert float(window.trace.loss) < untrained
    session.stack.undo()
    assert not session.network.by_name("fc1").values
