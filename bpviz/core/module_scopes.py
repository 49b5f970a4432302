"""Which ``nn.Module`` is running, for each op a recorded forward pass makes.

Global module forward hooks would do it, but while they are registered every module call in
the process takes ``Module._call_impl``'s slow path (~7 us a call: a 20-layer MLP's recorded
forward spent a quarter of its overhead there). So while a pass is recorded,
``nn.Module._call_impl`` is wrapped: on the recording thread it pushes the module's name and
pops it on return, and modules keep their fast path.

The wrapper gives the scopes global hooks give only for modules without hooks of their own
(global hooks run between a module's pre-hooks and forward hooks; its forward hooks and the
op its backward hooks wrap its output in run outside its scope). So a pass falls back to
global hooks when the scenario's modules have forward or backward hooks, are compiled or
scripted, or bypass ``_call_impl``, when the process has global module hooks or another
``_call_impl`` patch of its own, and when :mod:`bpviz.core.torch_compat` chose the public-API
fallbacks (this torch lacks ``_call_impl`` or the self-check failed).

Scopes belong to the thread that records: the patch is shared by the process (counted, so
concurrent passes on several threads install it once and remove it when the last ends), and a
call on any other thread (a training worker) goes straight through.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import torch
from torch.nn.modules import module as _module_mod

from bpviz.core import torch_compat

if TYPE_CHECKING:
    from torch.utils.hooks import RemovableHandle

_lock = threading.Lock()
_active: dict[int, ModuleScopes] = {}  # recording thread -> its scopes
# Wrapped: _call_impl, which __call__ calls. Setting a dunder such as __call__ on nn.Module
# would update the call slot of each of its hundreds of subclasses (~70 us a pass).
# Captured once: re-reading it could capture a wrapper left behind by an interrupted pass.
_original_call: Callable[..., Any] | None = torch_compat.original_module_call()


def _scoped_call(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
    scopes = _active.get(threading.get_ident())
    call: Callable[..., Any] = _original_call  # type: ignore[assignment]  # only installed when there is one
    if scopes is None:
        return call(self, *args, **kwargs)
    stack = scopes.stack
    depth = len(stack)
    stack.append(scopes.names.get(id(self), type(self).__name__))
    try:
        return call(self, *args, **kwargs)
    finally:
        del stack[depth:]  # also when the module raised and the caller caught it


def _has_global_hooks() -> bool:
    m = _module_mod
    return bool(
        getattr(m, "_global_forward_hooks", True)
        or getattr(m, "_global_forward_pre_hooks", True)
        or getattr(m, "_global_backward_hooks", True)
        or getattr(m, "_global_backward_pre_hooks", True)
    )


def _calls_plainly(module: torch.nn.Module) -> bool:
    """True when the wrapper sees this module's calls and gives them global hooks' scope."""
    return not (
        getattr(module, "_forward_hooks", True)
        or getattr(module, "_backward_hooks", True)
        or getattr(module, "_backward_pre_hooks", True)
        or getattr(module, "_compiled_call_impl", None) is not None
        or isinstance(module, torch.jit.ScriptModule)
        or getattr(type(module), "_call_impl", None) not in (_original_call, _scoped_call)
    )


class ModuleScopes:
    """Context manager: ``stack[-1]`` is the qualified name of the innermost module running
    on the entering thread. ``names`` maps ``id(module)`` (other modules show their class);
    ``modules`` are the scenario's, checked for what the wrapper cannot follow."""

    def __init__(self, names: dict[int, str], modules: Iterable[torch.nn.Module] = ()):
        self.names = names
        self.stack: list[str] = []
        self._modules = modules
        self._thread = 0
        self._handles: list[RemovableHandle] = []

    def __enter__(self) -> ModuleScopes:
        self._thread = threading.get_ident()
        fast = torch_compat.fast_paths()  # before the lock: the first call traces (self-check)
        with _lock:
            current = getattr(torch.nn.Module, "_call_impl", None)
            if (
                not fast
                or _original_call is None
                or self._thread in _active
                or _has_global_hooks()
                or current not in (_original_call, _scoped_call)
                or not all(map(_calls_plainly, self._modules))
            ):
                self._use_global_hooks()
                return self
            torch.nn.Module._call_impl = _scoped_call  # type: ignore[method-assign]  # the patch is the point
            _active[self._thread] = self
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handles:
            for h in self._handles:
                h.remove()
            self._handles = []
            with _lock:  # a wrapper an interrupted pass left behind goes, as after a patched pass
                if not _active and getattr(torch.nn.Module, "_call_impl", None) is _scoped_call:
                    torch.nn.Module._call_impl = _original_call  # type: ignore[method-assign, assignment]  # undoes the patch
            return
        with _lock:
            _active.pop(self._thread, None)
            if not _active:
                torch.nn.Module._call_impl = _original_call  # type: ignore[method-assign, assignment]  # undoes the patch
        # torch._dynamo, imported during the pass, took the wrapper for the original.
        dynamo_utils = sys.modules.get("torch._dynamo.utils")
        if dynamo_utils is not None and getattr(dynamo_utils, "unpatched_nn_module_call_impl", None) is _scoped_call:
            dynamo_utils.unpatched_nn_module_call_impl = _original_call  # type: ignore[attr-defined]  # checked just above

    # -- fallback: global hooks ------------------------------------------------------------
    def _use_global_hooks(self) -> None:
        self._handles = [
            _module_mod.register_module_forward_pre_hook(self._push),
            _module_mod.register_module_forward_hook(self._pop),
        ]

    def _push(self, module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        if threading.get_ident() == self._thread:
            self.stack.append(self.names.get(id(module), type(module).__name__))

    def _pop(self, module: torch.nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if self.stack and threading.get_ident() == self._thread:
            self.stack.pop()
