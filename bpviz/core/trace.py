"""Trace one forward and backward pass into a graph of values, gradients and local derivatives.

Entry points: :func:`trace` (a user's model or closure) and :func:`trace_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import torch

from bpviz.core.diagnostics import Thresholds, diagnose
from bpviz.core.errors import BpvizError, TraceError, explain_torch_error
from bpviz.core.graph_builder import GraphBuilder
from bpviz.core.module_titles import module_titles
from bpviz.core.recorder import Recorder
from bpviz.core.scenario import Scenario, scenario_from_callable, scenario_from_model
from bpviz.core.torch_state import isolated
from bpviz.core.trace_record import Trace


def trace(
    model_or_closure: Any,
    inputs: Any = None,
    target: torch.Tensor | None = None,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    *,
    thresholds: Thresholds | None = None,
    title: str = "",
) -> Trace:
    """Trace ``model(inputs)`` (+ loss) or a zero-argument ``closure()`` returning a scalar loss.
    The model is an nn.Module or a plain function of the inputs.

    ``bpviz.trace(model, x, target=y)`` uses MSE unless ``loss_fn`` is given; without a target
    the model's output must be a scalar. Returns a :class:`~bpviz.core.trace_record.Trace`.
    """
    if inputs is None and target is None and loss_fn is None and not isinstance(model_or_closure, torch.nn.Module):
        if not callable(model_or_closure):
            raise BpvizError("bpviz.trace needs a model with inputs, or a zero-argument loss function.")
        scenario = scenario_from_callable(model_or_closure, title)
    else:
        if inputs is None:
            raise BpvizError("bpviz.trace(model, inputs): inputs are missing; pass the model's input tensor(s).")
        scenario = scenario_from_model(model_or_closure, inputs, target, loss_fn, title)
    return trace_scenario(scenario, thresholds)


def _forward(scenario: Scenario, recorder: Recorder) -> torch.Tensor:
    try:
        with recorder:
            loss = scenario.compute_loss()
    except BpvizError:
        raise
    except Exception as exc:  # the user's forward pass failed; say where
        advice = explain_torch_error(exc)
        where = scenario.source or "the scenario"
        if advice:
            raise TraceError(f"{where}: {advice}") from exc
        raise TraceError(
            f"{where}: the forward pass failed with {type(exc).__name__}: {exc}; fix the scenario."
        ) from exc
    if not isinstance(loss, torch.Tensor):
        raise TraceError(f"{scenario.source or 'The scenario'}: the loss must be a tensor, got {type(loss).__name__}.")
    if loss.is_complex() or loss.layout != torch.strided or loss.device.type == "meta":
        kind = "complex" if loss.is_complex() else "meta" if loss.device.type == "meta" else "sparse"
        raise TraceError(
            f"{scenario.source or 'The scenario'}: the loss is a {kind} tensor; bpviz needs a real, dense "
            "number on the CPU, e.g. take .abs() or .real of a complex loss."
        )
    if loss.numel() != 1:
        raise TraceError(
            f"{scenario.source or 'The scenario'}: the loss has shape {tuple(loss.shape)}, not a "
            "scalar; reduce it first, e.g. with .mean() or .sum(), or give a target and loss_fn."
        )
    leaf = scenario.leaf_loss_problem(loss)
    if leaf is not None:
        raise TraceError(leaf)
    if loss.grad_fn is None:
        raise TraceError(
            f"{scenario.source or 'The scenario'}: the loss does not depend on anything that "
            "requires grad; set requires_grad=True on the tensors to differentiate (or use nn.Parameter)."
        )
    return loss


def trace_scenario(scenario: Scenario, thresholds: Thresholds | None = None) -> Trace:
    """Run the scenario's forward pass under recording, then its backward pass with hooks, under
    the torch switches the scenario set (the caller's come back afterwards)."""
    with isolated(scenario.torch_state):
        return _trace(scenario, thresholds)


def _trace(scenario: Scenario, thresholds: Thresholds | None) -> Trace:
    if not torch.is_grad_enabled():
        raise TraceError(
            f"{scenario.source or 'The scenario'}: gradients are switched off (torch.set_grad_enabled(False) "
            "or torch.no_grad at the top of the file); remove that line so the backward pass can run."
        )
    index = scenario.module_index()
    named = scenario.named_tensors(index)
    unsupported = scenario.unsupported_tensor(named)
    if unsupported is not None:
        raise TraceError(unsupported)
    # The user's own function, whose local variables name the ops it makes (h = x * w -> "h").
    function = scenario.closure if scenario.closure is not None else scenario.model if scenario.module is None else None
    recorder = Recorder(index.names, index.modules, getattr(function, "__code__", None))
    loss = _forward(scenario, recorder)
    local_vars = {**(scenario.output_names() if scenario.output_names else {}), **recorder.closure_locals()}
    builder = GraphBuilder(loss, recorder.rec, named, scenario, index)
    builder.op_names = {
        v.grad_fn: k
        for k, v in local_vars.items()
        if isinstance(v, torch.Tensor) and v.grad_fn is not None and not k.startswith("_")
    }
    builder.walk()
    builder.compute_scalar_locals()
    builder.attach_data_nodes()
    try:
        builder.backward()
    except Exception as exc:  # autograd refused; translate its message
        advice = explain_torch_error(exc)
        raise TraceError(
            f"{scenario.source or 'The scenario'}: {advice or f'the backward pass failed: {exc}'}"
        ) from exc
    builder.add_unreached_trainables()
    graph: nx.DiGraph[str] = builder.graph
    tr = Trace(
        graph=graph,
        loss=float(loss.detach().reshape(())),
        loss_node=builder.loss_id,
        forward_order=builder.forward_order(),
        backward_order=builder.backward_order,
        diagnostics=[],
        title=scenario.title,
        lr=scenario.lr,
        module_titles=module_titles(index.names, index.modules),
        _autograd=builder.autograd_nodes(),
        _edge_values=builder.edge_outputs(),
    )
    tr.diagnostics = diagnose(tr, builder, thresholds or Thresholds())
    return tr
