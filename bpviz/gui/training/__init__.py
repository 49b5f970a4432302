"""Training in the app: the panel, the live plots, the event log and the worker thread.

:class:`~bpviz.gui.training.controller.TrainingController` is the entry point; the main window
creates one, which adds the Train menu and builds everything else on first use.
"""

from bpviz.gui.training.controller import TrainingController

__all__ = ["TrainingController"]
