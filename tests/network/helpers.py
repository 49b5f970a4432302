"""Shared helpers of the network tests: leaf gradients of a trace, and a scenario file loaded."""

from __future__ import annotations

import torch

from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario


def leaf_grads(trace) -> dict[str, torch.Tensor]:
    """Name -> gradient of every leaf (parameter or input) that got one."""
    return {
        a["name"]: a["grad"]
        for _, a in trace.graph.nodes(data=True)
        if a["kind"] in ("param", "input") and a["grad"] is not None
    }


def trace_file(path) -> object:
    """Trace a scenario file the way `bpviz trace` does."""
    return trace_scenario(load_scenario(str(path)))


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    """Same names and bit-identical tensors."""
    assert sorted(a) == sorted(b)
    for name in a:
        assert torch.equal(a[name], b[name]), name
