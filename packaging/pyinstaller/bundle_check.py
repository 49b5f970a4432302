"""A scenario that `make package-test` traces with the bundle (``dist/bpviz/bpviz trace THIS``).

PyInstaller only bundles what it sees imported, and the spec leaves parts of torch and Qt out.
Loading this file inside the bundle imports every bpviz module and runs the parts of bpviz that
load torch lazily (the dense Jacobian of an edge, the finite-difference check, every toy
dataset), so a module missing from the bundle fails the check with the
import error instead of failing later in a user's hands. Then it defines ``loss()`` like any
scenario, so the trace command has something to trace.
"""

import importlib
import pkgutil

import torch
from torch import nn

import bpviz
from bpviz.core.datasets import dataset_names, make_dataset
from bpviz.core.gradcheck import finite_difference_check
from bpviz.core.scenario import scenario_from_model

# Every module of the app, the GUI included (importing Qt modules needs no display); not
# bpviz.__main__, which would run the command line, nor the lessons, which are scenarios.
for module in pkgutil.walk_packages(bpviz.__path__, "bpviz."):
    if module.name != "bpviz.__main__" and not module.name.startswith("bpviz.lessons."):
        importlib.import_module(module.name)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
inputs = torch.randn(5, 3)
target = torch.randn(5, 1)

# The dense Jacobian of one edge (the inspector's "Jacobian on demand").
_trace = bpviz.trace(model, inputs, target=target)
_edges = [(u, v) for u, v in _trace.graph.edges if _trace.jacobian(u, v) is not None]
assert _edges, "no edge of the check model has a dense Jacobian"

# `bpviz trace --gradcheck`'s comparison with finite differences.
assert finite_difference_check(scenario_from_model(model, inputs, target, None, "check")), (
    "the finite-difference check returned nothing"
)

# Every toy dataset of the training panel (SGD and Adam run in package-test's `train` calls).
for name in dataset_names():
    make_dataset(name, seed=0)


def loss():
    """The check model's MSE, for the trace command to trace."""
    return nn.functional.mse_loss(model(inputs), target)
