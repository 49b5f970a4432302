"""User-facing errors: each carries one sentence saying what is wrong and what to do."""

from __future__ import annotations


class BpvizError(Exception):
    """An error the user can fix; ``str(err)`` is the one-line message to show."""


class ScenarioError(BpvizError):
    """A scenario file is missing, broken, or does not define what bpviz needs."""


class TraceError(BpvizError):
    """The forward or backward pass could not be traced."""


# Torch's own texts, translated into what the user should do about them.
_TORCH_HINTS = (
    (
        "grad can be implicitly created only for scalar outputs",
        "the loss is not a scalar; reduce it first, e.g. with .mean() or .sum()",
    ),
    (
        "Trying to backward through the graph a second time",
        "backward ran twice through the same graph; rebuild the forward pass inside loss()",
    ),
    (
        "modified by an inplace operation",
        "a tensor needed for the backward pass was changed in place; use the out-of-place op "
        "(e.g. x = x + 1 instead of x += 1, relu instead of relu_)",
    ),
    (
        "a leaf Variable that requires grad is being used in an in-place operation",
        "a leaf tensor that requires grad was changed in place; change it under "
        "torch.no_grad() or use an out-of-place op",
    ),
    (
        "When use_reentrant=True, torch.utils.checkpoint is incompatible",
        "a reentrant torch.utils.checkpoint (torch's default when use_reentrant is not passed) "
        "cannot be traced: its ops stay hidden from autograd until backward; pass "
        "use_reentrant=False to checkpoint(), which bpviz traces exactly",
    ),
    (
        "does not require grad and does not have a grad_fn",
        "the loss does not depend on anything that requires grad; set requires_grad=True on "
        "the tensors to differentiate",
    ),
)


# Longest text of an unexpected exception shown in a one-line message; the rest is for --debug
# or the dialog's details (torch's dispatcher errors run to thousands of characters).
MAX_UNEXPECTED_CHARS = 160


def unexpected_message(exc: BaseException) -> str:
    """``RuntimeError: <the first line of its text, shortened>``: one line for an exception
    bpviz did not foresee, whatever the length of its text."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if len(text) > MAX_UNEXPECTED_CHARS or len(lines) > 1:
        text = text[:MAX_UNEXPECTED_CHARS].rstrip() + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def explain_torch_error(exc: BaseException) -> str | None:
    """A user-facing sentence for a known torch autograd error, or None."""
    text = str(exc)
    for needle, advice in _TORCH_HINTS:
        if needle in text:
            return advice[0].upper() + advice[1:] + "."
    return None
