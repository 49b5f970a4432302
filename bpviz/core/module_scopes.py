"""Which ``nn.Module`` is running, for each op a recorded forward pass makes.

The obvious tool, global module forward hooks, makes every module call in the process take
``Module._call_impl``'s slow path while they are registered (~7 us a call: a 20-layer MLP's
forward spends a quarter of its recording overhead there). Instead, while a pass is recorded,
``nn.Module._call_impl`` itself pushes the module's name on entry and pops it on return, and
modules keep their fast path. The scope a module's own hooks see is what global hooks gave:
its forward pre-hooks run inside its scope, its forward hooks after it (a hook on the module
pops the scope first). If the process already has global forward hooks, whose order against
ours the patch could not keep, the pass uses global hooks as before.

Scopes belong to the thread that records: the patch is shared by the process (refcounted, so
concurrent passes on several threads install it once and remove it when the last ends), and
a call on any other thread (a training worker) goes straight through.
"""

from __future__ import annotations

import threading
from typing import Any

import torch
from torch.nn.modules import module as _module_mod

_lock = threading.Lock()
_active: dict[int, ModuleScopes] = {}  # recording thread -> its scopes
# Patched: _call_impl, which __call__ calls. Setting a dunder such as __call__ on nn.Module
# would update the call slot of each of its hundreds of subclasses (~70 us a pass).
_original_call = torch.nn.Module._call_impl


def _scoped_call(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
    scopes = _active.get(threading.get_ident())
    if scopes is None:
        return _original_call(self, *args, **kwargs)
    stack = scopes.stack
    depth = len(stack)
    stack.append(scopes.names.get(id(self), type(self).__name__))
    try:
        if self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
            # The module's own forward hooks, and the op its backward hooks wrap its output
            # in, run outside its scope, as under global hooks.
            handle = self.register_forward_hook(scopes.leave_hook(depth), prepend=True)
            try:
                return _original_call(self, *args, **kwargs)
            finally:
                handle.remove()
        return _original_call(self, *args, **kwargs)
    finally:
        del stack[depth:]  # also after an exception, and a no-op after leave_hook


def _global_forward_hooks() -> bool:
    return bool(_module_mod._global_forward_hooks or _module_mod._global_forward_pre_hooks)


class ModuleScopes:
    """Context manager: ``stack[-1]`` is the qualified name of the innermost module running
    on the entering thread (``names`` maps ``id(module)``; other modules show their class)."""

    def __init__(self, names: dict[int, str]):
        self.names = names
        self.stack: list[str] = []
        self._thread = 0
        self._handles: list = []

    def leave_hook(self, depth: int):
        """A forward hook that closes the scope opened at ``depth``."""
        stack = self.stack

        def leave(module, args, output):
            del stack[depth:]
            return None  # returning a value would replace the module's output
        return leave

    def __enter__(self) -> ModuleScopes:
        self._thread = threading.get_ident()
        if _global_forward_hooks() or self._thread in _active:
            self._use_global_hooks()
            return self
        global _original_call
        with _lock:
            if not _active:
                _original_call = torch.nn.Module._call_impl
                torch.nn.Module._call_impl = _scoped_call
            _active[self._thread] = self
        return self

    def __exit__(self, *exc) -> None:
        if self._handles:
            for h in self._handles:
                h.remove()
            self._handles = []
            return
        with _lock:
            _active.pop(self._thread, None)
            if not _active:
                torch.nn.Module._call_impl = _original_call

    # -- fallback when the process has global forward hooks of its own ---------------------
    def _use_global_hooks(self) -> None:
        register = _module_mod
        self._handles = [
            register.register_module_forward_pre_hook(self._push),
            register.register_module_forward_hook(self._pop),
        ]

    def _push(self, module, args):
        if threading.get_ident() == self._thread:
            self.stack.append(self.names.get(id(module), type(module).__name__))

    def _pop(self, module, args, output):
        if self.stack and threading.get_ident() == self._thread:
            self.stack.pop()
        return None
