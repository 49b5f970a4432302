"""Import a model scenario into the builder: ``torch.fx.symbolic_trace`` turns the model into
call_module / call_function nodes, each of which becomes a block; the model's current weights are
kept as the blocks' values and its inputs and target become Input and Target blocks with their
values, so the imported network traces to the scenario's own numbers.

What cannot become a block (a module with no palette kind, an op with no block, a forward with
data-dependent control flow, a loss() closure) is named in one sentence and nothing is imported:
a half-imported network would compute something else without saying so.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from bpviz.core.network.arrange import arrange
from bpviz.core.network.catalogue import get_kind
from bpviz.core.network.commands import AddBlock, Connect
from bpviz.core.network.document import NAME_PATTERN, RESERVED_NAMES, Block, Network
from bpviz.core.network.errors import BuildError
from bpviz.core.network.properties import MAX_TENSOR_ELEMENTS
from bpviz.core.network.pycode import float32_short
from bpviz.core.scenario import Scenario

Spec = tuple[str, dict[str, Any]]  # (block kind, properties)


def _pair(value: Any) -> int | None:
    """An int from an int or a square pair, else None."""
    if isinstance(value, int):
        return value
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1] and isinstance(value[0], int):
        return value[0]
    return None


def _conv(m: nn.Conv2d) -> Spec | str:
    k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
    if None in (k, s, p) or _pair(m.dilation) != 1 or m.groups != 1 or m.padding_mode != "zeros":
        return "a Conv2d with a non-square kernel, stride or padding, dilation, groups or a padding mode"
    return "Conv2d", {
        "in_channels": m.in_channels,
        "out_channels": m.out_channels,
        "kernel_size": k,
        "stride": s,
        "padding": p,
        "bias": m.bias is not None,
    }


def _pool(m: nn.MaxPool2d) -> Spec | str:
    k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
    if None in (k, s, p) or _pair(m.dilation) != 1 or m.ceil_mode or m.return_indices:
        return "a MaxPool2d with a non-square window, dilation, ceil_mode or indices"
    return "MaxPool2d", {"kernel_size": k, "stride": None if s == k else s, "padding": p}


def _batchnorm(m: nn.BatchNorm1d) -> Spec | str:
    if not m.track_running_stats or m.momentum != 0.1:
        return "a BatchNorm1d without running statistics or with a momentum other than 0.1"
    return "BatchNorm1d", {"num_features": m.num_features, "eps": m.eps, "affine": m.affine}


def _layernorm(m: nn.LayerNorm) -> Spec | str:
    if m.elementwise_affine and m.bias is None:
        return "a LayerNorm without a bias"
    return "LayerNorm", {
        "normalized_shape": tuple(m.normalized_shape),
        "eps": m.eps,
        "elementwise_affine": m.elementwise_affine,
    }


def _dim(kind: str) -> Callable[[Any], Spec | str]:
    def spec(m: nn.Softmax | nn.LogSoftmax) -> Spec | str:
        return (kind, {"dim": m.dim}) if m.dim is not None else f"a {kind} without dim"

    return spec


# Exact types only: a subclass may change forward.
MODULES: dict[type, Callable[[Any], Spec | str]] = {
    nn.Linear: lambda m: (
        "Linear",
        {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None},
    ),
    nn.Conv2d: _conv,
    nn.MaxPool2d: _pool,
    nn.Flatten: lambda m: ("Flatten", {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    nn.ReLU: lambda m: ("ReLU", {}),
    nn.LeakyReLU: lambda m: ("LeakyReLU", {"negative_slope": m.negative_slope}),
    nn.Sigmoid: lambda m: ("Sigmoid", {}),
    nn.Tanh: lambda m: ("Tanh", {}),
    nn.GELU: lambda m: ("GELU", {"approximate": m.approximate}),
    nn.Softmax: _dim("Softmax"),
    nn.LogSoftmax: _dim("LogSoftmax"),
    nn.Dropout: lambda m: ("Dropout", {"p": m.p}),
    nn.BatchNorm1d: _batchnorm,
    nn.LayerNorm: _layernorm,
}
FUNCTIONS: dict[Any, str] = {
    operator.add: "Add",
    torch.add: "Add",
    operator.mul: "Mul",
    torch.mul: "Mul",
    torch.relu: "ReLU",
    nn.functional.relu: "ReLU",
    torch.sigmoid: "Sigmoid",
    torch.tanh: "Tanh",
}
METHODS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "add": "Add", "mul": "Mul"}
LOSSES: dict[Any, str] = {
    nn.functional.mse_loss: "MSELoss",
    nn.functional.cross_entropy: "CrossEntropyLoss",
    nn.functional.binary_cross_entropy: "BCELoss",
    nn.functional.binary_cross_entropy_with_logits: "BCEWithLogitsLoss",
}
LOSS_MODULES = {
    nn.MSELoss: "MSELoss",
    nn.CrossEntropyLoss: "CrossEntropyLoss",
    nn.BCELoss: "BCELoss",
    nn.BCEWithLogitsLoss: "BCEWithLogitsLoss",
}


def _loss_spec(loss_fn: Any) -> Spec | str:
    if loss_fn is None:
        return "MSELoss", {}  # what a scenario with a target and no loss_fn uses
    if loss_fn in LOSSES:
        return LOSSES[loss_fn], {}
    kind = LOSS_MODULES.get(type(loss_fn))
    if kind is None:
        return f"the loss function {getattr(loss_fn, '__name__', type(loss_fn).__name__)}"
    plain = type(loss_fn)()
    same = all(
        torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
        for a, b in ((getattr(loss_fn, k), getattr(plain, k)) for k in vars(plain) if not k.startswith("_"))
        if not (a is None and b is None)
    )
    extra = [n for n, _ in loss_fn.named_buffers()]
    if not same or extra or loss_fn.reduction not in ("mean", "sum"):
        return f"{kind} with settings other than its reduction"
    return kind, {"reduction": loss_fn.reduction}


def import_scenario(scenario: Scenario) -> Network:
    """A network that computes what ``scenario`` computes, or BuildError naming what cannot be
    imported."""
    if scenario.model is None or not isinstance(scenario.model, nn.Module):
        raise BuildError(
            "Only a model scenario (model, inputs, target) can be imported into the "
            "builder; a loss() function's Python cannot be turned into blocks."
        )
    # A model that is itself one layer (nn.Linear) would be traced into its functional call.
    root = nn.Sequential(scenario.model) if type(scenario.model) in MODULES else scenario.model
    try:
        graph = torch.fx.symbolic_trace(root).graph
    except Exception as exc:  # noqa: BLE001 - fx's own words say what it could not follow
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BuildError(
            f"torch.fx could not trace the model ({first[:200]}); a forward with "
            "data-dependent control flow cannot become blocks."
        ) from None
    modules = dict(root.named_modules())
    doc = Network(title=scenario.title[:200].replace("\n", " "), lr=scenario.lr)
    made: dict[str, str] = {}  # fx node name -> block id
    missing: list[str] = []
    inputs = list(scenario.inputs)
    # Named as the scenario names them (x, or x0, x1...), so the traces read alike.
    input_names = ["x"] if len(inputs) == 1 else [f"x{i}" for i in range(len(inputs))]
    output: torch.fx.node.Argument = None
    for node in graph.nodes:
        if node.op == "placeholder":
            if not inputs:
                missing.append(f"the model's argument {node.name} (the scenario gives no value for it)")
                continue
            made[node.name] = _source(doc, "Input", input_names.pop(0), inputs.pop(0), missing)
        elif node.op == "output":
            output = node.args[0]
        else:
            spec, args = _block_spec(node, modules)
            if isinstance(spec, str):
                missing.append(spec)
                continue
            if any(a not in made for a in args):
                continue  # fed by something already reported
            block = _add(doc, spec[0], node.name, spec[1])
            for port, a in zip(get_kind(spec[0]).inputs, args, strict=True):
                Connect(doc, made[a], block, port).do(doc)
            made[node.name] = block
            module = modules.get(node.target) if node.op == "call_module" else None
            if module is not None and any(True for _ in module.parameters()):
                doc.put_block(_with_values(doc.blocks[block], module))
    output_name = output.name if isinstance(output, torch.fx.Node) else ""
    if not output_name:
        missing.append("the model's output (it is not one tensor)")
    if missing:
        parts = "; ".join(dict.fromkeys(missing))
        raise BuildError(f"Could not import {parts} into the builder; only palette blocks can be imported.")
    end = made[output_name]
    if scenario.target is not None or scenario.loss_fn is not None:
        end = _loss(doc, scenario, end)
    arrange(doc).do(doc)
    return doc


def _block_spec(node: torch.fx.Node, modules: dict[str, nn.Module]) -> tuple[Spec | str, list[str]]:
    """(kind, props) and the fx names of the tensor arguments, or a sentence fragment."""
    # (A tensor constant in forward is an fx get_attr node too, and has no block.)
    tensors = [a.name for a in node.args if isinstance(a, torch.fx.Node)]
    if node.op == "call_module":
        module = modules[str(node.target)]  # a call_module's target is the module's name
        make = MODULES.get(type(module))
        if make is None:
            return f"{node.target} ({type(module).__name__} has no block)", []
        spec = make(module)
        return (f"{node.target} ({spec})" if isinstance(spec, str) else spec), tensors
    if node.op == "call_function" and node.target is torch.cat and not node.kwargs.keys() - {"dim"}:
        parts = node.args[0]
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        nodes = [p for p in parts if isinstance(p, torch.fx.Node)] if isinstance(parts, (list, tuple)) else []
        if isinstance(parts, (list, tuple)) and len(parts) == 2 and len(nodes) == 2:
            return ("Concat", {"dim": dim}), [p.name for p in nodes]
        return f"{node.name} (torch.cat of other than two tensors)", []
    if node.op == "call_function" and node.target is torch.flatten and not node.kwargs:
        start = node.args[1] if len(node.args) > 1 else 0
        end = node.args[2] if len(node.args) > 2 else -1
        return ("Flatten", {"start_dim": start, "end_dim": end}), tensors[:1]
    kind = (
        FUNCTIONS.get(node.target)
        if node.op == "call_function"
        else METHODS.get(str(node.target))
        if node.op == "call_method"
        else None
    )
    if kind is None or node.kwargs or len(tensors) != len(node.args) or len(tensors) != len(get_kind(kind).inputs):
        what = getattr(node.target, "__name__", str(node.target))
        return f"{node.name} ({node.op} {what} has no block)", []
    return (kind, {}), tensors


def _name(doc: Network, wanted: str, prefix: str) -> str:
    name = wanted.strip("_").replace(".", "_")
    if name[:1].isdigit():
        name = prefix + name
    taken = {b.name for b in doc.blocks.values()}
    if not NAME_PATTERN.match(name) or name in RESERVED_NAMES or name in taken or not name.isidentifier():
        name = doc.unique_name(prefix)
    return name


def _add(doc: Network, kind: str, wanted: str, props: dict[str, Any]) -> str:
    add = AddBlock(doc, kind, name=_name(doc, wanted, get_kind(kind).prefix), props=props)
    add.check(doc)
    add.do(doc)
    return add.block.id


def _source(doc: Network, kind: str, wanted: str, tensor: torch.Tensor, missing: list[str]) -> str:
    if tensor.numel() > MAX_TENSOR_ELEMENTS:
        missing.append(
            f"the tensor {wanted} ({tensor.numel():,} numbers, more than a network keeps: bind a dataset instead)"
        )
        return ""
    long = tensor.dtype == torch.long
    if not long and tensor.dtype != torch.float32:
        missing.append(f"the tensor {wanted} ({str(tensor.dtype).replace('torch.', '')}, not float32)")
        return ""
    value = tensor.detach().tolist() if long else float32_short(tensor.detach().tolist())
    props: dict[str, Any] = {"data": "values", "value": value}
    if kind == "Target":
        props["dtype"] = "long" if long else "float"
    elif long:
        missing.append(f"the tensor {wanted} (whole numbers; an input must be float32)")
        return ""
    return _add(doc, kind, wanted, props)


def _with_values(block: Block, module: nn.Module) -> Block:
    from dataclasses import replace

    from bpviz.core.network.values import validate_values

    values = {n: float32_short(p.detach().tolist()) for n, p in module.named_parameters()}
    return replace(block, values=validate_values(block.spec, block.props, values, block.name))


def _loss(doc: Network, scenario: Scenario, end: str) -> str:
    spec = _loss_spec(scenario.loss_fn)
    if isinstance(spec, str) or scenario.target is None or not isinstance(scenario.target, torch.Tensor):
        what = spec if isinstance(spec, str) else "a loss without a target tensor"
        raise BuildError(f"Could not import {what} into the builder; use MSE, cross-entropy or BCE.")
    missing: list[str] = []
    target = _source(doc, "Target", "target", scenario.target, missing)
    if missing:
        raise BuildError(f"Could not import {missing[0]} into the builder.")
    loss = _add(doc, spec[0], get_kind(spec[0]).prefix, spec[1])
    Connect(doc, end, loss, "input").do(doc)
    Connect(doc, target, loss, "target").do(doc)
    return loss
