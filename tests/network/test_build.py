"""Network -> Scenario and Python: networks of every form trace to the numbers of their exported
file; what stops a network from running is one sentence; .bpviz loads as a source everywhere."""

from __future__ import annotations

import pytest
import torch

from bpviz.core.errors import BpvizError
from bpviz.core.network.build import build
from bpviz.core.network.codegen import to_python
from bpviz.core.network.commands import AddBlock, Connect, History
from bpviz.core.network.document import Network
from bpviz.core.network.errors import BuildError
from bpviz.core.network.fileformat import save
from bpviz.core.network.source import NetworkSource
from bpviz.core.network.templates import make_template
from bpviz.core.scenario import load_scenario
from bpviz.core.sources import source_from_spec
from bpviz.core.trace import trace_scenario
from tests.network.helpers import assert_same, leaf_grads, trace_file


def net(*blocks, **settings):
    """Blocks as (kind, name, props, input names)."""
    doc = Network(**settings)
    h = History(doc)
    for kind, name, props, inputs in blocks:
        add = AddBlock(doc, kind, name=name, props=props)
        h.push(add)
        for port, src in zip(add.block.spec.inputs, inputs, strict=False):
            h.push(Connect(doc, doc.by_name(src).id, add.block.id, port))
    return doc


CNN = net(
    ("Input", "img", {"shape": (4, 1, 6, 6)}, ()),
    ("Conv2d", "conv", {"in_channels": 1, "out_channels": 3, "kernel_size": 3, "padding": 1}, ("img",)),
    ("MaxPool2d", "pool", {"kernel_size": 2}, ("conv",)),
    ("GELU", "act", {}, ("pool",)),
    ("Flatten", "flat", {}, ("act",)),
    ("Linear", "fc", {"in_features": 27, "out_features": 3}, ("flat",)),
    ("LogSoftmax", "logp", {"dim": 1}, ("fc",)),
    ("Target", "labels", {"data": "values", "value": [0, 2, 1, 1], "dtype": "long"}, ()),
    ("CrossEntropyLoss", "ce", {}, ("logp", "labels")),
    seed=3,
)

BRANCHY = net(
    ("Input", "a", {"shape": (5, 3)}, ()),
    ("Input", "b", {"data": "values", "value": [[1.0, -2.0]] * 5}, ()),
    ("Linear", "fa", {"in_features": 3, "out_features": 4}, ("a",)),
    ("Concat", "cat", {"dim": 1}, ("fa", "b")),
    ("LayerNorm", "ln", {"normalized_shape": (6,)}, ("cat",)),
    ("BatchNorm1d", "bn", {"num_features": 6}, ("ln",)),
    ("Sigmoid", "gate", {}, ("bn",)),
    ("Mul", "gated", {}, ("gate", "cat")),
    ("LeakyReLU", "lr1", {"negative_slope": 0.2}, ("gated",)),
    ("Linear", "head", {"in_features": 6, "out_features": 1}, ("lr1",)),
    ("Sigmoid", "p", {}, ("head",)),
    ("Target", "y", {"data": "values", "value": [[1.0], [0.0], [1.0], [1.0], [0.0]]}, ()),
    ("BCELoss", "bce", {}, ("p", "y")),
    seed=7,
)

MIXED = net(
    ("value", "w", {"value": [[0.5, -1.0, 2.0]]}, ()),
    ("Input", "x", {"data": "dataset", "dataset": "circles", "n": 10}, ()),
    ("Linear", "fc", {"in_features": 2, "out_features": 3, "bias": False}, ("x",)),
    ("Tanh", "t", {}, ("fc",)),
    ("mul", "m", {}, ("t", "w")),
    ("Softmax", "sm", {"dim": 1}, ("m",)),
    ("Dropout", "drop", {"p": 0.0}, ("sm",)),
    ("sigmoid", "s", {}, ("drop",)),
    ("value", "v", {"value": [[1.0], [0.5], [-1.0]]}, ()),
    ("matmul", "mm", {}, ("s", "v")),
    ("constant", "two", {"value": 2.0}, ()),
    ("div", "d", {}, ("mm", "two")),
    ("exp", "e", {}, ("d",)),
    ("log", "lg", {}, ("e",)),
    ("sub", "diff", {}, ("two", "lg")),
    ("relu", "r", {}, ("diff",)),
    ("pow", "sq", {"exponent": 1.5}, ("r",)),
    ("mean", "avg", {"dim": 0}, ("sq",)),
    ("sum", "total", {}, ("avg",)),
    seed=11,
)


@pytest.mark.parametrize(
    "doc, mode, chain",
    [(CNN, "model", True), (BRANCHY, "model", False), (MIXED, "loss", False)],
    ids=["cnn-chain", "branchy-module", "mixed-expression"],
)
def test_every_form_traces_to_the_numbers_of_its_exported_file(doc, mode, chain, tmp_path):
    built = build(doc)
    assert (built.plan.mode, built.plan.chain) == (mode, chain)
    ours = trace_scenario(built.scenario)
    path = tmp_path / "net.py"
    path.write_text(to_python(doc))
    theirs = trace_file(path)
    assert ours.loss == theirs.loss
    assert_same(leaf_grads(ours), leaf_grads(theirs))
    assert any(g.abs().sum() > 0 for g in leaf_grads(ours).values())


def test_cnn_equals_hand_written_torch():
    from torch import nn

    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.MaxPool2d(2), nn.GELU(), nn.Flatten(), nn.Linear(27, 3), nn.LogSoftmax(dim=1)
    )
    img = torch.randn(4, 1, 6, 6)
    loss = nn.CrossEntropyLoss()(model(img), torch.tensor([0, 2, 1, 1]))
    loss.backward()
    scenario = build(CNN).scenario
    ours = scenario.compute_loss()
    ours.backward()
    assert torch.equal(ours.detach(), loss.detach())
    for a, b in zip(scenario.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a.grad, b.grad)


def test_leaves_and_modules_carry_the_block_names():
    trace = trace_scenario(build(MIXED).scenario)
    names = {a["name"] for _, a in trace.graph.nodes(data=True)}
    assert {"w", "x", "two", "fc.weight"} <= names


@pytest.mark.parametrize(
    "doc, message",
    [
        (Network(), "The network is empty"),
        (net(("value", "a", {}, ())), "no operation yet"),
        (
            net(("value", "a", {}, ()), ("exp", "e1", {}, ("a",)), ("exp", "e2", {}, ("a",))),
            "The network has 2 ends (e1, e2)",
        ),
        (
            net(("value", "a", {"value": [1.0, 2.0]}, ()), ("exp", "e", {}, ("a",))),
            "The end block e gives (2,), not a single number; add a sum or mean",
        ),
        (net(("value", "a", {}, ()), ("add", "s", {}, ("a",))), "s has no wire into its input 'b'"),
        (
            net(
                ("Input", "x", {"shape": (5, 8)}, ()),
                ("Linear", "fc", {"in_features": 3}, ("x",)),
                ("Target", "y", {"shape": (5, 1)}, ()),
                ("MSELoss", "mse", {}, ("fc", "y")),
            ),
            "fc: Linear expects 3 input features but the wire carries (5, 8) (last size 8). Fix: set in_features to 8.",
        ),
        (
            net(
                ("Input", "x", {"shape": (5, 3)}, ()),
                ("Target", "y", {"shape": (5,), "dtype": "long"}, ()),
                ("CrossEntropyLoss", "ce", {}, ("x", "y")),
            ),
            "a long (class label) target cannot be drawn from randn",
        ),
    ],
)
def test_what_stops_a_network_is_one_sentence(doc, message):
    with pytest.raises(BuildError) as info:
        build(doc)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_network_source_and_load_scenario_read_bpviz_files(tmp_path):
    path = tmp_path / "chain.bpviz"
    save(make_template("chain56"), path)
    source = source_from_spec(str(path))
    assert isinstance(source, NetworkSource)
    assert source.recent_path == str(path) and source.stem == "chain" and source.folder == str(tmp_path)
    assert trace_scenario(source.load()).loss == 49.0
    assert trace_scenario(load_scenario(path)).loss == 49.0
    doc = make_template("relu_two_weights")
    memory = NetworkSource(document=doc)
    assert memory.label == doc.title and memory.recent_path is None
    assert leaf_grads(trace_scenario(memory.load()))["w1"].tolist() == [-9.0]


def test_a_model_network_trains_on_a_copy_and_an_expression_network_in_place():
    source = NetworkSource(document=make_template("mlp_10_5_1"))
    scenario = source.load()
    copy = source.training_scenario(scenario)
    assert copy.model is not scenario.model
    expr = NetworkSource(document=make_template("chain56"))
    s = expr.load()
    assert expr.training_scenario(s) is s


def test_a_broken_file_loads_as_a_one_line_error(tmp_path):
    path = tmp_path / "bad.bpviz"
    path.write_text('{"format": "bpviz-network", "version": 1, "blocks": [}')
    with pytest.raises(BpvizError, match="not valid JSON at line 1"):
        load_scenario(path)


def test_class_labels_come_only_from_a_classification_dataset():
    doc = net(
        ("Input", "x", {"data": "dataset", "dataset": "sine", "n": 20}, ()),
        ("Linear", "fc", {"in_features": 1, "out_features": 2}, ("x",)),
        ("Target", "y", {"data": "dataset", "dataset": "sine", "n": 20, "dtype": "long"}, ()),
        ("CrossEntropyLoss", "ce", {}, ("fc", "y")),
    )
    with pytest.raises(BuildError, match="sine is a regression dataset, so its targets are not class labels"):
        build(doc)
    circles = net(
        ("Input", "x", {"data": "dataset", "dataset": "circles", "n": 20}, ()),
        ("Linear", "fc", {"in_features": 2, "out_features": 2}, ("x",)),
        ("Target", "y", {"data": "dataset", "dataset": "circles", "n": 20, "dtype": "long"}, ()),
        ("CrossEntropyLoss", "ce", {}, ("fc", "y")),
    )
    assert trace_scenario(build(circles).scenario).loss > 0
