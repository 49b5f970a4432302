"""Diagnostics as data: missing gradients, NaN/Inf, exploding and vanishing gradients, dead ReLUs.

The thresholds follow the seed tutorials' ``check_gradients``: a gradient norm above 10 is
exploding, below 1e-6 vanishing.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from bpviz.core import torch_compat
from bpviz.core.graph_dicts import node_dict
from bpviz.core.trace_record import Diagnostic, Trace

if TYPE_CHECKING:
    import networkx as nx

    from bpviz.core.graph_builder import GraphBuilder

_RELU_OPS = {"relu", "threshold"}
_RELU_AUTOGRAD = {"ReluBackward0", "ReluBackward1", "ThresholdBackward0", "ThresholdBackward1"}

NONE_GRAD_REASONS = {
    "detached": "it reaches the loss only through .detach() (or .data), which cuts the graph",
    "requires_grad_off": "its requires_grad is off, so autograd never tracks it",
    "unused": "the loss does not use it",
}


@dataclass(frozen=True)
class Thresholds:
    """Gradient-norm limits for the exploding and vanishing diagnostics."""

    exploding: float = 10.0
    vanishing: float = 1e-6


def _finite(t: torch.Tensor | None) -> bool:
    if t is None or not (t.is_floating_point() or t.is_complex()):
        return True
    return bool(torch.isfinite(t).all())


def all_finite(tensors: Iterable[torch.Tensor | None]) -> bool:
    """True when every floating tensor is free of NaN/Inf.

    A sum per tensor screens them all (an element-wise isfinite per tensor costs ~10x more);
    only a tensor whose sum is not finite, which a huge but finite tensor can also cause, gets
    the exact element-wise check.
    """
    floats = [t for t in tensors if t is not None and t.is_floating_point()]
    first = (floats[0].dtype, floats[0].device) if floats else None
    if all(t.dtype == first[0] and t.device == first[1] for t in floats):  # type: ignore[index]  # None only if no floats
        groups = {first: floats} if floats else {}
    else:  # fused kernels need one dtype and device per call
        groups = {}
        for t in floats:
            groups.setdefault((t.dtype, t.device), []).append(t)
    for ts in groups.values():
        # NaN and Inf survive a sum; a sum that overflows gets the exact check below. On the
        # CPU a sum per tensor beats _foreach_norm, which is not fused there.
        sums = torch.stack([t.sum() for t in ts])
        if bool(torch.isfinite(sums).all()):
            continue
        for i in torch.nonzero(~torch.isfinite(sums)).flatten().tolist():
            if not _finite(ts[i]):
                return False
    return True


def _param_norms(g: nx.DiGraph[str]) -> dict[str, float]:
    # The DiGraph's node dict, as the graph builder fills it (read only): a networkx view
    # costs a few microseconds per lookup, and the checks here visit every node.
    params = [(n, a["grad"]) for n, a in node_dict(g).items() if a["kind"] == "param" and a["grad"] is not None]
    if not params:
        return {}
    groups: dict[tuple[torch.dtype, torch.device], list[tuple[str, torch.Tensor]]] = {}
    for n, t in params:
        groups.setdefault((t.dtype, t.device), []).append((n, t))
    out: dict[str, float] = {}
    for items in groups.values():
        # tolist widens float32 to python floats exactly, as .double() would, one op fewer.
        norms = torch.stack(torch_compat.foreach_norm([t for _, t in items])).tolist()
        out.update((n, v) for (n, _), v in zip(items, norms))
    return out


def diagnose(trace: Trace, builder: GraphBuilder, thresholds: Thresholds) -> list[Diagnostic]:
    """All findings for one trace, in a stable order."""
    out: list[Diagnostic] = []
    g = trace.graph
    for node in sorted(builder.none_grad):
        reason = builder.none_grad[node]
        name = node_dict(g)[node]["name"]
        out.append(
            Diagnostic("none_grad", node, f"{name} gets no gradient: {NONE_GRAD_REASONS[reason]}.", {"reason": reason})
        )
    norms = _param_norms(g)
    out.extend(_nonfinite(trace, builder, norms))
    for node, a in node_dict(g).items():
        if node not in norms:
            continue
        norm = norms[node]
        if norm != norm or norm == float("inf"):
            norm = float(a["grad"].double().norm())  # float32 norms overflow before the values do
            if norm != norm:
                continue  # reported as nonfinite
        if norm > thresholds.exploding:
            out.append(
                Diagnostic(
                    "exploding",
                    node,
                    f"{a['name']}: gradient norm {norm:.4g} is above "
                    f"{thresholds.exploding:g} (exploding); lower the learning rate or clip "
                    "gradients.",
                    {"norm": norm},
                )
            )
        elif norm < thresholds.vanishing:
            out.append(
                Diagnostic(
                    "vanishing",
                    node,
                    f"{a['name']}: gradient norm {norm:.3g} is below "
                    f"{thresholds.vanishing:g} (vanishing); try ReLU, residual connections "
                    "or normalisation.",
                    {"norm": norm},
                )
            )
    out.extend(_dead_relus(trace))
    for gf, nrs in builder.several_outputs.items():
        several = builder.ids.get(gf)
        if several is None:
            continue
        a = node_dict(g)[several]
        first = "output " + str(nrs[0]) + "'s value" if a["value"] is not None else "no value"
        out.append(
            Diagnostic(
                "several_outputs",
                several,
                f"{a['name']} ({a['op']}) has {len(nrs)} outputs used by different "
                f"ops: its node shows {first} and no gradient of its own (torch keeps one per output); "
                "each out-edge carries its own output's gradient.",
                {"outputs": nrs},
            )
        )
    notice = torch_compat.take_notice()
    if notice:  # once per process: the self-check switched to the public-API paths
        out.append(Diagnostic("torch_fallback", None, notice))
    return out


def _nonfinite(trace: Trace, builder: GraphBuilder, param_norms: dict[str, float]) -> list[Diagnostic]:
    g = trace.graph
    found: list[Diagnostic] = []
    # A NaN or Inf matters when it reaches the loss or a leaf's gradient; only then is the
    # whole pass searched for where it first appeared. This keeps a clean trace to one small
    # screen, and leaves alone the intentional -inf of attention masks that never get there.
    # Parameter norms are computed anyway: a NaN or Inf makes its norm non-finite.
    others = [a["grad"] for n, a in node_dict(g).items() if a["kind"] not in ("op", "loss") and n not in param_norms]
    if math.isfinite(trace.loss) and all(map(math.isfinite, param_norms.values())) and all_finite(others):
        return found
    leaves = sorted(n for n, a in node_dict(g).items() if a["kind"] not in ("op", "loss"))
    forward = leaves + trace.forward_order
    for node in forward:
        if not _finite(node_dict(g)[node]["value"]):
            a = node_dict(g)[node]
            found.append(
                Diagnostic(
                    "nonfinite",
                    node,
                    f"NaN/Inf first appears in the forward pass at {a['name']} ({a['op'] or a['kind']}{_in(a)}).",
                    {"pass": "forward"},
                )
            )
            break
    ids = {v: k for k, v in builder.ids.items()}
    for node in builder.backward_order:
        gf = ids.get(node)
        if gf is None:
            continue
        received = builder.grads_out.get(gf, ())
        sent = _sent(builder, gf)
        if all(_finite(t) for t in received) and not all(_finite(t) for t in sent):
            a = node_dict(g)[node]
            found.append(
                Diagnostic(
                    "nonfinite",
                    node,
                    f"NaN/Inf first appears in the backward pass at "
                    f"{a['name']} ({a['autograd']}{_in(a)}); a log(0), sqrt of a negative or "
                    "0/0 is the usual cause (use log_softmax instead of log(softmax)).",
                    {"pass": "backward"},
                )
            )
            break
    return found


def _sent(builder: GraphBuilder, gf: Any) -> tuple[torch.Tensor | None, ...]:
    """What autograd node ``gf`` sent to its inputs; () if it did not run. Without a full hook
    (``GraphBuilder._plan_hooks``) it fed each input alone, which received exactly that."""
    ins = builder.grads_in.get(gf)
    if ins is not None or gf not in builder.grads_out:
        return ins or ()
    return tuple(builder.received(u) for u, _ in gf.next_functions)


def _in(a: dict[str, Any]) -> str:
    return f" in {a['module']}" if a["module"] else ""


def alive_units(value: torch.Tensor) -> torch.Tensor:
    """Bool per unit of a ReLU output: does any sample make it positive? (unit = dim 1 of a
    batch, or each element of a 0-D/1-D value)."""
    if value.dim() <= 1:
        return value.reshape(-1) > 0
    if value.dim() == 2:
        return value.amax(dim=0) > 0
    return value.amax(dim=[d for d in range(value.dim()) if d != 1]) > 0


def dead_units(value: torch.Tensor) -> list[int]:
    """Indices of the units of a ReLU output that are zero for every sample."""
    return [i for i, alive in enumerate(alive_units(value).tolist()) if not alive]


# ReLU outputs up to this size that share a shape are stacked and reduced in one call: a
# reduction per small tensor costs more in dispatch than in arithmetic. Bigger ones are not
# worth copying: at 65536 elements the ResNet-18-like net's diagnostics took 0.3 ms longer.
_STACK_NUMEL = 1 << 13


def _alive_stacked(values: list[torch.Tensor]) -> torch.Tensor:
    """:func:`alive_units` of same-shaped values at once: a (len(values), units) mask."""
    stacked = torch.stack(values)
    if stacked.dim() <= 2:
        return stacked.reshape(len(values), -1) > 0
    return stacked.amax(dim=[d for d in range(1, stacked.dim()) if d != 2]) > 0


def _dead_relus(trace: Trace) -> list[Diagnostic]:
    nodes = node_dict(trace.graph)  # see _param_norms
    relus = []  # (node id, attributes)
    for n in trace.forward_order:
        a = nodes[n]
        if (a["op"] in _RELU_OPS or a["autograd"] in _RELU_AUTOGRAD) and a["value"] is not None and a["value"].numel():
            relus.append((n, a))
    if not relus:
        return []
    values = [a["value"] for _, a in relus]
    groups: dict[tuple[torch.Size, torch.dtype, torch.device] | int, list[int]] = {}
    for i, v in enumerate(values):
        key = (v.shape, v.dtype, v.device) if v.numel() <= _STACK_NUMEL else i
        groups.setdefault(key, []).append(i)
    masks, spans, offset = [], [(0, 0)] * len(relus), 0  # spans: (start, units) in the masks
    for members in groups.values():
        if len(members) == 1:
            mask = alive_units(values[members[0]])
            spans[members[0]] = (offset, mask.numel())
        else:
            mask = _alive_stacked([values[i] for i in members])
            units = mask.shape[1]
            for j, i in enumerate(members):
                spans[i] = (offset + j * units, units)
        masks.append(mask.reshape(-1))
        offset += mask.numel()
    # One sync for every ReLU in the graph, and only the dead units become python ints.
    dead_at = torch.nonzero(~torch.cat(masks)).flatten().tolist()
    out = []
    for (node, a), (start, total) in zip(relus, spans):
        first, last = bisect_left(dead_at, start), bisect_left(dead_at, start + total)
        if first == last:
            continue
        dead = [p - start for p in dead_at[first:last]]
        listed = ", ".join(map(str, dead[:8])) + (" ..." if len(dead) > 8 else "")
        out.append(
            Diagnostic(
                "dead_relu",
                node,
                f"{a['name']}{_in(a)}: {len(dead)} of {total} units "
                f"output 0 for every sample (unit {listed}), so no gradient reaches "
                "their weights.",
                {"units": dead, "total": total},
            )
        )
    return out
