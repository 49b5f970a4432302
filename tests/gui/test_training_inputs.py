"""Training odd but valid models from the panel: a zero-width layer trains (its empty
parameters have norm 0), with the numbers torch's own SGD gives."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from tests.gui.test_training_panel import click, training, wait_idle, worker_params  # noqa: F401 - fixture

ZERO_WIDTH = (
    "import warnings\nimport torch\nfrom torch import nn\ntorch.manual_seed(0)\n"
    "with warnings.catch_warnings():  # torch: initializing zero-element tensors is a no-op\n"
    "    warnings.simplefilter('ignore')\n"
    "    model = nn.Sequential(nn.Linear(3, 0), nn.Linear(0, 1))\n"
    "inputs = torch.ones(4, 3)\ntarget = torch.ones(4, 1)\n"
)


def test_a_zero_width_layer_trains_from_the_panel(training, qtbot, dialogs, tmp_path):  # noqa: F811
    path = tmp_path / "zero_width.py"
    path.write_text(ZERO_WIDTH)
    window, tc, panel = training(str(path))
    panel.lr.setText("0.1")
    panel.steps.setValue(5)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    assert not dialogs
    assert len(tc.history.table) == 5

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = nn.Sequential(nn.Linear(3, 0), nn.Linear(0, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(torch.ones(4, 3)), torch.ones(4, 1)).backward()
        optimizer.step()
    trained = worker_params(tc)
    assert torch.equal(trained["1.bias"], model[1].bias.detach())


def test_an_unexpected_training_error_is_one_line_in_the_dialog(training, qtbot, dialogs, monkeypatch):  # noqa: F811
    from bpviz.core import torch_compat

    def broken(tensors, order=2.0):
        raise RuntimeError("something torch did not expect\n" + "  dispatcher line\n" * 60)

    window, tc, panel = training()
    monkeypatch.setattr(torch_compat, "foreach_norm", broken)
    panel.steps.setValue(3)
    click(qtbot, window, "trainRun")
    wait_idle(qtbot, tc)
    assert dialogs == [("Cannot train", "Unexpected RuntimeError: something torch did not expect….")]
