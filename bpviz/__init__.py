"""bpviz: see backpropagation. Trace any torch model and step through its backward pass.

import bpviz
t = bpviz.trace(model, x, target=y)      # or bpviz.trace(loss_closure)
t.graph, t.loss, t.forward_order, t.backward_order, t.diagnostics
bpviz.show(model, x, target=y)           # opens the desktop app on it
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "show", "trace"]


def trace(*args: Any, **kwargs: Any):
    """Trace one forward and backward pass; see :func:`bpviz.core.trace.trace`."""
    from bpviz.core.trace import trace as _trace

    return _trace(*args, **kwargs)


def show(*args: Any, **kwargs: Any) -> int:
    """Open the desktop app on a model or closure (same arguments as :func:`trace`); blocks
    until the window closes, like ``plt.show()``."""
    from bpviz.gui.app import show as _show

    return _show(*args, **kwargs)
