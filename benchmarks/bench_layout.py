"""Benchmark: bpviz's pure-Python layered layout against graphviz ``dot -Tplain``.

Builds the autograd graphs of a ResNet-18-like conv net, a 20-layer MLP and a 300-layer MLP,
lays each out with :func:`bpviz.core.layout.layered_layout` and with ``dot``, and prints the
median times and the edge crossings of both, counted by the same definition
(:func:`bpviz.core.crossings.count_crossings`; dot's y ranks become layers and its edge splines give
the bends of long edges).

Target: the ResNet-18-like layout in at most 0.25x the time of ``dot -Tplain`` with no more
crossings. ``--strict`` exits with status 1 when it is missed (timings on shared machines are
noisy, so plain runs only report). Run: ``.venv/bin/python benchmarks/bench_layout.py``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import networkx as nx
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bpviz.core.crossings import count_crossings
from bpviz.core.layout import Layout, layered_layout

SIZE = (120.0, 50.0)  # every node, in pixels, for both layouts
LAYER_GAP, NODE_GAP = 60.0, 30.0
DPI = 72.0  # graphviz sizes are in inches


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with batch norm, identity or 1x1 downsample skip."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.down is None else self.down(x)
        return self.relu(out + skip)


class ResNet18Like(nn.Module):
    """Stem, four stages of two basic blocks (the first of stages 2-4 downsamples), pool, fc."""

    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        blocks, cin = [], width
        for stage in range(4):
            cout = width * 2**stage
            stride = 1 if stage == 0 else 2
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


def mlp(depth: int, width: int = 64) -> nn.Module:
    """``depth`` Linear layers of ``width`` with ReLU between them."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(width, width))
        if i < depth - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def autograd_graph(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> nx.DiGraph:
    """The autograd graph of one loss, forward direction, walked iteratively from the loss."""
    loss = nn.functional.cross_entropy(model(x), target)
    names = {id(p): name for name, p in model.named_parameters()}
    graph = nx.DiGraph()
    ids: dict = {}

    def node_id(fn) -> str:
        if fn not in ids:
            ids[fn] = str(len(ids))
            variable = getattr(fn, "variable", None)
            kind, name = "op", type(fn).__name__
            if variable is not None:
                kind, name = "param", names.get(id(variable), "input")
            graph.add_node(ids[fn], kind=kind, name=name, op=name, autograd=type(fn).__name__)
        return ids[fn]

    graph.nodes[node_id(loss.grad_fn)]["kind"] = "loss"
    stack, done = [loss.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn in done:
            continue
        done.add(fn)
        for index, (nxt, _) in enumerate(fn.next_functions):
            if nxt is not None:
                graph.add_edge(node_id(nxt), node_id(fn), index=index)
                stack.append(nxt)
    return graph


def dot_source(graph: nx.DiGraph) -> str:
    """The graph in DOT with the same box sizes and gaps as the bpviz layout.

    Nodes are named ``n<k>`` by their position in ``graph.nodes`` (trace ids hold ':' and '.').
    """
    ids = {v: f"n{k}" for k, v in enumerate(graph.nodes)}
    w, h = SIZE[0] / DPI, SIZE[1] / DPI
    lines = [
        "digraph G {",
        f"  graph [rankdir=TB, nodesep={NODE_GAP / DPI:.4f}, ranksep={LAYER_GAP / DPI:.4f}];",
        f'  node [shape=box, fixedsize=true, width={w:.4f}, height={h:.4f}, label=""];',
    ]
    lines += [f"  {ids[v]};" for v in graph.nodes]
    lines += [f"  {ids[u]} -> {ids[v]};" for u, v in graph.edges]
    lines.append("}")
    return "\n".join(lines)


def _bezier_polyline(points: list[tuple[float, float]], steps: int = 16):
    """Sample graphviz's piecewise cubic Bezier (1 + 3k control points) as a polyline."""
    out = [points[0]]
    for s in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[s : s + 4]
        for k in range(1, steps + 1):
            t = k / steps
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            out.append(tuple(a * p0[i] + b * p1[i] + c * p2[i] + d * p3[i] for i in (0, 1)))
    return out


def _x_at(polyline, y: float, fallback: float) -> float:
    """Where a (downward) polyline crosses height y."""
    for (x0, y0), (x1, y1) in pairwise(polyline):
        if min(y0, y1) <= y <= max(y0, y1) and y0 != y1:
            return x0 + (x1 - x0) * (y - y0) / (y1 - y0)
    return fallback


def parse_plain(graph: nx.DiGraph, text: str) -> Layout:
    """dot's ``-Tplain`` output as a Layout: ranks from y, edge bends from the splines."""
    names = list(graph.nodes)
    centre, splines = {}, {}
    for line in text.splitlines():
        parts = shlex.split(line)
        if parts and parts[0] == "node":
            centre[names[int(parts[1][1:])]] = (float(parts[2]), float(parts[3]))
        elif parts and parts[0] == "edge":
            count = int(parts[3])
            coords = [float(c) for c in parts[4 : 4 + 2 * count]]
            u, v = names[int(parts[1][1:])], names[int(parts[2][1:])]
            splines[(u, v)] = list(zip(coords[::2], coords[1::2]))
    rank_y = sorted({round(y, 3) for _, y in centre.values()}, reverse=True)
    rank = {y: i for i, y in enumerate(rank_y)}
    layers = {v: rank[round(y, 3)] for v, (_, y) in centre.items()}
    routes = {}
    for (u, v), points in splines.items():
        polyline = _bezier_polyline(points)
        (xu, yu), (xv, yv) = centre[u], centre[v]
        route = [(xu, -yu)]
        for k in range(layers[u] + 1, layers[v]):
            y = rank_y[k]
            bend = (_x_at(polyline, y, xu + (xv - xu) * (yu - y) / (yu - yv)), -y)
            route += [bend, bend]  # the route form count_crossings reads: two points per layer
        routes[(u, v)] = [*route, (xv, -yv)]
    positions = {v: (x, -y) for v, (x, y) in centre.items()}
    return Layout(positions, layers, 0.0, 0.0, routes=routes)


def timed(fn) -> tuple[float, object]:
    """Wall time of one ``fn()`` in seconds, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench(name: str, graph: nx.DiGraph, runs: int, dot: str | None) -> dict:
    """Median times and crossings (along routes, and with straight edges) of both layouts.

    The runs of both interleave, so a busy machine slows both alike.
    """
    sizes = dict.fromkeys(graph.nodes, SIZE)
    source = dot_source(graph).encode()

    def run_dot() -> str:
        done = subprocess.run([dot, "-Tplain"], input=source, capture_output=True, check=True)
        return done.stdout.decode()

    ours_t, dot_t = [], []
    for i in range(runs):
        elapsed, ours = timed(lambda: layered_layout(graph, sizes, "TB", LAYER_GAP, NODE_GAP))
        ours_t.append(elapsed)
        if dot and i % 4 == 0:
            elapsed, text = timed(run_dot)
            dot_t.append(elapsed)
    row = {
        "graph": name,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "bpviz_ms": statistics.median(ours_t) * 1e3,
        "bpviz_x": count_crossings(graph, ours),
        "bpviz_straight": count_crossings(graph, replace(ours, routes={})),
    }
    if dot:
        theirs = parse_plain(graph, text)
        row.update(
            dot_ms=statistics.median(dot_t) * 1e3,
            ratio=statistics.median(ours_t) / statistics.median(dot_t),
            dot_x=count_crossings(graph, theirs),
            dot_straight=count_crossings(graph, replace(theirs, routes={})),
        )
    return row


def graphs() -> list[tuple[str, nx.DiGraph]]:
    """The benchmark graphs; the real tracer's ResNet graph too when bpviz.core.trace works."""
    torch.manual_seed(0)
    x, y = torch.randn(2, 3, 16, 16), torch.tensor([1, 2])
    out = [("resnet18-like", autograd_graph(ResNet18Like(), x, y))]
    try:
        from bpviz.core.trace import trace

        traced = trace(ResNet18Like(), x, target=y, loss_fn=nn.functional.cross_entropy)
        out.append(("resnet18 trace", traced.graph))
    except Exception as exc:  # noqa: BLE001 - an optional row; say why it is missing
        print(f"(no traced row: {type(exc).__name__}: {exc})")
    x, y = torch.randn(4, 64), torch.tensor([1, 2, 3, 4])
    out.append(("mlp-20x64", autograd_graph(mlp(20), x, y)))
    out.append(("mlp-300x64", autograd_graph(mlp(300), x, y)))
    return out


COLUMNS = [  # (title, key, width, format spec); dot's columns only when dot is there
    ("graph", "graph", 15, ""),
    ("nodes", "nodes", 6, ""),
    ("edges", "edges", 6, ""),
    ("bpviz ms", "bpviz_ms", 9, ".2f"),
    ("dot ms", "dot_ms", 8, ".2f"),
    ("ratio", "ratio", 6, ".2f"),
    ("x bpviz", "bpviz_x", 8, ""),
    ("x dot", "dot_x", 6, ""),
    ("x straight bpviz", "bpviz_straight", 17, ""),
    ("x straight dot", "dot_straight", 15, ""),
]


def main() -> int:
    """Run the benchmark and print the table; see the module notes for the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="layout runs per graph (median)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()
    dot = shutil.which("dot")
    if dot is None:
        print("graphviz 'dot' not found: timing bpviz only")
    rows = [bench(name, g, args.runs if g.number_of_nodes() < 1000 else 9, dot) for name, g in graphs()]
    columns = [c for c in COLUMNS if dot or not c[1].startswith(("dot", "ratio"))]
    print("".join(f"{title:<{w}}" if key == "graph" else f"{title:>{w}}" for title, key, w, _ in columns))
    for row in rows:
        print(
            "".join(
                f"{row[key]:<{w}{spec}}" if key == "graph" else f"{row[key]:>{w}{spec}}" for _, key, w, spec in columns
            )
        )
    print("x: edge crossings along the drawn routes; x straight: with edges as straight lines")
    if dot is None:
        return 0
    resnets = [r for r in rows if r["graph"].startswith("resnet")]
    met = all(r["ratio"] <= 0.25 and r["bpviz_x"] <= r["dot_x"] for r in resnets)
    print(f"target (ResNet-18-like: time <= 0.25x dot's, crossings <= dot's): {'met' if met else 'MISSED'}")
    return 0 if met or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
