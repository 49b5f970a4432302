"""Hand-built traces for the canvas tests, with the real numbers of the seeds.

The chain x -> x^2 -> +3 -> ^2 at x = 2: values 2, 4, 7, 49; gradients 56, 14, 14, 1; edge local
derivatives 4 (x -> sq), 1 (sq -> add), 14 (add -> loss).
"""

from __future__ import annotations

import networkx as nx
import torch

from bpviz.core.graph_records import edge_record, node_record
from bpviz.core.trace_record import Diagnostic, Trace


def _t(v):
    return None if v is None else torch.tensor(v, dtype=torch.float32)


def _node(g, nid, kind, name, op, value, grad, requires_grad=True, shape=()):
    g.add_node(
        nid,
        **node_record(
            kind,
            name,
            op=op,
            shape=tuple(shape),
            dtype="float32",
            value=_t(value),
            grad=_t(grad),
            requires_grad=requires_grad,
        ),
    )


def chain_trace(lr: float = 0.1, unused_param: bool = False) -> Trace:
    """The 56 chain; ``unused_param`` adds a parameter ``w`` whose branch is detached (no grad)."""
    g = nx.DiGraph()
    _node(g, "x", "input", "x", "", 2.0, 56.0)
    _node(g, "sq", "op", "pow", "pow", 4.0, 14.0)
    _node(g, "c3", "constant", "3", "", 3.0, None, requires_grad=False)
    _node(g, "add", "op", "add", "add", 7.0, 14.0)
    _node(g, "loss", "loss", "loss", "pow", 49.0, 1.0)
    g.add_edge("x", "sq", **edge_record([0], grad=_t(56.0), local=4.0))
    g.add_edge("sq", "add", **edge_record([0], grad=_t(14.0), local=1.0))
    g.add_edge("c3", "add", **edge_record([1]))
    g.add_edge("add", "loss", **edge_record([0], grad=_t(14.0), local=14.0))
    diagnostics = []
    backward = ["loss", "add", "sq", "x"]
    forward = ["sq", "add", "loss"]
    if unused_param:
        _node(g, "w", "param", "w", "", [[0.5, -1.0], [2.0, 0.25]], None, shape=(2, 2))
        _node(g, "wsum", "op", "sum", "sum", 1.75, None, requires_grad=False)
        g.add_edge("w", "wsum", **edge_record([0], detached=True))
        g.add_edge("wsum", "add", **edge_record([2], detached=True))
        forward = ["wsum", "sq", "add", "loss"]
        diagnostics.append(Diagnostic("none_grad", "w", "w.grad is None: its path to the loss goes through .detach()."))
    return Trace(
        graph=g,
        loss=49.0,
        loss_node="loss",
        forward_order=forward,
        backward_order=backward,
        diagnostics=diagnostics,
        title="x -> x^2 -> +3 -> ^2 at x = 2",
        lr=lr,
    )


def matrix_trace() -> Trace:
    """A tiny matrix graph: W (3x4) @ v (4) -> y (3) -> sum -> loss, for tables and heatmaps."""
    g = nx.DiGraph()
    W = torch.arange(12.0).reshape(3, 4) / 10
    v = torch.tensor([1.0, -1.0, 0.5, 2.0])
    y = W @ v
    big = torch.linspace(-1, 1, 40).reshape(5, 8)
    g.add_node(
        "W",
        **node_record(
            "param",
            "W",
            module="fc",
            shape=(3, 4),
            dtype="float32",
            value=W,
            grad=torch.ones(3, 1) * v,
            requires_grad=True,
        ),
    )
    g.add_node("v", **node_record("input", "v", shape=(4,), dtype="float32", value=v))
    g.add_node(
        "B",
        **node_record(
            "param", "B", module="fc", shape=(5, 8), dtype="float32", value=big, grad=big * 0.5, requires_grad=True
        ),
    )
    g.add_node(
        "y",
        **node_record(
            "op",
            "mv",
            op="mv",
            autograd="MvBackward0",
            module="fc",
            shape=(3,),
            dtype="float32",
            value=y,
            grad=torch.ones(3),
            requires_grad=True,
        ),
    )
    g.add_node(
        "loss",
        **node_record(
            "loss",
            "sum",
            op="sum",
            autograd="SumBackward0",
            dtype="float32",
            value=y.sum() + big.sum(),
            grad=torch.tensor(1.0),
            requires_grad=True,
        ),
    )
    g.add_edge("W", "y", **edge_record([0], grad=torch.ones(3, 1) * v))
    g.add_edge("v", "y", **edge_record([1]))
    g.add_edge("y", "loss", **edge_record([0], grad=torch.ones(3)))
    g.add_edge("B", "loss", **edge_record([1], grad=big * 0.5))
    return Trace(
        graph=g,
        loss=float(y.sum() + big.sum()),
        loss_node="loss",
        forward_order=["y", "loss"],
        backward_order=["loss", "y", "W", "B"],
        diagnostics=[],
        title="matrix",
        lr=0.1,
    )
