"""Engine diagnostics during training: vanishing/exploding, NaN/Inf stops, none_grad, dead ReLUs."""

from __future__ import annotations

import gc
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bpviz.core.errors import BpvizError
from bpviz.core.scenario import scenario_from_callable, scenario_from_model
from bpviz.core.training import TrainConfig, Trainer, TrainingStopped
from tests.training_helpers import mlp, regression_data


def scenario(model, inputs, target=None):
    return scenario_from_model(model, inputs, target)


def snapshot(params):
    return [p.detach().clone() for p in params]


def deep(act, depth=20, width=16, kaiming=False, seed=0):
    torch.manual_seed(seed)
    layers, d = [], 4
    for i in range(depth):
        lin = nn.Linear(d, width if i < depth - 1 else 1)
        if kaiming:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            nn.init.zeros_(lin.bias)
        layers += [lin] + ([act()] if i < depth - 1 else [])
        d = width
    return nn.Sequential(*layers)


class Residual(nn.Module):
    def __init__(self, depth=20, width=16):
        super().__init__()
        torch.manual_seed(0)
        self.inp = nn.Linear(4, width)
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(depth - 2))
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + torch.sigmoid(block(h))
        return self.out(h)


def first_and_last(model, X, y):
    r = Trainer(scenario(model, X, y), TrainConfig(lr=1e-3)).step()
    names = [n for n in r.params if n.endswith("weight")]
    return r, r.params[names[0]].norm, r.params[names[-1]].norm


def test_deep_sigmoid_vanishes_relu_and_residual_do_not():
    gen = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 4, generator=gen), torch.randn(64, 1, generator=gen)
    r, first, last = first_and_last(deep(nn.Sigmoid), X, y)
    assert first < 1e-6 and first < last * 1e-4
    vanishing = {d.node for d in r.diagnostics if d.kind == "vanishing"}
    assert "0.weight" in vanishing and "38.weight" not in vanishing
    for model in (deep(nn.ReLU, kaiming=True), Residual()):
        r, first, last = first_and_last(model, X, y)
        assert first > 1e-3 and first > last * 1e-2
        assert not [d for d in r.diagnostics if d.kind == "vanishing"]


def test_divergent_lr_stops_naming_the_node_and_keeps_the_weights():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    X = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    trainer = Trainer(scenario(model, X, 2 * X), TrainConfig(lr=1.0))
    kinds = set()
    with pytest.raises(TrainingStopped) as info:
        for _ in range(1000):
            before = snapshot(model.parameters())
            kinds |= {d.kind for d in trainer.step().diagnostics}
    exc = info.value
    assert "exploding" in kinds
    assert isinstance(exc, BpvizError) and "\n" not in str(exc)
    assert f"at step {exc.step}" in str(exc) and "mse_loss" in str(exc)
    assert exc.culprit.op == "mse_loss" and exc.culprit.node == "mse_loss"
    assert any(d.kind == "nonfinite" and d.node == "mse_loss" for d in exc.result.diagnostics)
    assert not math.isfinite(exc.result.loss)
    for p, b in zip(model.parameters(), before):
        assert torch.equal(p, b) and torch.isfinite(p).all()
    assert trainer.step_index == exc.step


class Log(nn.Module):
    def forward(self, x):
        return torch.log(x)


def test_nan_inside_a_module_names_op_and_module():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), Log(), nn.Linear(3, 1))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # log of negative numbers: NaN in module '1'
    before = snapshot(model.parameters())
    trainer = Trainer(scenario(model, torch.rand(5, 2), torch.zeros(5, 1)), TrainConfig(lr=0.1))
    with pytest.raises(TrainingStopped, match="log in module '1'") as info:
        trainer.step()
    assert info.value.step == 0 and info.value.culprit.module == "1"
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))


def test_nonfinite_gradient_with_finite_loss_stops_before_the_update():
    w = torch.tensor([0.0, 4.0], requires_grad=True)

    def loss():
        return torch.sqrt(w).sum()  # finite loss, infinite gradient at w = 0

    trainer = Trainer(scenario_from_callable(loss), TrainConfig(lr=0.1))
    with pytest.raises(TrainingStopped, match=r"gradient of 'w' contains Inf.*SqrtBackward0") as info:
        trainer.step()
    assert info.value.culprit.autograd == "SqrtBackward0" and info.value.culprit.op == "sqrt"
    assert w.tolist() == [0.0, 4.0]


def test_none_grad_for_an_unused_parameter():
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.spare = nn.Parameter(torch.ones(2))

        def forward(self, x):
            return self.fc(x)

    X, y = regression_data()
    r = Trainer(scenario(Unused(), X, y), TrainConfig(lr=0.1)).step()
    assert set(r.params) == {"fc.weight", "fc.bias"}
    assert [(d.kind, d.node) for d in r.diagnostics] == [("none_grad", "spare")]


def test_dead_relu_units_from_modules_and_functional_calls():
    model = mlp(sizes=(3, 4, 2))
    with torch.no_grad():
        model[0].bias[:2] = -100.0  # units 0 and 1 never fire
    X, y = regression_data()
    trainer = Trainer(scenario(model, X, y), TrainConfig(lr=1e-3))
    dead = [d for d in trainer.step().diagnostics if d.kind == "dead_relu"]
    assert [(d.node, d.detail["dead"], d.detail["units"], d.detail["samples"]) for d in dead] == [("1", 2, 4, 32)]

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            return self.out(F.relu(self.fc(x)))

    net = Functional()
    with torch.no_grad():
        net.fc.bias[0] = -100.0
    dead = [d for d in Trainer(scenario(net, X, y), TrainConfig(lr=1e-3)).step().diagnostics if d.kind == "dead_relu"]
    assert [(d.node, d.detail["dead"]) for d in dead] == [("relu#1", 1)]


def test_relu_watch_is_dropped_when_there_is_no_relu_and_hooks_go_away():
    X, y = regression_data()
    linear = nn.Linear(3, 2)
    trainer = Trainer(scenario(linear, X, y), TrainConfig(lr=0.1))
    trainer.step()
    assert trainer._relu._use_mode is False  # no relu was called: no per-op mode from now on
    model = mlp()
    trainer = Trainer(scenario(model, X, y), TrainConfig(lr=0.1))
    assert len(model[1]._forward_hooks) == 1
    trainer.close()
    assert len(model[1]._forward_hooks) == 0
    trainer = Trainer(scenario(model, X, y), TrainConfig(lr=0.1))
    del trainer
    gc.collect()
    assert len(model[1]._forward_hooks) == 0
