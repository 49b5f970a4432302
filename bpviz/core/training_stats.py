"""Per-step gradient statistics and diagnostics for the training engine.

Cheapness matters here: on a small MLP a plain torch step takes ~300 us, so the numbers of one
step are computed with three ``torch._foreach_norm`` calls (L2, L1, max; per-tensor
``torch.linalg.vector_norm`` on :mod:`bpviz.core.torch_compat`'s fallback) and read back with a
single ``tolist()`` instead of one ``.item()`` per parameter and statistic.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from bpviz.core import torch_compat
from bpviz.core.trace_record import Diagnostic

if TYPE_CHECKING:
    from torch.utils.hooks import RemovableHandle

_INF = float("inf")
# The functional spellings of ReLU a TorchFunctionMode sees (F.relu reaches the mode as itself:
# the mode is switched off while it handles a call, so torch.relu inside F.relu is not seen twice).
_RELU_FUNCS = frozenset(
    {
        torch.relu,
        torch.relu_,
        torch.nn.functional.relu,
        torch.nn.functional.relu_,
        torch.Tensor.relu,
        torch.Tensor.relu_,
    }
)


class ParamStats(NamedTuple):
    """Statistics of one parameter's gradient as the optimiser used it (after clipping).

    ``pre_clip_norm`` is the L2 norm before clipping; it equals ``norm`` when clipping is off or
    did not trigger. ``mean_abs`` is mean |grad|, ``max_abs`` max |grad|. (A NamedTuple because
    a step makes one per parameter and a frozen dataclass costs several times more to build.)
    """

    norm: float
    mean_abs: float
    max_abs: float
    pre_clip_norm: float

    def to_json(self) -> dict[str, float | None]:
        """The JSON form (non-finite values as None, since JSON has no NaN)."""
        return {k: finite_or_none(v) for k, v in zip(self._fields, self)}


def finite_or_none(value: float | None) -> float | None:
    """``value`` if it is a finite number, else None (JSON and CSV have no NaN or Inf)."""
    return value if value is not None and math.isfinite(value) else None


@dataclass
class GradNumbers:
    """What one read-back of a step gives: the loss, each present gradient's norms, and extras.

    ``norm_tensors`` keeps the L2 norms as tensors so clipping can reuse them.
    """

    loss: float
    norm: list[float]
    l1: list[float]
    max_abs: list[float]
    extra: list[float]
    norm_tensors: list[torch.Tensor]

    @property
    def total(self) -> float:
        """L2 norm over all gradients (the norm clip_grad_norm_ measures)."""
        return math.sqrt(math.fsum(n * n for n in self.norm))

    def finite(self) -> bool:
        """True when every gradient element is finite (max |grad| is NaN or Inf otherwise)."""
        return all(math.isfinite(m) for m in self.max_abs)


def read_numbers(loss: torch.Tensor, grads: list[torch.Tensor], extra: list[torch.Tensor]) -> GradNumbers:
    """The loss, per-gradient L2 norm, L1 norm and max |g|, and the 1-D ``extra`` tensors' values.

    On CPU ``.item()`` is no device sync, and measured cheaper than a stack + tolist of the
    ~20 scalars of a small model, so the numbers are read one by one.
    """
    norms = torch_compat.foreach_norm(grads) if grads else []
    l1 = [t.item() for t in torch_compat.foreach_norm(grads, 1)] if grads else []
    peak = [t.item() for t in torch_compat.foreach_norm(grads, _INF)] if grads else []
    values = [v for t in extra for v in t.tolist()] if extra else []
    return GradNumbers(loss.item(), [t.item() for t in norms], l1, peak, values, norms)


def clip_(grads: list[torch.Tensor], nums: GradNumbers, max_norm: float) -> float:
    """Scale ``grads`` in place exactly as ``torch.nn.utils.clip_grad_norm_`` does; return the factor.

    The same ops in the same order as torch (stack of per-tensor L2 norms, vector_norm, the 1e-6
    guard, clamp at 1) so the clipped gradients are bit-identical to torch's; the per-tensor
    norms are the ones :func:`read_numbers` already computed with the same call.
    """
    if not grads:
        return 1.0
    total = torch.linalg.vector_norm(torch.stack(nums.norm_tensors), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch_compat.foreach_mul_(grads, coef)
    return float(coef)


def param_stats(names: list[str], sizes: list[int], nums: GradNumbers, coef: float) -> dict[str, ParamStats]:
    """ParamStats per parameter name, for the gradients after scaling by ``coef`` (clipping)."""
    return {
        name: ParamStats(n * coef, l1 / max(size, 1) * coef, m * coef, n)
        for name, size, n, l1, m in zip(names, sizes, nums.norm, nums.l1, nums.max_abs)
    }


def gradient_diagnostics(
    none_names: list[str],
    names: list[str],
    nums: GradNumbers,
    exploding: float,
    vanishing: float,
    sizes: list[int] | None = None,
) -> list[Diagnostic]:
    """none_grad, nonfinite, exploding and vanishing findings, judged on the pre-clip norms.

    Pre-clip, because clipping hides an explosion without curing it: the learner should still see
    that backprop produced a huge gradient.
    """
    out = [
        Diagnostic(
            "none_grad",
            name,
            f"'{name}' got no gradient: nothing connects it to the loss "
            "(or the path runs through .detach()), so training never changes it.",
        )
        for name in none_names
    ]
    empty = {name for name, size in zip(names, sizes or ()) if size == 0}
    for name, norm, peak in zip(names, nums.norm, nums.max_abs):
        if name in empty:  # a zero-width layer's parameter: its norm is 0, and says nothing
            continue
        if not math.isfinite(peak):
            out.append(
                Diagnostic("nonfinite", name, f"{name}: the gradient contains {_nan_or_inf(peak)}.", {"norm": norm})
            )
        elif norm > exploding:
            out.append(
                Diagnostic(
                    "exploding",
                    name,
                    f"{name}: gradient norm {norm:.4g} is above "
                    f"{exploding:g} (exploding); lower the learning rate or clip gradients.",
                    {"norm": norm},
                )
            )
        elif norm < vanishing:
            out.append(
                Diagnostic(
                    "vanishing",
                    name,
                    f"{name}: gradient norm {norm:.3g} is below "
                    f"{vanishing:g} (vanishing); try ReLU, residual connections or "
                    "normalisation.",
                    {"norm": norm},
                )
            )
    return out


def _nan_or_inf(value: float) -> str:
    return "NaN" if math.isnan(value) else "Inf"


class ReluWatch:
    """Finds ReLU units that output 0 for every sample of a batch (dead ReLUs).

    Forward hooks on ``nn.ReLU`` modules keep each call's output; after the pass
    :meth:`unit_sums` sums every unit over the batch (a unit is dead when its sum is 0), and the
    sums are read back together with the gradient norms (they feed :func:`read_numbers`). Models that call ``F.relu``
    or ``torch.relu`` instead of modules are watched through a TorchFunctionMode; because the mode
    costs a Python call per op, it is dropped after the first step that saw no relu call at all.

    The hooks are installed once and record only inside ``with watch:`` (so traces and validation
    passes on the same modules are not recorded); re-registering them every step costs ~10 us.
    They hold the watch weakly and are removed by :meth:`close` or when the watch is collected.
    """

    def __init__(self, roots: list[tuple[str, nn.Module]]):
        relus = [
            (".".join(p for p in (prefix, sub) if p) or "relu", m)
            for prefix, root in roots
            for sub, m in root.named_modules()
            if isinstance(m, nn.ReLU)
        ]
        self._has_modules = bool(relus)
        self._use_mode = not relus
        self._outputs: list[tuple[str, torch.Tensor]] = []
        self._records: list[tuple[str, int, int]] = []  # name, samples, units
        self._active = False
        self._mode: _ReluMode | None = None
        self._cache: dict[tuple[str, int, int, int, int], Diagnostic] = {}
        ref = weakref.ref(self)
        handles = [m.register_forward_hook(_hook(ref, name)) for name, m in relus]
        self._finalizer = weakref.finalize(self, _remove_hooks, handles)

    def close(self) -> None:
        """Remove the hooks from the modules (also happens when the watch is garbage collected)."""
        self._finalizer()

    def reset(self) -> None:
        """Forget what was recorded and watch functional relu calls again if there are no modules."""
        self._outputs.clear()
        self._records.clear()
        self._use_mode = not self._has_modules

    def __enter__(self) -> ReluWatch:
        self._outputs.clear()
        self._active = True
        if self._use_mode:
            self._mode = _ReluMode(self)
            self._mode.__enter__()  # type: ignore[no-untyped-call]  # torch's modes are unannotated
        return self

    def __exit__(self, *exc: object) -> None:
        self._active = False
        if self._mode is not None:
            self._mode.__exit__(*exc)  # type: ignore[no-untyped-call]  # torch's modes are unannotated
            self._mode = None
            if not self._outputs:  # read before unit_sums() empties it
                self._use_mode = False

    def record(self, name: str, output: Any) -> None:
        """Keep one ReLU output of the watched pass (reduced later, all at once)."""
        if self._active and isinstance(output, torch.Tensor):
            # No copy: ReLU saves its output for backward, so nothing may change it in place.
            self._outputs.append((name, output))

    def unit_sums(self) -> list[torch.Tensor]:
        """Per-unit sums over the batch of every recorded ReLU output, in call order (1-D).

        A unit is a feature/channel (dim 1) over all samples and positions, as in the trace's
        dead_relu diagnostic; a 1-D output is one sample whose every element is a unit. ReLU
        outputs are >= 0, so a unit is dead exactly when its sum is 0 (a sum of positive floats
        cannot round to 0; NaN and Inf count as alive). Outputs of one batch size are reduced
        with one cat + one sum, however many ReLUs there are.
        """
        outputs = [(n, o) for n, o in self._outputs if o.is_floating_point() and o.numel()]
        self._outputs = []  # the sums are all that is needed; let the tensors go
        self._records = [
            (n, o.shape[0] if o.dim() >= 2 else 1, o.shape[1] if o.dim() >= 2 else o.numel()) for n, o in outputs
        ]
        if not outputs:
            return []
        with torch.no_grad():
            first = outputs[0][1]
            if all(o.dim() == 2 and o.shape[0] == first.shape[0] and o.dtype == first.dtype for _, o in outputs):
                return [torch.cat([o for _, o in outputs], 1).sum(0) if len(outputs) > 1 else first.sum(0)]
            return [o.sum(dim=(0, *range(2, o.dim()))) if o.dim() >= 2 else o.reshape(-1) for _, o in outputs]

    def diagnostics(self, values: list[float]) -> list[Diagnostic]:
        """dead_relu findings, given the read-back ``values`` of :meth:`unit_sums` (concatenated)."""
        out: list[Diagnostic] = []
        start = 0
        seen: dict[str, int] = {}
        for name, samples, units in self._records:
            count = values[start : start + units].count(0.0)  # sums of ReLU outputs are never < 0
            start += units
            seen[name] = seen.get(name, 0) + 1
            if not count:
                continue
            key = (name, seen[name], count, units, samples)
            found = self._cache.get(key)
            if found is None:
                label = f"relu call #{name[5:]}" if name.startswith("relu#") else f"ReLU module '{name}'"
                if seen[name] > 1:
                    label += f" (call {seen[name]})"
                # Diagnostics are immutable, and dead units tend to stay dead for many steps:
                # reuse the object instead of formatting the same message every step.
                if len(self._cache) > 1024:
                    self._cache.clear()
                found = self._cache[key] = Diagnostic(
                    "dead_relu",
                    name,
                    f"Dead ReLU: {count} of {units} units of {label} output 0 for all {samples} "
                    "samples of the batch, so no gradient flows through them.",
                    {"dead": count, "units": units, "samples": samples},
                )
            out.append(found)
        return out


def _hook(ref: weakref.ref[ReluWatch], name: str) -> Callable[[nn.Module, tuple[Any, ...], Any], None]:
    def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        watch = ref()
        if watch is not None and watch._active:
            watch.record(name, output)

    return hook


def _remove_hooks(handles: list[RemovableHandle]) -> None:
    for handle in handles:
        handle.remove()


class _ReluMode(TorchFunctionMode):
    """Records the outputs of functional relu calls (``relu#1``, ``relu#2``... in call order)."""

    def __init__(self, watch: ReluWatch):
        super().__init__()
        self._watch = watch
        self._count = 0

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Collection[type],
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        if func in _RELU_FUNCS:
            self._count += 1
            self._watch.record(f"relu#{self._count}", out)
        return out
