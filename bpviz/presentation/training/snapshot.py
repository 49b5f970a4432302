"""What the training worker hands the window besides the step results: a fresh trace of the
scenario with the current weights, histograms of one parameter, and the model's fit.

Everything here runs on the training worker thread, between two optimiser steps, so it never
races with the optimiser; it imports no Qt and creates nothing the UI thread owns. The numbers
come from the core (the trace, the Trainer's tensors and data); this module only packs them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from bpviz.core.datasets import CLASSIFICATION
from bpviz.core.diagnostics import Thresholds
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.core.trace_record import Diagnostic, Trace
from bpviz.core.training import Trainer
from bpviz.core.training_setup import module_roots

if TYPE_CHECKING:
    from bpviz.core.scenario import Scenario

HIST_BINS = 30
FIT_POINTS_1D = 200
FIT_GRID_2D = 90
# Scatter plots slow down with many points and say nothing more: draw at most this many.
MAX_SCATTER = 600


@dataclass
class Histograms:
    """Histograms of one parameter's values and gradient: bin ``edges`` and ``counts`` each."""

    name: str
    value_edges: np.ndarray
    value_counts: np.ndarray
    grad_edges: np.ndarray | None = None
    grad_counts: np.ndarray | None = None


@dataclass
class FitData:
    """The data a fit plot draws under the model: ``X`` (n, 1 or 2) and ``y`` (n,).

    ``grid`` is the x values (1-D) or the two axes of the square grid (2-D) the model is
    evaluated on; ``classes`` says whether the output is read as a class-1 probability.
    """

    label: str
    X: np.ndarray
    y: np.ndarray
    classes: bool
    grid: tuple[np.ndarray, ...]

    @property
    def dims(self) -> int:
        """1 for a curve over x, 2 for a decision surface over (x1, x2)."""
        return int(self.X.shape[1])


@dataclass
class Snapshot:
    """The canvas's next trace (shown at ``position``), plus plot data for the other docks.

    The trace is the pass of step ``step`` (counted from 0 since the last reset): that step's
    batch (``batch`` says which data) and the weights it started from, so the canvas's loss is
    that step's loss. ``ran`` says whether the step has run (during a run) or is the next one
    (the weights a run ended with, on the batch the next step will take).

    ``fit_data`` is the same object for every snapshot of one Trainer, so the UI sets up the
    fit plot only when it changes and then only updates ``fit_values``.
    """

    trace: Trace
    sequence: StepSequence
    position: int
    histograms: Histograms | None = None
    fit_values: np.ndarray | None = None
    fit_data: FitData | None = None
    seconds: float = 0.0
    step: int = 0
    batch: str = ""
    ran: bool = False

    def describe(self) -> str:
        """What the canvas shows, for the training panel: which step's pass, on what data."""
        which = f"step {self.step + 1:,}" if self.ran else f"the next step ({self.step + 1:,})"
        return f"Canvas: {which} on {self.batch}, loss {self.trace.loss:.4g}"


def state_tensors(scenario: Scenario) -> list[torch.Tensor]:
    """The tensors training changes: the trainable ones, then the model's other parameters and
    buffers (what Trainer.reset restores)."""
    state = [p for _, p in scenario.trainable()]
    if isinstance(scenario.model, nn.Module):
        seen = {id(t) for t in state}
        state += [t for t in (*scenario.model.parameters(), *scenario.model.buffers()) if id(t) not in seen]
    return state


def copy_into(tensors: list[torch.Tensor], values: list[torch.Tensor]) -> None:
    """Write ``values`` into ``tensors`` in place (whoever holds the tensors sees the change)."""
    with torch.no_grad():
        for t, v in zip(tensors, values):
            t.copy_(v)


def retrace(trainer: Trainer, step_diagnostics: Iterable[Diagnostic] = ()) -> tuple[Trace, StepSequence, int]:
    """Trace the pass the trainer's next step runs (its batch, its loss) with the current weights.

    The trace runs the model in whatever mode it is in, which would move BatchNorm running
    statistics: the buffers are put back afterwards so tracing never changes the training.
    Diagnostics of the last training step are added to the trace's own (badges on the canvas).
    """
    scenario = trainer.scenario
    buffers = list(scenario.model.buffers()) if isinstance(scenario.model, nn.Module) else []
    saved = [b.detach().clone() for b in buffers]
    try:
        trace = trace_scenario(trainer.next_pass(), Thresholds(trainer.config.exploding, trainer.config.vanishing))
    finally:
        copy_into(buffers, saved)
    trace.diagnostics = merge_diagnostics(trace, step_diagnostics)
    sequence = StepSequence(trace, lr=trainer.lr)
    # The end of the backward pass: every gradient shown, and no "param - lr x grad" line, which
    # would be wrong for momentum and Adam.
    return trace, sequence, max(0, sequence.last - 1)


def merge_diagnostics(trace: Trace, step_diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The trace's diagnostics plus the training step's, re-pointed at trace node ids.

    The engine names a parameter (``0.weight``), an op (``mse_loss``, where a NaN appeared) or
    a ReLU (module ``1``, or ``relu#2`` for the second functional call); the canvas needs node
    ids. One finding per (kind, node).
    """
    out = list(trace.diagnostics)
    seen = {(d.kind, d.node) for d in out}
    by_name: dict[str, str] = {}
    relus: list[tuple[str, str]] = []
    for node in trace.forward_order:
        a = trace.graph.nodes[node]
        if a["op"] == "relu":
            relus.append((node, a["module"]))
    # Leaves first: a parameter's name wins over an op that happens to share it.
    nodes = sorted(trace.graph.nodes.items(), key=lambda na: na[1]["kind"] in ("op", "loss"))
    for node, a in nodes:
        by_name.setdefault(a["name"], node)
    for d in step_diagnostics:
        at: str | None = None
        if d.node in by_name:
            at = by_name[d.node]
        elif d.kind == "dead_relu" and d.node:
            if d.node.startswith("relu#") and d.node[5:].isdigit() and int(d.node[5:]) <= len(relus):
                at = relus[int(d.node[5:]) - 1][0]
            else:
                at = next((n for n, module in relus if module == d.node), None)
        if (d.kind, at) not in seen:
            seen.add((d.kind, at))
            out.append(replace(d, node=at))
    return out


def _histogram(t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    values = t.detach().reshape(-1).double().numpy()
    values = values[np.isfinite(values)]
    if not len(values):
        return np.array([0.0, 1.0]), np.array([0.0])
    lo, hi = float(values.min()), float(values.max())
    # All values (nearly) equal, e.g. a single weight: a bin of width 1 around them, or of
    # their own size for huge values (numpy cannot split a range below float resolution).
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi), 1e-300):
        half = max(abs(lo) * 0.05, 0.5) if abs(lo) < 1e300 else abs(lo) * 0.05
        return np.array([lo - half, lo + half]), np.array([float(len(values))])
    counts, edges = np.histogram(values, bins=HIST_BINS, range=(lo, hi))
    return edges, counts.astype(np.float64)


def histograms(trainer: Trainer, name: str) -> Histograms | None:
    """Histograms of parameter ``name`` (the first one if there is none of that name) and of
    its current ``.grad``, which is the gradient the last step used."""
    if name not in trainer.names:
        if not trainer.names:
            return None
        name = trainer.names[0]
    p = trainer.params[trainer.names.index(name)]
    edges, counts = _histogram(p)
    out = Histograms(name, edges, counts)
    if p.grad is not None:
        out.grad_edges, out.grad_counts = _histogram(p.grad)
    return out


class FitProbe:
    """Evaluates the model on a grid over the training data (1 or 2 input features).

    Built once per Trainer; :meth:`values` is called for each snapshot. Without a model (an
    nn.Module or a plain function), or with data that are not one or two features and one target
    per sample, ``data`` is None.
    """

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.data: FitData | None = None
        self._grid: torch.Tensor | None = None
        if trainer.scenario.model is None:
            return
        problem, scenario = trainer.problem, trainer.scenario
        if problem.dataset is not None:
            X, y, label = problem.dataset.X, problem.dataset.y, problem.dataset.name
            classes = problem.dataset.kind == CLASSIFICATION
        elif len(scenario.inputs) == 1 and scenario.target is not None:
            X, y, label, classes = scenario.inputs[0], scenario.target, "the scenario's batch", False
        else:
            return
        if X.dim() != 2 or X.shape[1] not in (1, 2) or y.numel() != X.shape[0]:
            return
        self._classes = classes
        self._loss = problem.loss_name
        Xn = X.detach().double().numpy()
        yn = y.detach().reshape(-1).double().numpy()
        keep = np.linspace(0, len(Xn) - 1, min(len(Xn), MAX_SCATTER)).astype(int)
        lo, hi = Xn.min(axis=0), Xn.max(axis=0)
        pad = np.where(hi > lo, (hi - lo) * 0.08, 0.5)
        lo, hi = lo - pad, hi + pad
        module = scenario.module
        weights = module.parameters() if module is not None else trainer.params
        dtype = next((p.dtype for p in weights if p.is_floating_point()), torch.float32)
        if X.shape[1] == 1:
            xs = np.linspace(lo[0], hi[0], FIT_POINTS_1D)
            grid: tuple[np.ndarray, ...] = (xs,)
            self._grid = torch.tensor(xs, dtype=dtype).reshape(-1, 1)
        else:
            gx = np.linspace(lo[0], hi[0], FIT_GRID_2D)
            gy = np.linspace(lo[1], hi[1], FIT_GRID_2D)
            grid = (gx, gy)
            mx, my = np.meshgrid(gx, gy, indexing="ij")
            self._grid = torch.tensor(np.stack([mx.ravel(), my.ravel()], 1), dtype=dtype)
        self.data = FitData(label, Xn[keep], yn[keep], classes, grid)

    def values(self) -> np.ndarray | None:
        """The model's output on the grid (a class-1 probability for classifiers), eval mode."""
        grid = self._grid
        if self.data is None or grid is None:  # both are set together, for a module's scenario
            return None
        model = self.trainer.scenario.model
        assert model is not None  # the scenario had a model when the probe was built
        modes = [(m, m.training) for _, root in module_roots(self.trainer.scenario) for m in root.modules()]
        try:
            for m, _ in modes:
                m.training = False
            with torch.no_grad():
                out = model(grid)
        except Exception:  # noqa: BLE001 - a fit plot is optional; the training goes on
            return None
        finally:
            for m, mode in modes:
                m.training = mode
        if not isinstance(out, torch.Tensor) or out.shape[0] != grid.shape[0]:
            return None
        out = out.detach().double().reshape(out.shape[0], -1)
        if out.shape[1] == 1:
            v = torch.sigmoid(out[:, 0]) if self._loss == "bce" or self._is_bce_module() else out[:, 0]
        elif out.shape[1] == 2:
            v = torch.softmax(out, dim=1)[:, 1]
        else:
            v = out.argmax(dim=1).double() / (out.shape[1] - 1)
        values = v.numpy()
        if self.data.dims == 2:
            values = values.reshape(len(self.data.grid[0]), len(self.data.grid[1]))
        return values

    def _is_bce_module(self) -> bool:
        return isinstance(self.trainer.scenario.loss_fn, nn.BCEWithLogitsLoss)


PHRASES = {
    "exploding": "exploding gradient",
    "vanishing": "vanishing gradient",
    "dead_relu": "dead ReLU units",
    "none_grad": "no gradient",
    "nonfinite": "NaN/Inf",
}
# An event is logged when a finding appears that was not seen in this many previous steps:
# findings that flicker from batch to batch would otherwise fill the log.
QUIET_STEPS = 50
MAX_NAMES = 4


class EventLog:
    """Turns per-step diagnostics into log lines such as "step 120: exploding gradient in 0.weight"."""

    def __init__(self, quiet: int = QUIET_STEPS):
        self.quiet = quiet
        self._last: dict[tuple[str, str], int] = {}

    def reset(self) -> None:
        """Forget what was seen (weights reset: every finding is news again)."""
        self._last.clear()

    def feed(self, step: int, diagnostics: Iterable[Diagnostic]) -> list[str]:
        """Log lines for the findings of ``step`` that are new; one line per kind."""
        fresh: dict[str, list[str]] = {}
        for d in diagnostics:
            key = (d.kind, d.node or "")
            last = self._last.get(key)
            self._last[key] = step
            if last is None or step - last > self.quiet:
                fresh.setdefault(d.kind, []).append(_where(d))
        lines = []
        for kind, names in fresh.items():
            shown = ", ".join(names[:MAX_NAMES])
            more = f" (+{len(names) - MAX_NAMES} more)" if len(names) > MAX_NAMES else ""
            lines.append(f"step {step}: {PHRASES.get(kind, kind)} in {shown}{more}")
        return lines


def _where(d: Diagnostic) -> str:
    name = d.node or "the model"
    detail = d.detail or {}
    if "norm" in detail and d.kind in ("exploding", "vanishing"):
        return f"{name} (norm {detail['norm']:.3g})"
    if d.kind == "dead_relu" and "dead" in detail:
        return f"{name} ({detail['dead']} of {detail['units']})"
    return name
