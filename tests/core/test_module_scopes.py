"""Module scopes: which module each op ran inside, without global module hooks on the fast path."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.nn.modules import module as module_mod

import bpviz
from bpviz.core import module_scopes, torch_compat
from bpviz.core.errors import TraceError

ORIGINAL_CALL = nn.Module._call_impl


class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, a):
        # A module made on the fly has no qualified name: its class names the scope.
        return nn.Softplus()(self.fc(a)) * 2


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()
        self.head = nn.Linear(3, 1)

    def forward(self, a):
        # fc.forward called directly, not through the module: no scope of its own.
        return self.head(torch.tanh(self.inner(a)) + self.inner.fc.forward(a).sin())


def _modules_by_op(tr) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for _, attrs in tr.graph.nodes(data=True):
        if attrs["kind"] == "op":
            out.setdefault(attrs["op"], set()).add(attrs["module"])
    return out


def _hooked_model() -> Outer:
    torch.manual_seed(0)
    model = Outer()
    model.inner.register_forward_pre_hook(lambda mod, args: (args[0].exp(),))
    model.inner.register_forward_hook(lambda mod, args, out: out.cos())
    model.head.register_full_backward_hook(lambda mod, gin, gout: None)
    return model


def _trace(model):
    torch.manual_seed(1)
    return bpviz.trace(model, torch.randn(4, 3, requires_grad=True), target=torch.randn(4, 1), loss_fn=nn.MSELoss())


def test_ops_get_the_scope_global_module_hooks_would_give():
    """Pre-hooks run inside their module's scope, forward hooks after it, as with global
    hooks; children get qualified names, modules made on the fly their class."""
    tr = _trace(_hooked_model())
    mods = _modules_by_op(tr)
    assert mods["exp"] == {"inner"}  # the forward pre-hook of inner
    assert mods["cos"] == {""}  # inner's forward hook runs after inner
    assert mods["softplus"] == {"Softplus"}
    assert mods["linear"] == {"inner.fc", "", "head"}  # fc.forward called directly: the caller's
    # head's backward hook wraps its input inside head and its output after it.
    assert mods["function"] == {"head", ""}
    assert tr.graph.nodes[tr.loss_node]["module"] == "MSELoss"
    assert mods["tanh"] == {""}


def _plain_model() -> Outer:
    torch.manual_seed(0)
    return Outer()


def test_scopes_do_not_depend_on_the_mechanism():
    """The _call_impl wrapper (a model without hooks) gives what global hooks give (forced
    here by a global hook of the user's); a hooked model gets global hooks itself."""
    fast = _modules_by_op(_trace(_plain_model()))
    assert fast["softplus"] == {"Softplus"} and fast["linear"] == {"inner.fc", "", "head"}
    handle = module_mod.register_module_forward_hook(lambda mod, args, out: None)
    try:
        assert _modules_by_op(_trace(_plain_model())) == fast
        assert nn.Module._call_impl is ORIGINAL_CALL
    finally:
        handle.remove()


def _global_hooks_seen(model) -> list[bool]:
    seen = []

    class Probe(nn.Module):
        def forward(self, a):
            seen.append(bool(module_mod._global_forward_hooks or module_mod._global_forward_pre_hooks))
            return a * 2

    bpviz.trace(nn.Sequential(Probe(), model), torch.ones(2, 3, requires_grad=True), target=torch.zeros(2, 1))
    return seen


def test_modules_keep_their_fast_path_while_recording():
    """No global module hooks during the recorded forward (they send every module call of the
    process down Module._call_impl's slow path) unless the model has hooks of its own, or the
    process uses torch_compat's public-API fallbacks, of which global hooks are one."""
    assert _global_hooks_seen(_plain_model()) == [not torch_compat.fast_paths()]
    assert _global_hooks_seen(_hooked_model()) == [True]


def test_a_scripted_module_with_a_forward_hook_traces():
    """Hooks of a ScriptModule cannot be added to from python: such a model gets global hooks."""

    def double(mod, args: tuple[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        return out * 2

    inner = nn.Linear(3, 3)
    inner.register_forward_hook(double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still used
        model = nn.Sequential(torch.jit.script(inner), nn.Tanh())
    x = torch.randn(2, 3, requires_grad=True)
    tr = bpviz.trace(model, x, target=torch.zeros(2, 3))
    expected = torch.autograd.grad(nn.functional.mse_loss(model(x), torch.zeros(2, 3)), x)[0]
    assert torch.equal(tr.graph.nodes[tr.find("x")]["grad"], expected)


def test_a_wrapper_left_installed_is_harmless():
    """If an interrupt leaves the wrapper in place with no pass recording, module calls still
    work and the next trace restores torch's own _call_impl."""
    nn.Module._call_impl = module_scopes._scoped_call
    try:
        model = _plain_model()
        model(torch.ones(2, 3))
        assert _modules_by_op(_trace(model))["softplus"] == {"Softplus"}
        assert nn.Module._call_impl is ORIGINAL_CALL
    finally:
        nn.Module._call_impl = ORIGINAL_CALL


def test_module_call_is_restored_after_a_failed_trace():
    class Broken(nn.Module):
        def forward(self, a):
            raise ValueError("boom")

    with pytest.raises(TraceError):
        bpviz.trace(Broken(), torch.ones(2, requires_grad=True), target=torch.zeros(2))
    assert nn.Module._call_impl is ORIGINAL_CALL
    bpviz.trace(Outer(), torch.ones(2, 3), target=torch.zeros(2, 1))
    assert nn.Module._call_impl is ORIGINAL_CALL
