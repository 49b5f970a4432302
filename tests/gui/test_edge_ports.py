"""Where edges meet the boxes, and which edges are drawn across the layout's direction."""

from __future__ import annotations

import networkx as nx
from PySide6.QtCore import QPointF, QRectF

from bpviz.gui.edge_ports import edge_ports


def _graph(*edges: tuple[str, str]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_edges_from(edges)
    return g


def test_left_to_right_edges_leave_right_and_enter_left_ordered_by_their_other_end():
    rects = {"a": QRectF(0, 100, 100, 60), "up": QRectF(300, 0, 100, 60), "down": QRectF(300, 200, 100, 60)}
    out_port, in_port, turned = edge_ports(_graph(("a", "down"), ("a", "up")), rects, {}, horizontal=True)
    assert turned == set()
    assert out_port[("a", "up")].x() == out_port[("a", "down")].x() == 100
    assert out_port[("a", "up")].y() < out_port[("a", "down")].y()  # no crossing at the box
    assert in_port[("a", "up")] == QPointF(300, 30) and in_port[("a", "down")] == QPointF(300, 230)


def test_a_box_placed_below_in_a_left_to_right_layout_is_reached_from_the_bottom():
    rects = {"fc1": QRectF(0, 0, 180, 60), "relu": QRectF(0, 150, 180, 60), "out": QRectF(400, 150, 100, 60)}
    out_port, in_port, turned = edge_ports(_graph(("fc1", "relu"), ("relu", "out")), rects, {}, horizontal=True)
    assert turned == {("fc1", "relu")}
    assert out_port[("fc1", "relu")] == QPointF(90, 60) and in_port[("fc1", "relu")] == QPointF(90, 150)
    assert out_port[("relu", "out")] == QPointF(180, 180) and in_port[("relu", "out")] == QPointF(400, 180)


def test_a_box_placed_beside_in_a_top_to_bottom_layout_is_reached_from_the_side():
    rects = {"a": QRectF(0, 0, 100, 60), "b": QRectF(250, 0, 100, 60), "c": QRectF(250, 200, 100, 60)}
    out_port, in_port, turned = edge_ports(_graph(("a", "b"), ("b", "c"), ("a", "c")), rects, {}, horizontal=False)
    assert turned == {("a", "b")}
    assert out_port[("a", "b")] == QPointF(100, 30) and in_port[("a", "b")] == QPointF(250, 30)
    # The two edges into c share its top side, the one from further left on the left.
    assert in_port[("a", "c")].x() < in_port[("b", "c")].x() and in_port[("a", "c")].y() == 200


def test_an_edge_that_runs_back_keeps_the_layouts_sides():
    rects = {"a": QRectF(300, 0, 100, 60), "b": QRectF(0, 0, 100, 60)}
    out_port, in_port, turned = edge_ports(_graph(("a", "b")), rects, {}, horizontal=True)
    assert turned == set() and out_port[("a", "b")].x() == 400 and in_port[("a", "b")].x() == 0
