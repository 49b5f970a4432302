"""placed_layout: clusters keep the user's arrangement, nothing overlaps, opened clusters push
their neighbours aside, and it is deterministic."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from bpviz.core.layout import DEFAULT_SIZE
from bpviz.core.placed_layout import assign_clusters, placed_layout

SIZE = DEFAULT_SIZE  # the size of a box given none


def rects(layout, sizes):
    out = {}
    for n, (x, y) in layout.positions.items():
        w, h = sizes.get(n, SIZE)
        out[n] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    return out


def overlapping(layout, sizes):
    r = rects(layout, sizes)
    return [
        (a, b)
        for a, b in itertools.combinations(sorted(r), 2)
        if r[a][0] < r[b][2] and r[b][0] < r[a][2] and r[a][1] < r[b][3] and r[b][1] < r[a][3]
    ]


def chain(names):
    g = nx.DiGraph()
    g.add_nodes_from(names)
    for u, v in itertools.pairwise(names):
        g.add_edge(u, v, index=0)
    return g


def test_one_box_per_place_keeps_the_relative_arrangement():
    # a right of b's column, c above d: what is right stays right, what is above stays above.
    g = chain(["a", "b", "d"])
    g.add_edge("c", "d", index=1)
    places = {"a": (0.0, 100.0), "b": (220.0, 100.0), "c": (440.0, 0.0), "d": (440.0, 100.0)}
    layout = placed_layout(g, places, {n: n for n in places}, pitch=(220.0, 100.0), gaps=(150.0, 40.0))
    p = layout.positions
    assert p["a"][0] < p["b"][0] < p["d"][0]
    assert p["c"][0] == pytest.approx(p["d"][0]) and p["c"][1] < p["d"][1]
    assert p["a"][1] == pytest.approx(p["b"][1]) == pytest.approx(p["d"][1])
    # Scaled so neighbours are one box plus the gap apart.
    assert p["b"][0] - p["a"][0] == pytest.approx(SIZE[0] + 150.0)
    assert p["d"][1] - p["c"][1] == pytest.approx(SIZE[1] + 40.0)
    assert not overlapping(layout, {})
    assert min(x for x, _ in p.values()) == pytest.approx(SIZE[0] / 2)  # origin at the top left


def test_leaves_sit_before_their_box_and_off_the_wires():
    g = chain(["a", "op"])
    g.add_edge("k", "op", index=1)
    places = {"A": (0.0, 0.0), "B": (220.0, 0.0)}
    layout = placed_layout(g, places, {"a": "A", "op": "B", "k": "B"}, pitch=(220.0, 100.0))
    p = layout.positions
    assert p["a"][1] == pytest.approx(p["op"][1])  # the wire a -> op runs level
    assert p["a"][0] < p["k"][0] < p["op"][0] and p["k"][1] > p["op"][1]  # down and before
    assert not overlapping(layout, {})
    tb = placed_layout(g, {"A": (0.0, 0.0), "B": (0.0, 100.0)}, {"a": "A", "op": "B", "k": "B"}, direction="TB")
    q = tb.positions
    assert q["a"][1] < q["k"][1] < q["op"][1] and q["k"][0] > q["op"][0]  # up and to the right


def test_an_opened_cluster_pushes_its_neighbours_aside_in_order():
    # b opened: three ops in a row; its neighbours keep their order and do not overlap it.
    g = nx.DiGraph()
    g.add_edge("a", "b1", index=0)
    g.add_edge("b1", "b2", index=0)
    g.add_edge("w", "b2", index=1)
    g.add_edge("b2", "b3", index=0)
    g.add_edge("b3", "c", index=0)
    g.add_edge("t", "c", index=1)
    places = {"A": (0.0, 0.0), "B": (220.0, 0.0), "C": (440.0, 0.0), "T": (220.0, -100.0)}
    cluster_of = {"a": "A", "b1": "B", "b2": "B", "b3": "B", "w": "B", "c": "C", "t": "T"}
    closed_graph = chain(["a", "b3", "c"])
    closed_graph.add_edge("t", "c", index=1)
    closed = placed_layout(closed_graph, places, {"a": "A", "b3": "B", "c": "C", "t": "T"}, pitch=(220.0, 100.0))
    opened = placed_layout(g, places, cluster_of, pitch=(220.0, 100.0))
    p = opened.positions
    assert not overlapping(opened, {})
    assert (
        p["a"][0] < min(p[n][0] for n in ("b1", "b2", "b3", "w"))
        and max(p[n][0] for n in ("b1", "b2", "b3")) < p["c"][0]
    )
    assert p["t"][1] < min(p[n][1] for n in ("b1", "b2", "b3", "w"))  # T stays above B
    # Pushed, not spread: the block left of the opened one stays where it was.
    assert p["a"][0] == pytest.approx(closed.positions["a"][0])
    assert p["c"][0] > closed.positions["c"][0]
    # The wire from a into the opened block runs through a lane kept for it.
    route = opened.routes["a", "b1"]
    assert route[0] == pytest.approx(p["a"]) and route[-1] == pytest.approx(p["b1"])


@pytest.mark.parametrize("seed", range(20))
def test_random_places_never_overlap_and_keep_their_order(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 14)
    blocks = [f"b{i}" for i in range(n)]
    # Positions on a coarse grid (columns and rows as an editor's snap makes them), some equal.
    places = {b: (rng.randint(0, 6) * 110.0, rng.randint(0, 6) * 50.0) for b in blocks}
    g: nx.DiGraph[str] = nx.DiGraph()
    cluster_of, sizes = {}, {}
    for b in blocks:
        size = rng.randint(1, 4)
        nodes = [f"{b}n{j}" for j in range(size)]
        for u, v in itertools.pairwise(nodes):
            g.add_edge(u, v, index=0)
        g.add_nodes_from(nodes)
        for m in nodes:
            cluster_of[m] = b
            sizes[m] = (rng.uniform(90, 260), rng.uniform(40, 120))
    for i in range(1, n):  # a DAG between the blocks, in id order
        g.add_edge(f"{blocks[rng.randrange(i)]}n0", f"{blocks[i]}n0", index=1)
    layout = placed_layout(g, places, cluster_of, sizes, pitch=(220.0, 100.0), gaps=(160.0, 44.0))
    assert not overlapping(layout, sizes)
    # Columns keep their order left to right, rows top to bottom (the first node of a block
    # of one node stands for it).
    single = [b for b in blocks if g.has_node(f"{b}n0") and not g.has_node(f"{b}n1")]
    for a, b in itertools.permutations(single, 2):
        pa, pb = layout.positions[f"{a}n0"], layout.positions[f"{b}n0"]
        if places[a][0] < places[b][0]:
            assert pa[0] < pb[0]
        if places[a][1] < places[b][1]:
            assert pa[1] < pb[1]
    again = placed_layout(
        g.copy(), dict(reversed(places.items())), cluster_of, sizes, pitch=(220.0, 100.0), gaps=(160.0, 44.0)
    )
    assert again.positions == layout.positions


def test_nodes_of_no_cluster_join_a_neighbour_or_go_last():
    g = chain(["a", "k", "b"])
    g.add_edge("k2", "k", index=1)
    g.add_node("lonely")
    owner = assign_clusters(g, {"a": "A", "b": "B"})
    assert owner == {"a": "A", "k": "B", "k2": "B", "b": "B", "lonely": None}
    layout = placed_layout(g, {"A": (0.0, 0.0), "B": (220.0, 0.0)}, {"a": "A", "b": "B"})
    assert set(layout.positions) == set(g.nodes) and not overlapping(layout, {})
    assert layout.positions["lonely"][0] > layout.positions["b"][0]


def test_bad_direction_and_empty_graph():
    with pytest.raises(ValueError, match="direction"):
        placed_layout(nx.DiGraph(), {}, {}, direction="RL")
    assert placed_layout(nx.DiGraph(), {}, {}).positions == {}
