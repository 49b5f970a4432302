"""A plain function as a scenario's ``model``: traced, checked, exported and trained like a
module, with its weights being the tensors it uses that require grad; torch is the oracle."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from torch import nn

import bpviz
from bpviz.core.errors import ScenarioError
from bpviz.core.gradcheck import finite_difference_check
from bpviz.core.scenario import load_scenario
from bpviz.core.sources import FileSource, ScenarioSource
from bpviz.core.trace import trace_scenario
from bpviz.core.training import TrainConfig, Trainer
from bpviz.core.training_setup import TrainingError

# The issue's own file: a function of the inputs with one weight tensor.
ISSUE = """import torch
w = torch.tensor([0.5, -1.0], requires_grad=True)
def model(x):
    return (x * w).sum()
inputs = torch.ones(2)
"""

# A linear fit written as a function: a local variable, two weights, a target (MSE).
FIT = """import torch
w = torch.tensor([[0.5], [-1.0]], requires_grad=True)
b = torch.zeros(1, requires_grad=True)
def model(x):
    h = x @ w
    return h + b
inputs = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
target = torch.tensor([[1.0], [0.0], [2.0]])
lr = 0.05
"""

W0 = [[0.5], [-1.0]]
X = [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]
Y = [[1.0], [0.0], [2.0]]


def write(tmp_path, text: str, name: str = "fn_model.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "bpviz", *argv], capture_output=True, text=True, env=env, timeout=300)


def torch_fit_pass(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(torch.tensor(X) @ w + b, torch.tensor(Y))


def test_the_issue_file_traces_with_w_named_and_its_gradient_torchs(tmp_path):
    scenario = load_scenario(write(tmp_path, ISSUE))
    trace = trace_scenario(scenario)
    w = torch.tensor([0.5, -1.0], requires_grad=True)
    loss = (torch.ones(2) * w).sum()
    loss.backward()
    assert trace.loss == loss.item()
    node = trace.graph.nodes[trace.find("w")]
    assert node["kind"] == "param"
    assert torch.equal(node["grad"], w.grad)
    assert [name for name, _ in scenario.trainable()] == ["w"]


def test_a_functions_local_variables_name_its_ops_and_the_numbers_are_torchs(tmp_path):
    trace = trace_scenario(load_scenario(write(tmp_path, FIT)))
    w, b = torch.tensor(W0, requires_grad=True), torch.zeros(1, requires_grad=True)
    loss = torch_fit_pass(w, b)
    loss.backward()
    g = trace.graph.nodes
    assert trace.loss == loss.item()
    assert torch.equal(g[trace.find("w")]["grad"], w.grad)
    assert torch.equal(g[trace.find("b")]["grad"], b.grad)
    assert g[trace.find("h")]["op"] == "matmul"  # named after the function's variable
    assert torch.equal(g[trace.find("h")]["value"], torch.tensor(X) @ torch.tensor(W0))


def test_gradcheck_switches_the_tensors_in_place_and_puts_them_back(tmp_path):
    scenario = load_scenario(write(tmp_path, FIT))
    errors = finite_difference_check(scenario)
    assert set(errors) == {"w", "b"} and max(errors.values()) < 1e-6
    w = scenario.namespace["w"]
    assert w.dtype == torch.float32 and scenario.namespace["inputs"].dtype == torch.float32
    assert torch.equal(w.detach(), torch.tensor(W0))


def test_trace_and_export_commands_exit_0(tmp_path):
    path = write(tmp_path, ISSUE)
    traced = run_cli("trace", path, "--gradcheck")
    assert traced.returncode == 0, traced.stderr
    assert "w       param" in traced.stdout and "w: " in traced.stdout
    out = tmp_path / "graph.png"
    exported = run_cli("export", path, "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_updates_w_and_b_as_torchs_sgd_does(tmp_path):
    scenario = load_scenario(write(tmp_path, FIT))
    results = list(Trainer(scenario, TrainConfig(steps=20)).run(20))
    w, b = torch.tensor(W0, requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=0.05)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch_fit_pass(w, b)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    assert [r.loss for r in results] == pytest.approx(losses, rel=1e-6)
    assert results[-1].loss < results[0].loss / 2
    # In place: the file's own tensors are the trained ones; the inputs are not trained.
    assert torch.allclose(scenario.namespace["w"], w, rtol=1e-6, atol=1e-7)
    assert torch.allclose(scenario.namespace["b"], b, rtol=1e-6, atol=1e-7)
    assert torch.equal(scenario.namespace["inputs"], torch.tensor(X))


def test_bpviz_train_on_a_dataset_fits_a_function_and_the_fit_plot_has_data(tmp_path):
    from bpviz.presentation.training.snapshot import FitProbe

    line = "import torch\nw = torch.tensor([[0.5]], requires_grad=True)\nb = torch.zeros(1, requires_grad=True)\n"
    line += "def model(x):\n    return x @ w + b\ninputs = torch.ones(3, 1)\ntarget = torch.zeros(3, 1)\n"
    path = write(tmp_path, line)
    scenario = load_scenario(path)
    trainer = Trainer(scenario, TrainConfig(dataset="line", steps=60, lr=0.05))
    results = list(trainer.run(60))
    assert results[-1].loss < results[0].loss / 10
    probe = FitProbe(trainer)
    assert probe.data is not None and probe.data.dims == 1
    values = probe.values()
    assert values is not None
    grid = torch.tensor(probe.data.grid[0], dtype=torch.float32).reshape(-1, 1)
    expected = (grid @ scenario.namespace["w"] + scenario.namespace["b"]).detach().reshape(-1).double().numpy()
    assert values.tolist() == pytest.approx(expected.tolist())
    done = run_cli("train", path, "--steps", "5", "--dataset", "line")
    assert done.returncode == 0, done.stderr
    assert "w = " in done.stdout


def test_a_function_with_nothing_to_train_is_refused_in_one_sentence(tmp_path):
    path = write(
        tmp_path, "import torch\ndef model(x):\n    return (x * 2).sum()\ninputs = torch.ones(2, requires_grad=True)\n"
    )
    scenario = load_scenario(path)
    assert trace_scenario(scenario).loss == 4.0  # traced all the same: the input has a gradient
    with pytest.raises(TrainingError, match=r"its model is a function and no tensor it uses other than its inputs"):
        Trainer(scenario)
    done = run_cli("train", path, "--steps", "3")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "model = 3\ninputs = torch.ones(2)\n",
            r"model must be a torch\.nn\.Module or a function of the inputs, got int",
        ),
        ("model = nn.Linear\ninputs = torch.ones(2)\n", r"model is the class Linear, not a model; create one"),
    ],
)
def test_a_model_that_cannot_run_is_refused(tmp_path, text, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(write(tmp_path, "import torch\nfrom torch import nn\n" + text))


def test_bpviz_trace_of_a_closure_function_names_its_weight():
    w = torch.tensor([2.0, -3.0], requires_grad=True)
    x = torch.tensor([1.5, 0.5])
    trace = bpviz.trace(lambda v: (v * w).pow(2).sum(), x)
    expected = (x * w).pow(2).sum()
    (grad,) = torch.autograd.grad(expected, w)
    assert trace.loss == expected.item()
    assert torch.equal(trace.graph.nodes[trace.find("w")]["grad"], grad)
    assert trace.title == "model"


def test_a_files_function_trains_in_place_and_a_callers_is_not_trained(tmp_path):
    scenario = load_scenario(write(tmp_path, ISSUE))
    assert FileSource("fn_model.py").training_scenario(scenario) is scenario
    assert ScenarioSource(scenario).training_scenario(scenario) is None
    with pytest.raises(ScenarioError, match=r"Only an nn\.Module model can be copied"):
        scenario.model_copy()


def test_module_models_are_unchanged(tmp_path):
    text = "import torch\nfrom torch import nn\ntorch.manual_seed(0)\nmodel = nn.Linear(2, 1)\n"
    text += "inputs = torch.ones(3, 2)\ntarget = torch.zeros(3, 1)\nextra = torch.ones(1, requires_grad=True)\n"
    scenario = load_scenario(write(tmp_path, text, "module.py"))
    # A module's trainables are its parameters, not the file's other tensors.
    assert [name for name, _ in scenario.trainable()] == ["weight", "bias"]
    copy = FileSource("module.py").training_scenario(scenario)
    assert copy is not None and copy.model is not scenario.model
    list(Trainer(copy, TrainConfig(steps=3)).run(3))
    assert not torch.equal(copy.model.weight, scenario.model.weight)  # the original is left alone
