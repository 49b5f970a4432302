"""The training engine: optimisation steps on a scenario, with per-step gradient statistics.

No Qt here: the CLI and the app's training panel drive the same :class:`Trainer`.

One step is the seeds' loop -- ``zero_grad`` (unless switched off), forward, loss, backward,
optional clipping, ``optimizer.step()`` -- plus one read-back of the loss and of each gradient's
L2 norm, mean |g| and max |g| (see :mod:`bpviz.core.training_stats`). Choices worth knowing:

* ``StepResult.loss`` is the loss of the batch *before* the update (as the seeds print it);
  ``val_loss`` is computed on the same weights, every ``val_every`` steps and on the last step
  of :meth:`Trainer.run`.
* ``ParamStats`` describe the gradient the optimiser actually used: after clipping, and, with
  zero_grad off, the accumulated ``.grad``. ``pre_clip_norm`` keeps the norm before clipping, and
  the exploding/vanishing diagnostics judge that pre-clip norm (clipping hides an explosion, it
  does not cure it).
* A NaN or Inf in the loss or in any gradient stops the run with :class:`TrainingStopped` before
  the optimiser runs, so the weights stay as they were before that step.
* The engine keeps no history: each StepResult goes to the caller, who decides what to keep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, cast

import torch
from torch import nn

from bpviz.core.datasets import Dataset
from bpviz.core.diagnostics import Thresholds
from bpviz.core.errors import BpvizError, explain_torch_error
from bpviz.core.nonfinite import Culprit, first_nonfinite_tensor, kind_of, locate_backward, locate_forward
from bpviz.core.scenario import Scenario
from bpviz.core.torch_state import isolated
from bpviz.core.trace_record import Diagnostic
from bpviz.core.training_setup import LOSSES, TrainingError, build_problem, module_roots
from bpviz.core.training_stats import (
    GradNumbers,
    ParamStats,
    ReluWatch,
    clip_,
    finite_or_none,
    gradient_diagnostics,
    param_stats,
    read_numbers,
)

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "ParamStats",
    "StepResult",
    "TrainConfig",
    "Trainer",
    "TrainingError",
    "TrainingStopped",
]

OPTIMIZERS = ("sgd", "adam")
# torch.Generator.manual_seed takes 64 bits.
MAX_SEED = 2**64 - 1


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_lr_fits(lr: float, params: list[torch.Tensor]) -> None:
    """Raise TrainingError when ``lr`` is larger than the parameters' dtype can hold: the
    optimiser converts it to that dtype and torch fails with "cannot be converted ... without
    overflow" (1e300 is a finite float64, but not a float32)."""
    for p in params:
        if p.is_floating_point() and lr > torch.finfo(p.dtype).max:
            raise TrainingError(
                f"The learning rate {lr:g} is larger than a {str(p.dtype).removeprefix('torch.')} parameter can "
                f"hold (at most {torch.finfo(p.dtype).max:.3g}); try 0.01 or 0.1."
            )


@dataclass
class TrainConfig:
    """Settings of a training run; checked on creation (raises TrainingError, a BpvizError).

    ``lr`` None takes the scenario's ``lr``. ``batch_size`` None uses all rows each step and
    applies to datasets only: a scenario's own inputs are always one batch. ``loss`` None keeps
    the scenario's own loss (with a dataset and no ``loss_fn`` in the scenario: mse for
    regression, bce for a one-logit classifier, cross_entropy for one logit per class).
    ``dataset`` is a built-in name, a CSV path, a :class:`Dataset`, or None for the scenario's own
    inputs and target. ``momentum`` applies to sgd only. ``seed`` fixes the dataset and the batch
    order (not the model's initial weights, which the scenario made).
    """

    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float = 0.0
    batch_size: int | None = None
    steps: int = 100
    clip_norm: float | None = None
    zero_grad: bool = True
    seed: int = 0
    loss: str | None = None
    dataset: str | Dataset | None = None
    exploding: float = Thresholds.exploding
    vanishing: float = Thresholds.vanishing
    val_every: int = 20

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise TrainingError with one sentence for the first bad setting."""
        if self.optimizer not in OPTIMIZERS:
            raise TrainingError(f"Unknown optimizer '{self.optimizer}'; choose sgd or adam.")
        if self.lr is not None and not (_is_number(self.lr) and math.isfinite(self.lr) and self.lr > 0):
            raise TrainingError(f"The learning rate must be a positive number, got {self.lr!r}; try 0.01 or 0.1.")
        if not (_is_number(self.momentum) and 0 <= self.momentum < 1):
            raise TrainingError(f"Momentum must be a number from 0 up to (not including) 1, got {self.momentum!r}.")
        for name, value in (("steps", self.steps), ("batch size", self.batch_size), ("val_every", self.val_every)):
            if value is None and name == "batch size":
                continue
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise TrainingError(f"The {name} must be a whole number of at least 1, got {value!r}.")
        if self.clip_norm is not None and not (
            _is_number(self.clip_norm) and math.isfinite(self.clip_norm) and self.clip_norm > 0
        ):
            raise TrainingError(
                f"The clipping norm must be a positive number, got {self.clip_norm!r}; leave it unset to "
                "turn clipping off."
            )
        if self.loss is not None and self.loss not in LOSSES:
            raise TrainingError(f"Unknown loss '{self.loss}'; choose one of {', '.join(LOSSES)}.")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise TrainingError(f"The seed must be a whole number from 0 to {MAX_SEED} (2**64 - 1), got {self.seed!r}.")
        if not (_is_number(self.exploding) and _is_number(self.vanishing) and 0 < self.vanishing < self.exploding):
            raise TrainingError(
                f"The gradient thresholds need 0 < vanishing < exploding, got vanishing={self.vanishing!r} "
                f"and exploding={self.exploding!r}."
            )

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-ready values (a Dataset object is named)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if isinstance(self.dataset, Dataset):
            out["dataset"] = self.dataset.name
        return out


@dataclass(slots=True)
class StepResult:
    """What one optimisation step produced.

    ``step`` counts from 0; ``loss`` is the batch loss before this step's update; ``val_loss`` the
    validation loss on the same weights (None when not computed); ``params`` maps each trainable
    name to the ParamStats of the gradient used for the update; ``total_norm`` is the L2 norm over
    all those gradients, ``pre_clip_norm`` the same before clipping, ``clipped`` whether clipping
    scaled them; ``diagnostics`` lists none_grad, nonfinite, exploding, vanishing and dead_relu
    findings (node = the parameter name, or the ReLU module name / ``relu#k`` call).
    """

    step: int
    loss: float
    val_loss: float | None
    params: dict[str, ParamStats]
    total_norm: float
    pre_clip_norm: float
    clipped: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON form used by ``bpviz train --json`` (NaN and Inf become null)."""
        return {
            "step": self.step,
            "loss": finite_or_none(self.loss),
            "val_loss": finite_or_none(self.val_loss),
            "total_norm": finite_or_none(self.total_norm),
            "pre_clip_norm": finite_or_none(self.pre_clip_norm),
            "clipped": self.clipped,
            "params": {name: s.to_json() for name, s in self.params.items()},
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


class TrainingStopped(TrainingError):  # noqa: N818 - a public name; it is a TrainingError
    """A step produced a NaN or Inf; the update was not applied.

    ``step`` is the failing step, ``culprit`` where the value first appeared (or None), ``result``
    that step's StepResult (loss and gradient statistics as computed, with a nonfinite diagnostic).
    The parameters' ``.grad`` still hold that step's gradients, for inspection.
    """

    def __init__(self, message: str, step: int, culprit: Culprit | None, result: StepResult):
        super().__init__(message)
        self.step = step
        self.culprit = culprit
        self.result = result


class Trainer:
    """Runs optimisation steps on a scenario's trainable tensors (updated in place).

    Bad settings or data raise TrainingError here, before anything changes. Not thread-safe:
    drive one Trainer from one thread (a GUI worker thread is fine), read the weights there too,
    between steps (:meth:`param_values` copies them), and :meth:`close` it from that thread when
    done, so its forward hooks leave the model while nothing else runs it.
    """

    def __init__(self, scenario: Scenario, config: TrainConfig | None = None):
        self.scenario = scenario
        self.config = config = config or TrainConfig()
        self.lr = float(config.lr if config.lr is not None else scenario.lr)
        unsupported = scenario.unsupported_tensor(complex_ok=True)
        if unsupported is not None:
            raise TrainingError(unsupported)
        named = scenario.trainable()
        if not named and scenario.model is not None and scenario.module is None:
            raise TrainingError(
                f"'{scenario.title}' has nothing to train: its model is a function and no tensor it uses "
                "other than its inputs requires grad; create its weights with requires_grad=True."
            )
        if not named:
            raise TrainingError(
                f"'{scenario.title}' has nothing to train: no tensor requires grad; create the tensors "
                "to learn with requires_grad=True (or use nn.Parameter)."
            )
        self.names = [name for name, _ in named]
        self.params = [p for _, p in named]
        _check_lr_fits(self.lr, self.params)
        self._sizes = [p.numel() for p in self.params]
        self.problem = build_problem(scenario, config.dataset, config.loss, config.batch_size, config.seed)
        self._roots = module_roots(scenario)
        # Listed once: walking model.modules() costs more than the validation forward itself.
        self._modules = [m for _, root in self._roots for m in root.modules()]
        self._relu = ReluWatch(self._roots)
        state = list(self.params)
        if isinstance(scenario.model, nn.Module):
            seen = {id(t) for t in state}
            state += [t for t in (*scenario.model.parameters(), *scenario.model.buffers()) if id(t) not in seen]
        # Copies of the starting weights (and buffers): reset() writes them back in place, so
        # anyone holding the parameter tensors (the trace, the canvas) sees the reset.
        self._initial = [(t, t.detach().clone()) for t in state]
        self._optimizer = self._make_optimizer()
        self.step_index = 0

    def _make_optimizer(self) -> torch.optim.Optimizer:
        # foreach: torch's multi-tensor implementation of the same update (one call for all
        # parameters instead of one per parameter); on CPU torch defaults to the per-tensor loop.
        if self.config.optimizer == "adam":
            return torch.optim.Adam(self.params, lr=self.lr, foreach=True)
        return torch.optim.SGD(self.params, lr=self.lr, momentum=self.config.momentum, foreach=True)

    def step(self, validate: bool | None = None) -> StepResult:
        """One optimisation step. ``validate`` forces (True) or skips (False) the validation loss;
        None follows ``config.val_every``. Raises TrainingStopped on a NaN/Inf, TrainingError when
        the user's forward or backward fails."""
        index = self.step_index
        cfg = self.config
        batch = self.problem.batches.next()
        if cfg.zero_grad:
            for p in self.params:
                p.grad = None  # what optimizer.zero_grad() does, without its profiling wrapper
        try:
            # The scenario's own torch switches (grad mode, dtype, anomaly) for its pass only.
            with isolated(self.scenario.torch_state):
                with self._relu:
                    loss = self.problem.loss_of(batch)
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    raise TrainingError(
                        f"Step {index}: the loss is not a single number; reduce it with .mean() or .sum()."
                    )
                leaf = self.scenario.leaf_loss_problem(loss)
                if leaf is not None:
                    raise TrainingError(leaf)
                loss.backward()
        except BpvizError:
            raise
        except Exception as exc:  # the user's forward may raise anything
            raise TrainingError(
                f"Step {index} failed: {explain_torch_error(exc) or f'{type(exc).__name__}: {exc}'}"
            ) from exc
        grads = [p.grad for p in self.params]
        names, sizes, none_names = self.names, self._sizes, []
        if any(g is None for g in grads):  # rare: keep the fast path free of per-parameter bookkeeping
            none_names = [n for n, g in zip(names, grads) if g is None]
            names = [n for n, g in zip(names, grads) if g is not None]
            sizes = [s for s, g in zip(sizes, grads) if g is not None]
            grads = [g for g in grads if g is not None]
        present = cast("list[torch.Tensor]", grads)  # any None was filtered out just above
        nums = read_numbers(loss, present, self._relu.unit_sums())
        diagnostics = gradient_diagnostics(none_names, names, nums, cfg.exploding, cfg.vanishing, sizes)
        diagnostics += self._relu.diagnostics(nums.extra)
        if not (math.isfinite(nums.loss) and nums.finite()):
            self._stop(index, batch, nums, names, sizes, diagnostics)
        if validate is None:
            validate = index % cfg.val_every == 0
        val_loss = self.validation_loss() if validate else None
        coef = clip_(present, nums, cfg.clip_norm) if cfg.clip_norm is not None else 1.0
        self._optimizer.step()
        self.step_index += 1
        return StepResult(
            index,
            nums.loss,
            val_loss,
            param_stats(names, sizes, nums, coef),
            nums.total * coef,
            nums.total,
            coef < 1.0,
            diagnostics,
        )

    def run(self, n: int | None = None, should_stop: Callable[[], bool] | None = None) -> Iterator[StepResult]:
        """Yield the StepResults of up to ``n`` steps (``config.steps`` when None).

        ``should_stop()`` is asked before every step; returning True ends the run cleanly.
        Calling run again continues where it ended (weights, optimiser state, batch order).
        """
        n = self.config.steps if n is None else n
        for i in range(n):
            if should_stop is not None and should_stop():
                return
            yield self.step(validate=True if i == n - 1 and self.problem.val is not None else None)

    def next_pass(self) -> Scenario:
        """The pass the next :meth:`step` runs, as a scenario to trace: the next batch (the same
        one the step then draws) as inputs and target, and the loss the training uses. Traced
        with the current weights, its loss is that step's ``StepResult.loss``."""
        return self.problem.scenario_of(self.problem.batches.peek()) or self.scenario

    def describe_batch(self) -> str:
        """What the next step trains on, in a few words ("32 of 200 rows of two_moons")."""
        problem = self.problem
        if problem.dataset is None:
            return "the scenario's own batch"
        batches = problem.batches
        rows = "all" if batches.full else f"{batches.batch_size} of"
        return f"{rows} {batches.rows} rows of {problem.dataset.name}"

    def validation_loss(self) -> float | None:
        """The loss on the validation split with the current weights (eval mode, no grad)."""
        if self.problem.val is None:
            return None
        modes = [(m, m.training) for m in self._modules]
        try:
            for module, _ in modes:
                module.training = False
            with torch.no_grad():
                return float(self.problem.loss_of(self.problem.val))
        finally:
            for module, mode in modes:
                module.training = mode

    def reset(self) -> None:
        """Restore the weights (and buffers) to what they were when the Trainer was made, exactly;
        clear the gradients, the optimiser state, the batch order and the step count."""
        with torch.no_grad():
            for tensor, saved in self._initial:
                tensor.copy_(saved)
        for p in self.params:
            p.grad = None
        self._optimizer = self._make_optimizer()
        self.problem.batches.reset()
        self._relu.reset()
        self.step_index = 0

    def reconfigure(self, config: TrainConfig) -> None:
        """Switch settings between steps, keeping the current weights, the step count and the
        starting weights :meth:`reset` goes back to. The optimiser keeps its state (momentum,
        Adam moments) when only the learning rate changes, and starts afresh otherwise. Raises
        TrainingError, changing nothing, when the new settings do not fit."""
        lr = float(config.lr if config.lr is not None else self.scenario.lr)
        _check_lr_fits(lr, self.params)
        problem = build_problem(self.scenario, config.dataset, config.loss, config.batch_size, config.seed)
        old, self.config, self.problem = self.config, config, problem
        self.lr = lr
        if (config.optimizer, config.momentum) == (old.optimizer, old.momentum):
            for group in self._optimizer.param_groups:
                group["lr"] = self.lr
        else:
            self._optimizer = self._make_optimizer()

    def close(self) -> None:
        """Remove the engine's hooks from the model (also done when the Trainer is collected)."""
        self._relu.close()

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def param_values(self) -> dict[str, torch.Tensor]:
        """Detached copies of the trainable tensors, by name (safe to hand to another thread)."""
        return {name: p.detach().clone() for name, p in zip(self.names, self.params)}

    def _stop(
        self,
        index: int,
        batch: tuple[torch.Tensor, ...],
        nums: GradNumbers,
        names: list[str],
        sizes: list[int],
        diagnostics: list[Diagnostic],
    ) -> None:
        """Find where the NaN/Inf came from and raise TrainingStopped (no update is applied)."""
        forward = lambda: self.problem.loss_of(batch)  # noqa: E731 - re-runs this step's batch
        if not math.isfinite(nums.loss):
            what = f"the loss is {kind_of(nums.loss)}"
            named = list(zip(self.names, self.params))
            named += [(n, t) for n, t in self.scenario.named_tensors().values() if all(t is not p for p in self.params)]
            if self.problem.dataset is not None:
                named.append((f"the dataset '{self.problem.dataset.name}'", batch[0]))
            culprit = first_nonfinite_tensor(named) or locate_forward(forward, self._roots)
            advice = (
                f"lower the learning rate (now {self.lr:g}) or turn on gradient clipping"
                if index
                else "check the scenario's inputs and loss (it fails before any update)"
            )
        else:
            bad = next(n for n, m in zip(names, nums.max_abs) if not math.isfinite(m))
            what = f"the gradient of '{bad}' contains {kind_of(nums.max_abs[names.index(bad)])}"
            culprit = locate_backward(forward, self._roots, self.params)
            advice = "a log(0), a sqrt of 0 or of a negative number, or 0/0 is the usual cause"
        where = f"; it first appeared in {culprit.describe()}" if culprit else ""
        message = (
            f"Training stopped at step {index}: {what}{where}. The weights are kept as they were "
            f"before this step; {advice}."
        )
        detail = {"op": culprit.op, "module": culprit.module, "autograd": culprit.autograd} if culprit else {}
        diagnostics = [*diagnostics, Diagnostic("nonfinite", culprit.node if culprit else None, message, detail)]
        result = StepResult(
            index, nums.loss, None, param_stats(names, sizes, nums, 1.0), nums.total, nums.total, False, diagnostics
        )
        raise TrainingStopped(message, index, culprit, result)
