"""Which block each node of a trace came from, so a view can show values and gradients on the
blocks the user placed (and expand a block to the autograd ops inside it).

Leaves are found by name (a block's tensor is named after it, a parameter ``fc1.weight`` after
its module's block), ops inside a module by their module scope, and the ops a block makes
outside any module (``a + b``, ``torch.cat``) by the autograd node its output had in the run
that was traced. A Python number in an op (the 2 of ``x ** 2``) belongs to the op's block.
"""

from __future__ import annotations

from typing import Any

from bpviz.core.network.build import BuiltNetwork


def _made(built: BuiltNetwork) -> dict[int, str]:
    scenario = built.scenario
    holder = scenario.closure if scenario.closure is not None else scenario.model
    return dict(getattr(holder, "made", {}))


def trace_blocks(built: BuiltNetwork, trace: Any) -> dict[str, str]:
    """Trace node id -> block id, for the trace of ``built.scenario`` made last (a node whose
    block cannot be told is left out). ``trace`` is a :class:`~bpviz.core.trace` result."""
    graph = trace.graph
    by_name = built.names
    made = _made(built)
    autograd = getattr(trace, "_autograd", {})
    out: dict[str, str] = {}
    for node, attrs in graph.nodes(data=True):
        gf = autograd.get(node)
        # A module scope names the block, unless it is a module of no block (the model's loss
        # function shows as its class name).
        block = by_name.get(attrs["module"].split(".")[0]) if attrs["module"] else None
        if block is None and gf is not None:
            block = made.get(id(gf))
        if block is None and attrs["kind"] not in ("op", "loss"):
            name = attrs["name"]
            if name == "target" and built.plan.target:
                block = built.plan.target
            else:
                block = by_name.get(name) or by_name.get(name.split(".")[0])
        if block is None and node == trace.loss_node:
            block = built.plan.end
        if block is not None:
            out[node] = block
    # Python numbers in an op (const:...) and leftovers: the block of their one consumer.
    for node in sorted(graph.nodes):
        if node not in out:
            consumers = [v for v in graph.successors(node) if v in out]
            if len(consumers) == 1:
                out[node] = out[consumers[0]]
    return out


def wire_edges(doc: Any, blocks_of: dict[str, str], trace: Any) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Wire key (dst block, port) -> the trace edges it stands for, in sorted order: edges from
    a node of the wire's source block into a node of its destination block. A block that made
    no node of its own (an identity such as Dropout(p=0)) is looked through: the wires on both
    sides of it carry the edge that skips it. Two wires between the same two blocks
    (``add(x, x)``) share their edges."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for u, v in sorted(trace.graph.edges):
        a, b = blocks_of.get(u), blocks_of.get(v)
        if a is not None and b is not None and a != b:
            pairs.setdefault((a, b), []).append((u, v))
    has_nodes = set(blocks_of.values())

    def upstream(block: str) -> str:
        seen = {block}
        while block not in has_nodes:
            wires = list(doc.inputs_of(block).values())
            if len(wires) != 1 or wires[0].src in seen:
                break
            block = wires[0].src
            seen.add(block)
        return block

    def downstream(block: str) -> list[str]:
        found, stack, seen = [], [block], {block}
        while stack:
            b = stack.pop()
            if b in has_nodes:
                found.append(b)
                continue
            for w in doc.consumers(b):
                if w.dst not in seen:
                    seen.add(w.dst)
                    stack.append(w.dst)
        return sorted(found)

    out = {}
    for w in doc.sorted_wires():
        src = upstream(w.src)
        out[w.key] = sorted({e for d in downstream(w.dst) for e in pairs.get((src, d), [])})
    return out
