"""Errors of the network builder: each carries one sentence saying what is wrong and what to do."""

from __future__ import annotations

from bpviz.core.errors import BpvizError


class NetworkError(BpvizError):
    """An edit or a document the network builder refuses (a cycle, an unknown block...)."""


class PropertyError(NetworkError):
    """A block property got a value it cannot take (wrong type, out of range)."""


class FormatError(NetworkError):
    """A ``.bpviz`` file is malformed, truncated, from a newer bpviz, or not a network at all."""


class BuildError(NetworkError):
    """The network cannot run: a missing wire, an impossible shape, no loss."""
