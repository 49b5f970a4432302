"""Layer blocks: data sources bound to a tensor or a toy dataset, nn layers, and losses.

Module kinds build the same ``nn.Module`` their code export writes (``nn.Linear(10, 5)``), so a
network and its exported file draw the same initial weights from the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from bpviz.core.datasets import CLASSIFICATION, Dataset, dataset_names, make_dataset
from bpviz.core.network.catalogue import (
    LAYER,
    LOSS,
    MODULE,
    OP,
    SOURCE,
    Advice,
    BlockKind,
    Check,
    FixSpec,
    MakeModule,
    Props,
    register,
)
from bpviz.core.network.errors import BuildError
from bpviz.core.network.expression_blocks import broadcast_check
from bpviz.core.network.properties import BOOL, CHOICE, FLOAT, INT, INTS, OPTIONAL_INT, TENSOR, Prop, tensor_shape
from bpviz.core.network.pycode import call, tensor_literal

MAX_FEATURES = 65536
MAX_SAMPLES = 100_000
DATA_CHOICES = ("randn", "values", "dataset")


def _features(name: str, default: int, help_text: str) -> Prop:
    return Prop(name, INT, default, help_text, 1, MAX_FEATURES)


_DATA = Prop(
    "data",
    CHOICE,
    "randn",
    "where the tensor comes from: random normal (from the network's seed), the values below, or a toy dataset",
    choices=DATA_CHOICES,
)
_SHAPE = Prop("shape", INTS, (4, 2), "the shape of a randn tensor", 1, MAX_SAMPLES)
_VALUES = Prop("value", TENSOR, 0.0, "the values, when data is 'values'")
_DATASET = Prop("dataset", CHOICE, "xor", "the toy dataset, when data is 'dataset'", choices=tuple(dataset_names()))
_N = Prop("n", INT, 200, "samples drawn from the dataset (line always has 4)", 1, MAX_SAMPLES)


@lru_cache(maxsize=16)
def dataset(name: str, seed: int, n: int) -> Dataset:
    """A toy dataset, drawn once per (name, seed, n): shape inference asks for it on every edit."""
    return make_dataset(name, seed=seed, n=n)


def _dataset_code(props: Props, seed: str) -> str:
    return f"make_dataset({props['dataset']!r}, seed={seed}, n={props['n']})"


MAX_RANDN_ELEMENTS = 10_000_000


def _randn_shape(props: Props) -> tuple[int, ...]:
    shape = tuple(props["shape"])
    if math.prod(shape) > MAX_RANDN_ELEMENTS:
        raise BuildError(
            f"a randn tensor of shape {shape} holds more than {MAX_RANDN_ELEMENTS:,} numbers; give a smaller shape"
        )
    return shape


def _input_meta(props: Props, seed: int) -> torch.Tensor:
    if props["data"] == "randn":
        return torch.empty(_randn_shape(props), device="meta")
    if props["data"] == "values":
        return torch.empty(tensor_shape(props["value"]), device="meta")
    return torch.empty(dataset(props["dataset"], seed, props["n"]).X.shape, device="meta")


def _target_meta(props: Props, seed: int) -> torch.Tensor:
    long = props["dtype"] == "long"
    if props["data"] == "randn":
        if long:
            raise BuildError(_LONG_RANDN)
        shape = _randn_shape(props)
    elif props["data"] == "values":
        if long:
            _check_labels(props["value"])
        shape = tensor_shape(props["value"])
    else:
        data = dataset(props["dataset"], seed, props["n"])
        if long and data.kind != CLASSIFICATION:
            raise BuildError(
                f"{props['dataset']} is a regression dataset, so its targets are not "
                "class labels; set dtype to float or bind a classification dataset"
            )
        shape = (len(data),) if long else tuple(data.y.shape)
    return torch.empty(shape, device="meta", dtype=torch.long if long else torch.float32)


_LONG_RANDN = (
    "a long (class label) target cannot be drawn from randn; give its values or bind a dataset, or set dtype to float"
)


def _check_labels(value: Any) -> None:
    flat = torch.tensor(value, dtype=torch.float64).flatten()
    if not bool(torch.all(flat == flat.round())) or bool(torch.any(flat < 0)):
        raise BuildError(
            "a long target holds class labels 0, 1, 2...; make every value a whole "
            "number of at least 0, or set dtype to float"
        )


def _input(props: Props, seed: int) -> torch.Tensor:
    if props["data"] == "randn":
        return torch.randn(*_randn_shape(props))
    if props["data"] == "values":
        return torch.tensor(props["value"], dtype=torch.float32)
    return dataset(props["dataset"], seed, props["n"]).X.clone()


def _input_code(props: Props, args: list[str]) -> str:
    if props["data"] == "randn":
        return f"torch.randn({', '.join(map(str, props['shape']))})"
    if props["data"] == "values":
        return f"torch.tensor({tensor_literal(props['value'])})"
    return _dataset_code(props, args[0]) + ".X"


def _target(props: Props, seed: int) -> torch.Tensor:
    long = props["dtype"] == "long"
    if props["data"] == "randn":
        if long:
            raise BuildError(_LONG_RANDN)
        return torch.randn(*_randn_shape(props))
    if props["data"] == "values":
        if long:
            _check_labels(props["value"])
            return torch.tensor(props["value"], dtype=torch.float64).long()
        return torch.tensor(props["value"], dtype=torch.float32)
    data = dataset(props["dataset"], seed, props["n"])
    return data.labels() if long else data.y.clone()


def _target_code(props: Props, args: list[str]) -> str:
    long = props["dtype"] == "long"
    if props["data"] == "randn":
        return f"torch.randn({', '.join(map(str, props['shape']))})"
    if props["data"] == "values":
        return f"torch.tensor({tensor_literal(props['value'], as_int=long)})"
    return _dataset_code(props, args[0]) + (".labels()" if long else ".y")


# -- checks: one sentence and a fix before torch is asked ---------------------------------


def _linear_check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
    x = inputs[0]
    want = props["in_features"]
    if x.dim() == 0:
        return Advice(
            "Linear needs a tensor with features in its last dimension, not a single "
            "number; give the input a shape such as (N, features)"
        )
    if x.shape[-1] == want:
        return None
    fixes = []
    flat = math.prod(x.shape[1:]) if x.dim() > 2 else 0
    if flat == want:
        fixes.append(FixSpec("insert Flatten before this block", insert="Flatten"))
    fixes.append(FixSpec(f"set in_features to {x.shape[-1]}", prop="in_features", value=int(x.shape[-1])))
    return Advice(
        f"Linear expects {want} input features but the wire carries {tuple(x.shape)} (last size {x.shape[-1]})",
        fixes=tuple(fixes),
    )


def _channels_check(prop: str, dims: tuple[int, ...], what: str) -> Check:
    def check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
        x = inputs[0]
        if x.dim() not in dims:
            return Advice(
                f"{what} needs a tensor of {' or '.join(f'{d}' for d in dims)} dimensions "
                f"(N, C, ...) but the wire carries {tuple(x.shape)}; reshape the input"
            )
        channels = x.shape[1] if x.dim() == max(dims) else x.shape[0]
        if prop and channels != props[prop]:
            return Advice(
                f"{what} expects {props[prop]} channels but the wire carries {tuple(x.shape)} with {channels}",
                fixes=(FixSpec(f"set {prop} to {channels}", prop=prop, value=int(channels)),),
            )
        return None

    return check


def _batchnorm_check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
    x = inputs[0]
    if x.dim() not in (2, 3):
        return Advice(
            f"BatchNorm1d needs (N, C) or (N, C, L) but the wire carries {tuple(x.shape)}; "
            "insert Flatten before it or use LayerNorm",
            fixes=(FixSpec("insert Flatten before this block", insert="Flatten"),) if x.dim() > 3 else (),
        )
    if x.shape[1] != props["num_features"]:
        return Advice(
            f"BatchNorm1d expects {props['num_features']} features but the wire carries {tuple(x.shape)}",
            fixes=(FixSpec(f"set num_features to {x.shape[1]}", prop="num_features", value=int(x.shape[1])),),
        )
    return None


def _layernorm_check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
    x = inputs[0]
    want = tuple(props["normalized_shape"])
    have = tuple(x.shape[x.dim() - len(want) :]) if x.dim() >= len(want) else tuple(x.shape)
    if have != want:
        last = (int(x.shape[-1]),) if x.dim() else ()
        fixes = (FixSpec(f"set normalized_shape to {list(last)}", prop="normalized_shape", value=last),) if last else ()
        return Advice(
            f"LayerNorm normalises the last dimensions {want} but the wire carries {tuple(x.shape)}", fixes=fixes
        )
    return None


def _same_shape_loss(name: str) -> Check:
    def check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
        out, target = inputs
        if target.dtype != torch.float32:
            return Advice(
                f"{name} needs a float target, got {str(target.dtype).replace('torch.', '')}; "
                "set the target's dtype to float",
                port="target",
                fixes=(FixSpec("set the target's dtype to float", prop="dtype", value="float", on_port="target"),),
            )
        if tuple(out.shape) != tuple(target.shape):
            return Advice(
                f"{name} compares the output {tuple(out.shape)} with a target of a different "
                f"shape {tuple(target.shape)} (torch would broadcast them and average the "
                "wrong pairs); give the target the output's shape",
                port="target",
            )
        return None

    return check


def _cross_entropy_check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
    out, target = inputs
    if out.dim() not in (1, 2):
        return Advice(
            f"CrossEntropyLoss takes logits (N, C) or (C,) but the wire carries {tuple(out.shape)}; "
            "insert Flatten before it",
            port="input",
            fixes=(FixSpec("insert Flatten before this block", insert="Flatten"),) if out.dim() > 2 else (),
        )
    if target.dtype == torch.long:
        if tuple(target.shape) != tuple(out.shape[:-1]):
            return Advice(
                f"CrossEntropyLoss needs one class label per row of the logits {tuple(out.shape)}, "
                f"i.e. a target of shape {tuple(out.shape[:-1])}, got {tuple(target.shape)}",
                port="target",
            )
        return None
    if tuple(target.shape) != tuple(out.shape):
        fixes = (FixSpec("set the target's dtype to long", prop="dtype", value="long", on_port="target"),)
        return Advice(
            f"CrossEntropyLoss needs class labels (a long target of shape {tuple(out.shape[:-1])}) "
            f"or probabilities of the logits' shape {tuple(out.shape)}, got a float target "
            f"{tuple(target.shape)}",
            port="target",
            fixes=fixes,
        )
    return None


def _two_inputs(symbol: str) -> Check:
    return broadcast_check(symbol, "give both inputs the same shape")


def _concat_check(props: Props, inputs: list[torch.Tensor]) -> Advice | None:
    a, b = inputs
    d = props["dim"]
    if a.dim() != b.dim() or a.dim() == 0:
        return Advice(
            f"Concat joins tensors with the same number of dimensions (at least one), got "
            f"{tuple(a.shape)} and {tuple(b.shape)}",
            port="b",
        )
    if not -a.dim() <= d < a.dim():
        return Advice(f"dim {d} does not exist in {tuple(a.shape)}; set dim between {-a.dim()} and {a.dim() - 1}")
    k = d % a.dim()
    if tuple(a.shape[:k] + a.shape[k + 1 :]) != tuple(b.shape[:k] + b.shape[k + 1 :]):
        return Advice(
            f"Concat along dim {d} needs {tuple(a.shape)} and {tuple(b.shape)} to agree in "
            "every other dimension; change one of them",
            port="b",
        )
    return None


def _module(
    name: str,
    summary: str,
    prefix: str,
    props: tuple[Prop, ...],
    make: MakeModule,
    ctor: Callable[[Props], str],
    check: Check | None = None,
    role: str = MODULE,
    inputs: tuple[str, ...] = ("x",),
) -> BlockKind:
    return BlockKind(
        name=name,
        level=LAYER,
        role=role,
        summary=summary,
        prefix=prefix,
        inputs=inputs,
        props=props,
        module=make,
        code=lambda p, args: ctor(p),
        check=check,
    )


_REDUCTION = Prop("reduction", CHOICE, "mean", "average or add the per-element losses", choices=("mean", "sum"))
_LOSS_INPUTS = ("input", "target")
_DIM_PROP = Prop("dim", INT, -1, "the dimension the probabilities sum to 1 along", -6, 5)

register(
    BlockKind(
        name="Input",
        level=LAYER,
        role=SOURCE,
        prefix="x",
        summary="the network's input: a random tensor, values you give, or a toy dataset's X",
        props=(_DATA, _SHAPE, _VALUES, _DATASET, _N),
        op=_input,
        code=_input_code,
        meta=_input_meta,
    ),
    BlockKind(
        name="Target",
        level=LAYER,
        role=SOURCE,
        prefix="y",
        summary="what the loss compares with: a random tensor, values, or a dataset's y",
        props=(
            _DATA,
            Prop("shape", INTS, (4, 1), "the shape of a randn tensor", 1, MAX_SAMPLES),
            _VALUES,
            _DATASET,
            _N,
            Prop(
                "dtype",
                CHOICE,
                "float",
                "float targets, or long class labels for cross-entropy",
                choices=("float", "long"),
            ),
        ),
        op=_target,
        code=_target_code,
        meta=_target_meta,
    ),
    _module(
        "Linear",
        "y = x W^T + b",
        "fc",
        (
            _features("in_features", 2, "input features"),
            _features("out_features", 1, "output features"),
            Prop("bias", BOOL, True, "learn an additive bias"),
        ),
        lambda p: nn.Linear(p["in_features"], p["out_features"], bias=p["bias"]),
        lambda p: call("nn.Linear", [p["in_features"], p["out_features"]], [("bias", p["bias"], True)]),
        _linear_check,
    ),
    _module(
        "Conv2d",
        "2-D convolution over (N, C, H, W)",
        "conv",
        (
            _features("in_channels", 1, "input channels"),
            _features("out_channels", 4, "output channels"),
            Prop("kernel_size", INT, 3, "kernel height and width", 1, 64),
            Prop("stride", INT, 1, "step between kernel positions", 1, 64),
            Prop("padding", INT, 0, "zeros added on each side", 0, 64),
            Prop("bias", BOOL, True, "learn an additive bias"),
        ),
        lambda p: nn.Conv2d(
            p["in_channels"],
            p["out_channels"],
            p["kernel_size"],
            stride=p["stride"],
            padding=p["padding"],
            bias=p["bias"],
        ),
        lambda p: call(
            "nn.Conv2d",
            [p["in_channels"], p["out_channels"], p["kernel_size"]],
            [("stride", p["stride"], 1), ("padding", p["padding"], 0), ("bias", p["bias"], True)],
        ),
        _channels_check("in_channels", (3, 4), "Conv2d"),
    ),
    _module(
        "MaxPool2d",
        "the maximum of each kernel window",
        "pool",
        (
            Prop("kernel_size", INT, 2, "window height and width", 1, 64),
            Prop("stride", OPTIONAL_INT, None, "step between windows (empty: the kernel size)", 1, 64),
            Prop("padding", INT, 0, "padding on each side (at most half the kernel)", 0, 32),
        ),
        lambda p: nn.MaxPool2d(p["kernel_size"], stride=p["stride"], padding=p["padding"]),
        lambda p: call(
            "nn.MaxPool2d", [p["kernel_size"]], [("stride", p["stride"], None), ("padding", p["padding"], 0)]
        ),
        _channels_check("", (3, 4), "MaxPool2d"),
    ),
    _module(
        "Flatten",
        "merge dimensions start_dim..end_dim into one",
        "flatten",
        (
            Prop("start_dim", INT, 1, "first dimension to merge", -6, 5),
            Prop("end_dim", INT, -1, "last dimension to merge", -6, 5),
        ),
        lambda p: nn.Flatten(p["start_dim"], p["end_dim"]),
        lambda p: call("nn.Flatten", [], [("start_dim", p["start_dim"], 1), ("end_dim", p["end_dim"], -1)]),
    ),
    _module("ReLU", "max(x, 0)", "relu", (), lambda p: nn.ReLU(), lambda p: "nn.ReLU()"),
    _module(
        "LeakyReLU",
        "x, or negative_slope * x below 0",
        "lrelu",
        (Prop("negative_slope", FLOAT, 0.01, "slope below 0", 0.0, 1e3),),
        lambda p: nn.LeakyReLU(p["negative_slope"]),
        lambda p: call("nn.LeakyReLU", [], [("negative_slope", p["negative_slope"], 0.01)]),
    ),
    _module("Sigmoid", "1 / (1 + e ** -x)", "sigmoid", (), lambda p: nn.Sigmoid(), lambda p: "nn.Sigmoid()"),
    _module("Tanh", "hyperbolic tangent", "tanh", (), lambda p: nn.Tanh(), lambda p: "nn.Tanh()"),
    _module(
        "GELU",
        "x times the normal CDF of x",
        "gelu",
        (Prop("approximate", CHOICE, "none", "exact, or the tanh approximation", choices=("none", "tanh")),),
        lambda p: nn.GELU(approximate=p["approximate"]),
        lambda p: call("nn.GELU", [], [("approximate", p["approximate"], "none")]),
    ),
    _module(
        "Softmax",
        "e ** x normalised to sum to 1 along dim",
        "softmax",
        (_DIM_PROP,),
        lambda p: nn.Softmax(dim=p["dim"]),
        lambda p: f"nn.Softmax(dim={p['dim']})",
    ),
    _module(
        "LogSoftmax",
        "log of softmax, computed stably",
        "logsoftmax",
        (_DIM_PROP,),
        lambda p: nn.LogSoftmax(dim=p["dim"]),
        lambda p: f"nn.LogSoftmax(dim={p['dim']})",
    ),
    _module(
        "Dropout",
        "zero each element with probability p while training (random each pass)",
        "dropout",
        (Prop("p", FLOAT, 0.5, "probability of zeroing an element", 0.0, 1.0),),
        lambda p: nn.Dropout(p["p"]),
        lambda p: call("nn.Dropout", [], [("p", p["p"], 0.5)]),
    ),
    _module(
        "BatchNorm1d",
        "normalise each feature over the batch",
        "bn",
        (
            _features("num_features", 4, "features (C of (N, C) or (N, C, L))"),
            Prop("eps", FLOAT, 1e-5, "added to the variance", 1e-12, 1.0),
            Prop("affine", BOOL, True, "learn a scale and a shift"),
        ),
        lambda p: nn.BatchNorm1d(p["num_features"], eps=p["eps"], affine=p["affine"]),
        lambda p: call("nn.BatchNorm1d", [p["num_features"]], [("eps", p["eps"], 1e-5), ("affine", p["affine"], True)]),
        _batchnorm_check,
    ),
    _module(
        "LayerNorm",
        "normalise over the last dimensions of each sample",
        "ln",
        (
            Prop(
                "normalized_shape",
                INTS,
                (4,),
                "the last dimensions to normalise over",
                1,
                MAX_FEATURES,
                min_len=1,
                max_len=3,
            ),
            Prop("eps", FLOAT, 1e-5, "added to the variance", 1e-12, 1.0),
            Prop("elementwise_affine", BOOL, True, "learn a scale and a shift"),
        ),
        lambda p: nn.LayerNorm(list(p["normalized_shape"]), eps=p["eps"], elementwise_affine=p["elementwise_affine"]),
        lambda p: call(
            "nn.LayerNorm",
            [list(p["normalized_shape"])],
            [("eps", p["eps"], 1e-5), ("elementwise_affine", p["elementwise_affine"], True)],
        ),
        _layernorm_check,
    ),
    BlockKind(
        name="Add",
        level=LAYER,
        role=OP,
        summary="a + b (a residual connection)",
        prefix="res",
        inputs=("a", "b"),
        op=lambda props, a, b: a + b,
        code=lambda props, args: f"{args[0]} + {args[1]}",
        check=_two_inputs("+"),
    ),
    BlockKind(
        name="Mul",
        level=LAYER,
        role=OP,
        summary="a * b (a gate)",
        prefix="gate",
        inputs=("a", "b"),
        op=lambda props, a, b: a * b,
        code=lambda props, args: f"{args[0]} * {args[1]}",
        check=_two_inputs("*"),
    ),
    BlockKind(
        name="Concat",
        level=LAYER,
        role=OP,
        summary="join a and b along dim",
        prefix="cat",
        inputs=("a", "b"),
        props=(Prop("dim", INT, 1, "the dimension to join along", -6, 5),),
        op=lambda props, a, b: torch.cat([a, b], dim=props["dim"]),
        code=lambda props, args: f"torch.cat([{args[0]}, {args[1]}], dim={props['dim']})",
        check=_concat_check,
    ),
    _module(
        "MSELoss",
        "mean squared error between output and target",
        "mse",
        (_REDUCTION,),
        lambda p: nn.MSELoss(reduction=p["reduction"]),
        lambda p: call("nn.MSELoss", [], [("reduction", p["reduction"], "mean")]),
        _same_shape_loss("MSELoss"),
        role=LOSS,
        inputs=_LOSS_INPUTS,
    ),
    _module(
        "CrossEntropyLoss",
        "softmax cross-entropy of logits against class labels",
        "ce",
        (_REDUCTION,),
        lambda p: nn.CrossEntropyLoss(reduction=p["reduction"]),
        lambda p: call("nn.CrossEntropyLoss", [], [("reduction", p["reduction"], "mean")]),
        _cross_entropy_check,
        role=LOSS,
        inputs=_LOSS_INPUTS,
    ),
    _module(
        "BCELoss",
        "binary cross-entropy of probabilities (after a Sigmoid)",
        "bce",
        (_REDUCTION,),
        lambda p: nn.BCELoss(reduction=p["reduction"]),
        lambda p: call("nn.BCELoss", [], [("reduction", p["reduction"], "mean")]),
        _same_shape_loss("BCELoss"),
        role=LOSS,
        inputs=_LOSS_INPUTS,
    ),
    _module(
        "BCEWithLogitsLoss",
        "binary cross-entropy of logits (sigmoid built in, stable)",
        "bce",
        (_REDUCTION,),
        lambda p: nn.BCEWithLogitsLoss(reduction=p["reduction"]),
        lambda p: call("nn.BCEWithLogitsLoss", [], [("reduction", p["reduction"], "mean")]),
        _same_shape_loss("BCEWithLogitsLoss"),
        role=LOSS,
        inputs=_LOSS_INPUTS,
    ),
)
