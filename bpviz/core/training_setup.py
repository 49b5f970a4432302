"""What a training run feeds the model: batches, the loss function and its targets.

Everything that can be wrong with the data (an unknown dataset, a dataset on a ``loss()``
scenario, features that do not fit the first layer, a loss that does not fit the output) is found
here, before the first step, with one probe forward pass on two samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bpviz.core.datasets import CLASSIFICATION, Dataset, load_dataset
from bpviz.core.errors import BpvizError, explain_torch_error
from bpviz.core.scenario import Scenario

LOSSES = ("mse", "cross_entropy", "bce")
_LOSS_FNS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "cross_entropy": F.cross_entropy,
    "bce": F.binary_cross_entropy_with_logits,
}


class TrainingError(BpvizError):
    """Training cannot start or go on: bad settings, data that do not fit, a failing step."""


class Batcher:
    """Minibatches of tensors that share the first dimension, reshuffled every epoch.

    Deterministic given the seed (a private generator; the global RNG is left alone). Every batch
    has ``batch_size`` rows: the rows left over at the end of an epoch start the next shuffle.
    With ``batch_size`` None or at least the number of rows, every batch is all rows, unindexed.
    """

    def __init__(self, tensors: tuple[torch.Tensor, ...], batch_size: int | None, seed: int):
        self.tensors = tensors  # () for a scenario that brings its own data: every batch is ()
        self.rows = int(tensors[0].shape[0]) if tensors else 0
        self.full = batch_size is None or batch_size >= self.rows
        self.batch_size = self.rows if batch_size is None or self.full else int(batch_size)
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Start again from the first batch the seed gives."""
        self._gen = torch.Generator().manual_seed(self.seed)
        self._perm = torch.empty(0, dtype=torch.long)
        self._pos = self.rows  # forces a shuffle before the first batch
        self._peeked: tuple[torch.Tensor, ...] | None = None

    def peek(self) -> tuple[torch.Tensor, ...]:
        """The batch :meth:`next` returns next, without moving on (the same tensors)."""
        if self._peeked is None:
            self._peeked = self._draw()
        return self._peeked

    def next(self) -> tuple[torch.Tensor, ...]:
        """The next batch."""
        batch = self.peek()
        self._peeked = None
        return batch

    def _draw(self) -> tuple[torch.Tensor, ...]:
        if self.full:
            return self.tensors
        if self._pos + self.batch_size > self.rows:
            self._perm = torch.randperm(self.rows, generator=self._gen)
            self._pos = 0
        idx = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return tuple([t.index_select(0, idx) for t in self.tensors])


@dataclass
class Problem:
    """The resolved data side of a run.

    ``loss_of(batch)`` runs the forward pass on one batch (a tuple from ``batches.next()``) and
    returns the loss. ``val`` is the validation batch or None. ``pass_of(batch)`` is the same
    pass as a Scenario, for tracing: the batch as its inputs and target, the loss training uses.
    """

    loss_of: Callable[[tuple[torch.Tensor, ...]], torch.Tensor]
    batches: Batcher
    loss_name: str
    dataset: Dataset | None = None
    val: tuple[torch.Tensor, ...] | None = None
    pass_of: Callable[[tuple[torch.Tensor, ...]], Scenario] | None = None

    def scenario_of(self, batch: tuple[torch.Tensor, ...]) -> Scenario | None:
        """The scenario whose traced pass is this problem's pass on ``batch`` (None: the
        problem's own scenario as it stands, which is that pass)."""
        return self.pass_of(batch) if self.pass_of is not None else None


def module_roots(scenario: Scenario) -> list[tuple[str, nn.Module]]:
    """The scenario's modules with their name prefixes: an nn.Module model, else the modules a
    loss() file or a plain function model uses from its namespace."""
    if scenario.module is not None:
        return [("", scenario.module)]
    return [(k, v) for k, v in scenario.namespace.items() if isinstance(v, nn.Module) and not k.startswith("_")]


def build_problem(
    scenario: Scenario,
    dataset: str | Dataset | None,
    loss: str | None,
    batch_size: int | None,
    seed: int,
) -> Problem:
    """Resolve dataset and loss for ``scenario``; raises TrainingError for anything that won't fit."""
    if loss is not None and loss not in LOSSES:
        raise TrainingError(f"Unknown loss '{loss}'; choose one of {', '.join(LOSSES)}.")
    if scenario.model is None:
        if dataset is not None or loss is not None:
            what = "a dataset" if dataset is not None else f"the loss '{loss}'"
            raise TrainingError(
                f"'{scenario.title}' defines loss() and no model, so it cannot train with {what}; "
                "leave the dataset and loss unset (it trains on its own loss), or write a scenario "
                "with model and inputs."
            )
        return Problem(lambda batch: scenario.compute_loss(), Batcher((), None, seed), "loss()")
    if dataset is None:
        return _own_inputs(scenario, loss, seed)
    data = dataset if isinstance(dataset, Dataset) else load_dataset(dataset, seed)
    return _on_dataset(scenario, data, loss, batch_size, seed)


def _own_inputs(scenario: Scenario, loss: str | None, seed: int) -> Problem:
    inputs = scenario.inputs
    if loss is None:
        name = _loss_label(scenario.loss_fn, scenario.target is not None)
        return Problem(lambda batch: scenario.compute_loss(), Batcher((), None, seed), name)
    if scenario.target is None:
        raise TrainingError(
            f"The loss '{loss}' needs a target, and '{scenario.title}' defines none; add target = ... "
            "to the scenario or leave the loss unset."
        )
    model = scenario.model
    assert model is not None  # build_problem handled loss() scenarios
    out = _probe(scenario, inputs, f"'{scenario.title}'")
    target = _target_for(loss, scenario.target, out, "the scenario's target", 0)
    fn = _LOSS_FNS[loss]
    traced = replace(scenario, closure=None, target=target, loss_fn=fn)
    return Problem(lambda batch: fn(model(*inputs), target), Batcher((), None, seed), loss, pass_of=lambda _: traced)


def _loss_label(loss_fn: Callable[..., torch.Tensor] | None, has_target: bool) -> str:
    """What the scenario's own loss is called: its function's name (``cross_entropy``), its
    module's class (``BCEWithLogitsLoss``), else MSE against a target or the output itself."""
    if loss_fn is None:
        return "mse" if has_target else "output"
    return getattr(loss_fn, "__name__", "") or type(loss_fn).__name__


def _on_dataset(scenario: Scenario, data: Dataset, loss: str | None, batch_size: int | None, seed: int) -> Problem:
    model = scenario.model
    assert model is not None  # build_problem handled loss() scenarios
    dtype = _param_dtype(scenario)
    X = data.X.to(dtype)
    out = _probe(scenario, (X[:2],), f"the dataset '{data.name}'", data.n_features)
    width = out[0].numel() if out.dim() >= 1 else 1
    if loss is None and scenario.loss_fn is None:
        if data.kind != CLASSIFICATION:
            loss = "mse"
        elif width == 1 and data.n_classes <= 2:
            loss = "bce"
        else:
            loss = "cross_entropy"
    label = f"the dataset '{data.name}'"
    if loss is None:
        assert scenario.loss_fn is not None  # without one, a loss was chosen above
        if _is_bce(scenario.loss_fn):
            _check_bce_targets(data.y, label, "the scenario's loss_fn (binary cross-entropy)")
            if data.y_val is not None:
                _check_bce_targets(data.y_val, label, "the scenario's loss_fn (binary cross-entropy)")
        target = _reshape_target(data.y.to(dtype), out, label, "the scenario's loss_fn")
        val_target = None if data.y_val is None else _reshape_target(data.y_val.to(dtype), out, label, "")
        assert scenario.loss_fn is not None  # without one, a loss was chosen above
        fn, name = scenario.loss_fn, getattr(scenario.loss_fn, "__name__", "loss_fn")
    else:
        if loss in ("cross_entropy", "bce") and data.kind != CLASSIFICATION:
            raise TrainingError(f"The loss '{loss}' needs class labels, but {label} is a regression dataset; use mse.")
        target = _target_for(loss, data.y.to(dtype), out, label, data.n_classes)
        val_target = None if data.y_val is None else _target_for(loss, data.y_val.to(dtype), out, label, data.n_classes)
        fn, name = _LOSS_FNS[loss], loss
    val = None if data.X_val is None or val_target is None else (data.X_val.to(dtype), val_target)
    # The scenario's own inputs and target lose their names: the batch takes them (x, target).
    own = [*scenario.inputs, scenario.target]
    namespace = {k: v for k, v in scenario.namespace.items() if not any(v is t for t in own)}

    def pass_of(batch: tuple[torch.Tensor, ...]) -> Scenario:
        return replace(scenario, closure=None, inputs=(batch[0],), target=batch[1], loss_fn=fn, namespace=namespace)

    batches = Batcher((X, target), batch_size, seed)
    return Problem(lambda batch: fn(model(batch[0]), batch[1]), batches, name, data, val, pass_of)


def _target_for(loss: str, y: torch.Tensor, out: torch.Tensor, label: str, n_classes: int) -> torch.Tensor:
    """The target tensor in the form ``loss`` wants for an output shaped like ``out``."""
    if loss == "cross_entropy":
        classes = out.shape[1] if out.dim() == 2 else 0
        if out.dim() != 2 or classes < 2:
            need = f" ({n_classes} for {label})" if n_classes else ""
            raise TrainingError(
                f"cross_entropy needs the model to output one logit per class{need}, but it outputs "
                f"{out[0].numel() if out.dim() else 1} value(s) per sample; widen the last layer or use bce."
            )
        if y.dim() > 1 and y[0].numel() != 1:
            raise TrainingError(
                f"cross_entropy needs one class label per sample, but {label} has "
                f"{y[0].numel()} targets per sample; use mse or bce."
            )
        flat = y.reshape(-1)
        if not bool(torch.all(flat == flat.round())) or bool(flat.min() < 0) or bool(flat.max() >= classes):
            raise TrainingError(
                f"cross_entropy needs whole-number class labels 0..{classes - 1} in {label} (the model "
                f"outputs {classes} logits), but the labels run from {flat.min().item():g} to "
                f"{flat.max().item():g}; fix the labels or the model's last layer."
            )
        return flat.long()
    if loss == "bce":
        _check_bce_targets(y, label, "bce")
    return _reshape_target(y, out, label, loss)


_BCE_FNS = (F.binary_cross_entropy_with_logits, F.binary_cross_entropy)


def _is_bce(fn: Any) -> bool:
    """Is ``fn`` torch's binary cross-entropy (function or module), whose targets must be in 0..1?"""
    if isinstance(fn, (nn.BCEWithLogitsLoss, nn.BCELoss)):
        return True
    try:
        return fn in _BCE_FNS
    except TypeError:  # an unhashable or odd callable
        return False


def _check_bce_targets(y: torch.Tensor, label: str, what: str) -> None:
    if y.numel() and (bool(y.min() < 0) or bool(y.max() > 1)):
        raise TrainingError(
            f"{what} needs targets between 0 and 1 in {label}, but they run from {y.min().item():g} to "
            f"{y.max().item():g}; use cross_entropy for more than two classes, or mse."
        )


def _reshape_target(y: torch.Tensor, out: torch.Tensor, label: str, loss: str) -> torch.Tensor:
    # The probe ran on 2 samples: compare per-sample sizes, not whole shapes.
    per_out = out[0].numel() if out.dim() >= 1 else 1
    per_y = y[0].numel() if y.dim() >= 1 else 1
    if out.dim() == 0 and y.numel() == 1:
        return y.reshape(())
    if per_out != per_y:
        hint = " (bce wants one logit per sample)" if loss == "bce" else ""
        raise TrainingError(
            f"The model outputs {per_out} value(s) per sample but {label} has {per_y} target(s) per "
            f"sample{hint}; change the model's last layer to output {per_y}, or pick another loss."
        )
    return y.reshape(y.shape[0], *out.shape[1:]) if out.dim() >= 1 else y.reshape(())


def _probe(
    scenario: Scenario, inputs: tuple[torch.Tensor, ...], label: str, n_features: int | None = None
) -> torch.Tensor:
    """One forward pass of the scenario's model in eval mode without grad (BatchNorm statistics
    stay as they were; a plain function's modules are those of its namespace).

    A pre-hook on every nn.Linear notes the first one called: when the data's feature count does
    not match its in_features, the message says so in the user's terms instead of torch's
    "mat1 and mat2 shapes cannot be multiplied".
    """
    model = scenario.model
    assert model is not None  # build_problem handled loss() scenarios
    modules = [m for _, root in module_roots(scenario) for m in root.modules()]
    modes = [(m, m.training) for m in modules]
    first: list[tuple[int, int]] = []

    def note_first_linear(module: nn.Linear, args: tuple[Any, ...]) -> None:
        if not first and args and isinstance(args[0], torch.Tensor) and args[0].dim():
            first.append((module.in_features, int(args[0].shape[-1])))

    handles = [m.register_forward_pre_hook(note_first_linear) for m in modules if isinstance(m, nn.Linear)]
    try:
        for module in modules:
            module.training = False
        with torch.no_grad():
            out = model(*inputs)
    except Exception as exc:  # any failure of the user's model becomes a message
        if first and n_features is not None and first[0][1] == n_features != first[0][0]:
            expected = first[0][0]
            raise TrainingError(
                f"{label[0].upper()}{label[1:]} has {n_features} feature{'s' * (n_features != 1)} but "
                f"the model expects {expected}; choose a dataset with {expected} "
                f"feature{'s' * (expected != 1)} or change "
                f"the model's first layer to nn.Linear({n_features}, ...)."
            ) from exc
        hint = explain_torch_error(exc) or f"{type(exc).__name__}: {exc}"
        raise TrainingError(
            f"The model cannot run on {label}: {hint.rstrip('.')}; check that the data fit the model's inputs."
        ) from exc
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            module.training = mode
    if not isinstance(out, torch.Tensor):
        raise TrainingError(
            f"The model returns {type(out).__name__}, not a tensor; training needs a model that returns "
            "one tensor of outputs."
        )
    return out


def _param_dtype(scenario: Scenario) -> torch.dtype:
    """The dtype the data are cast to: the first floating-point weight's (a module's parameter,
    or a plain function model's trainable tensor)."""
    module = scenario.module
    weights = module.parameters() if module is not None else (t for _, t in scenario.trainable())
    for p in weights:
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()
