"""Weights kept in the document (after training): saved and read back exactly, built over the
seed's draws, written into the exported file, and refused clearly when they no longer fit."""

from __future__ import annotations

import json

import pytest
import torch

from bpviz.core.network.build import build
from bpviz.core.network.codegen import to_python
from bpviz.core.network.commands import History, SetProperty
from bpviz.core.network.errors import BuildError, FormatError, NetworkError
from bpviz.core.network.fileformat import dumps, loads
from bpviz.core.network.shapes import infer_shapes
from bpviz.core.network.templates import make_template
from bpviz.core.network.values import SetValues, keep_values
from bpviz.core.trace import trace_scenario
from tests.network.helpers import assert_same, leaf_grads, trace_file
from tests.network.test_build import MIXED


def _trained(name="xor", steps=5):
    doc = make_template(name)
    built = build(doc)
    scenario = built.scenario
    params = [p for _, p in scenario.trainable()]
    opt = torch.optim.SGD(params, lr=0.5)
    for _ in range(steps):
        opt.zero_grad()
        scenario.compute_loss().backward()
        opt.step()
    return doc, built


def test_kept_weights_survive_save_build_and_code_export(tmp_path):
    doc, built = _trained()
    history = History(doc)
    history.push(keep_values(doc, built.modules))
    again = loads(dumps(doc))
    assert dumps(again) == dumps(doc)
    rebuilt = build(again)
    for b, module in built.modules.items():
        for (name, p), (_, q) in zip(module.named_parameters(), rebuilt.modules[b].named_parameters(), strict=True):
            assert torch.equal(p, q), name
    ours = trace_scenario(rebuilt.scenario)
    path = tmp_path / "trained.py"
    path.write_text(to_python(again))
    theirs = trace_file(path)
    assert ours.loss == theirs.loss
    assert_same(leaf_grads(ours), leaf_grads(theirs))
    assert ours.loss < trace_scenario(build(make_template("xor")).scenario).loss  # they are trained
    history.undo()
    assert not any(b.values for b in doc.blocks.values())


def test_keeping_one_block_leaves_the_others_seed_weights_alone():
    doc = make_template("mlp_10_5_1")
    fc1 = doc.by_name("fc1").id
    History(doc).push(SetValues(doc, fc1, {"bias": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    before, after = build(make_template("mlp_10_5_1")), build(doc)
    assert after.modules[fc1].bias.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert torch.equal(after.modules[fc1].weight, before.modules[fc1].weight)
    fc2 = doc.by_name("fc2").id
    assert torch.equal(after.modules[fc2].weight, before.modules[fc2].weight)
    assert torch.equal(after.scenario.inputs[0], before.scenario.inputs[0])


def test_weights_that_no_longer_fit_are_an_issue_with_a_reset_fix():
    doc = make_template("mlp_10_5_1")
    history = History(doc)
    fc2 = doc.by_name("fc2").id
    history.push(SetValues(doc, fc2, {"weight": [[0.5] * 5]}))
    history.push(SetProperty(doc, fc2, "in_features", 4))
    history.push(SetProperty(doc, doc.by_name("fc1").id, "out_features", 4))
    issue = infer_shapes(doc).issues[fc2]
    assert issue.message == (
        "fc2's saved weight has shape (1, 5) but the block now needs (1, 4) (the weights "
        "were kept before its settings changed)."
    )
    history.push(issue.fixes[0].command)
    assert infer_shapes(doc).ok and not doc.blocks[fc2].values
    history.undo()
    assert doc.blocks[fc2].values


@pytest.mark.parametrize(
    "values, message",
    [
        ({"bias": ["x"]}, "which is not a finite number"),
        ([1.0], "values must map parameter names"),
        ({"os.system": [1.0]}, "'os.system' cannot name a parameter"),
    ],
)
def test_bad_values_in_a_file_are_refused(values, message):
    data = json.loads(dumps(make_template("mlp_10_5_1")))
    data["blocks"][3]["values"] = values  # fc2
    with pytest.raises(FormatError) as info:
        loads(json.dumps(data))
    assert message in str(info.value) and "block 4 ('b4')" in str(info.value)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"weights": [[1.0]]}, "fc2 has saved values for weights, which it no longer has"),
        ({"bias": [1.0, 2.0]}, "fc2's saved bias has shape (2,) but the block now needs (1,)"),
    ],
)
def test_stale_values_in_a_file_open_and_say_how_to_fix_them(values, message):
    data = json.loads(dumps(make_template("mlp_10_5_1")))
    data["blocks"][3]["values"] = values
    doc = loads(json.dumps(data))
    assert dumps(loads(dumps(doc))) == dumps(doc)  # what the app saves, it opens
    with pytest.raises(BuildError) as info:
        build(doc)
    assert message in str(info.value) and "Fix: reset fc2's weights to the seed's." in str(info.value)


def test_set_values_checks_names_and_shapes():
    doc = make_template("mlp_10_5_1")
    fc2 = doc.by_name("fc2").id
    with pytest.raises(NetworkError, match=r"has no parameter 'weights' \(it has: weight, bias\)"):
        SetValues(doc, fc2, {"weights": [[1.0]]})
    with pytest.raises(NetworkError, match=r"the saved bias has shape \(2,\) but the block needs \(1,\)"):
        SetValues(doc, fc2, {"bias": [1.0, 2.0]})


def test_set_values_refuses_blocks_without_parameters():
    doc = make_template("mlp_10_5_1")
    with pytest.raises(NetworkError, match="a ReLU block has no parameter 'weight' \\(it has: none\\)"):
        SetValues(doc, doc.by_name("relu1").id, {"weight": [1.0]})


def test_kept_weights_in_an_expression_network_export(tmp_path):
    doc = loads(dumps(MIXED))
    fc = doc.by_name("fc").id
    History(doc).push(SetValues(doc, fc, {"weight": [[0.25, -0.5], [1.0, 0.0], [0.0, 1.5]]}))
    code = to_python(doc)
    assert "    fc.weight.copy_(torch.tensor([[0.25, -0.5], [1.0, 0.0], [0.0, 1.5]]))" in code
    path = tmp_path / "mixed.py"
    path.write_text(code)
    ours, theirs = trace_scenario(build(doc).scenario), trace_file(path)
    assert ours.loss == theirs.loss and ours.loss != trace_scenario(build(MIXED).scenario).loss
    assert_same(leaf_grads(ours), leaf_grads(theirs))
