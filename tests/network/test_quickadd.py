"""The quick-add menu offers the blocks that fit a wire's shape, with the settings that make them fit."""

from __future__ import annotations

from bpviz.core.network.commands import AddBlock, Connect, History
from bpviz.core.network.document import Network
from bpviz.core.network.quickadd import fitting_kinds
from bpviz.core.network.shapes import infer_shapes


def _source(shape):
    doc = Network()
    add = AddBlock(doc, "Input", props={"shape": shape})
    History(doc).push(add)
    return doc, add.block.id


def test_after_an_image_batch():
    doc, src = _source((8, 1, 4, 4))
    offered = dict(fitting_kinds(doc, src, "layer"))
    assert offered["Conv2d"]["in_channels"] == 1 and offered["Linear"]["in_features"] == 4
    assert offered["LayerNorm"]["normalized_shape"] == (4,)
    assert "BatchNorm1d" not in offered  # (N, C, H, W) is not BatchNorm1d's; no setting fixes that
    assert "Input" not in offered and "MSELoss" in offered  # two inputs: offered, checked once wired


def test_after_features_and_every_offer_really_fits():
    doc, src = _source((32, 8))
    offers = fitting_kinds(doc, src)
    offered = dict(offers)
    assert offered["Linear"]["in_features"] == 8 and offered["BatchNorm1d"]["num_features"] == 8
    assert "Conv2d" not in offered and "MaxPool2d" not in offered
    for kind, props in offers:
        trial = doc.copy()
        add = AddBlock(trial, kind, props=props)
        add.do(trial)
        Connect(trial, src, add.block.id, add.block.spec.inputs[0]).do(trial)
        issue = infer_shapes(trial).issues.get(add.block.id)
        assert issue is None or issue.port != add.block.spec.inputs[0], (kind, issue)
