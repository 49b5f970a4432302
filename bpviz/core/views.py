"""Display transformations of a trace graph: each returns a new DiGraph, the input is untouched.

:func:`hide_shape_ops` drops ops that only reshape (view, transpose...) and bridges their edges;
:func:`collapse_modules` folds the nodes of deep module scopes into one group node per module.
Node and edge records follow :mod:`bpviz.core.graph_records`; the results add a few (``bridged``,
``members``, group nodes of kind ``"group"``), written there too. Where several edges become one, the drawn edge
keeps the attributes of the first and, where all of them leave the same node, the sum of their
``grad`` (each is in that node's shape), so a node's gradient is still the sum over its
out-edges. Output order is deterministic: it follows the input's order and sorted ids.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import networkx as nx

from bpviz.core.graph_records import NodeRecord, ViewEdgeRecord, as_edge, as_node, group_record, view_edge_record
from bpviz.core.layout import node_key

# Friendly op names whose output holds the input's values in another shape. clone and select
# are not here: a clone is a real copy and select drops values, both worth seeing.
SHAPE_OPS = frozenset(
    {
        "view", "view_as", "reshape", "reshape_as", "t", "transpose", "swapaxes", "permute",
        "movedim", "expand", "expand_as", "unsqueeze", "squeeze", "flatten", "unflatten",
        "contiguous",
    }
)  # fmt: skip
# Autograd classes of the same ops (the numbered variants: SqueezeBackward0, 1, 2...).
_SHAPE_AUTOGRAD = re.compile(
    r"(T|View|UnsafeView|ReshapeAlias|Expand|Permute|Transpose|Unsqueeze|Squeeze|AsStrided)"
    r"Backward\d*"
)
GROUP_PREFIX = "group:"


def is_shape_op(attrs: NodeRecord) -> bool:
    """Whether a node is an op that only changes its input's shape (never the loss)."""
    if attrs["kind"] != "op":
        return False
    return attrs["op"] in SHAPE_OPS or bool(_SHAPE_AUTOGRAD.fullmatch(attrs["autograd"]))


def _merged(
    datas: list[ViewEdgeRecord],
    same_source: bool,
    index: list[int] | None = None,
    bridged: list[str] | None = None,
    members: list[tuple[str, str]] | None = None,
) -> ViewEdgeRecord:
    """The record of one drawn edge standing for the original ``datas`` (see module notes);
    ``index`` defaults to the first one's."""
    first = datas[0]
    grad, local, detached = first["grad"], first["local"], first["detached"]
    if len(datas) > 1:
        grads = [d["grad"] for d in datas if d["grad"] is not None]
        # Gradients add up only in one shape: that of their common source.
        grad = sum(grads[1:], grads[0]) if grads and same_source else None
        local = None  # no single local derivative stands for several edges
        detached = all(d["detached"] for d in datas)
    return view_edge_record(first, grad, local, detached, first["index"] if index is None else index, bridged, members)


def hide_shape_ops(graph: nx.DiGraph[str]) -> nx.DiGraph[str]:
    """The graph without shape-only ops, each bridged by edges from its producers to consumers.

    A shape op is hidden only where it has both inputs and consumers. A bridged edge ``(p, s)``
    keeps the attributes of the edge leaving ``p`` (its ``grad`` is in p's shape) but the
    ``index`` of the edge entering ``s`` (which input of s it feeds), and gains ``bridged``:
    the ids of the hidden nodes it passes, in path order.
    """
    hidden = {
        v
        for v, attrs in graph.nodes(data=True)
        if is_shape_op(as_node(attrs)) and graph.in_degree(v) and graph.out_degree(v)
    }
    out: nx.DiGraph[str] = nx.DiGraph(**graph.graph)
    out.add_nodes_from((v, dict(a)) for v, a in graph.nodes(data=True) if v not in hidden)
    # (p, s) -> per first edge leaving p: (its attributes, hidden ids passed, index into s)
    routes: dict[tuple[str, str], dict[str, tuple[ViewEdgeRecord, list[str], list[int]]]] = {}
    for p, first, data in graph.edges(data=True):
        if p in hidden:
            continue
        if first not in hidden:
            routes.setdefault((p, first), {})[first] = (as_edge(data), [], data["index"])
            continue
        # Walk forward through hidden nodes (iteratively) to the visible consumers.
        stack, seen = [(first, [first])], {first}
        while stack:
            h, path = stack.pop()
            for s in sorted(graph.successors(h), key=node_key, reverse=True):
                if s not in hidden:
                    index = graph.edges[h, s]["index"]
                    routes.setdefault((p, s), {}).setdefault(first, (as_edge(data), path, index))
                elif s not in seen:
                    seen.add(s)
                    stack.append((s, [*path, s]))
    for (p, s), by_first in routes.items():
        # The direct edge first, then bridges by the id of the node they leave p through.
        firsts = sorted(by_first, key=lambda f: (f != s, node_key(f)))
        bridged = [h for f in firsts for h in by_first[f][1]]
        if bridged:
            attrs = _merged(
                [by_first[f][0] for f in firsts], True, by_first[firsts[0]][2], list(dict.fromkeys(bridged))
            )
        else:
            attrs = _merged([by_first[f][0] for f in firsts], True)
        out.add_edge(p, s, **attrs)
    return out


def _scope(attrs: NodeRecord) -> str:
    """A node's module scope; a parameter without one belongs to the module owning its name."""
    module = attrs["module"]
    if not module and attrs["kind"] == "param":
        module = attrs["name"].rpartition(".")[0]
    return module


def module_depth(graph: nx.DiGraph[str]) -> int:
    """The deepest module scope present, in dotted parts (0 when no node has a scope)."""
    scopes = (_scope(as_node(attrs)) for _, attrs in graph.nodes(data=True))
    return max((len(s.split(".")) for s in scopes if s), default=0)


LAYERS = "layers"
# The level of a built network's own view: one box per block, where the user put the block
# (:mod:`bpviz.core.network.block_view`); not a level of a trace alone.
BLOCKS = "blocks"


def default_level(graph: nx.DiGraph[str]) -> str | None:
    """How a trace is first drawn (in the app and by ``bpviz export``): one box per layer when
    it has nn.Module scopes (:data:`LAYERS`), every op (None) for a loss() built from tensors."""
    return LAYERS if module_depth(graph) > 0 else None


def parse_level(text: str) -> int | str | None:
    """A level of detail as a user writes it: ``layers``, ``ops`` (every op) or a module depth;
    raises ValueError for anything else."""
    word = text.strip().lower()
    if word == LAYERS:
        return LAYERS
    if word in ("ops", "none"):
        return None
    if word.isdigit():
        return int(word)
    raise ValueError(f"unknown level '{text}': use layers, ops or a module depth (0, 1, 2...)")


def collapse_modules(
    graph: nx.DiGraph[str],
    depth: int | str | None,
    titles: Mapping[str, str] | None = None,
    expanded: Collection[str] = (),
) -> nx.DiGraph[str]:
    """Fold every module at ``depth`` dotted parts into one box, with everything inside it.

    With ``depth=1`` the nodes of ``layers``, ``layers.0.fc`` and ``layers.1.act`` join the
    group node ``group:layers``; with ``depth=2`` they go to ``group:layers.0`` and
    ``group:layers.1`` (a module's own functional ops, like a residual add in a block's
    forward, fold with it). Nodes with a shallower scope (functional ops in a parent's forward)
    and the loss stay visible. ``depth=None`` folds nothing; ``depth=0`` folds all
    module-scoped nodes into one group named ``model``. ``depth=LAYERS`` gives one box per
    layer: each module without submodules in the graph (Linear, ReLU...) folds its own nodes
    (its parameters, its transposes), while a parent's own ops (a residual add) stay visible
    between the boxes. A group that would close a cycle (a module called twice with other ops
    in between) stays expanded, so the result is always a DAG. Leaves without a scope (buffers)
    join the one group using them.

    ``titles`` (module name -> title, :attr:`Trace.module_titles`) name the boxes; modules in
    ``expanded`` stay unfolded (the user opened them).
    """
    if depth is None:
        return graph.copy()
    if isinstance(depth, int) and depth < 0:
        raise ValueError(f"depth must be 0 or more (or None), not {depth}")
    if isinstance(depth, str) and depth != LAYERS:
        raise ValueError(f"depth must be a number, {LAYERS!r} or None, not {depth!r}")
    scopes = {v: _scope(as_node(attrs)) for v, attrs in graph.nodes(data=True)}
    parents = {
        ".".join(parts[:i]) for parts in (s.split(".") for s in scopes.values() if s) for i in range(1, len(parts))
    }
    scoped: dict[str, str] = {}
    unscoped: list[str] = []
    for v, attrs in graph.nodes(data=True):
        scope = scopes[v]
        parts = scope.split(".") if scope else []
        if depth == LAYERS:
            group = scope if scope and scope not in parents else None
        else:
            group = ".".join(parts[: int(depth)]) if parts and len(parts) >= int(depth) else None
        if attrs["kind"] != "loss" and group is not None and group not in expanded:
            scoped[v] = GROUP_PREFIX + group
        elif not scope and attrs["kind"] in ("param", "constant") and not graph.in_degree(v):
            unscoped.append(v)
    while True:
        group_of = dict(scoped)
        # A leaf without a scope (a buffer such as BatchNorm's running mean) used only inside
        # one group belongs to it, as a parameter belongs to its module.
        for v in unscoped:
            groups = {group_of.get(s) for s in graph.successors(v)}
            only = groups.pop() if len(groups) == 1 else None  # None also when it feeds a visible node
            if only is not None:
                group_of[v] = only
        out = _fold(graph, group_of, titles or {})
        if nx.is_directed_acyclic_graph(out):
            return out
        # Expand one group of the cycle found (the first by id) and try again.
        cycle = {n for edge in nx.find_cycle(out) for n in edge[:2]}
        culprit = min((n for n in cycle if out.nodes[n]["kind"] == "group"), key=node_key)
        scoped = {v: g for v, g in scoped.items() if g != culprit}


def fold_groups(
    graph: nx.DiGraph[str], group_of: Mapping[str, str], titles: Mapping[str, str] | None = None
) -> nx.DiGraph[str]:
    """Fold the nodes of each group into one box: ``group_of`` maps a node to its group's name
    (the box is ``group:NAME``, titled ``titles[NAME]`` if given), nodes not in it stay visible.
    As in :func:`collapse_modules`, a group that would close a cycle stays unfolded."""
    groups = {v: GROUP_PREFIX + g for v, g in group_of.items() if v in graph}
    while True:
        out = _fold(graph, groups, titles or {})
        if nx.is_directed_acyclic_graph(out):
            return out
        cycle = {n for edge in nx.find_cycle(out) for n in edge[:2]}
        culprit = min((n for n in cycle if out.nodes[n]["kind"] == "group"), key=node_key)
        groups = {v: g for v, g in groups.items() if g != culprit}


def _fold(graph: nx.DiGraph[str], group_of: dict[str, str], titles: Mapping[str, str]) -> nx.DiGraph[str]:
    """The quotient graph: each group's members replaced by one node, edges merged."""
    members: dict[str, list[str]] = {}
    for v, g in group_of.items():
        members.setdefault(g, []).append(v)
    out: nx.DiGraph[str] = nx.DiGraph(**graph.graph)
    for v, attrs in graph.nodes(data=True):
        group = group_of.get(v)
        if group is None:
            out.add_node(v, **attrs)
        elif group not in out:
            out.add_node(group)  # attributes once the group's outputs are known
    merged: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = {}
    outputs: dict[str, set[str]] = {g: set() for g in members}
    for u, v, data in graph.edges(data=True):
        gu, gv = group_of.get(u, u), group_of.get(v, v)
        if gu == gv:
            continue
        merged.setdefault((gu, gv), []).append((u, v, data))
        if u in group_of:
            outputs[gu].add(u)
    for g, mem in members.items():
        outs = sorted(outputs[g], key=node_key)
        output = outs[0] if len(outs) == 1 else None
        module = g[len(GROUP_PREFIX) :]
        record = group_record(
            module,
            sorted(mem, key=node_key),
            output,
            as_node(graph.nodes[output]) if output is not None else None,
            titles.get(module, ""),
        )
        out.nodes[g].update(record)
    for (gu, gv), edges in merged.items():
        edges.sort(key=lambda e: (node_key(e[0]), node_key(e[1])))
        merged_attrs = _merged(
            [as_edge(d) for _, _, d in edges], len({u for u, _, _ in edges}) == 1, members=[(u, v) for u, v, _ in edges]
        )
        out.add_edge(gu, gv, **merged_attrs)
    return out


def drawn_graph(
    trace: Any, without_shape_ops: bool = False, collapse: int | str | None = None, expanded: Collection[str] = ()
) -> nx.DiGraph[str]:
    """The graph drawn of ``trace`` (a :class:`bpviz.core.trace_record.Trace`) with these view
    options: shape-only ops hidden (``without_shape_ops``) or not, modules collapsed at a level (see
    :func:`collapse_modules`; None: every op) with the ``expanded`` layers open. The trace's own
    graph when no option changes it."""
    graph: nx.DiGraph[str] = trace.graph
    if without_shape_ops:
        graph = hide_shape_ops(graph)
    if collapse is not None:
        graph = collapse_modules(graph, collapse, trace.module_titles, expanded)
    return graph
