"""The dicts behind a trace's DiGraph, for the loops that visit every node and edge.

A networkx view costs a few microseconds per lookup, so the graph builder fills, and the
diagnostics read, the dicts networkx keeps: ``_node`` (id -> attributes), ``_succ`` and
``_pred`` (id -> neighbour id -> the edge's attributes, one dict shared by both maps). The
type stubs of networkx do not declare them; these functions say what they hold.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

Attrs = dict[str, Any]


def node_dict(graph: nx.DiGraph[str]) -> dict[str, Attrs]:
    """Node id -> its attribute dict."""
    nodes: dict[str, Attrs] = graph._node  # type: ignore[attr-defined]  # see the module docstring
    return nodes


def succ_dict(graph: nx.DiGraph[str]) -> dict[str, dict[str, Attrs]]:
    """Node id -> successor id -> the edge's attribute dict."""
    succ: dict[str, dict[str, Attrs]] = graph._succ  # type: ignore[attr-defined]  # see the module docstring
    return succ


def pred_dict(graph: nx.DiGraph[str]) -> dict[str, dict[str, Attrs]]:
    """Node id -> predecessor id -> the edge's attribute dict."""
    pred: dict[str, dict[str, Attrs]] = graph._pred  # type: ignore[attr-defined]  # see the module docstring
    return pred
