"""What one recorded forward pass knew, keyed by autograd node: the data the recorder
(:mod:`bpviz.core.recorder`) fills and the graph builder reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass(slots=True)
class OpRecord:
    """What the forward pass knew about one autograd node."""

    op: str
    module: str
    value: torch.Tensor
    aten: str


@dataclass
class DataArg:
    """A non-differentiable argument of a call: a tensor without grad, or a python number."""

    value: Any
    position: int


@dataclass
class Recording:
    """Everything one forward pass recorded, keyed by autograd node object."""

    ops: dict[Any, OpRecord] = field(default_factory=dict)
    data_args: dict[Any, list[DataArg]] = field(default_factory=dict)
    # id(detached tensor) -> (detached tensor, the tensor it came from)
    detached: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    # Autograd nodes made before the trace started -> the tensor value seen as an argument.
    pretrace: dict[Any, torch.Tensor] = field(default_factory=dict)
    baseline_seq: int = 0
    # Without Node._sequence_nr (torch_compat's fallback): autograd node -> its place in the
    # order the recorder saw nodes made. None on the fast path, which asks each node.
    order: dict[Any, float] | None = None
    # Nodes the recorder did not see, known to be made during the pass or before it.
    born: dict[Any, bool] = field(default_factory=dict)
    # Nodes whose gradient is not simply what their one consumer sent: the grad_fn of several
    # outputs (split, var_mean), or of an output given a gradient hook (t.register_hook).
    unclear: set[Any] = field(default_factory=set)
    # Nodes whose output tensor has a gradient hook (a hook may change its gradient in place).
    hooked: set[Any] = field(default_factory=set)
    # Nodes with several outputs seen (chunk, var_mean, native_group_norm): output_nr -> value.
    outputs: dict[Any, dict[int, torch.Tensor]] = field(default_factory=dict)
    # id(tensor) -> (tensor, its clone at the end of the forward pass), shared by the nodes
    # that show it: a weight's leaf and the transposed weight F.linear made of it.
    snapshots: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    def made_in_trace(self, gf: Any) -> bool:
        """Whether autograd node ``gf`` was made during the recorded pass, not before it."""
        order = self.order
        if order is None:
            return bool(gf._sequence_nr() >= self.baseline_seq)
        if gf in order or gf in self.ops:
            return True
        # A node's inputs are older than it, so history made before the pass never points at a
        # node made during it; a node made during it that the recorder never saw (a view's node
        # remade after an in-place op on its base) points at one it saw, directly or not.
        known = self.born.get(gf)
        if known is not None:
            return known
        stack, seen = [gf], {gf}
        while stack:
            node = stack.pop()
            for u, _ in node.next_functions:
                if u is None or u in seen or self.born.get(u) is False:
                    continue
                if self.born.get(u) or u in order or u in self.ops:
                    self.born[gf] = True
                    return True
                seen.add(u)
                stack.append(u)
        for node in seen:  # none of them reaches the pass
            self.born[node] = False
        return False

    def snapshot(self, t: torch.Tensor) -> torch.Tensor:
        """A clone of ``t`` as it is now, made once per tensor per trace (the trace owns it)."""
        known = self.snapshots.get(id(t))
        if known is None or known[0] is not t:
            known = self.snapshots[id(t)] = (t, t.detach().clone())
        return known[1]
