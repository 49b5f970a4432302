"""The caption of each step (the step bar's line, and the subtitle of an export), written with the
trace's own numbers: ``y: mul = 14`` forward, ``y: dL/dy = 14 flows to its inputs`` backward."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpviz.core.numbers import format_number
from bpviz.presentation.roles import role, updated_noun

if TYPE_CHECKING:  # the step bar imports this module before torch is loaded
    import torch

    from bpviz.core.stepper import StepSequence

START = "Leaves hold their values; press Step to run the forward pass."
UNKNOWN = "—"


def tensor_brief(t: torch.Tensor | None) -> str:
    """A tensor in a few words: the number for one element, else its size (the node on the
    canvas shows the values)."""
    if t is None:
        return UNKNOWN
    if t.numel() == 1:
        return format_number(float(t.reshape(())))
    if t.dim() == 1:
        return f"a vector of {t.shape[0]}"
    return f"a {'×'.join(map(str, t.shape))} tensor"


def step_caption(sequence: StepSequence, position: int, show_value: bool = True, show_grad: bool = True) -> str:
    """What the step at ``position`` (clamped) does, with its numbers.

    ``show_value``/``show_grad`` False write :data:`UNKNOWN` instead of the number the step
    computes (the visibility policy decides; by default both are shown).
    """
    step = sequence.steps[max(0, min(position, sequence.last))]
    trace = sequence.trace
    if step.phase == "Start":
        return START
    if step.phase == "Update":
        noun = updated_noun(role(a) for _, a in trace.graph.nodes(data=True))
        target = noun if "/" not in noun else "it"
        return f"{noun} ← {target} − {format_number(sequence.lr)} × grad"
    if step.phase == "Loss":
        return f"loss = {format_number(trace.loss) if show_value else UNKNOWN}; dL/dL = 1"
    node = step.node
    assert node is not None  # Forward and Backward steps act on a node
    a = trace.node(node)
    if step.phase == "Forward":
        return f"{a['name']}: {a['op']} = {tensor_brief(a['value']) if show_value else UNKNOWN}"
    from bpviz.core.views import is_shape_op  # networkx: not at the step bar's import

    flows = f"dL/d{a['name']} = {tensor_brief(a['grad']) if show_grad else UNKNOWN} flows to its inputs"
    if is_shape_op(a):
        # A transpose or view inside a layer is no step of the maths a learner knows: say what
        # it is, so "t" is not mistaken for a value of its own.
        sources = ", ".join(trace.node(u)["name"] for u, _ in step.edges) or "its input"
        return f"{a['name']} = {a['op']}({sources}) only rearranges numbers: {flows}"
    return f"{a['name']}: {flows}"


def in_box(caption: str, box_name: str | None) -> str:
    """A step's caption as the user sees it when its op is folded inside a layer's box: the box
    first (``Linear(10→5) ▸ t: ...``), since the op itself is not drawn."""
    return f"{box_name} ▸ {caption}" if box_name else caption


def step_subtitle(caption: str, phase: str, position: int, last: int, box_name: str | None = None) -> str:
    """The line under an export's title: ``Backward · step 6 of 7: y: dL/dy = 14 ...``, naming
    the layer's box first when the step's op is folded inside one."""
    return f"{phase} · step {position} of {last}: {in_box(caption, box_name)}"
