"""Finding where a NaN or Inf first appeared, after a training step produced one.

Only runs when a step has already gone wrong, so it may be slow: the step's forward pass is run
again under a TorchFunctionMode that checks every output, with module pre/post hooks keeping the
current module scope; for a non-finite gradient with a finite loss, hooks on every autograd node
find the first backward function whose output is non-finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from bpviz.core.op_names import friendly_name

if TYPE_CHECKING:
    from torch.autograd.graph import Node
    from torch.utils.hooks import RemovableHandle

    _Grads = tuple[torch.Tensor | None, ...]  # what an autograd node hook receives


@dataclass(frozen=True)
class Culprit:
    """Where the first non-finite value came from.

    ``op`` is the friendly op name (``linear``, ``mse_loss``, ``pow``) or, for a value that was
    already non-finite before the pass, ``""``; ``module`` the qualified module name (``""`` at
    top level); ``tensor`` names a parameter or input that was already non-finite;
    ``autograd`` the backward function for a gradient that went non-finite (``SqrtBackward0``).
    """

    op: str = ""
    module: str = ""
    tensor: str = ""
    autograd: str = ""
    value: str = "NaN"

    @property
    def node(self) -> str:
        """The name a user looks for: the tensor, else the op."""
        return self.tensor or self.op or self.autograd

    def describe(self) -> str:
        """``linear in module 'layers.2'``, ``parameter 'w'``, ``SqrtBackward0 (from sqrt)``."""
        if self.tensor:
            # A tensor's name is quoted; a phrase such as "the dataset 'big.csv'" quotes its own.
            shown = self.tensor if " " in self.tensor else f"'{self.tensor}'"
            return f"{shown}, which was already non-finite"
        where = f" in module '{self.module}'" if self.module else " (outside any module)"
        if self.autograd:
            source = f", the backward of {self.op}{where}" if self.op else ""
            return f"{self.autograd}{source}"
        return f"{self.op}{where}"


def kind_of(value: float) -> str:
    """``"NaN"`` or ``"Inf"`` for a non-finite float."""
    return "NaN" if math.isnan(value) else "Inf"


def first_nonfinite_tensor(named: list[tuple[str, torch.Tensor]]) -> Culprit | None:
    """The first named tensor holding a NaN or Inf (parameters and inputs are checked first)."""
    for name, t in named:
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = t.detach()[~torch.isfinite(t.detach())].reshape(-1)[0].item()
            return Culprit(tensor=name, value=kind_of(bad))
    return None


class _Scopes:
    """Module scope stack kept by forward pre/post hooks on every module under the roots."""

    def __init__(self, roots: list[tuple[str, nn.Module]]):
        self.stack: list[str] = [""]
        self._handles: list[RemovableHandle] = []
        for prefix, root in roots:
            for sub, module in root.named_modules():
                name = ".".join(p for p in (prefix, sub) if p)
                self._handles.append(module.register_forward_pre_hook(self._push(name)))
                self._handles.append(module.register_forward_hook(self._pop))

    def _push(self, name: str) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            self.stack.append(name)

        return hook

    def _pop(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if len(self.stack) > 1:
            self.stack.pop()

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()


class _FirstNonfinite(TorchFunctionMode):
    """Remembers the first call whose tensor output holds a NaN or Inf (and which grad_fn made it)."""

    def __init__(self, scopes: _Scopes):
        super().__init__()
        self.scopes = scopes
        self.culprit: Culprit | None = None
        self.origin: dict[Any, tuple[str, str]] = {}

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Collection[type],
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        tensors = (
            [out]
            if isinstance(out, torch.Tensor)
            else ([t for t in out if isinstance(t, torch.Tensor)] if isinstance(out, (tuple, list)) else [])
        )
        for t in tensors:
            if t.grad_fn is not None:
                self.origin.setdefault(t.grad_fn, (friendly_name(func), self.scopes.stack[-1]))
            if self.culprit is None and t.is_floating_point() and t.numel():
                finite = torch.isfinite(t)
                if not bool(finite.all()):
                    bad = t.detach()[~finite].reshape(-1)[0].item()
                    self.culprit = Culprit(op=friendly_name(func), module=self.scopes.stack[-1], value=kind_of(bad))
        return out


def locate_forward(
    forward: Callable[[], torch.Tensor],
    roots: list[tuple[str, nn.Module]],
) -> Culprit | None:
    """Re-run ``forward`` (without grad) and return the first op whose output is non-finite."""
    scopes = _Scopes(roots)
    mode = _FirstNonfinite(scopes)
    try:
        with torch.no_grad(), mode:
            forward()
    except Exception:  # noqa: BLE001 - the culprit may have been found before the failure
        pass
    finally:
        scopes.close()
    return mode.culprit


def locate_backward(
    forward: Callable[[], torch.Tensor],
    roots: list[tuple[str, nn.Module]],
    params: list[torch.Tensor],
) -> Culprit | None:
    """Re-run ``forward`` and backward; return the first backward function that made a NaN/Inf.

    Uses ``torch.autograd.grad`` so the parameters' stored ``.grad`` are left untouched.
    Backward hooks fire in the order autograd runs, so the first node whose outputs are
    non-finite is where the trouble started (its incoming gradients were all finite).
    """
    scopes = _Scopes(roots)
    mode = _FirstNonfinite(scopes)
    try:
        with torch.enable_grad(), mode:
            loss = forward()
    finally:
        scopes.close()
    found: list[Culprit] = []

    def hook_for(node: Node) -> Callable[[_Grads, _Grads], None]:
        def hook(grad_inputs: _Grads, grad_outputs: _Grads) -> None:
            if found:
                return
            for g in grad_inputs:
                if g is not None and g.is_floating_point() and not bool(torch.isfinite(g).all()):
                    op, module = mode.origin.get(node, ("", ""))
                    bad = g[~torch.isfinite(g)].reshape(-1)[0].item()
                    found.append(Culprit(op=op, module=module, autograd=node.name(), value=kind_of(bad)))
                    return

        return hook

    handles = []
    seen: set[int] = set()
    stack = [loss.grad_fn] if loss.grad_fn is not None else []
    while stack:  # iterative: deep nets exceed the recursion limit
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        handles.append(node.register_hook(hook_for(node)))
        stack.extend(n for n, _ in node.next_functions if n is not None)
    try:
        wanted = [p for p in params if p.requires_grad]
        torch.autograd.grad(loss, wanted, allow_unused=True)
    except RuntimeError:
        pass  # the hooks already saw what they needed
    finally:
        for handle in handles:
            handle.remove()
    return found[0] if found else None
