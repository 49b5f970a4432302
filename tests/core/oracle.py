"""Plain torch as the oracle: gradients computed without bpviz."""

from __future__ import annotations

import copy

import torch

from bpviz.core.scenario import Scenario


def plain_param_grads(scenario: Scenario) -> dict[str, torch.Tensor | None]:
    """Each trainable tensor's gradient from a plain backward() on a copy of the scenario."""
    if scenario.model is not None:
        model = copy.deepcopy(scenario.model)
        out = model(*scenario.inputs)
        if scenario.target is None and scenario.loss_fn is None:
            loss = out
        else:
            loss_fn = scenario.loss_fn or torch.nn.functional.mse_loss
            loss = loss_fn(out, scenario.target) if scenario.target is not None else loss_fn(out)
        model.zero_grad()
        loss.backward()
        return {n: (p.grad.clone() if p.grad is not None else None) for n, p in model.named_parameters()}
    tensors = scenario.trainable()
    saved = [(t, t.grad) for _, t in tensors]
    for _, t in tensors:
        t.grad = None
    try:
        scenario.compute_loss().backward()
        return {n: (t.grad.clone() if t.grad is not None else None) for n, t in tensors}
    finally:
        for t, g in saved:
            t.grad = g


def plain_node_grads(loss: torch.Tensor) -> list[tuple[str, torch.Tensor | None]]:
    """(autograd class, gradient received) per autograd op node, in creation order."""
    nodes, stack, seen = [], [loss.grad_fn], {loss.grad_fn}
    while stack:
        gf = stack.pop()
        nodes.append(gf)
        for u, _ in gf.next_functions:
            if u is not None and not hasattr(u, "variable") and u not in seen:
                seen.add(u)
                stack.append(u)
    nodes.sort(key=lambda n: n._sequence_nr())
    got: dict = {}

    def hook_for(gf):
        def hook(grad_inputs, grad_outputs):
            got[gf] = grad_outputs[0].clone() if len(grad_outputs) == 1 and grad_outputs[0] is not None else None

        return hook

    handles = [gf.register_hook(hook_for(gf)) for gf in nodes]
    loss.backward()
    for h in handles:
        h.remove()
    return [(type(gf).__name__, got.get(gf)) for gf in nodes]


def plain_used_output_grads(loss: torch.Tensor) -> list[tuple[str, torch.Tensor | None]]:
    """Like :func:`plain_node_grads`, but a node with several outputs of which the graph uses
    one (group_norm's output, not its mean) gets that output's gradient; with several used,
    None."""
    nodes, stack, seen, used = [], [loss.grad_fn], {loss.grad_fn}, {}
    while stack:
        gf = stack.pop()
        nodes.append(gf)
        for u, nr in gf.next_functions:
            if u is not None and not hasattr(u, "variable"):
                used.setdefault(u, set()).add(nr)
                if u not in seen:
                    seen.add(u)
                    stack.append(u)
    nodes.sort(key=lambda n: n._sequence_nr())
    got: dict = {}

    def hook_for(gf):
        def hook(grad_inputs, grad_outputs):
            got[gf] = tuple(g.clone() if g is not None else None for g in grad_outputs)

        return hook

    handles = [gf.register_hook(hook_for(gf)) for gf in nodes]
    loss.backward()
    for h in handles:
        h.remove()
    out = []
    for gf in nodes:
        outs, nrs = got.get(gf), used.get(gf, {0})
        grad = outs[next(iter(nrs))] if outs is not None and len(nrs) == 1 else None
        out.append((type(gf).__name__, grad))
    return out
