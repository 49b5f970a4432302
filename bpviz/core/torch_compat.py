"""The private torch calls bpviz takes for speed, each behind a check, with public fallbacks.

bpviz records a pass faster with a few torch internals; any torch release may change them. So
each is looked up here, never at import elsewhere, and has a public-API route giving the same
graph and the same numbers:

==========================================  ===============================================
fast path (private)                          fallback (public API)
==========================================  ===============================================
``torch._C._ExcludeDispatchKeyGuard`` and   every call goes through the recorder's
``_len_torch_dispatch_stack``: element-wise   ``TorchDispatchMode``
calls and ``F.linear`` skip the dispatch
mode (recorder)
``Node._sequence_nr``: creation order and   the order the recorder saw the nodes made
"made before the trace?" (recorder, graph   (see :class:`~bpviz.core.recording.Recording`)
builder)
``Node._register_hook_dict`` +              ``Node.register_prehook``, one handle per node
``torch._C._current_autograd_node``: one
shared pre-hook dict (graph builder)
``nn.Module._call_impl`` wrapped (module    global module forward (pre-)hooks
scopes)
``torch._foreach_norm`` / ``_foreach_mul_``  ``torch.linalg.vector_norm`` / ``Tensor.mul_``
(training statistics, diagnostics)          per tensor
==========================================  ===============================================

On first use (:func:`fast_paths`) a self-check traces a tiny scenario with the fast paths and
compares it with plain autograd and with the fallbacks; if a private call is missing, raises or
gives a different answer, the process switches to the fallbacks, and the next trace carries a
diagnostic saying so once (:func:`take_notice`). ``BPVIZ_TORCH_FALLBACK=1`` forces the fallbacks.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import torch

from bpviz.core.torch_state import TorchState, isolated

ENV_VAR = "BPVIZ_TORCH_FALLBACK"

_C: Any = torch._C


def _lookup(owner: Any, *names: str) -> Any:
    """``owner.a.b...``, or None when torch has no such attribute."""
    for name in names:
        owner = getattr(owner, name, None)
        if owner is None:
            return None
    return owner


# The private calls, looked up once; None where this torch lacks one.
_exclude_guard: Any = _lookup(_C, "_ExcludeDispatchKeyGuard")
_dispatch_key: Any = _lookup(_C, "DispatchKey")
_key_set: Any = _lookup(_C, "DispatchKeySet")
_dispatch_stack_len: Callable[[], int] | None = _lookup(_C, "_len_torch_dispatch_stack")
_current_node: Callable[[], Any] | None = _lookup(_C, "_current_autograd_node")
_foreach_norm: Callable[..., Sequence[torch.Tensor]] | None = _lookup(torch, "_foreach_norm")
_foreach_mul_: Callable[..., Any] | None = _lookup(torch, "_foreach_mul_")
_module_call: Any = _lookup(torch.nn.Module, "_call_impl")


def _python_dispatch_keys() -> Any:
    # Excluding these keys skips python dispatch modes, as if none were active.
    if _key_set is None or _dispatch_key is None:
        return None
    try:
        return _key_set(_dispatch_key.Python) | _key_set(_dispatch_key.PythonTLSSnapshot)
    except (AttributeError, TypeError, RuntimeError):
        return None


_NO_PYTHON_DISPATCH = _python_dispatch_keys()


def _node_has(name: str) -> bool:
    with torch.enable_grad():  # the caller may have grad off: the probe needs a node
        probe = torch.zeros((), requires_grad=True) * 1
    return callable(getattr(probe.grad_fn, name, None))


def missing_features() -> list[str]:
    """The private calls this torch lacks (their names; empty when all are there)."""
    found = {
        "torch._C._ExcludeDispatchKeyGuard": _exclude_guard is not None and _NO_PYTHON_DISPATCH is not None,
        "torch._C._len_torch_dispatch_stack": _dispatch_stack_len is not None,
        "torch._C._current_autograd_node": _current_node is not None,
        "torch._foreach_norm": _foreach_norm is not None,
        "torch._foreach_mul_": _foreach_mul_ is not None,
        "torch.nn.Module._call_impl": _module_call is not None,
        "Node._sequence_nr": _node_has("_sequence_nr"),
        "Node._register_hook_dict": _node_has("_register_hook_dict"),
        "Tensor._backward_hooks": hasattr(torch.empty(0), "_backward_hooks"),
    }
    return [name for name, ok in found.items() if not ok]


# -- the switch ------------------------------------------------------------------------------
_lock = threading.RLock()
_state = "unchecked"  # "unchecked", "checking", "fast" or "fallback"
_checking_fast = True  # during the self-check: which paths its traces take
_reason = ""
_notice: str | None = None


def forced() -> bool:
    """True when the environment asks for the fallbacks (``BPVIZ_TORCH_FALLBACK`` set, not 0)."""
    return os.environ.get(ENV_VAR, "").strip() not in ("", "0")


def fast_paths() -> bool:
    """True when the private fast paths are in use. The first call decides, for the process:
    the environment variable, then the features' presence, then the self-check."""
    if _state == "fast":
        return True
    if _state == "fallback":
        return False
    with _lock:  # another thread may be checking; the checking thread itself re-enters
        if _state == "checking":
            return _checking_fast
        if _state == "unchecked":
            _decide()
        return _state == "fast"


def status() -> str:
    """One line on the paths in use and why, for bug reports."""
    if fast_paths():
        return f"torch {torch.__version__}: fast paths (self-check passed)"
    return f"torch {torch.__version__}: public-API fallbacks ({_reason})"


def take_notice() -> str | None:
    """The sentence telling the user the fallbacks are in use because the self-check failed,
    once per process (None afterwards, and when nothing failed or the user forced them)."""
    global _notice
    with _lock:
        notice, _notice = _notice, None
    return notice


def _decide() -> None:
    global _state, _reason, _notice
    if forced():
        _state, _reason = "fallback", f"forced by {ENV_VAR}"
        return
    missing = missing_features()
    problem: str | None
    if missing:
        problem = f"it lacks {', '.join(missing)}"
    else:
        _state = "checking"
        try:
            # The caller's switches (a scenario's float64 default, anomaly mode) stay out of it.
            with isolated(TorchState(grad_enabled=True, default_dtype=torch.float32, anomaly=False)):
                problem = self_check()
        except Exception as exc:  # noqa: BLE001 - any failure of a private call means: do not use it
            problem = f"{type(exc).__name__}: {exc}"
    if problem is None:
        _state = "fast"
        return
    _state, _reason = "fallback", problem
    _notice = (
        f"bpviz's fast paths do not work with torch {torch.__version__} ({problem}), so this session "
        "uses its slower public-API paths; every number is still torch's."
    )


@contextmanager
def _paths(fast: bool) -> Iterator[None]:
    global _checking_fast
    _checking_fast = fast
    try:
        yield
    finally:
        _checking_fast = True


def self_check() -> str | None:
    """Trace a tiny scenario (a module, element-wise ops, a linear layer) with the fast paths and
    compare it with plain autograd and with a trace by the fallbacks; also the gradient norms
    and clipping. Returns what differed, or None. Called with the state "checking"."""
    from bpviz.core.serialize import trace_to_json
    from bpviz.core.trace import trace

    def scenario() -> tuple[Callable[[], torch.Tensor], dict[str, torch.Tensor], list[torch.Tensor]]:
        gen = torch.Generator().manual_seed(0)
        layer = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh())
        with torch.no_grad():
            for p in layer.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        x = torch.randn(2, 3, generator=gen)
        w = torch.randn(4, requires_grad=True, generator=gen)
        seen: dict[str, torch.Tensor] = {}

        def loss() -> torch.Tensor:
            h = layer(x)
            r = torch.relu(h * w)
            s = torch.sigmoid(r) + h.sum(0) ** 2
            seen.update(h=h, r=r, s=s)
            return torch.mean(s)

        return loss, seen, [w, *layer.parameters()]

    # Plain autograd: the oracle.
    closure, plain, leaves = scenario()
    plain_loss = closure()
    for t in plain.values():
        t.retain_grad()
    plain_loss.backward()
    fast_closure = scenario()[0]
    with _paths(True):
        fast = trace(fast_closure)
    for name, t in plain.items():
        node = fast.node(fast.find(name))
        if not (torch.equal(node["value"], t.detach()) and torch.equal(node["grad"], t.grad)):  # type: ignore[arg-type]  # retained above
            return f"the traced value or gradient of {name} differs from autograd's"
    for name, t in zip(("w", "layer.0.weight", "layer.0.bias"), leaves):
        if not torch.equal(fast.node(fast.find(name))["grad"], t.grad):  # type: ignore[arg-type]  # a leaf's grad
            return f"the traced gradient of {name} differs from autograd's"
    if fast.node(fast.find("h"))["module"] != "layer.1":
        return "the module scopes of a trace are wrong"
    with _paths(False):
        public = trace(scenario()[0])
    if trace_to_json(fast) != trace_to_json(public):
        return "a trace by the fast paths differs from one by the public API"
    grads = [t.grad for t in leaves if t.grad is not None]
    for order in (2.0, 1.0, math.inf):
        with _paths(True):
            fast_norms = foreach_norm(grads, order)
        if [float(n) for n in fast_norms] != [float(torch.linalg.vector_norm(g, order)) for g in grads]:
            return "torch._foreach_norm differs from torch.linalg.vector_norm"
    coef = torch.tensor(0.5)
    scaled = [g.clone() for g in grads]
    with _paths(True):
        foreach_mul_(scaled, coef)
    if not all(torch.equal(s, g * coef) for s, g in zip(scaled, grads)):
        return "torch._foreach_mul_ differs from Tensor.mul"
    return None


# -- the calls, fast or public ----------------------------------------------------------------
def exclude_python_dispatch() -> AbstractContextManager[Any]:
    """A context in which python dispatch modes are skipped (only used on the fast path)."""
    return _exclude_guard(_NO_PYTHON_DISPATCH)  # type: ignore[no-any-return]  # torch._C is untyped here


def dispatch_stack_len() -> int:
    """How many dispatch modes are active (only used on the fast path)."""
    return _dispatch_stack_len()  # type: ignore[misc]  # checked by fast_paths


def current_autograd_node() -> Any:
    """The autograd node running a hook (only used on the fast path)."""
    return _current_node()  # type: ignore[misc]  # checked by fast_paths


def original_module_call() -> Any:
    """torch's own ``nn.Module._call_impl`` (None if this torch has none)."""
    return _module_call


def foreach_norm(tensors: Sequence[torch.Tensor], order: float = 2.0) -> list[torch.Tensor]:
    """Each tensor's ``order``-norm as a 0-d tensor, as ``torch.linalg.vector_norm`` gives it;
    0 for a tensor with no elements (a zero-width layer's weight), whose max norm torch refuses
    to compute ("the operation does not have an identity")."""
    if order == math.inf and any(t.numel() == 0 for t in tensors):
        full = iter(foreach_norm([t for t in tensors if t.numel()], order))
        return [next(full) if t.numel() else t.new_zeros((), dtype=_real(t.dtype)) for t in tensors]
    if fast_paths():
        return list(_foreach_norm(list(tensors), order))  # type: ignore[misc]  # checked by fast_paths
    return [torch.linalg.vector_norm(t, order) for t in tensors]


def _real(dtype: torch.dtype) -> torch.dtype:
    """The dtype of a norm of a tensor of ``dtype`` (real for complex tensors)."""
    return torch.empty((), dtype=dtype).abs().dtype


def foreach_mul_(tensors: Sequence[torch.Tensor], factor: torch.Tensor) -> None:
    """Multiply each tensor in place by ``factor``."""
    if fast_paths():
        _foreach_mul_(list(tensors), factor)  # type: ignore[misc]  # checked by fast_paths
        return
    for t in tensors:
        t.mul_(factor)


def reset_for_tests(state: str = "unchecked") -> tuple[str, str, str | None]:
    """Set the switch (tests only); returns the previous (state, reason, notice) to restore."""
    global _state, _reason, _notice
    with _lock:
        previous = (_state, _reason, _notice)
        _state, _reason, _notice = state, "", None
    return previous


def restore_for_tests(previous: tuple[str, str, str | None]) -> None:
    """Undo :func:`reset_for_tests`."""
    global _state, _reason, _notice
    with _lock:
        _state, _reason, _notice = previous
