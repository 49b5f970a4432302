"""Finite-difference gradient check in float64, for small graphs."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from bpviz.core.errors import BpvizError
from bpviz.core.scenario import Scenario

MAX_CHECKED_ELEMENTS = 5000


@contextmanager
def _float64(scenario: Scenario) -> Iterator[Scenario]:
    """The scenario in float64: a copied nn.Module model, or the tensors of a closure or a plain
    function model switched in place (a copy of a function would still use the originals)."""
    module = scenario.module
    if module is not None:
        model = copy.deepcopy(module).double()

        def cast(t: torch.Tensor) -> torch.Tensor:
            return t.double() if t.is_floating_point() else t

        target = cast(scenario.target) if scenario.target is not None else None  # inputs are tensors
        yield Scenario(
            title=scenario.title,
            model=model,
            inputs=tuple(cast(t) for t in scenario.inputs),
            target=target,
            loss_fn=scenario.loss_fn,
            namespace={},
        )
        return
    saved = []
    # Every tensor it names: the namespace's, its modules' parameters and buffers, the inputs.
    for _, value in scenario.named_tensors().values():
        if value.is_leaf and value.is_floating_point():
            saved.append((value, value.data))
            value.data = value.data.double()
    try:
        yield scenario
    finally:
        for tensor, data in saved:
            tensor.data = data


def finite_difference_check(scenario: Scenario, eps: float = 1e-6) -> dict[str, float]:
    """Max |autograd - central difference| per trainable tensor, computed in float64."""
    with _float64(scenario) as sc:
        params = sc.trainable()
        total = sum(p.numel() for _, p in params)
        if total > MAX_CHECKED_ELEMENTS:
            raise BpvizError(
                f"The gradient check is for small graphs: {total} parameters is more than "
                f"{MAX_CHECKED_ELEMENTS}; check a smaller model."
            )
        tensors = [p for _, p in params]
        loss = sc.compute_loss()
        grads = torch.autograd.grad(loss, tensors, allow_unused=True)
        errors: dict[str, float] = {}
        with torch.no_grad():
            for (name, p), g in zip(params, grads):
                flat = p.view(-1)
                worst = 0.0
                for i in range(flat.numel()):
                    old = float(flat[i])
                    flat[i] = old + eps
                    up = float(sc.compute_loss())
                    flat[i] = old - eps
                    down = float(sc.compute_loss())
                    flat[i] = old
                    numeric = (up - down) / (2 * eps)
                    analytic = float(g.reshape(-1)[i]) if g is not None else 0.0
                    worst = max(worst, abs(numeric - analytic))
                errors[name] = worst
    return errors
