"""A scenario's torch switches stay with it, and user code cannot end the program."""

from __future__ import annotations

import pytest
import torch

from bpviz.cli import main
from bpviz.core.errors import BpvizError
from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario

SWITCHES = """
import torch
torch.set_default_dtype(torch.float64)
torch.autograd.set_detect_anomaly(True)
x = torch.tensor(2.0, requires_grad=True)

def loss():
    return x * torch.ones(())     # a tensor made inside loss(): the scenario's default dtype
"""


def test_switches_a_scenario_sets_never_reach_the_next(tmp_path):
    path = tmp_path / "switches.py"
    path.write_text(SWITCHES)
    before = (torch.is_grad_enabled(), torch.get_default_dtype(), torch.is_anomaly_enabled())
    scenario = load_scenario(str(path))
    assert (torch.is_grad_enabled(), torch.get_default_dtype(), torch.is_anomaly_enabled()) == before
    trace = trace_scenario(scenario)
    assert trace.graph.nodes[trace.loss_node]["dtype"] == "float64"  # its own state, in its pass
    assert (torch.is_grad_enabled(), torch.get_default_dtype(), torch.is_anomaly_enabled()) == before
    chain = trace_scenario(load_scenario("lesson:chain56"))
    assert chain.loss == 49.0 and chain.graph.nodes[chain.loss_node]["dtype"] == "float32"


def test_a_scenario_that_disables_grad_does_not_break_the_lessons(tmp_path):
    path = tmp_path / "nograd.py"
    path.write_text(
        "import torch\ntorch.set_grad_enabled(False)\nw = torch.tensor(1.0, requires_grad=True)\n"
        "def loss():\n    return w * 2\n"
    )
    with pytest.raises(BpvizError, match="gradients are switched off"):
        trace_scenario(load_scenario(str(path)))
    assert torch.is_grad_enabled()
    assert trace_scenario(load_scenario("lesson:chain56")).loss == 49.0


EXITS = """
import sys
import torch
w = torch.tensor(1.0, requires_grad=True)

def loss():
    sys.exit(3)
"""


def test_sys_exit_in_loss_is_an_error_not_an_exit(tmp_path, capsys):
    path = tmp_path / "exits.py"
    path.write_text(EXITS)
    assert main(["trace", str(path)]) == 2
    err = capsys.readouterr().err
    assert "tried to end the program (SystemExit: 3)" in err and err.count("\n") == 1
    assert main(["train", str(path), "--steps", "2"]) == 2
    assert "tried to end the program" in capsys.readouterr().err
