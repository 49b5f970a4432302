"""torch's process-wide switches, kept per scenario: what one scenario sets never reaches the next.

A scenario file may call ``torch.set_grad_enabled(False)``, ``torch.set_default_dtype(...)`` or
``torch.autograd.set_detect_anomaly(True)`` at its top level. Those are global in torch (grad
mode per thread), so without care they would carry over to every later scenario in the session:
lessons would then fail, or silently lose their NaN. Loading records the state the file left
(:attr:`Scenario.torch_state`) and puts the caller's back; tracing and training that scenario
run under its own recorded state and restore the caller's afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TorchState:
    """The switches bpviz keeps per scenario."""

    grad_enabled: bool
    default_dtype: torch.dtype
    anomaly: bool

    @classmethod
    def current(cls) -> TorchState:
        """The state in force now (grad mode: on this thread)."""
        return cls(torch.is_grad_enabled(), torch.get_default_dtype(), torch.is_anomaly_enabled())

    def apply(self) -> None:
        """Put this state in force."""
        torch.set_grad_enabled(self.grad_enabled)
        torch.set_default_dtype(self.default_dtype)
        torch.autograd.set_detect_anomaly(self.anomaly)


@contextmanager
def isolated(state: TorchState | None = None) -> Iterator[None]:
    """Run the block under ``state`` (None: as things are), then restore what was in force."""
    before = TorchState.current()
    if state is not None and state != before:
        state.apply()
    try:
        yield
    finally:
        if TorchState.current() != before:
            before.apply()
