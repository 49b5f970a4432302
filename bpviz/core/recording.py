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

    def snapshot(self, t: torch.Tensor) -> torch.Tensor:
        """A clone of ``t`` as it is now, made once per tensor per trace (the trace owns it)."""
        known = self.snapshots.get(id(t))
        if known is None or known[0] is not t:
            known = self.snapshots[id(t)] = (t, t.detach().clone())
        return known[1]
