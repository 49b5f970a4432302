"""The training panel's choices as plain data, and the session that turns them into a Trainer.

:class:`Settings` is what the panel reads from its fields (hashable, so the worker can tell
whether anything changed); :meth:`Settings.check` validates it through the core's TrainConfig on
the UI thread, before anything is sent to the worker. :class:`TrainingSession` lives on the
worker thread: it loads the scenario, builds Trainers, and keeps the weights the scenario started
with so that "Reset weights" always goes back to them, even after the settings changed mid-way.
No Qt here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from bpviz.core.datasets import load_csv
from bpviz.core.scenario import Scenario
from bpviz.core.training import TrainConfig, Trainer
from bpviz.presentation.training.snapshot import copy_into, state_tensors

OWN, BUILTIN, CSV = "own", "builtin", "csv"


@dataclass(frozen=True)
class DataChoice:
    """Where the batches come from: the scenario's own inputs, a built-in set, or CSV columns."""

    kind: str = OWN
    name: str = ""
    path: str = ""
    features: tuple[str, ...] = ()
    target: str = ""

    def resolve(self, seed: int):
        """The TrainConfig ``dataset`` value (loads and checks a CSV file: raises BpvizError)."""
        if self.kind == BUILTIN:
            return self.name
        if self.kind == CSV:
            return load_csv(self.path, list(self.features) or None, self.target or None)
        return None

    def describe(self) -> str:
        """A few words for the status line and the log."""
        if self.kind == BUILTIN:
            return f"dataset {self.name}"
        if self.kind == CSV:
            return f"CSV {os.path.basename(self.path)}"
        return "the scenario's own batch"


@dataclass(frozen=True)
class Settings:
    """Every training setting but the number of steps (a run's length changes no Trainer).

    ``lr`` and ``clip_norm`` may hold the raw text of a field that is not a number: the core's
    TrainConfig then says what is wrong in its own words.
    """

    optimizer: str = "sgd"
    lr: float | str | None = None
    momentum: float = 0.0
    batch_size: int | None = None
    clip_norm: float | str | None = None
    zero_grad: bool = True
    seed: int = 0
    loss: str | None = None
    data: DataChoice = DataChoice()

    def config(self, steps: int = 1, dataset=None) -> TrainConfig:
        """The TrainConfig (raises TrainingError, a BpvizError, for a bad setting)."""
        # Text that is not a number goes in as it is: TrainConfig checks its fields when made.
        lr, clip_norm = cast("float | None", self.lr), cast("float | None", self.clip_norm)
        return TrainConfig(
            optimizer=self.optimizer,
            lr=lr,
            momentum=self.momentum,
            batch_size=self.batch_size,
            steps=steps,
            clip_norm=clip_norm,
            zero_grad=self.zero_grad,
            seed=self.seed,
            loss=self.loss,
            dataset=dataset,
        )

    def check(self, steps: int) -> None:
        """Validate everything that needs no data (cheap, UI thread); raises BpvizError."""
        self.config(steps)


class TrainingSession:
    """One scenario's training state on the worker thread: the Trainer and the step count.

    Changing settings makes a new Trainer that continues from the current weights (the
    optimiser's own state starts afresh); steps keep counting from where they were, so the plots
    go on. A Trainer that cannot be made (a bad CSV, data that do not fit) leaves the old one,
    and the weights, exactly as they were.
    """

    def __init__(self, load: Callable[[], Scenario]):
        self._load = load
        self.scenario: Scenario | None = None
        self.trainer: Trainer | None = None
        self.settings: Settings | None = None
        self.offset = 0
        self._tensors: list = []
        self._pristine: list = []

    @property
    def step(self) -> int:
        """Steps done since the last reset (the x of the next point on the plots)."""
        return self.offset + (self.trainer.step_index if self.trainer is not None else 0)

    def ensure(self, settings: Settings) -> tuple[Trainer, bool]:
        """The Trainer for ``settings`` and whether it is new; raises BpvizError if none can be made."""
        if self.scenario is None:
            self.scenario = self._load()
            self._tensors = state_tensors(self.scenario)
            self._pristine = [t.detach().clone() for t in self._tensors]
        if self.trainer is not None and settings == self.settings:
            return self.trainer, False
        dataset = settings.data.resolve(settings.seed)
        config = settings.config(dataset=dataset)
        if self.trainer is None:
            trainer = Trainer(self.scenario, config)
        else:
            # Built on the starting weights, so the new Trainer's reset() goes back to them;
            # then the current weights are put back and training continues from them.
            current = [t.detach().clone() for t in self._tensors]
            copy_into(self._tensors, self._pristine)
            try:
                trainer = Trainer(self.scenario, config)
            finally:
                copy_into(self._tensors, current)
            self.offset += self.trainer.step_index
            self.trainer.close()
        self.trainer, self.settings = trainer, settings
        return trainer, True

    def reset(self) -> None:
        """Back to the starting weights, step 0 (nothing to do before the first Trainer)."""
        if self.trainer is not None:
            self.trainer.reset()
        elif self._tensors:
            copy_into(self._tensors, self._pristine)
        self.offset = 0

    def close(self) -> None:
        """Remove the Trainer's hooks from the model."""
        if self.trainer is not None:
            self.trainer.close()
            self.trainer = None
