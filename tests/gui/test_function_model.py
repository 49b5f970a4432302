"""A scenario file whose model is a plain function, in the app: opened, stepped through,
inspected, and trained from the training panel; torch is the oracle."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from tests.gui.helpers import node_texts
from tests.gui.test_inspector import click_node

RUN_TIMEOUT_MS = 30_000

FUNCTION_FILE = """import torch
w = torch.tensor([0.5, -1.0], requires_grad=True)
def model(x):
    h = x * w
    return h.sum()
inputs = torch.tensor([2.0, 3.0])
"""

FIT_FILE = """import torch
w = torch.tensor([[0.5], [-1.0]], requires_grad=True)
b = torch.zeros(1, requires_grad=True)
def model(x):
    return x @ w + b
inputs = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
target = torch.tensor([[1.0], [0.0], [2.0]])
"""


def test_a_function_model_opens_steps_and_inspects_with_torchs_gradient(qtbot, open_window, tmp_path, dialogs):
    path = tmp_path / "fn_model.py"
    path.write_text(FUNCTION_FILE)
    window = open_window(str(path))
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    (torch.tensor([2.0, 3.0]) * w).sum().backward()
    assert w.grad is not None and w.grad.tolist() == [2.0, 3.0]
    controller = window.controller
    while controller.position < controller.last:
        controller.step()
    assert "grad 2 3" in node_texts(window, "w")
    assert node_texts(window, "h")[:2] == ["h", "mul"]  # named after the function's variable
    node = click_node(qtbot, window, "w")
    assert window.inspector.selection() == node
    assert window.inspector.formula_text() == "dL/dw = (∂h/∂w)ᵀ · dL/dh"
    shown = window.trace.graph.nodes[node]["grad"]
    assert torch.equal(shown, w.grad)
    assert not dialogs


def test_the_training_panel_trains_a_function_as_torchs_sgd_does(qtbot, open_window, tmp_path, dialogs):
    path = tmp_path / "fit.py"
    path.write_text(FIT_FILE)
    window = open_window(str(path))
    tc = window.training
    tc.set_shown(True)
    panel = tc.panel
    panel.lr.setText("0.05")
    panel.steps.setValue(40)
    button = window.findChild(QPushButton, "trainRun")
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tc.is_running() and not tc.live.busy(), timeout=RUN_TIMEOUT_MS)
    w, b = torch.tensor([[0.5], [-1.0]], requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=0.05)
    x, y = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]), torch.tensor([[1.0], [0.0], [2.0]])
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(x @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    assert len(tc.history.table) == 40 and tc.history.loss()[-1] < tc.history.loss()[0] / 2
    torch.testing.assert_close(torch.tensor(tc.history.loss(), dtype=torch.float32), torch.tensor(losses))
    # The canvas shows the pass with the trained weights.
    trace = window.trace
    torch.testing.assert_close(trace.graph.nodes[trace.find("w")]["value"], w.detach())
    torch.testing.assert_close(trace.graph.nodes[trace.find("b")]["value"], b.detach())
    assert tc.docks.fit.data is not None and tc.docks.fit.data.dims == 2  # the function's fit, drawn
    assert not dialogs
