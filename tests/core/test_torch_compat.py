"""torch_compat: the private fast paths and their public-API fallbacks give the same traces, the
self-check switches to the fallbacks when a fast path is wrong, and the environment forces them."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator

import pytest
import torch
from torch import nn

import bpviz
from bpviz.core import torch_compat
from bpviz.core.errors import BpvizError
from bpviz.core.scenario import Scenario, lesson_names, load_scenario
from bpviz.core.trace import trace_scenario
from bpviz.core.training_stats import clip_, read_numbers
from tests.core import random_programs as rp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from models import cases


@pytest.fixture
def switch() -> Iterator[None]:
    """Lets a test set the process's choice of paths; the choice before it comes back after."""
    previous = torch_compat.reset_for_tests(torch_compat._state)
    yield
    torch_compat.restore_for_tests(previous)


def _using(state: str) -> None:
    torch_compat.reset_for_tests(state)


def _assert_same_trace(a, b, where: str) -> None:
    """Every node and edge with the same attributes (tensors equal bit for bit, with the same
    dtype and shape), the same orders and diagnostics."""
    assert list(a.graph.nodes) == list(b.graph.nodes), where
    assert list(a.graph.edges) == list(b.graph.edges), where
    for (n, x), (_, y) in zip(a.graph.nodes(data=True), b.graph.nodes(data=True)):
        _same_attrs(x, y, f"{where}: node {n}")
    for (u, v, x), (_, _, y) in zip(a.graph.edges(data=True), b.graph.edges(data=True)):
        _same_attrs(x, y, f"{where}: edge {u}->{v}")
    assert a.loss == b.loss or (math.isnan(a.loss) and math.isnan(b.loss)), where
    assert a.forward_order == b.forward_order, where
    assert a.backward_order == b.backward_order, where
    assert a.diagnostics == b.diagnostics, where
    assert list(a._edge_values) == list(b._edge_values), where


def _same_attrs(x: dict, y: dict, where: str) -> None:
    assert x.keys() == y.keys(), where
    for key, value in x.items():
        other = y[key]
        if isinstance(value, torch.Tensor):
            assert isinstance(other, torch.Tensor), (where, key)
            assert value.dtype == other.dtype and value.shape == other.shape, (where, key)
            assert torch.equal(value, other) or torch.allclose(value, other, rtol=0, atol=0, equal_nan=True), (
                where,
                key,
            )
        else:
            assert value == other or (value != value and other != other), (where, key, value, other)


def _both(make_scenario) -> tuple:
    _using("fast")
    fast = trace_scenario(make_scenario())
    _using("fallback")
    public = trace_scenario(make_scenario())
    return fast, public


@pytest.mark.parametrize("name", lesson_names())
def test_fallbacks_trace_every_lesson_as_the_fast_paths_do(switch, name):
    fast, public = _both(lambda: load_scenario(f"lesson:{name}"))
    _assert_same_trace(fast, public, name)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c[0] for c in cases()])
def test_fallbacks_trace_the_benchmark_models_as_the_fast_paths_do(switch, case):
    def scenario():
        for name, model, x, y, loss_fn in cases():  # fresh models, same seed
            if name == case:
                from bpviz.core.scenario import scenario_from_model

                return scenario_from_model(model, x, y, loss_fn, name)
        raise AssertionError(case)

    fast, public = _both(scenario)
    _assert_same_trace(fast, public, case)


@pytest.mark.parametrize("seed", range(40))
def test_fallbacks_trace_random_programs_as_the_fast_paths_do(switch, seed):
    """In-place ops on views, multi-output ops, detach and hooks: the recorder's harder cases."""

    def scenario():
        p = rp.make(seed)
        return Scenario(title="random", closure=lambda: rp.run(p), namespace=dict(p.leaves), source="random")

    try:
        fast, public = _both(scenario)
    except BpvizError:  # a program without a gradient: refused on both paths
        _using("fallback")
        with pytest.raises(BpvizError):
            trace_scenario(scenario())
        return
    _assert_same_trace(fast, public, f"random program {seed}")


def test_fallbacks_trace_an_in_place_op_on_a_view_and_a_custom_function(switch):
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    w = torch.arange(6.0).reshape(2, 3).requires_grad_()
    before = (w * 0.5).tanh()  # history made before the trace: shown as an input

    def scenario():
        def loss():
            h = w * 2 - 3
            flat = h.flatten()
            flat.relu_()  # in place on a view: h's node becomes a CopySlices
            return (Square.apply(h) + before).sum() + flat.sum()

        return Scenario(title="views", closure=loss, namespace={"w": w, "before": before}, source="views")

    fast, public = _both(scenario)
    _assert_same_trace(fast, public, "views")
    assert any(a["autograd"] == "CopySlices" for _, a in public.graph.nodes(data=True))
    assert any(a["name"] == "before" and a["kind"] == "input" for _, a in public.graph.nodes(data=True))


def test_gradient_norms_and_clipping_are_the_same_on_both_paths(switch):
    torch.manual_seed(3)
    grads = [torch.randn(4, 3), torch.randn(7), torch.randn(2, 2, 2) * 50]
    loss = torch.tensor(1.5)
    _using("fast")
    fast = read_numbers(loss, grads, [])
    fast_clipped = [g.clone() for g in grads]
    fast_coef = clip_(fast_clipped, fast, 1.0)
    _using("fallback")
    public = read_numbers(loss, grads, [])
    public_clipped = [g.clone() for g in grads]
    public_coef = clip_(public_clipped, public, 1.0)
    assert (fast.norm, fast.l1, fast.max_abs) == (public.norm, public.l1, public.max_abs)
    assert fast_coef == public_coef < 1
    assert all(torch.equal(a, b) for a, b in zip(fast_clipped, public_clipped))
    params = [nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    nn.utils.clip_grad_norm_(params, 1.0)
    assert all(torch.equal(p.grad, c) for p, c in zip(params, public_clipped))


def test_the_self_check_passes_on_this_torch(switch, monkeypatch):
    monkeypatch.delenv(torch_compat.ENV_VAR, raising=False)
    _using("unchecked")
    assert torch_compat.fast_paths()
    assert torch_compat.take_notice() is None
    assert "self-check passed" in torch_compat.status()


def _broken_trace_switches_to_the_fallbacks(monkeypatch) -> str:
    monkeypatch.delenv(torch_compat.ENV_VAR, raising=False)
    _using("unchecked")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    tr = bpviz.trace(lambda: (x * x).sum())  # the first trace runs the self-check
    assert not torch_compat.fast_paths()
    notes = [d for d in tr.diagnostics if d.kind == "torch_fallback"]
    assert len(notes) == 1 and notes[0].node is None
    assert torch.equal(tr.node(tr.find("x"))["grad"], torch.tensor([2.0, 4.0]))  # by the fallbacks
    again = bpviz.trace(lambda: (x * x).sum())
    assert not [d for d in again.diagnostics if d.kind == "torch_fallback"]  # said once
    return notes[0].message


def test_a_wrong_backward_fast_path_switches_to_the_fallbacks(switch, monkeypatch):
    """The shared pre-hook names the node autograd runs; one that names none gives wrong gradients."""
    monkeypatch.setattr(torch_compat, "_current_node", lambda: None)
    message = _broken_trace_switches_to_the_fallbacks(monkeypatch)
    assert f"torch {torch.__version__}" in message and "public-API" in message


def test_a_wrong_norm_switches_to_the_fallbacks(switch, monkeypatch):
    real = torch_compat._foreach_norm
    monkeypatch.setattr(torch_compat, "_foreach_norm", lambda ts, order=2.0: [n * 2 for n in real(ts, order)])
    message = _broken_trace_switches_to_the_fallbacks(monkeypatch)
    assert "_foreach_norm" in message


def test_a_failing_dispatch_guard_switches_to_the_fallbacks(switch, monkeypatch):
    def refuses(keys):
        raise RuntimeError("no such dispatch key")

    monkeypatch.setattr(torch_compat, "_exclude_guard", refuses)
    message = _broken_trace_switches_to_the_fallbacks(monkeypatch)
    assert "no such dispatch key" in message


def test_a_missing_private_call_switches_to_the_fallbacks(switch, monkeypatch):
    monkeypatch.setattr(torch_compat, "_dispatch_stack_len", None)
    message = _broken_trace_switches_to_the_fallbacks(monkeypatch)
    assert "torch._C._len_torch_dispatch_stack" in message


@pytest.mark.parametrize(("value", "forced"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_the_environment_variable_forces_the_fallbacks(switch, monkeypatch, value, forced):
    monkeypatch.setenv(torch_compat.ENV_VAR, value)
    _using("unchecked")
    assert torch_compat.fast_paths() is not forced
    assert torch_compat.take_notice() is None  # asked for, so nothing to tell
    if forced:
        assert torch_compat.ENV_VAR in torch_compat.status()
        model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
        before = nn.Module._call_impl
        tr = bpviz.trace(model, torch.ones(4, 3), target=torch.zeros(4, 2))
        assert nn.Module._call_impl is before
        assert {a["module"] for _, a in tr.graph.nodes(data=True) if a["op"] == "tanh"} == {"1"}


def test_the_self_check_ignores_the_callers_torch_switches(switch, monkeypatch):
    """The first use may come with grad off (gradient norms read under no_grad), a float64
    default or anomaly mode in force: the self-check runs under its own switches, passes, and
    the caller's are back afterwards."""
    monkeypatch.delenv(torch_compat.ENV_VAR, raising=False)
    _using("unchecked")
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.autograd.set_detect_anomaly(True)
    try:
        with torch.no_grad():
            norms = torch_compat.foreach_norm([torch.tensor([3.0, 4.0])])
            assert not torch.is_grad_enabled()
        assert torch_compat.fast_paths()
        assert norms == [torch.tensor(5.0)]
        assert torch.is_anomaly_enabled()
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(dtype)
        torch.autograd.set_detect_anomaly(False)
