"""The training engine against plain torch loops (torch is the oracle)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bpviz.core.datasets import make_dataset
from bpviz.core.scenario import load_scenario, scenario_from_callable, scenario_from_model
from bpviz.core.training import TrainConfig, Trainer, TrainingError, TrainingStopped
from tests.training_helpers import mlp, regression_data

LINE_SCENARIO = '''"""y = 2x"""
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Linear(1, 1)
inputs = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
target = 2 * inputs
lr = 0.05
'''


def scenario(model, inputs, target=None, loss_fn=None):
    return scenario_from_model(model, inputs, target, loss_fn)


def snapshot(params):
    return [p.detach().clone() for p in params]


def test_line_lesson_trains_to_weight_2_bias_0(tmp_path):
    path = tmp_path / "line.py"
    path.write_text(LINE_SCENARIO, encoding="utf-8")
    sc = load_scenario(str(path))
    trainer = Trainer(sc, TrainConfig(steps=2000))  # lr from the file
    assert trainer.lr == 0.05
    results = list(trainer.run())
    assert len(results) == 2000 and results[-1].step == 1999
    assert results[-1].loss < 1e-6 < results[0].loss
    assert sc.model.weight.item() == pytest.approx(2.0, abs=1e-3)
    assert sc.model.bias.item() == pytest.approx(0.0, abs=3e-3)


def test_line_dataset_on_a_model_scenario():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    trainer = Trainer(scenario(model, torch.zeros(1, 1)), TrainConfig(lr=0.05, dataset="line", steps=2000))
    for _ in trainer.run():
        pass
    assert trainer.problem.loss_name == "mse"
    assert model.weight.item() == pytest.approx(2.0, abs=1e-3)
    assert model.bias.item() == pytest.approx(0.0, abs=3e-3)


def plain_step(model, opt, X, y, zero_grad=True, clip=None):
    if zero_grad:
        opt.zero_grad()
    loss = F.mse_loss(model(X), y)
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss.item()


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_steps_match_torch_optim(optimizer, momentum):
    X, y = regression_data()
    model = mlp()
    ref = copy.deepcopy(model)
    lr = 0.05 if optimizer == "sgd" else 0.01
    opt = (
        torch.optim.SGD(ref.parameters(), lr=lr, momentum=momentum)
        if optimizer == "sgd"
        else torch.optim.Adam(ref.parameters(), lr=lr)
    )
    trainer = Trainer(scenario(model, X, y), TrainConfig(optimizer=optimizer, lr=lr, momentum=momentum))
    for _ in range(25):
        r = trainer.step()
        ref_loss = plain_step(ref, opt, X, y)
        assert r.loss == pytest.approx(ref_loss, rel=1e-6)
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            torch.testing.assert_close(p.grad, q.grad)
            torch.testing.assert_close(p, q)
            s = r.params[name]
            assert s.norm == pytest.approx(q.grad.norm().item(), rel=1e-5)
            assert s.mean_abs == pytest.approx(q.grad.abs().mean().item(), rel=1e-5)
            assert s.max_abs == pytest.approx(q.grad.abs().max().item(), rel=1e-6)
        total = math.sqrt(sum(q.grad.norm().item() ** 2 for q in ref.parameters()))
        assert r.total_norm == pytest.approx(total, rel=1e-5) and not r.clipped


def test_without_zero_grad_the_stored_grad_is_the_sum_of_step_grads():
    X, y = regression_data()
    model = mlp()
    weights = copy.deepcopy(model)  # follows the same weights, gradients computed afresh
    lr = 0.01
    trainer = Trainer(scenario(model, X, y), TrainConfig(lr=lr, zero_grad=False))
    total = [torch.zeros_like(p) for p in weights.parameters()]
    for k in range(5):
        step_grads = torch.autograd.grad(F.mse_loss(weights(X), y), list(weights.parameters()))
        total = [t + g for t, g in zip(total, step_grads)]
        r = trainer.step()
        for p, t, g in zip(model.parameters(), total, step_grads):
            torch.testing.assert_close(p.grad, t)
            if k:
                assert not torch.allclose(p.grad, g)  # not this step's own gradient
        with torch.no_grad():  # the buggy update: the accumulated gradient moves the weights
            for w, t in zip(weights.parameters(), total):
                w -= lr * t
        for p, w in zip(model.parameters(), weights.parameters()):
            torch.testing.assert_close(p, w)
        assert r.params["0.weight"].norm == pytest.approx(total[0].norm().item(), rel=1e-5)


def test_with_zero_grad_each_step_has_its_own_grad():
    X, y = regression_data()
    model = mlp()
    weights = copy.deepcopy(model)
    trainer = Trainer(scenario(model, X, y), TrainConfig(lr=0.01))
    for _ in range(5):
        step_grads = torch.autograd.grad(F.mse_loss(weights(X), y), list(weights.parameters()))
        trainer.step()
        for p, g in zip(model.parameters(), step_grads):
            torch.testing.assert_close(p.grad, g)
        with torch.no_grad():
            for w, g in zip(weights.parameters(), step_grads):
                w -= 0.01 * g


def test_clipping_caps_the_total_norm_like_clip_grad_norm():
    X, y = regression_data()
    y = y * 50  # large errors, large gradients
    model = mlp()
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(ref.parameters(), lr=0.001)
    trainer = Trainer(scenario(model, X, y), TrainConfig(lr=0.001, clip_norm=1.0))
    for _ in range(10):
        r = trainer.step()
        plain_step(ref, opt, X, y, clip=1.0)
        assert r.pre_clip_norm > 1.0 and r.clipped
        assert r.total_norm <= 1.0 + 1e-5
        assert math.sqrt(sum(s.norm**2 for s in r.params.values())) == pytest.approx(r.total_norm, rel=1e-5)
        assert r.params["0.weight"].pre_clip_norm > r.params["0.weight"].norm
        for p, q in zip(model.parameters(), ref.parameters()):
            assert torch.equal(p.grad, q.grad)  # same ops as torch: bit-identical
            torch.testing.assert_close(p, q)
    assert any(d.kind == "exploding" for d in r.diagnostics)  # judged before clipping


def test_closure_scenario_trains_its_leaf_tensors():
    w = torch.tensor(0.5, requires_grad=True)
    x = torch.tensor(3.0)

    def loss():
        return (w * x - 6.0) ** 2

    sc = scenario_from_callable(loss)
    trainer = Trainer(sc, TrainConfig(lr=0.02, steps=200))
    last = list(trainer.run())[-1]
    assert trainer.names == ["w"] and w.item() == pytest.approx(2.0, abs=1e-4) and last.loss < 1e-6
    with pytest.raises(TrainingError, match=r"defines loss\(\) and no model.*dataset"):
        Trainer(sc, TrainConfig(dataset="xor"))
    with pytest.raises(TrainingError, match="cannot train with the loss 'mse'"):
        Trainer(sc, TrainConfig(loss="mse"))


def test_reset_restores_exactly_and_replays_the_same_run():
    model = mlp(sizes=(2, 8, 1))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = Trainer(
        scenario(model, torch.zeros(1, 2)), TrainConfig(optimizer="adam", lr=0.01, dataset="xor", batch_size=16)
    )
    first = [r.loss for r in trainer.run(40)]
    assert not torch.equal(model[0].weight, start["0.weight"])
    ids = [id(p) for p in model.parameters()]
    trainer.reset()
    assert trainer.step_index == 0 and all(p.grad is None for p in model.parameters())
    assert [id(p) for p in model.parameters()] == ids  # same tensors, restored in place
    for k, v in model.state_dict().items():
        assert torch.equal(v, start[k])
    assert [r.loss for r in trainer.run(40)] == first


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"lr": 0}, "learning rate must be a positive number, got 0"),
        ({"lr": -0.1}, "learning rate must be a positive number"),
        ({"lr": float("nan")}, "learning rate must be a positive number, got nan"),
        ({"lr": float("inf")}, "learning rate must be a positive number"),
        ({"lr": "0.1"}, "learning rate must be a positive number"),
        ({"lr": True}, "learning rate must be a positive number"),
        ({"steps": 0}, "steps must be a whole number of at least 1"),
        ({"batch_size": 0}, "batch size must be a whole number of at least 1"),
        ({"momentum": 1.0}, "Momentum must be a number from 0"),
        ({"momentum": -0.5}, "Momentum must be a number from 0"),
        ({"clip_norm": 0.0}, "clipping norm must be a positive number"),
        ({"optimizer": "rmsprop"}, "Unknown optimizer 'rmsprop'"),
        ({"loss": "hinge"}, "Unknown loss 'hinge'"),
        ({"vanishing": 20.0}, "0 < vanishing < exploding"),
    ],
)
def test_bad_settings_give_one_clear_sentence(kwargs, needle):
    with pytest.raises(TrainingError) as info:
        TrainConfig(**kwargs)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_dataset_that_does_not_fit_the_model():
    model = nn.Sequential(nn.Linear(10, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(TrainingError) as info:
        Trainer(scenario(model, torch.zeros(1, 10)), TrainConfig(dataset="xor"))
    assert str(info.value).startswith("The dataset 'xor' has 2 features but the model expects 10; ")
    with pytest.raises(
        TrainingError, match=r"model outputs 2 value\(s\) per sample but the dataset 'line' has 1 target"
    ):
        Trainer(scenario(mlp(sizes=(1, 4, 2)), torch.zeros(1, 1)), TrainConfig(dataset="line"))
    with pytest.raises(TrainingError, match="needs class labels, but the dataset 'sine' is a regression"):
        Trainer(scenario(mlp(sizes=(1, 4, 1)), torch.zeros(1, 1)), TrainConfig(dataset="sine", loss="bce"))
    with pytest.raises(TrainingError, match="cross_entropy needs the model to output one logit per class"):
        Trainer(scenario(mlp(sizes=(2, 4, 1)), torch.zeros(1, 2)), TrainConfig(dataset="xor", loss="cross_entropy"))


@pytest.mark.parametrize("loss, outputs", [("bce", 1), ("cross_entropy", 2), (None, 1), (None, 2)])
def test_classification_losses_learn_two_moons(loss, outputs):
    model = mlp(sizes=(2, 16, 16, outputs))
    trainer = Trainer(
        scenario(model, torch.zeros(1, 2)),
        TrainConfig(optimizer="adam", lr=0.02, dataset="two_moons", loss=loss, batch_size=64),
    )
    assert trainer.problem.loss_name == (loss or ("bce" if outputs == 1 else "cross_entropy"))
    results = list(trainer.run(300))
    assert results[-1].val_loss is not None and results[-1].val_loss < 0.5 * results[0].val_loss
    data = make_dataset("two_moons")
    with torch.no_grad():
        out = model(data.X_val)
    predicted = (out[:, 0] > 0).long() if outputs == 1 else out.argmax(1)
    assert (predicted == data.labels(val=True)).float().mean() > 0.85


def test_validation_loss_schedule_and_batches():
    trainer = Trainer(
        scenario(mlp(sizes=(2, 4, 1)), torch.zeros(1, 2)),
        TrainConfig(lr=0.1, dataset="xor", batch_size=50, val_every=7),
    )
    results = list(trainer.run(16))
    assert [r.step for r in results if r.val_loss is not None] == [0, 7, 14, 15]
    assert all(r.loss > 0 for r in results)


def test_run_stops_when_asked_and_continues_later():
    X, y = regression_data()
    trainer = Trainer(scenario(mlp(), X, y), TrainConfig(lr=0.01, steps=50))
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 5

    assert [r.step for r in trainer.run(should_stop=should_stop)] == [0, 1, 2, 3, 4]
    assert [r.step for r in trainer.run(3)] == [5, 6, 7]
    assert trainer.step_index == 8


def test_csv_dataset_end_to_end(tmp_path):
    rows = "\n".join(f"{x},{3 * x - 1}" for x in (0.0, 0.5, 1.0, 1.5, 2.0))
    path = tmp_path / "points.csv"
    path.write_text(f"x,y\n{rows}\n", encoding="utf-8")
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    trainer = Trainer(scenario(model, torch.zeros(1, 1)), TrainConfig(lr=0.1, dataset=str(path), steps=1500))
    for _ in trainer.run():
        pass
    assert model.weight.item() == pytest.approx(3.0, abs=1e-3)
    assert model.bias.item() == pytest.approx(-1.0, abs=1e-3)


def test_step_result_json_has_no_nan():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    X = torch.tensor([[1.0], [2.0]])
    trainer = Trainer(scenario(model, X, 2 * X), TrainConfig(lr=5.0))
    with pytest.raises(TrainingStopped) as info:
        for _ in range(500):
            trainer.step()
    data = info.value.result.to_json()
    assert data["loss"] is None and data["step"] == info.value.step
    assert set(data) >= {"step", "loss", "val_loss", "total_norm", "params", "diagnostics"}


def test_loss_option_on_the_scenarios_own_inputs():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(20, 3, generator=gen)
    labels = (X[:, 0] > 0).long()
    model = mlp(sizes=(3, 8, 2))
    ref = copy.deepcopy(model)
    trainer = Trainer(scenario(model, X, labels.float()), TrainConfig(lr=0.1, loss="cross_entropy"))
    assert trainer.step().loss == pytest.approx(F.cross_entropy(ref(X), labels).item(), rel=1e-6)
    with pytest.raises(TrainingError, match="The loss 'mse' needs a target"):
        Trainer(scenario(model, X), TrainConfig(loss="mse"))


def test_reconfigure_keeps_weights_and_the_reset_point():
    model = mlp(sizes=(2, 4, 1))
    start = [p.detach().clone() for p in model.parameters()]
    trainer = Trainer(scenario(model, torch.zeros(1, 2)), TrainConfig(lr=0.1, dataset="xor", momentum=0.9))
    list(trainer.run(5))
    buffers = [trainer._optimizer.state[p]["momentum_buffer"] for p in model.parameters()]
    trained = [p.detach().clone() for p in model.parameters()]
    trainer.reconfigure(TrainConfig(lr=0.01, dataset="xor", momentum=0.9))
    assert trainer.lr == 0.01 and trainer._optimizer.param_groups[0]["lr"] == 0.01
    assert trainer._optimizer.state[model[0].weight]["momentum_buffer"] is buffers[0]  # kept
    assert all(torch.equal(p, t) for p, t in zip(model.parameters(), trained))
    with pytest.raises(TrainingError, match="has 1 feature but the model expects 2"):
        trainer.reconfigure(TrainConfig(dataset="sine"))
    assert trainer.problem.dataset.name == "xor"  # unchanged after the failed switch
    trainer.reconfigure(TrainConfig(optimizer="adam", lr=0.01, dataset="circles"))
    assert isinstance(trainer._optimizer, torch.optim.Adam) and trainer.step().step == 5
    trainer.reset()
    assert all(torch.equal(p, s) for p, s in zip(model.parameters(), start))


@pytest.mark.parametrize("loss_fn", [F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss()])
def test_scenarios_own_bce_refuses_csv_labels_outside_0_1(tmp_path, loss_fn):
    rows = "\n".join(f"{i * 0.1},{-i * 0.2},{i}" for i in range(10))
    path = tmp_path / "digits.csv"
    path.write_text(f"a,b,label\n{rows}\n", encoding="utf-8")
    model = nn.Linear(2, 1)
    with pytest.raises(TrainingError, match=r"between 0 and 1 .* run from 0 to 9"):
        Trainer(scenario(model, torch.zeros(1, 2), torch.zeros(1, 1), loss_fn), TrainConfig(dataset=str(path)))


@pytest.mark.parametrize("lr", ["float('inf')", "1e999", "float('nan')"])
def test_scenario_lr_must_be_finite(tmp_path, lr):
    from bpviz.core.errors import ScenarioError

    path = tmp_path / "s.py"
    path.write_text(
        f"import torch\nw = torch.ones(1, requires_grad=True)\nlr = {lr}\ndef loss():\n    return (w * 2).sum()\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="lr must be a positive finite number"):
        load_scenario(str(path))


@pytest.mark.parametrize(
    ("dataset", "loss", "batch_size"),
    [("two_moons", None, 32), ("two_moons", None, None), (None, "bce", None), (None, None, None)],
)
def test_next_pass_is_the_pass_the_next_step_runs(dataset, loss, batch_size):
    """Traced with the current weights, ``next_pass()`` gives the next step's loss and
    gradients: its batch (the same rows the step draws), its loss function. Torch is the
    oracle: the batch rows from the seed's permutation, the loss computed by hand."""
    from bpviz.core.trace import trace_scenario

    sc = load_scenario("lesson:xor_mlp")
    trainer = Trainer(sc, TrainConfig(lr=0.1, dataset=dataset, loss=loss, batch_size=batch_size, seed=3))
    data = make_dataset("two_moons", 3) if dataset else None
    order = torch.randperm(200, generator=torch.Generator().manual_seed(3)) if batch_size else None
    for k in range(3):
        passed = trainer.next_pass()
        trace = trace_scenario(passed)
        model = copy.deepcopy(sc.model)  # the weights the step starts from
        if data is None:
            X, y = sc.inputs[0], sc.target
        else:
            rows = order[32 * k : 32 * (k + 1)] if order is not None else torch.arange(200)
            X, y = data.X[rows], data.y[rows].reshape(-1, 1).float()
        expected = F.binary_cross_entropy_with_logits(model(X), y)
        expected.backward()
        result = trainer.step()
        assert trace.loss == result.loss
        assert math.isclose(trace.loss, float(expected.detach()), rel_tol=1e-6)
        grad = trace.graph.nodes[trace.find("0.weight")]["grad"]
        torch.testing.assert_close(grad, model[0].weight.grad)
        assert math.isclose(float(grad.norm()), result.params["0.weight"].norm, rel_tol=1e-5)
        if data is not None:
            assert torch.equal(passed.inputs[0], X)
    assert "rows of two_moons" in trainer.describe_batch() or dataset is None


@pytest.mark.parametrize(
    ("lesson", "label"), [("xor_mlp", "BCEWithLogitsLoss"), ("linear_fit", "MSELoss"), ("chain56", "loss()")]
)
def test_the_scenarios_own_loss_is_named_as_it_is(lesson, label):
    from bpviz.core.scenario import load_scenario

    trainer = Trainer(load_scenario(f"lesson:{lesson}"), TrainConfig(steps=1))
    assert trainer.problem.loss_name == label
