"""Turn a recorded forward pass and its autograd graph into the networkx graph of a Trace."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

import networkx as nx
import torch

from bpviz.core import torch_compat
from bpviz.core.graph_dicts import node_dict, pred_dict, succ_dict
from bpviz.core.graph_records import NodeRecord, edge_record, node_record
from bpviz.core.numbers import format_number
from bpviz.core.recording import DataArg, Recording
from bpviz.core.scenario import ModuleIndex, Scenario

_PARAM_NAME = re.compile(r"^(w|b|W|B|weight|bias|theta|param|kernel)(\d|_|$)")
_DTYPES: dict[torch.dtype, str] = {}
_HAS_VARIABLE: dict[type, bool] = {}  # autograd node class -> is it a leaf's AccumulateGrad?
_CUSTOM = torch.autograd.function.BackwardCFunction  # the node class of a custom Function
_Grads = tuple[torch.Tensor | None, ...]  # what an autograd node received or sent


def _dtype(t: torch.Tensor) -> str:
    name = _DTYPES.get(t.dtype)
    if name is None:
        name = _DTYPES[t.dtype] = str(t.dtype).removeprefix("torch.")
    return name


def _is_accumulate(u: Any) -> bool:
    # hasattr on every node raises and catches an AttributeError for each non-leaf: cache by class.
    cls = type(u)
    known = _HAS_VARIABLE.get(cls)
    if known is None:
        known = _HAS_VARIABLE[cls] = hasattr(u, "variable")
    return known


def _scalar_label(x: Any) -> str:
    return format_number(float(x))


class GraphBuilder:
    """Builds the forward-direction graph; one instance per trace."""

    def __init__(
        self,
        loss: torch.Tensor,
        rec: Recording,
        named: dict[int, tuple[str, torch.Tensor]],
        scenario: Scenario,
        index: ModuleIndex | None = None,
    ):
        self.graph: nx.DiGraph[str] = nx.DiGraph()
        self.loss = loss
        self.rec = rec
        self.named = named
        self.scenario = scenario
        self.loss_id = "loss"
        self.ids: dict[Any, str] = {}  # autograd node -> node id
        self.ops: list[Any] = []  # autograd op nodes in forward order
        self.leaf_tensors: dict[str, torch.Tensor] = {}  # leaf node id -> the live tensor
        self._by_tensor: dict[int, str] = {}  # id(tensor) -> node id (tensors kept alive)
        self.none_grad: dict[str, str] = {}  # node id -> why it has no gradient
        self.grads_in: dict[Any, _Grads] = {}
        self.grads_out: dict[Any, _Grads] = {}
        self.backward_order: list[str] = []
        self._op_order: list[Any] = []  # autograd op nodes as autograd started them
        self._edges: list[tuple[Any, Any, int]] = []  # (producer, consumer, input index)
        self._full: set[Any] = set()  # op nodes that get a hook seeing what they send
        self._copy_sent: set[Any] = set()  # of those, nodes whose sent gradients a hook may change
        self.leaf_grads: dict[str, Any] = {}  # leaf node id -> what autograd.grad returned
        self._pretrace_inputs: list[torch.Tensor] = []
        self.op_names: dict[Any, str] = {}  # autograd node -> the user's variable name for it
        # Nodes with several outputs of which the graph uses exactly one -> its output_nr:
        # their value and gradient are that output's (native_group_norm, max with indices).
        self.used_output: dict[Any, int] = {}
        # Nodes with several outputs used by different ops -> the output_nrs used; and
        # (producer, consumer) -> the value of the output that edge carries.
        self.several_outputs: dict[Any, list[int]] = {}
        self._edge_outputs: dict[tuple[Any, Any], torch.Tensor] = {}
        index = index or scenario.module_index()
        params, buffers = index.params, index.buffers
        self._params = [t for _, t in params.values()]
        self._param_ids = set(params)
        self._buffer_ids = set(buffers)

    # -- structure ------------------------------------------------------------------------
    def walk(self) -> None:
        """Collect every autograd node reachable from the loss (iteratively) and add nodes/edges."""
        root: Any = self.loss.grad_fn
        seen = {root}
        stack = [root]
        # Branches cut by .detach() never reach the loss; walk them too so the user sees where
        # the gradient stops (their nodes get no gradient).
        for _, source in self.rec.detached.values():
            gf = source.grad_fn
            if gf is not None and gf in self.rec.ops and gf not in seen:
                seen.add(gf)
                stack.append(gf)
        edges = self._edges
        leaves: list[Any] = []
        shared: set[Any] = set()  # nodes fed by more than one input slot
        ops, pretrace, baseline = self.rec.ops, self.rec.pretrace, self.rec.baseline_seq
        order = self.rec.order  # None on the fast path: nodes know their sequence number
        if order is not None and root not in order:
            order[root] = float(len(order))  # a node the recorder did not see, made last
        later_outputs: set[Any] = set()  # nodes whose output 1, 2... feeds another node
        while stack:
            gf = stack.pop()
            self.ops.append(gf)
            for i, (u, nr) in enumerate(gf.next_functions):
                if u is None:
                    self._full.add(gf)  # what it sends to an input without grad: only a hook sees
                    continue
                if nr:
                    later_outputs.add(u)
                edges.append((u, gf, i))
                if u in seen:
                    shared.add(u)
                    continue
                seen.add(u)
                if order is None:
                    made_before = u not in ops and u._sequence_nr() < baseline
                else:
                    made_before = u not in ops and not self.rec.made_in_trace(u)
                if _is_accumulate(u) or u in pretrace or made_before:
                    leaves.append(u)
                else:
                    if order is not None and u not in order:
                        order[u] = order[gf] - 0.5  # never seen: made for its consumer, just before it
                    stack.append(u)
        if order is None:
            self.ops.sort(key=lambda n: n._sequence_nr())
        else:
            self.ops.sort(key=order.__getitem__)
        self._find_used_outputs(later_outputs)
        counts: dict[str, int] = {}
        for rank, gf in enumerate(self.ops):
            node_id = self.loss_id if gf is root else f"op{rank}"
            self.ids[gf] = node_id
            self._add_op(node_id, gf, counts)
        for u in leaves:
            self.ids[u] = self._add_autograd_leaf(u)
        for u, v, i in edges:
            self._add_edge(self.ids[u], self.ids[v], i)
        self._plan_hooks(leaves, shared)

    def _find_used_outputs(self, later_outputs: set[Any]) -> None:
        """Fill :attr:`used_output` for the nodes with several outputs (known to the recorder,
        or feeding an output other than the first) whose uses all take one output."""
        candidates = later_outputs | self.rec.unclear | self.rec.outputs.keys()
        if not candidates:
            return
        used: dict[Any, set[int]] = {}
        for u, v, i in self._edges:
            if u in candidates:
                used.setdefault(u, set()).add(v.next_functions[i][1])
        outputs = self.rec.outputs
        for u, nrs in used.items():
            if len(nrs) == 1:
                self.used_output[u] = next(iter(nrs))
            else:
                self.several_outputs[u] = sorted(nrs)
                # The node shows its first used output; each edge knows its own (Jacobians).
                if u in outputs and min(nrs) in outputs[u]:
                    self.used_output[u] = min(nrs)
        for u, v, i in self._edges:
            if u in self.several_outputs:
                value = outputs.get(u, {}).get(v.next_functions[i][1])
                if value is not None:
                    self._edge_outputs[u, v] = value

    def _plan_hooks(self, leaves: list[Any], shared: set[Any]) -> None:
        """Choose the op nodes that need a full hook in :meth:`backward`, which sees what they send:
        all but those whose every input is fed by them alone and received exactly what they sent
        (a recorded op with one output and no hook, a leaf without hook, returned by autograd)."""
        opaque = set(shared)  # nodes whose received gradient may not be what one node sent
        hooked = set(self.rec.hooked)  # tensor hooks run on what their consumers sent
        leaf_of: dict[str, Any] = {}
        for u in leaves:
            t = self.leaf_tensors.get(self.ids[u]) if _is_accumulate(u) else None
            first = leaf_of.setdefault(self.ids[u], u)  # two leaves of one tensor (.data reset)
            if t is not None and t._backward_hooks:
                hooked.add(u)
            if t is None or not t.requires_grad or t._backward_hooks or first is not u:
                opaque.update((u, first))
        ops, unclear, full = self.rec.ops, self.rec.unclear, self._full
        for gf in self.ops:
            # Several outputs (unknown if not recorded), or a custom backward, which may send
            # gradients autograd then drops: only a full hook sees what they get and send.
            if gf in unclear or gf not in ops or isinstance(gf, _CUSTOM):
                opaque.add(gf)
                full.add(gf)
        for u, v, _ in self._edges:
            if u in opaque:
                full.add(v)
        if hooked:
            # A hook may change its gradient in place (g.mul_(2)), and autograd passes one
            # tensor through several nodes (add sends what it got): every node keeps a copy of
            # what it got and sent, as it ran. Only passes with tensor hooks pay for this.
            full.update(self.ops)
            self._copy_sent.update(self.ops)

    def _add_op(self, node_id: str, gf: Any, counts: dict[str, int]) -> None:
        rec = self.rec.ops.get(gf)
        autograd = type(gf).__name__
        op = rec.op if rec else re.sub(r"Backward\d*$", "", autograd).lower()
        counts[op] = counts.get(op, 0) + 1
        several = self.several_outputs
        if gf in self.op_names and not (several and gf in several):  # one variable would name them all
            name = self.op_names[gf]
        elif node_id == self.loss_id:
            name = "loss"
        else:
            name = op if counts[op] == 1 else f"{op}_{counts[op]}"
        value = rec.value if rec else None
        if self.used_output and gf in self.used_output:
            value = self.rec.outputs.get(gf, {}).get(self.used_output[gf], value)
        self._new_node(
            node_id,
            node_record(
                "loss" if node_id == self.loss_id else "op",
                name,
                op=op,
                autograd=autograd,
                module=rec.module if rec else "",
                shape=tuple(value.shape) if value is not None else (),
                dtype=_dtype(value) if value is not None else "",
                value=value,
                requires_grad=True,
            ),
        )

    def _new_node(self, node_id: str, attrs: NodeRecord) -> None:
        """Add a node whose id is not in the graph yet: what ``DiGraph.add_node`` does for a
        new node (its three dicts), without the per-call overhead that a trace of thousands
        of nodes pays. The graph is a plain DiGraph still being built, so no cache to clear."""
        g = self.graph
        succ_dict(g)[node_id] = {}
        pred_dict(g)[node_id] = {}
        node_dict(g)[node_id] = cast(dict[str, Any], attrs)

    def _leaf_kind(self, name: str | None, t: torch.Tensor) -> str:
        # The id test first: isinstance(t, Parameter) runs Parameter's python __instancecheck__.
        if id(t) in self._param_ids or isinstance(t, torch.nn.Parameter):
            return "param"
        if name and _PARAM_NAME.match(name):
            return "param" if t.requires_grad or t.is_leaf else "input"
        return "input"

    def _add_tensor_leaf(self, t: torch.Tensor, kind: str | None = None, label: str | None = None) -> str:
        """The node of a leaf tensor (made once per tensor). ``label``: the name to show where
        the tensor has none of its own (a scalar constant is named by its value)."""
        if id(t) in self._by_tensor:
            return self._by_tensor[id(t)]
        name = self.named.get(id(t), (None, None))[0]
        kind = kind or self._leaf_kind(name, t)
        if name is None:
            name = f"tensor{len(self._by_tensor)}"
        node_id = f"{kind}:{name}"
        while node_id in node_dict(self.graph):
            node_id += "'"
        requires_grad = bool(t.requires_grad)
        self._new_node(
            node_id,
            node_record(
                kind,
                label if label is not None else name,
                autograd="AccumulateGrad" if requires_grad else "",
                module=name.rpartition(".")[0] if kind == "param" or id(t) in self._buffer_ids else "",
                shape=tuple(t.shape),
                dtype=_dtype(t),
                value=self.rec.snapshot(t),
                requires_grad=requires_grad,
            ),
        )
        self._by_tensor[id(t)] = node_id
        self.leaf_tensors[node_id] = t
        return node_id

    def _add_autograd_leaf(self, u: Any) -> str:
        if hasattr(u, "variable"):
            return self._add_tensor_leaf(u.variable)
        # History made before tracing started: cut it here and show the tensor as an input.
        t = self.rec.pretrace.get(u)
        node_id = f"input:pre{len(self.graph)}"
        if t is not None:
            self._pretrace_inputs.append(t)
        self.graph.add_node(
            node_id,
            **node_record(
                "input",
                self.named.get(id(t), ("pre-trace",))[0] if t is not None else "pre-trace",
                autograd=type(u).__name__,
                shape=tuple(t.shape) if t is not None else (),
                dtype=_dtype(t) if t is not None else "",
                value=t.detach().clone() if t is not None else None,
                requires_grad=True,
            ),
        )
        return node_id

    def _add_edge(self, u: str, v: str, index: int) -> None:
        # Both nodes exist; like _new_node, this fills the DiGraph's dicts directly: one
        # attribute dict shared by the successor and predecessor maps.
        out = succ_dict(self.graph)[u]
        edge = out.get(v)
        if edge is not None:
            edge["index"].append(index)  # the same tensor feeds v twice (x * x)
            return
        out[v] = pred_dict(self.graph)[v][u] = cast(dict[str, Any], edge_record([index]))

    def _add_data_edge(self, u: str, v: str, detached: bool = False) -> None:
        # No gradient can flow along a data edge, so it carries no autograd input index.
        if not self.graph.has_edge(u, v):
            self.graph.add_edge(u, v, **edge_record([], detached=detached))
        elif detached and not self.graph.edges[u, v]["index"]:
            # Only a data edge becomes detached: in a.detach() * a the edge also carries a's
            # gradient through its other use, which must keep flowing.
            self.graph.edges[u, v]["detached"] = True

    def attach_data_nodes(self) -> None:
        """Add inputs, targets, constants and detached values from the recorded call arguments."""
        for gf in self.ops:
            for arg in self.rec.data_args.get(gf, ()):
                self._attach(arg, self.ids[gf])

    def _attach(self, arg: DataArg, consumer: str) -> None:
        value = arg.value
        if not isinstance(value, torch.Tensor):
            node_id = f"const:{consumer}:{arg.position}"
            t = torch.tensor(value)
            self.graph.add_node(node_id, **node_record("constant", _scalar_label(value), dtype=_dtype(t), value=t))
            self._add_data_edge(node_id, consumer)
            return
        if id(value) in self.rec.detached:
            _, source = self.rec.detached[id(value)]
            if source.grad_fn is not None and source.grad_fn in self.ids:
                src = self.ids[source.grad_fn]
            else:
                # Whether the leaf gets no gradient at all (it may reach the loss another way
                # too) is known after the backward pass: add_unreached_trainables says why.
                src = self._add_tensor_leaf(source)
            self._add_data_edge(src, consumer, detached=True)
            return
        if id(value) in self._param_ids:
            src = self._add_tensor_leaf(value, "param")
            self.none_grad[src] = "requires_grad_off"
        else:
            named = id(value) in self.named
            if not named and value.numel() == 1 and id(value) not in self._by_tensor:
                src = self._add_tensor_leaf(value, "constant", label=_scalar_label(value.reshape(())))
            else:
                kind = "input" if named and id(value) not in self._buffer_ids else "constant"
                src = self._add_tensor_leaf(value, kind)
        self._add_data_edge(src, consumer)

    # -- numbers --------------------------------------------------------------------------
    def compute_scalar_locals(self) -> None:
        """For scalar -> scalar edges, the local derivative dv/du as a float (calls the node)."""
        nodes, pred = node_dict(self.graph), pred_dict(self.graph)  # see _fill_grads
        with torch.no_grad():
            for gf in self.ops:
                v = self.ids[gf]
                value = nodes[v]["value"]
                if value is None or value.numel() != 1:
                    continue
                try:
                    out = gf(torch.ones_like(value))
                except Exception:  # noqa: BLE001 - multi-output or exotic nodes: no factor
                    continue
                out = out if isinstance(out, tuple) else (out,)
                for u, edge in pred[v].items():
                    u_val = nodes[u]["value"]
                    if u_val is None or u_val.numel() != 1:
                        continue
                    parts = [out[i] for i in edge["index"] if i < len(out) and out[i] is not None]
                    if parts and nodes[u]["requires_grad"] and not edge["detached"]:
                        edge["local"] = float(sum(p.sum() for p in parts))

    def backward(self) -> None:
        """Run backward, watching every op node; fill node and edge gradients.

        A gradient pre-hook on each op node runs as autograd starts it, with the gradient it got
        (no history without create_graph): the order and the gradients. One dict serves all,
        added through a probe tensor and emptied at the end (``register_prehook`` makes and removes
        a python handle per node, which the fallback pays). Nodes :meth:`_plan_hooks` chose also
        get a full hook."""
        order, grads_out = self._op_order, self.grads_out
        handles = []
        if self.rec.order is None:  # the recorder took torch_compat's fast paths
            current_node = torch_compat.current_autograd_node

            def started(grad: torch.Tensor) -> None:
                gf = current_node()
                order.append(gf)
                grads_out[gf] = (grad,)

            hooks: dict[int, Callable[[torch.Tensor], torch.Tensor | None]] = {0: started}
            probe = torch.empty(0)
            probe._backward_hooks = hooks  # what Tensor.register_hook does, minus the handle
            for gf in self.ops:
                gf._register_hook_dict(probe)
        else:  # the public route: a pre-hook and its handle per node
            hooks = {}
            handles = [gf.register_prehook(self._started(gf)) for gf in self.ops]
        handles += [gf.register_hook(self._hook(gf)) for gf in self.ops if gf in self._full]
        leaf_ids = [n for n, t in self.leaf_tensors.items() if t.requires_grad]
        inputs = [self.leaf_tensors[n] for n in leaf_ids] + self._pretrace_inputs
        try:
            grads = torch.autograd.grad(self.loss, inputs, retain_graph=True, allow_unused=True)
        finally:
            hooks.clear()
            for h in handles:
                h.remove()
        self.leaf_grads = dict(zip(leaf_ids, grads))
        self._fill_grads()

    def _started(self, gf: Any) -> Callable[[_Grads], None]:
        order, grads_out = self._op_order, self.grads_out

        def started(grad_outputs: _Grads) -> None:
            order.append(gf)
            grads_out[gf] = (grad_outputs[0],)  # what the fast path's tensor pre-hook gets

        return started

    def _hook(self, gf: Any) -> Callable[[_Grads, _Grads], None]:
        copy = gf in self._copy_sent

        def hook(grad_inputs: _Grads, grad_outputs: _Grads) -> None:
            if copy:
                grad_inputs = tuple(g.clone() if g is not None else None for g in grad_inputs)
                grad_outputs = tuple(g.clone() if g is not None else None for g in grad_outputs)
            self.grads_in[gf] = grad_inputs
            self.grads_out[gf] = grad_outputs  # all outputs' gradients, not just the first

        return hook

    def received(self, u: Any) -> torch.Tensor | None:
        """The gradient autograd node ``u`` received (a leaf: what ``autograd.grad`` returned)."""
        outs = self.grads_out.get(u)
        return outs[0] if outs is not None else self.leaf_grads.get(self.ids[u])

    def _fill_grads(self) -> None:
        # The DiGraph's own dicts, as _new_node fills them: a networkx view costs a few
        # microseconds per lookup, and this visits every node and edge.
        nodes, pred, succ, ids = node_dict(self.graph), pred_dict(self.graph), succ_dict(self.graph), self.ids
        grads_in, grads_out = self.grads_in, self.grads_out
        for gf in self.ops:
            v = ids[gf]
            outs = grads_out.get(gf)
            if outs and len(outs) == 1:
                nodes[v]["grad"] = outs[0]
            elif (
                outs and gf in self.used_output and gf not in self.several_outputs and self.used_output[gf] < len(outs)
            ):
                nodes[v]["grad"] = outs[self.used_output[gf]]
            ins = grads_in.get(gf)
            if ins is None:
                continue  # no full hook, or it did not run: see below
            for u, edge in pred[v].items():
                if edge["detached"] or not nodes[u]["requires_grad"]:
                    continue
                parts = [ins[i] for i in edge["index"] if i < len(ins) and ins[i] is not None]
                if parts:
                    edge["grad"] = parts[0] if len(parts) == 1 else sum(parts[1:], parts[0])
        for u, v, _ in self._edges:
            if v in grads_out and v not in grads_in:  # ran, no full hook: see _plan_hooks
                edge = succ[ids[u]][ids[v]]
                if not edge["detached"]:
                    edge["grad"] = self.received(u)
        # Leaves: what autograd returned for them, which is what torch's .grad gets, after
        # the tensor's own gradient hooks (w.register_hook); else the sum of what every use
        # sent back. Complete after their last consumer ran.
        remaining = {}
        leaf_grads = self.leaf_grads
        for n, a in nodes.items():
            if a["kind"] not in ("op", "loss"):
                parts = [e["grad"] for e in succ[n].values() if e["grad"] is not None]
                grad = leaf_grads.get(n)
                a["grad"] = grad if grad is not None else sum(parts[1:], parts[0]) if parts else None
                if parts:
                    remaining[n] = len(parts)
        order = []
        for gf in self._op_order:
            v = ids[gf]
            order.append(v)
            into = pred[v]
            for u in sorted(into):
                if u in remaining and into[u]["grad"] is not None:
                    remaining[u] -= 1
                    if remaining[u] == 0:
                        order.append(u)
        self.backward_order = order

    def add_unreached_trainables(self) -> None:
        """Parameters with no gradient stay in the graph as nodes, with the reason."""
        g = self.graph
        for node, t in self.leaf_tensors.items():
            if t.requires_grad and g.nodes[node]["grad"] is None and node not in self.none_grad:
                downstream = nx.descendants(g, node)
                cut = any(g.edges[a, b]["detached"] for a in downstream | {node} for b in g.successors(a))
                self.none_grad[node] = "detached" if cut else "unused"
        candidates = self._params + [
            t for t in self.scenario.namespace.values() if isinstance(t, torch.Tensor) and t.is_leaf and t.requires_grad
        ]
        for t in candidates:
            if id(t) in self._by_tensor:
                continue
            node_id = self._add_tensor_leaf(t, "param")
            self.none_grad[node_id] = "requires_grad_off" if not t.requires_grad else "unused"

    def forward_order(self) -> list[str]:
        """Op node ids in creation order (the loss last)."""
        return [self.ids[gf] for gf in self.ops]

    def autograd_nodes(self) -> dict[str, Any]:
        """Node id -> autograd node, for on-demand Jacobians."""
        return {self.ids[gf]: gf for gf in self.ops}

    def edge_outputs(self) -> dict[tuple[str, str], torch.Tensor]:
        """(producer id, consumer id) -> the value the edge carries, where the producer has
        several outputs used by different ops and its node shows only the first."""
        ids = self.ids
        return {(ids[u], ids[v]): value for (u, v), value in self._edge_outputs.items()}
