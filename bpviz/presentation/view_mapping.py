"""Map a DisplayState (in trace node ids) onto a displayed graph that may hide or group nodes.

The canvas can show the trace graph itself or a view from :mod:`bpviz.core.views`: group nodes
(``kind="group"``, ``members``, ``output``), edges bridged over hidden shape ops (``bridged``) and
edges merged between groups (``members``: the edges they stand for). The stepper knows only the
trace's ids, so every question "does this drawn item show X in this state" goes through here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING

import networkx as nx

from bpviz.core.graph_records import ViewEdgeRecord, as_edge
from bpviz.core.stepper import DisplayState

if TYPE_CHECKING:
    import torch

Edge = tuple[str, str]


class ViewMap:
    """Which trace nodes and edges each drawn node and edge stands for."""

    def __init__(self, view: nx.DiGraph[str], trace_graph: nx.DiGraph[str] | None = None) -> None:
        self.view = view
        self.trace_graph = trace_graph if trace_graph is not None else view
        self._nodes: dict[str, tuple[str, ...]] = {}
        self._view_of: dict[str, str] = {}
        for v, a in view.nodes(data=True):
            members = tuple(a["members"] or (v,)) if a["kind"] == "group" else (v,)
            self._nodes[v] = members
            for m in members:
                self._view_of[m] = v
        self._stand = {
            v: (a["output"],) if a["kind"] == "group" and a["output"] is not None else self._nodes[v]
            for v, a in view.nodes(data=True)
        }
        self._edges: dict[Edge, tuple[Edge, ...]] = {
            (u, v): self._underlying(u, v, as_edge(a)) for u, v, a in view.edges(data=True)
        }
        # The other way round, so a step touches only the items its changes concern: the drawn
        # nodes whose value, gradient or update a trace node decides, the drawn edges standing
        # for a trace edge.
        node_users: dict[str, dict[str, None]] = {}
        for v, stand in self._stand.items():
            for m in stand:
                node_users.setdefault(m, {})[v] = None
            members = self._nodes[v]
            if len(members) == 1:
                node_users.setdefault(members[0], {})[v] = None
        edge_users: dict[Edge, dict[Edge, None]] = {}
        for e, members in self._edges.items():
            for m in members:
                edge_users.setdefault(m, {})[e] = None
        # Tuples of strings: the cyclic GC stops tracking them (thousands of sets it would not).
        self._node_users = {t: tuple(users) for t, users in node_users.items()}
        self._edge_users = {t: tuple(users) for t, users in edge_users.items()}

    def _underlying(self, u: str, v: str, attrs: ViewEdgeRecord) -> tuple[Edge, ...]:
        if attrs.get("members"):
            out: list[Edge] = []
            for mu, mv in attrs["members"]:
                out.extend(self._trace_path(mu, mv))
            return tuple(dict.fromkeys(out))
        if attrs.get("bridged"):
            hops = [u, *attrs["bridged"], v]
            return tuple(pairwise(hops))
        return ((u, v),)

    def _trace_path(self, u: str, v: str) -> list[Edge]:
        """The trace edges from u to v: the edge itself, or a path through nodes that are not
        drawn at all (hidden shape ops), found breadth-first."""
        g = self.trace_graph
        if g.has_edge(u, v) or u not in g or v not in g:
            return [(u, v)]
        parent: dict[str, str] = {u: u}
        queue = deque([u])
        while queue:
            n = queue.popleft()
            for s in sorted(g.successors(n)):
                if s in parent or (s != v and s in self._view_of):
                    continue
                parent[s] = n
                if s == v:
                    path = [v]
                    while path[-1] != u:
                        path.append(parent[path[-1]])
                    path.reverse()
                    return list(pairwise(path))
                queue.append(s)
        return [(u, v)]

    def view_of(self, trace_node: str) -> str | None:
        """The drawn node standing for a trace node (None where it is hidden)."""
        return self._view_of.get(trace_node)

    def members(self, view_node: str) -> tuple[str, ...]:
        """The trace nodes a drawn node stands for."""
        return self._nodes.get(view_node, (view_node,))

    def edge_members(self, u: str, v: str) -> tuple[Edge, ...]:
        """The trace edges a drawn edge stands for."""
        return self._edges.get((u, v), ((u, v),))

    def _stand_in(self, view_node: str) -> tuple[str, ...]:
        """The trace nodes whose value and gradient a drawn node displays: a group shows its
        output's; without a single output, it waits for all its members."""
        return self._stand.get(view_node, (view_node,))

    def shows_value(self, view_node: str, state: DisplayState) -> bool:
        """Whether the drawn node's value is known at ``state``."""
        return all(m in state.values for m in self._stand_in(view_node))

    def shows_grad(self, view_node: str, state: DisplayState) -> bool:
        """Whether the drawn node's gradient is known at ``state``."""
        return all(m in state.grads for m in self._stand_in(view_node))

    def updated(self, view_node: str, state: DisplayState) -> torch.Tensor | None:
        """The updated value of a drawn parameter in the Update step, else None."""
        members = self.members(view_node)
        return state.updated.get(members[0]) if len(members) == 1 else None

    def active_node(self, state: DisplayState) -> str | None:
        """The drawn node of the step (the group holding it; None for a hidden node)."""
        return self._view_of.get(state.active_node) if state.active_node is not None else None

    def edge_has_grad(self, u: str, v: str, state: DisplayState) -> bool:
        """Whether every trace edge behind a drawn edge has its gradient at ``state``."""
        return all(e in state.edge_grads for e in self.edge_members(u, v))

    def active_edges(self, state: DisplayState) -> set[Edge]:
        """The drawn edges carrying one of the step's edges."""
        return self.edges_using(state.active_edges)

    def nodes_using(self, trace_nodes: Iterable[str]) -> set[str]:
        """The drawn nodes whose display depends on any of ``trace_nodes``."""
        users = self._node_users
        return {v for t in trace_nodes for v in users.get(t, ())}

    def edges_using(self, trace_edges: Iterable[Edge]) -> set[Edge]:
        """The drawn edges standing for any of ``trace_edges``."""
        users = self._edge_users
        return {e for t in trace_edges for e in users.get(t, ())}


def on_paths_to_loss(graph: nx.DiGraph[str], to_loss: set[str], focus: str | Edge | None) -> set[str] | None:
    """The nodes on some path from ``focus`` (a node, or an edge ``(u, v)``) to the loss, given
    ``to_loss``, the nodes the loss is reachable from; None for no focus (nothing dimmed)."""
    if focus is None:
        return None
    if isinstance(focus, tuple):
        u, v = focus
        return {u} | (on_paths_to_loss(graph, to_loss, v) or {v})
    if focus not in graph:
        return None
    return ({focus} | nx.descendants(graph, focus)) & to_loss | {focus}
