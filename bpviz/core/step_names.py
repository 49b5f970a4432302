"""Step names: the one reading of what a user means by ``--step`` (the app, its ``--screenshot``
and ``bpviz export`` alike). Imports no torch, so command-line parsers can use it cheaply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpviz.core.errors import BpvizError

if TYPE_CHECKING:
    from bpviz.core.stepper import StepSequence

STEP_NAMES = ("start", "forward", "loss", "backward", "update", "end")


def step_position(sequence: StepSequence, spec: str | int) -> int:
    """The position a user means by ``spec``: a step number (clamped to the valid range), or a
    phase name meaning the moment that phase is complete: ``start`` (0), ``forward`` (the last
    forward step), ``loss``, ``backward`` (the last backward step: every gradient shown),
    ``update`` or ``end`` (the last step). The app, ``--screenshot`` and ``bpviz export`` all
    read a step this way. Raises BpvizError for anything else."""
    text = str(spec).strip().lower()
    if text.lstrip("-").isdigit():
        return max(0, min(int(text), sequence.last))
    phases = [s.phase for s in sequence.steps]

    def last_of(phase: str) -> int:
        return max((i for i, p in enumerate(phases) if p == phase), default=sequence.loss_position)

    positions = {
        "start": 0,
        "forward": last_of("Forward"),
        "loss": sequence.loss_position,
        "backward": last_of("Backward"),
        "update": sequence.last,
        "end": sequence.last,
    }
    if text not in positions:
        raise BpvizError(f"Unknown step '{spec}'; use a step number or one of {', '.join(STEP_NAMES)}.")
    return positions[text]
