"""Diagnostics: where NaN/Inf first appears, thresholds, missing gradients."""

import torch

import bpviz
from bpviz.core.diagnostics import Thresholds, dead_units


def kinds(tr):
    return [(d.kind, tr.node(d.node)["op"] if d.node else None, d.detail.get("pass")) for d in tr.diagnostics]


def test_nan_in_forward_is_located_at_its_first_op():
    w = torch.tensor([1.0, -4.0], requires_grad=True)

    def loss():
        h = w * 2
        r = torch.sqrt(h)  # sqrt(-8) = NaN
        return (r * 3).sum()

    tr = bpviz.trace(loss)
    assert ("nonfinite", "sqrt", "forward") in kinds(tr)
    assert ("nonfinite", "sqrt", "backward") in kinds(tr)


def test_intentional_minus_inf_mask_is_not_reported():
    scores = torch.randn(2, 4, requires_grad=True)
    mask = torch.tensor([[False, True, False, True], [True, False, False, False]])

    def loss():
        masked = scores.masked_fill(mask, float("-inf"))
        return torch.softmax(masked, dim=1)[:, 0].sum()

    tr = bpviz.trace(loss)
    assert not [d for d in tr.diagnostics if d.kind == "nonfinite"]
    assert torch.isinf(tr.node(tr.find("masked"))["value"]).any()


def test_thresholds_are_configurable():
    w = torch.nn.Parameter(torch.tensor([3.0]))

    def loss():
        return (w * 2).sum()

    assert not bpviz.trace(loss).diagnostics
    tr = bpviz.trace(loss, thresholds=Thresholds(exploding=1.0))
    assert [d.kind for d in tr.diagnostics] == ["exploding"]
    tr = bpviz.trace(loss, thresholds=Thresholds(vanishing=5.0))
    assert [d.kind for d in tr.diagnostics] == ["vanishing"]


def test_dead_units_per_feature_and_per_channel():
    assert dead_units(torch.tensor([[0.0, 1.0, 0.0], [0.0, 2.0, 0.5]])) == [0]
    conv = torch.zeros(2, 3, 4, 4)
    conv[1, 2, 3, 3] = 1.0
    assert dead_units(conv) == [0, 1]
    assert dead_units(torch.tensor([0.0, 1.0])) == [0]
