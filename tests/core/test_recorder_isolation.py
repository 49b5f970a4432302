"""The recorder watches only its own pass: other dispatch modes still see every op, and module
calls on other threads (the app traces on one worker while another trains) do not leak into
its module scopes."""

from __future__ import annotations

import functools
import threading

import torch
from torch import nn
from torch.utils.checkpoint import CheckpointPolicy, checkpoint, create_selective_checkpoint_contexts

import bpviz


def _must_save(ctx, op, *args, **kwargs):
    saved = (torch.ops.aten.relu.default, torch.ops.aten.addmm.default)
    return CheckpointPolicy.MUST_SAVE if op in saved else CheckpointPolicy.PREFER_RECOMPUTE


torch.manual_seed(0)
lin = nn.Linear(4, 4)
x = torch.randn(2, 4, requires_grad=True)


def _block(z):
    return torch.relu(lin(z)).sin()


def checkpointed_loss():
    context = functools.partial(create_selective_checkpoint_contexts, _must_save)
    return checkpoint(_block, x, use_reentrant=False, context_fn=context).sum()


def test_selective_checkpointing_still_sees_every_op():
    """Its own dispatch mode must see relu and addmm to save them for backward."""
    tr = bpviz.trace(checkpointed_loss)
    expected = torch.autograd.grad(checkpointed_loss(), [x, lin.weight, lin.bias])
    for name, grad in zip(("x", "lin.weight", "lin.bias"), expected):
        assert torch.equal(tr.graph.nodes[tr.find(name)]["grad"], grad), name


def test_module_calls_on_another_thread_do_not_change_module_scopes():
    started, release = threading.Event(), threading.Event()

    class Waiter(nn.Module):
        """Entered on another thread, and still running while the traced pass goes on."""

        def forward(self, x):
            started.set()
            release.wait(10)
            return x

    waiter = Waiter()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            other = threading.Thread(target=waiter, args=(torch.zeros(1),))
            other.start()
            started.wait(10)
            y = torch.tanh(x)
            release.set()
            other.join()
            return self.fc(y)

    torch.manual_seed(0)
    tr = bpviz.trace(Net(), torch.randn(3, 2, requires_grad=True), target=torch.randn(3, 1))
    modules = {a["op"]: a["module"] for _, a in tr.graph.nodes(data=True) if a["kind"] == "op"}
    assert modules["tanh"] == ""
    assert modules["linear"] == "fc"


def test_a_running_profiler_stays_and_ops_keep_the_closures_names():
    """Tracing under cProfile (or a debugger's hooks) neither fails nor unhooks it, and ops are
    still named after the closure's variables."""
    import cProfile
    import sys

    w = torch.tensor(3.0, requires_grad=True)

    def named_loss():
        squared = w**2
        shifted = squared + 1
        return shifted * 2

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        tr = bpviz.trace(named_loss)
        still_profiling = sys.getprofile() is not None
    finally:
        profiler.disable()
    assert still_profiling
    names = {a["name"] for _, a in tr.graph.nodes(data=True)}
    assert {"squared", "shifted"} <= names
    assert tr.graph.nodes[tr.find("w")]["grad"].item() == 2 * 2 * 3.0  # d(2(w²+1))/dw = 4w
