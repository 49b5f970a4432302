"""Sources: where a scenario comes from. A file, a lesson, and a model handed to ``bpviz.show``
are all sources; each loads its scenario once, and the trace and the training run share that load.

``source_from_spec`` is the one place that reads a spec string (``lesson:NAME`` or a path), for
the command line and the app alike. Everything else asks the source: its label for messages, its
title, the file to remember in Open Recent, and the scenario a training run may change.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from bpviz.core.scenario import LESSON_PREFIX, NETWORK_SUFFIX, Scenario, load_scenario


class Source(ABC):
    """Something that can load one scenario."""

    @property
    @abstractmethod
    def label(self) -> str:
        """How messages name it: ``lesson:chain56``, a file path, a model's class name."""

    @property
    def display_name(self) -> str:
        """How a status line names it: a lesson by its name, a file by its file name."""
        return self.label

    @property
    def recent_path(self) -> str | None:
        """The file to remember in Open Recent (None: nothing to remember)."""
        return None

    @property
    def folder(self) -> str:
        """Where an Open or Export dialog starts ("" for no particular folder)."""
        return ""

    @property
    def code_path(self) -> str | None:
        """The user's file whose code :meth:`load` runs (the app asks before running it the
        first time); None when loading runs no code from the user's files."""
        return None

    @property
    def stem(self) -> str:
        """A file name stem for exports of what this source shows (``chain56``, ``model``)."""
        return "graph"

    @abstractmethod
    def load(self) -> Scenario:
        """Run the source once and return its scenario; raises BpvizError with a clear message."""

    def arrangement(self, trace: Any) -> Any:
        """How the canvas draws ``trace`` (this source's latest trace) from positions of its
        own, such as a :class:`~bpviz.core.network.block_view.BlockArrangement` of the blocks a
        user placed; None (the default): in the app's layered layout."""
        return None

    def training_scenario(self, scenario: Scenario) -> Scenario | None:
        """The scenario a training run may change, made from ``scenario`` (the one this source
        loaded and the trace used): an nn.Module model gets its own copy of the model and tensors;
        a scenario file's loss() closure or plain function model holds tensors only this load
        made, so it trains them in place. None when it cannot be trained."""
        if scenario.module is not None:
            return scenario.model_copy()
        return scenario


@dataclass(frozen=True)
class LessonSource(Source):
    """A built-in lesson, by name."""

    name: str

    @property
    def label(self) -> str:  # noqa: D102 - see Source
        return f"{LESSON_PREFIX}{self.name}"

    @property
    def stem(self) -> str:  # noqa: D102 - see Source
        return self.name

    @property
    def display_name(self) -> str:  # noqa: D102 - see Source
        return self.name

    def load(self) -> Scenario:  # noqa: D102 - see Source
        return load_scenario(self.label)


@dataclass(frozen=True)
class FileSource(Source):
    """A scenario file (Python) on disk."""

    path: str

    @property
    def label(self) -> str:  # noqa: D102 - see Source
        return self.path

    @property
    def recent_path(self) -> str | None:  # noqa: D102 - see Source
        return self.path

    @property
    def code_path(self) -> str | None:  # noqa: D102 - see Source
        return self.path

    @property
    def display_name(self) -> str:  # noqa: D102 - see Source
        return os.path.basename(self.path)

    @property
    def folder(self) -> str:  # noqa: D102 - see Source
        return os.path.dirname(os.path.abspath(self.path))

    @property
    def stem(self) -> str:  # noqa: D102 - see Source
        return os.path.splitext(os.path.basename(self.path))[0] or "graph"

    def load(self) -> Scenario:  # noqa: D102 - see Source
        return load_scenario(self.path)


class ScenarioSource(Source):
    """A scenario built in the caller's process (``bpviz.show(model, x)``): already loaded.

    An nn.Module model is trained on a copy, so the caller's model keeps its weights; a loss
    closure or a plain function model holds the caller's own tensors and is not trained.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    @property
    def label(self) -> str:  # noqa: D102 - see Source
        return self.scenario.title or self.scenario.source or "model"

    @property
    def stem(self) -> str:  # noqa: D102 - see Source
        return (self.scenario.source or "model").replace(" ", "_")

    def load(self) -> Scenario:  # noqa: D102 - see Source
        return self.scenario

    def training_scenario(self, scenario: Scenario) -> Scenario | None:  # noqa: D102 - see Source
        return scenario.model_copy() if scenario.module is not None else None


def source_from_spec(spec: str | os.PathLike[str]) -> Source:
    """The source a command-line argument names: ``lesson:NAME``, a ``.bpviz`` network or a
    scenario file path."""
    text = os.fspath(spec)
    if text.startswith(LESSON_PREFIX):
        return LessonSource(text[len(LESSON_PREFIX) :])
    if text.lower().endswith(NETWORK_SUFFIX):
        from bpviz.core.network.source import NetworkSource  # it imports this module

        return NetworkSource(text)
    return FileSource(text)
