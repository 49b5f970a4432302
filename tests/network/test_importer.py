"""Importing model scenarios through torch.fx: every model lesson becomes a network with the
lesson's exact numbers; what cannot become blocks is named, and nothing half-imported is made."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bpviz.core.network.build import build
from bpviz.core.network.errors import BuildError
from bpviz.core.network.fileformat import dumps, loads
from bpviz.core.network.importer import import_scenario
from bpviz.core.scenario import load_scenario, scenario_from_model
from bpviz.core.trace import trace_scenario
from tests.network.helpers import leaf_grads

MODEL_LESSONS = ["dead_relu", "deep_relu", "linear_batch", "linear_fit", "mlp_10_5_1", "residual_mlp", "xor_mlp"]


@pytest.mark.parametrize("name", MODEL_LESSONS)
def test_model_lessons_import_with_their_exact_numbers(name):
    lesson = trace_scenario(load_scenario(f"lesson:{name}"))
    doc = loads(dumps(import_scenario(load_scenario(f"lesson:{name}"))))  # through the file, too
    ours = trace_scenario(build(doc).scenario)
    assert ours.loss == lesson.loss
    a = sorted(g.flatten().tolist() for g in leaf_grads(ours).values())
    b = sorted(g.flatten().tolist() for g in leaf_grads(lesson).values())
    assert a == b
    assert "x" in leaf_grads(ours) or "x" in {n["name"] for _, n in ours.graph.nodes(data=True)}


def test_functions_methods_and_concat_become_blocks():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 4)
            self.b = nn.Linear(3, 2)
            self.norm = nn.LayerNorm(6)
            self.head = nn.Linear(6, 3)

        def forward(self, x):
            h = torch.cat([torch.relu(self.a(x)), self.b(x).tanh()], dim=1)
            return self.head(self.norm(h) * torch.sigmoid(h))

    torch.manual_seed(1)
    scenario = scenario_from_model(
        Net(), torch.randn(5, 3), target=torch.tensor([0, 2, 1, 1, 0]), loss_fn=nn.CrossEntropyLoss()
    )
    doc = import_scenario(scenario)
    kinds = sorted(b.kind for b in doc.blocks.values())
    assert kinds == sorted(
        [
            "Input",
            "Linear",
            "Linear",
            "ReLU",
            "Tanh",
            "Concat",
            "LayerNorm",
            "Sigmoid",
            "Mul",
            "Linear",
            "Target",
            "CrossEntropyLoss",
        ]
    )
    assert trace_scenario(build(doc).scenario).loss == trace_scenario(scenario).loss


@pytest.mark.parametrize(
    "model, message",
    [
        (nn.Sequential(nn.Linear(2, 2), nn.GRUCell(2, 2)), "1 (GRUCell has no block)"),
        (nn.Sequential(nn.Conv2d(1, 1, (1, 3))), "a Conv2d with a non-square kernel"),
    ],
)
def test_what_has_no_block_is_named(model, message):
    scenario = scenario_from_model(
        model, torch.randn(4, 2) if isinstance(model[0], nn.Linear) else torch.randn(1, 1, 4, 4)
    )
    with pytest.raises(BuildError) as info:
        import_scenario(scenario)
    assert message in str(info.value) and str(info.value).startswith("Could not import")


def test_data_dependent_control_flow_is_explained():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x) if x.sum() > 0 else -self.fc(x)

    with pytest.raises(BuildError, match=r"torch\.fx could not trace the model .*data-dependent control flow"):
        import_scenario(scenario_from_model(Branchy(), torch.randn(3, 2)))


def test_a_loss_closure_cannot_be_imported():
    with pytest.raises(BuildError, match="Only a model scenario"):
        import_scenario(load_scenario("lesson:chain56"))


def test_a_custom_loss_function_is_named():
    scenario = scenario_from_model(
        nn.Linear(2, 1), torch.randn(3, 2), target=torch.randn(3, 1), loss_fn=lambda out, t: (out - t).abs().mean()
    )
    with pytest.raises(BuildError, match="Could not import the loss function <lambda>"):
        import_scenario(scenario)
