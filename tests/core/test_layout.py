"""Layered layout: determinism, geometry, layering rule, crossings, deep graphs."""

from __future__ import annotations

import random
import sys
from itertools import pairwise

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.crossings import count_crossings
from bpviz.core.graph_records import node_record
from bpviz.core.layout import DEFAULT_SIZE, Layout, layered_layout, node_key

GAP = 30.0


def add(graph: nx.DiGraph, node: str, kind: str = "op", name: str = "", op: str = "") -> str:
    """A node record (see bpviz.core.graph_records)."""
    graph.add_node(node, **node_record(kind, name or node, op=op))
    return node


def mlp_graph(layers: int) -> nx.DiGraph:
    """The autograd graph of an MLP: x -> addmm(b, h, t(W)) -> relu -> ... -> mse_loss."""
    g = nx.DiGraph()
    h = add(g, "x", "input")
    for i in range(layers):
        w = add(g, f"w{i}", "param", f"layers.{i}.weight")
        b = add(g, f"b{i}", "param", f"layers.{i}.bias")
        t = add(g, f"t{i}", op="t")
        mm = add(g, f"mm{i}", op="linear")
        g.add_edge(w, t, index=0)
        g.add_edges_from([(b, mm, {"index": 0}), (h, mm, {"index": 1}), (t, mm, {"index": 2})])
        h = mm
        if i < layers - 1:
            h = add(g, f"relu{i}", op="relu")
            g.add_edge(mm, h, index=0)
    add(g, "target", "input")
    add(g, "loss", "loss", op="mse_loss")
    g.add_edges_from([(h, "loss", {"index": 0}), ("target", "loss", {"index": 1})])
    return g


def residual_graph(blocks: int) -> nx.DiGraph:
    """Blocks of conv-bn-relu-conv-bn with a skip connection into an add (ResNet-like)."""
    g = nx.DiGraph()
    h = add(g, "x", "input")
    for k in range(blocks):
        main = h
        for step in ("conv1", "bn1", "relu", "conv2", "bn2"):
            node = add(g, f"{step}_{k}", op=step)
            g.add_edge(main, node, index=0)
            if step != "relu":
                g.add_edge(add(g, f"{step}_{k}.weight", "param"), node, index=1)
            main = node
        node = add(g, f"add_{k}", op="add")
        g.add_edges_from([(main, node, {"index": 0}), (h, node, {"index": 1})])
        h = node
    g.add_edge(h, add(g, "loss", "loss"), index=0)
    return g


def naive_layout(graph: nx.DiGraph) -> Layout:
    """Topological generations, each in id order: every source lands in row 0."""
    positions, layers = {}, {}
    for k, generation in enumerate(nx.topological_generations(graph)):
        for i, v in enumerate(sorted(generation)):
            positions[v], layers[v] = (150.0 * i, 110.0 * k), k
    return Layout(positions, layers, 0.0, 0.0)


def assert_geometry(graph, layout, sizes=None, direction="TB"):
    """Edges point down (or right), and boxes in one layer keep at least GAP apart."""
    sizes = sizes or {}
    along, across = (1, 0) if direction == "TB" else (0, 1)
    for u, v in graph.edges:
        assert layout.positions[u][along] < layout.positions[v][along], (u, v)
        assert layout.layers[u] < layout.layers[v]
    for row in layout.order:
        boxes = sorted((layout.positions[v][across], sizes.get(v, DEFAULT_SIZE)[across]) for v in row)
        for (a, wa), (b, wb) in pairwise(boxes):
            assert b - a >= (wa + wb) / 2 + GAP - 1e-6
    for v in graph:
        extent = layout.width if direction == "TB" else layout.height
        half = sizes.get(v, DEFAULT_SIZE)[across] / 2
        assert layout.positions[v][across] - half >= -1e-6
        assert layout.positions[v][across] + half <= extent + 1e-6


def shuffled_copy(graph: nx.DiGraph, seed: int) -> nx.DiGraph:
    """The same graph, with nodes and edges inserted in another order."""
    rng = random.Random(seed)
    nodes, edges = list(graph.nodes(data=True)), list(graph.edges(data=True))
    rng.shuffle(nodes)
    rng.shuffle(edges)
    copy = nx.DiGraph()
    copy.add_nodes_from(nodes)
    copy.add_edges_from(edges)
    return copy


def test_node_ids_sort_naturally_and_may_mix_forms():
    ids = ["op10", "a", "op9", "12", "a1", "param:layers.10.w", "param:layers.9.w", "2", 7]
    assert sorted(ids, key=node_key) == [
        "2",
        7,
        "12",
        "a",
        "a1",
        "op9",
        "op10",
        "param:layers.9.w",
        "param:layers.10.w",
    ]
    g = nx.DiGraph([(str(a), str(b)) for a, b in pairwise(ids)])
    assert_geometry(g, layered_layout(g))


def test_empty_and_single_node():
    empty = layered_layout(nx.DiGraph())
    assert (empty.positions, empty.layers, empty.width, empty.height) == ({}, {}, 0.0, 0.0)
    g = nx.DiGraph()
    add(g, "only")
    single = layered_layout(g, sizes={"only": (80, 40)})
    assert single.positions == {"only": (40.0, 20.0)}
    assert (single.width, single.height, single.layers) == (80.0, 40.0, {"only": 0})


def test_chain_is_straight_with_cumulative_layer_heights():
    g = nx.path_graph([f"n{i}" for i in range(5)], create_using=nx.DiGraph)
    sizes = {"n0": (100, 20), "n1": (100, 40), "n2": (60, 80), "n3": (100, 40), "n4": (100, 40)}
    layout = layered_layout(g, sizes=sizes, layer_gap=10)
    assert {x for x, _ in layout.positions.values()} == {50.0}
    assert [layout.positions[f"n{i}"][1] for i in range(5)] == [10, 50, 120, 190, 240]
    assert layout.height == 260


def test_same_graph_same_positions_whatever_the_insertion_order():
    # No ``index`` on the random graph's edges: ties must be broken by id, not by luck.
    dag = nx.gnp_random_graph(40, 0.08, seed=3, directed=True)
    dag = nx.DiGraph((f"v{u}", f"v{v}") for u, v in dag.edges if u < v)
    for g in (residual_graph(3), dag):
        first = layered_layout(g)
        assert layered_layout(g) == first
        for seed in range(3):
            assert layered_layout(shuffled_copy(g, seed)) == first


def test_edges_point_down_and_boxes_do_not_overlap():
    g = residual_graph(2)
    sizes = {v: (40 + 13 * (i % 7), 20 + 9 * (i % 5)) for i, v in enumerate(sorted(g))}
    assert_geometry(g, layered_layout(g, sizes=sizes, node_gap=GAP), sizes)


def test_left_to_right_swaps_the_axes():
    g = mlp_graph(2)
    sizes = {v: (120 + 7 * i, 50 + 3 * i) for i, v in enumerate(sorted(g))}
    turned = {v: (h, w) for v, (w, h) in sizes.items()}
    tb, lr = layered_layout(g, sizes), layered_layout(g, turned, direction="LR")
    assert_geometry(g, lr, turned, direction="LR")
    assert {v: (y, x) for v, (x, y) in tb.positions.items()} == lr.positions
    assert (lr.width, lr.height) == (tb.height, tb.width)
    assert {e: [(y, x) for x, y in r] for e, r in tb.routes.items()} == lr.routes


def test_parameters_sit_in_the_layer_right_before_their_consumer():
    g = mlp_graph(4)
    layout = layered_layout(g)
    last = max(layout.layers.values())
    for v in g:
        consumers = [layout.layers[s] for s in g.successors(v)]
        # As late as possible: one layer before the first consumer; sinks in the last layer.
        assert layout.layers[v] == (min(consumers) - 1 if consumers else last)
    assert layout.layers["w3"] == layout.layers["t3"] - 1 == layout.layers["mm3"] - 2
    assert layout.layers["b3"] == layout.layers["mm3"] - 1


def test_main_data_path_is_a_straight_line():
    mlp = layered_layout(mlp_graph(5)).positions
    assert len({x for v, (x, _) in mlp.items() if v.startswith(("mm", "relu"))}) == 1
    # Parameters and the skip connection step aside; ops on the main path stay in line.
    res = layered_layout(residual_graph(3)).positions
    main = [v for v in res if v[:3] in ("con", "bn1", "bn2", "rel", "add") and "." not in v]
    assert len(main) == 18 and len({res[v][0] for v in main}) == 1


@pytest.mark.parametrize("seed", range(5))
def test_trees_and_chains_have_no_crossings(seed):
    rng = random.Random(seed)
    tree = nx.DiGraph()
    tree.add_node("root")
    for i in range(60):  # an in-tree: every node feeds one earlier node, as grads flow to a loss
        tree.add_edge(f"v{i}", rng.choice(["root"] + [f"v{j}" for j in range(i)]))
    chain = nx.path_graph([f"c{i}" for i in range(30)], create_using=nx.DiGraph)
    for graph in (tree, tree.reverse(), chain):
        assert count_crossings(graph, layered_layout(graph)) == 0


def test_fewer_crossings_than_topological_generations():
    for graph in (mlp_graph(6), residual_graph(4)):
        naive = count_crossings(graph, naive_layout(graph))
        assert naive > 0  # the graph is tricky enough to tell orderings apart
        assert count_crossings(graph, layered_layout(graph)) == 0 < naive


def test_long_edges_route_upright_through_the_layers_they_pass():
    g = residual_graph(1)
    layout = layered_layout(g)
    route = layout.routes[("x", "add_0")]
    span = layout.layers["add_0"] - layout.layers["x"]
    assert route[0] == layout.positions["x"] and route[-1] == layout.positions["add_0"]
    assert len(route) == 2 * span
    for k, (a, b) in enumerate(zip(route[1:-1:2], route[2:-1:2]), layout.layers["x"] + 1):
        assert a[0] == b[0] and a[1] < b[1]
        for v in layout.order[k]:  # the bend keeps clear of every box in that layer
            assert abs(layout.positions[v][0] - a[0]) >= DEFAULT_SIZE[0] / 2 + GAP - 1e-6
    assert set(layout.routes) == set(g.edges)


def test_count_crossings_definition():
    g = nx.DiGraph([("a", "d"), ("b", "c"), ("a", "c")])
    pos = {"a": (0, 0), "b": (100, 0), "c": (0, 100), "d": (100, 100)}
    layers = {"a": 0, "b": 0, "c": 1, "d": 1}
    assert count_crossings(g, Layout(pos, layers, 0, 0)) == 1  # a-d x b-c; a-c shares ends
    long = nx.DiGraph([("a", "e"), ("b", "c")])
    pos3 = {"a": (0, 0), "b": (100, 0), "c": (0, 100), "e": (200, 200)}
    layers3 = {"a": 0, "b": 0, "c": 1, "e": 2}
    assert count_crossings(long, Layout(pos3, layers3, 0, 0)) == 1
    bent = {("a", "e"): [(0, 0), (-50, 90), (-50, 110), (200, 200)]}
    assert count_crossings(long, Layout(pos3, layers3, 0, 0, routes=bent)) == 0


def test_deep_chain_needs_no_recursion():
    g = nx.path_graph([f"n{i}" for i in range(3000)], create_using=nx.DiGraph)
    limit = sys.getrecursionlimit()
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    sys.setrecursionlimit(depth + 60)  # any recursion over the chain would blow this
    try:
        layout = layered_layout(g)
    finally:
        sys.setrecursionlimit(limit)
    assert layout.layers["n2999"] == 2999
    assert len({x for x, _ in layout.positions.values()}) == 1


def test_rejects_cycles_and_unknown_directions():
    with pytest.raises(ValueError, match="cycle"):
        layered_layout(nx.DiGraph([("a", "b"), ("b", "a")]))
    with pytest.raises(ValueError, match="direction"):
        layered_layout(nx.DiGraph([("a", "b")]), direction="BT")


@st.composite
def dags(draw):
    """Random DAGs (edges from lower to higher index) with shuffled string ids and sizes."""
    n = draw(st.integers(1, 25))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))
    names = draw(st.permutations([f"n{i}" for i in range(n)]))
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((names[min(a, b)], names[max(a, b)]) for a, b in pairs if a != b)
    sizes = {v: (draw(st.integers(10, 200)), draw(st.integers(10, 90))) for v in sorted(g)}
    return g, sizes


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags(), st.integers(0, 10_000))
def test_random_dags(case, seed):
    graph, sizes = case
    layout = layered_layout(graph, sizes=sizes, node_gap=GAP)
    assert_geometry(graph, layout, sizes)
    assert layered_layout(shuffled_copy(graph, seed), sizes=sizes, node_gap=GAP) == layout
    assert sorted(v for row in layout.order for v in row) == sorted(graph)
    assert count_crossings(graph, layout) >= 0
