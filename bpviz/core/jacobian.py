"""Dense local Jacobians of one edge, computed on demand (they explode in size for big tensors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from bpviz.core.trace_record import Trace


def edge_jacobian(trace: Trace, u: str, v: str, max_elements: int = 65536) -> torch.Tensor | None:
    """d(v's output)/d(u's output) with shape ``v.shape + u.shape``, or None.

    None when v has no autograd node, no gradient flows along the edge, or the Jacobian would
    have more than ``max_elements`` entries. Calls v's autograd node once per output element
    with a one-hot upstream gradient; broadcasting creates no node, so each row is reduced to
    u's shape with ``sum_to_size``.
    """
    gf = trace._autograd.get(v)
    edge = trace.graph.edges[u, v]
    v_val = trace.graph.nodes[v]["value"]
    u_val = trace.edge_value(u, v)
    if gf is None or v_val is None or u_val is None or not edge["index"] or edge["detached"]:
        return None
    if v_val.numel() * u_val.numel() > max_elements:
        return None
    rows = []
    with torch.no_grad():
        basis = torch.zeros(v_val.numel(), dtype=v_val.dtype)
        for k in range(v_val.numel()):
            basis.zero_()
            basis[k] = 1
            try:
                out = gf(basis.reshape(v_val.shape).clone())
            except Exception:  # noqa: BLE001 - nodes with several outputs cannot be called this way
                return None
            out = out if isinstance(out, tuple) else (out,)
            row = torch.zeros(u_val.shape, dtype=u_val.dtype)
            for i in edge["index"]:
                if i < len(out) and out[i] is not None:
                    row = row + out[i].sum_to_size(u_val.shape)
            rows.append(row)
    return torch.stack(rows).reshape(tuple(v_val.shape) + tuple(u_val.shape))
