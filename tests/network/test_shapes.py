"""Shape inference on the meta device agrees with real torch on every block for random valid
shapes; refused wires get one sentence and the fixes there are."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

from bpviz.core.network.catalogue import LOSS, MODULE, SOURCE, get_kind, kind_names
from bpviz.core.network.commands import AddBlock, Connect, History, SetProperty
from bpviz.core.network.document import Network
from bpviz.core.network.shapes import accepts, infer_shapes

SIDE = st.integers(1, 4)


def shape(min_dims=0, max_dims=4, min_side=1):
    return st.lists(st.integers(min_side, 4), min_size=min_dims, max_size=max_dims).map(tuple)


def _float_case(draw, kind):
    """(props, input tensors) for a random valid input of ``kind``."""
    name = kind.name
    if name in ("add", "sub", "mul", "div", "Add", "Mul"):
        shapes = draw(npst.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4)).input_shapes
        return {}, [torch.randn(s) for s in shapes]
    if name == "pow":
        return {"exponent": draw(st.sampled_from([2.0, 3.0, 0.5, -1.0]))}, [torch.rand(draw(shape())) + 0.5]
    if name in ("exp", "log", "tanh", "sigmoid", "relu", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Dropout"):
        props = {"approximate": draw(st.sampled_from(["none", "tanh"]))} if name == "GELU" else {}
        if name == "LeakyReLU":
            props = {"negative_slope": draw(st.floats(0, 2))}
        return props, [torch.rand(draw(shape())) + 0.5]
    if name in ("sum", "mean"):
        s = draw(shape())
        dim = draw(st.none() | st.integers(-max(len(s), 1), max(len(s), 1) - 1))
        return {"dim": dim, "keepdim": draw(st.booleans())}, [torch.randn(s)]
    if name == "matmul":
        n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
        a, b = draw(
            st.sampled_from(
                [
                    ((n, k), (k, m)),
                    ((k,), (k,)),
                    ((n, k), (k,)),
                    ((k,), (k, m)),
                    ((2, n, k), (k, m)),
                    ((2, n, k), (2, k, m)),
                ]
            )
        )
        return {}, [torch.randn(a), torch.randn(b)]
    if name == "Linear":
        i, o = draw(SIDE), draw(SIDE)
        return (
            {"in_features": i, "out_features": o, "bias": draw(st.booleans())},
            [torch.randn(*draw(shape(0, 2)), i)],
        )
    if name == "Conv2d":
        k, p, s = draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
        c = draw(SIDE)
        h, w = draw(st.integers(max(1, k - 2 * p), 6)), draw(st.integers(max(1, k - 2 * p), 6))
        batch = draw(st.sampled_from([(), (2,)]))
        return (
            {
                "in_channels": c,
                "out_channels": draw(SIDE),
                "kernel_size": k,
                "stride": s,
                "padding": p,
                "bias": draw(st.booleans()),
            },
            [torch.randn(*batch, c, h, w)],
        )
    if name == "MaxPool2d":
        k = draw(st.integers(1, 3))
        p = draw(st.integers(0, k // 2))
        stride = draw(st.none() | st.integers(1, 2))
        h, w = draw(st.integers(max(1, k - 2 * p), 6)), draw(st.integers(max(1, k - 2 * p), 6))
        batch = draw(st.sampled_from([(), (2,)]))
        return {"kernel_size": k, "stride": stride, "padding": p}, [torch.randn(*batch, 2, h, w)]
    if name == "Flatten":
        s = draw(shape(1, 4))
        start = draw(st.integers(0, len(s) - 1))
        end = draw(st.integers(start, len(s) - 1))
        # either index may be written from the end
        start = start - len(s) if draw(st.booleans()) else start
        end = end - len(s) if draw(st.booleans()) else end
        return {"start_dim": start, "end_dim": end}, [torch.randn(s)]
    if name in ("Softmax", "LogSoftmax"):
        s = draw(shape(1, 4))
        return {"dim": draw(st.integers(-len(s), len(s) - 1))}, [torch.randn(s)]
    if name == "BatchNorm1d":
        n, c = draw(st.integers(2, 4)), draw(SIDE)
        tail = draw(st.sampled_from([(), (3,)]))
        return ({"num_features": c, "affine": draw(st.booleans())}, [torch.randn(n, c, *tail)])
    if name == "LayerNorm":
        norm = draw(shape(1, 2))
        return (
            {"normalized_shape": norm, "elementwise_affine": draw(st.booleans())},
            [torch.randn(*draw(shape(0, 2)), *norm)],
        )
    if name == "Concat":
        s = list(draw(shape(1, 4)))
        d = draw(st.integers(-len(s), len(s) - 1))
        other = list(s)
        other[d] = draw(SIDE)
        return {"dim": d}, [torch.randn(s), torch.randn(other)]
    if name in ("MSELoss", "BCELoss", "BCEWithLogitsLoss"):
        s = draw(shape())
        return ({"reduction": draw(st.sampled_from(["mean", "sum"]))}, [torch.rand(s) * 0.8 + 0.1, torch.rand(s)])
    if name == "CrossEntropyLoss":
        n, c = draw(SIDE), draw(SIDE)
        batch = draw(st.sampled_from([(n,), ()]))
        target = torch.randint(0, c, batch) if draw(st.booleans()) else torch.softmax(torch.randn(*batch, c), -1)
        return {"reduction": draw(st.sampled_from(["mean", "sum"]))}, [torch.randn(*batch, c), target]
    raise AssertionError(f"no case for {name}")


def _doc_for(kind, props, tensors):
    """A document: one source per input (a randn Input, or a Target with the long labels), then
    the block under test."""
    doc = Network()
    h = History(doc)
    ids = []
    for t in tensors:
        if t.dtype == torch.long:
            add = AddBlock(doc, "Target", props={"data": "values", "value": t.tolist(), "dtype": "long"})
        else:
            add = AddBlock(doc, "Input", props={"data": "randn", "shape": tuple(t.shape)})
        h.push(add)
        ids.append(add.block.id)
    block = AddBlock(doc, kind.name, props=props)
    h.push(block)
    for port, src in zip(kind.inputs, ids, strict=True):
        h.push(Connect(doc, src, block.block.id, port))
    return doc, block.block.id


def _real(kind, props, tensors):
    full = kind.validate(props, "test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if kind.role in (MODULE, LOSS):
            return kind.module(full)(*tensors)
        return kind.op(full, *tensors)


OPS = [k for k in kind_names() if get_kind(k).role != SOURCE]


@pytest.mark.parametrize("name", OPS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_meta_shapes_agree_with_real_torch(name, data):
    kind = get_kind(name)
    props, tensors = _float_case(data.draw, kind)
    doc, block_id = _doc_for(kind, props, tensors)
    shapes = infer_shapes(doc)
    real = _real(kind, props, tensors)
    assert not shapes.issues, shapes.issues
    assert shapes.outputs[block_id] == tuple(real.shape)
    assert shapes.dtypes[block_id] == str(real.dtype).replace("torch.", "")
    for wire in doc.sorted_wires():
        assert shapes.wire_shape(wire) == tuple(tensors[kind.inputs.index(wire.port)].shape)


@settings(max_examples=40, deadline=None)
@given(a=shape(1, 3), b=shape(1, 3), name=st.sampled_from(["add", "matmul", "Concat", "MSELoss", "Linear"]))
def test_refusals_agree_with_real_torch(a, b, name):
    """Random, often impossible shapes: inference refuses exactly what torch refuses."""
    kind = get_kind(name)
    props = {"in_features": b[-1], "out_features": 2} if name == "Linear" else {}
    tensors = [torch.randn(a)] if name == "Linear" else [torch.randn(a), torch.randn(b)]
    doc, block_id = _doc_for(kind, props, tensors)
    shapes = infer_shapes(doc)
    try:
        real = _real(kind, props, tensors)
    except (RuntimeError, ValueError, IndexError, UserWarning):
        real = None
    if real is None:
        issue = shapes.issues[block_id]
        assert issue.message.endswith(".") and "\n" not in issue.message
        assert issue.message.startswith(doc.blocks[block_id].name + ":")
    else:
        assert not shapes.issues and shapes.outputs[block_id] == tuple(real.shape)


def _net(*blocks):
    """Blocks as (kind, name, props, input names); returns the document."""
    doc = Network()
    h = History(doc)
    for kind, name, props, inputs in blocks:
        add = AddBlock(doc, kind, name=name, props=props)
        h.push(add)
        for port, src in zip(get_kind(kind).inputs, inputs, strict=False):
            h.push(Connect(doc, doc.by_name(src).id, add.block.id, port))
    return doc, h


def test_linear_after_an_image_offers_flatten_and_the_fix_works():
    doc, h = _net(
        ("Input", "x", {"shape": (8, 1, 4, 4)}, ()), ("Linear", "fc", {"in_features": 16, "out_features": 3}, ("x",))
    )
    issue = infer_shapes(doc).issues[doc.by_name("fc").id]
    assert issue.port == "x"
    assert issue.message == ("fc: Linear expects 16 input features but the wire carries (8, 1, 4, 4) (last size 4).")
    assert [f.text for f in issue.fixes] == ["insert Flatten before this block", "set in_features to 4"]
    h.push(issue.fixes[0].command)
    shapes = infer_shapes(doc)
    assert shapes.ok and shapes.outputs[doc.by_name("fc").id] == (8, 3)
    flatten = doc.by_name("flatten1")
    assert shapes.outputs[flatten.id] == (8, 16)
    h.undo()
    assert "flatten1" not in {b.name for b in doc.blocks.values()}
    assert infer_shapes(doc).issues


def test_in_features_fix():
    doc, h = _net(
        ("Input", "x", {"shape": (5, 8)}, ()), ("Linear", "fc2", {"in_features": 10, "out_features": 1}, ("x",))
    )
    issue = infer_shapes(doc).issues[doc.by_name("fc2").id]
    assert [f.text for f in issue.fixes] == ["set in_features to 8"]
    h.push(issue.fixes[0].command)
    assert infer_shapes(doc).ok and doc.by_name("fc2").props["in_features"] == 8


@pytest.mark.parametrize(
    "kind, props, shape, fix, prop, value",
    [
        ("Conv2d", {"in_channels": 3}, (2, 1, 5, 5), "set in_channels to 1", "in_channels", 1),
        ("BatchNorm1d", {"num_features": 4}, (6, 3), "set num_features to 3", "num_features", 3),
        ("LayerNorm", {"normalized_shape": (4,)}, (6, 5), "set normalized_shape to [5]", "normalized_shape", (5,)),
    ],
)
def test_setting_fixes(kind, props, shape, fix, prop, value):
    doc, h = _net(("Input", "x", {"shape": shape}, ()), (kind, "b", props, ("x",)))
    issue = infer_shapes(doc).issues[doc.by_name("b").id]
    assert [f.text for f in issue.fixes] == [fix]
    h.push(issue.fixes[0].command)
    assert infer_shapes(doc).ok and doc.by_name("b").props[prop] == value


def test_cross_entropy_with_a_float_target_offers_long_labels():
    doc, h = _net(
        ("Input", "x", {"shape": (4, 3)}, ()),
        ("Target", "y", {"data": "values", "value": [0, 2, 1, 1]}, ()),
        ("CrossEntropyLoss", "ce", {}, ("x", "y")),
    )
    issue = infer_shapes(doc).issues[doc.by_name("ce").id]
    assert issue.port == "target"
    assert "class labels" in issue.message
    h.push(issue.fixes[0].command)
    assert infer_shapes(doc).ok and doc.by_name("y").props["dtype"] == "long"


def test_mse_refuses_a_broadcasting_target_and_downstream_has_no_issue():
    doc, _ = _net(
        ("Input", "x", {"shape": (32, 1)}, ()),
        ("Target", "y", {"shape": (32,)}, ()),
        ("MSELoss", "mse", {}, ("x", "y")),
        ("exp", "e", {}, ("mse",)),
    )
    shapes = infer_shapes(doc)
    assert list(shapes.issues) == [doc.by_name("mse").id]
    wire = doc.wires[(doc.by_name("mse").id, "target")]
    assert shapes.wire_issue(wire) is not None and shapes.wire_shape(wire) == (32,)
    assert doc.by_name("e").id not in shapes.outputs


def test_missing_input_is_named():
    doc, _ = _net(("value", "a", {}, ()), ("add", "s", {}, ("a",)))
    issue = infer_shapes(doc).issues[doc.by_name("s").id]
    assert issue.message == "s has no wire into its input 'b'; connect one."


def test_accepts_for_port_highlighting():
    doc, _ = _net(
        ("Input", "x", {"shape": (5, 8)}, ()),
        ("Linear", "good", {"in_features": 8}, ()),
        ("Linear", "bad", {"in_features": 3}, ()),
    )
    assert accepts(doc, doc.by_name("x").id, doc.by_name("good").id, "x") is None
    assert "expects 3 input features" in accepts(doc, doc.by_name("x").id, doc.by_name("bad").id, "x")
    assert "no input" in accepts(doc, doc.by_name("x").id, doc.by_name("good").id, "nope")
    assert not doc.wires  # trial only


def test_a_huge_layer_is_refused_without_allocating():
    doc, _ = _net(
        ("Input", "x", {"shape": (2, 60000)}, ()),
        ("Linear", "fc", {"in_features": 60000, "out_features": 60000}, ("x",)),
    )
    issue = infer_shapes(doc).issues[doc.by_name("fc").id]
    assert "3,600,060,000 parameters" in issue.message


def test_cached_results_still_name_each_block_and_follow_edits():
    doc, h = _net(
        ("Input", "x", {"shape": (5, 8)}, ()),
        ("Linear", "a", {"in_features": 3}, ("x",)),
        ("Linear", "b", {"in_features": 3}, ("x",)),
    )
    issues = infer_shapes(doc).issues
    assert issues[doc.by_name("a").id].message.startswith("a: ")
    assert issues[doc.by_name("b").id].message.startswith("b: ")
    h.push(SetProperty(doc, doc.by_name("x").id, "shape", (5, 3)))
    shapes = infer_shapes(doc)
    assert shapes.ok and shapes.outputs[doc.by_name("b").id] == (5, 1)
