"""The network builder: an editor canvas for blocks and wires, a palette and a property dock,
undo, files, and the switch between building a network and stepping through it."""

from bpviz.gui.builder.controller import BuilderController

__all__ = ["BuilderController"]
