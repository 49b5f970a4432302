"""Every template traces to torch's own numbers: the same loss and leaf gradients as its exported
Python file (loaded by `bpviz trace`'s loader) and as hand-written torch or the lesson it mirrors."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from bpviz.core.datasets import make_dataset
from bpviz.core.network.build import build
from bpviz.core.network.codegen import to_python
from bpviz.core.network.templates import make_template, template_names
from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario
from tests.network.helpers import assert_same, leaf_grads, trace_file

RUNNABLE = [n for n in template_names() if n != "empty"]


@pytest.mark.parametrize("name", RUNNABLE)
def test_template_and_its_exported_file_give_the_same_numbers(name, tmp_path):
    doc = make_template(name)
    built = trace_scenario(build(doc).scenario)
    path = tmp_path / f"{name}.py"
    path.write_text(to_python(doc))
    exported = trace_file(path)
    assert built.loss == exported.loss
    assert_same(leaf_grads(built), leaf_grads(exported))
    assert leaf_grads(built)  # something got a gradient: the comparison is not empty


def test_chain56_gives_56():
    trace = trace_scenario(build(make_template("chain56")).scenario)
    assert trace.loss == 49.0
    assert leaf_grads(trace)["x"].tolist() == [56.0]
    # the locals on the chain: 4 (x -> x^2), 1 (+3), 14 (z^2)
    locals_ = sorted(e["local"] for _, _, e in trace.graph.edges(data=True) if e["local"] is not None)
    assert locals_ == [1.0, 4.0, 14.0]


def test_relu_two_weights_gives_minus_9_and_minus_3():
    grads = leaf_grads(trace_scenario(build(make_template("relu_two_weights")).scenario))
    assert grads["w1"].tolist() == [-9.0] and grads["w2"].tolist() == [-3.0]


@pytest.mark.parametrize("name", ["chain56", "relu_two_weights", "mlp_10_5_1", "residual_mlp"])
def test_template_equals_the_lesson_it_mirrors(name):
    built = trace_scenario(build(make_template(name)).scenario)
    lesson = trace_scenario(load_scenario(f"lesson:{name}"))
    assert built.loss == lesson.loss
    # names differ (fc1.weight vs 0.weight), so compare gradients in creation order
    a = [g for _, g in sorted(leaf_grads(built).items())]
    b = [g for _, g in sorted(leaf_grads(lesson).items())]
    assert sorted(t.flatten().tolist() for t in a) == sorted(t.flatten().tolist() for t in b)


def _hand_mlp(sizes, seed, x, target, loss_fn):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    loss = loss_fn(model(x() if callable(x) else x), target() if callable(target) else target)
    loss.backward()
    return loss, [p.grad for p in model.parameters()]


def test_xor_template_equals_hand_written_torch():
    data = make_dataset("xor", seed=0, n=200)
    loss, grads = _hand_mlp([2, 8, 8, 1], 0, data.X, data.y, nn.BCEWithLogitsLoss())
    scenario = build(make_template("xor")).scenario
    built = scenario.compute_loss()
    built.backward()
    assert torch.equal(built.detach(), loss.detach())
    for ours, theirs in zip(scenario.model.parameters(), grads, strict=True):
        assert torch.equal(ours.grad, theirs)


def test_mlp_template_equals_hand_written_torch():
    def draw():
        return torch.randn(32, 10), torch.randn(32, 1)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    x, y = draw()
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    scenario = build(make_template("mlp_10_5_1")).scenario
    built = scenario.compute_loss()
    built.backward()
    assert torch.equal(built.detach(), loss.detach())
    for ours, theirs in zip(scenario.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(ours.grad, theirs.grad)


def test_build_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build(make_template("mlp_10_5_1"))
    assert torch.equal(torch.rand(3), expected)


def test_model_templates_build_models_and_expression_templates_closures():
    assert build(make_template("chain56")).scenario.closure is not None
    mlp = build(make_template("mlp_10_5_1"))
    assert isinstance(mlp.scenario.model, nn.Sequential)
    assert [n for n, _ in mlp.scenario.model.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    residual = build(make_template("residual_mlp"))
    assert not isinstance(residual.scenario.model, nn.Sequential)
    assert not residual.plan.chain
