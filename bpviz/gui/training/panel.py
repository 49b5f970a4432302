"""The training panel: data, optimiser and its settings, and the Run / Pause / Step / Reset buttons.

The panel only collects choices (:meth:`TrainingPanel.settings`) and says which button was
pressed; the :class:`~bpviz.gui.training.controller.TrainingController` does the rest. Number
fields that the core validates (learning rate, clipping norm) are plain text fields, so a typo
reaches the core's TrainConfig and comes back as its one-sentence message.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpviz.core.training import LOSSES
from bpviz.gui.training.dataset_box import DatasetBox
from bpviz.gui.training.settings import OWN, Settings

DEFAULT_STEPS = 500
MAX_STEPS = 10_000_000


def _number_or_text(text: str) -> float | str | None:
    """Empty: None (the default); a number: float; anything else: the text, for the core to judge."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


class TrainingPanel(QWidget):
    """Settings form and buttons. Signals: ``runRequested``, ``pauseRequested``,
    ``stepRequested``, ``resetRequested``, and ``problem(str)`` for a file that cannot be read."""

    runRequested = Signal()
    pauseRequested = Signal()
    stepRequested = Signal()
    resetRequested = Signal()
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.data = DatasetBox()
        self.data.problem.connect(self.problem)
        self.data.changed.connect(self._sync_enabled)

        self.optimizer = QComboBox()
        self.optimizer.setObjectName("trainOptimizer")
        self.optimizer.addItem("SGD", "sgd")
        self.optimizer.addItem("Adam", "adam")
        self.optimizer.currentIndexChanged.connect(self._sync_enabled)
        self.lr = QLineEdit()
        self.lr.setObjectName("trainLr")
        self.lr.setToolTip("Learning rate; leave empty for the scenario's own lr")
        self.momentum = QDoubleSpinBox()
        self.momentum.setObjectName("trainMomentum")
        self.momentum.setRange(0.0, 0.99)
        self.momentum.setSingleStep(0.1)
        self.momentum.setDecimals(2)
        self.momentum.setToolTip("SGD momentum (Adam keeps its own moment estimates)")
        self.batch = QSpinBox()
        self.batch.setObjectName("trainBatch")
        self.batch.setRange(0, 1_000_000)
        self.batch.setSpecialValueText("all rows")
        self.batch.setToolTip("Rows per step for a dataset; the scenario's own inputs are always one batch")
        self.loss = QComboBox()
        self.loss.setObjectName("trainLoss")
        self.loss.addItem("auto", None)
        for name in LOSSES:
            self.loss.addItem(name, name)
        self.loss.setToolTip("auto: the scenario's loss, or mse / bce / cross_entropy to fit the dataset")
        self.steps = QSpinBox()
        self.steps.setObjectName("trainSteps")
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setGroupSeparatorShown(True)
        self.steps.setToolTip("Steps per Run")
        self.clip = QLineEdit()
        self.clip.setObjectName("trainClip")
        self.clip.setPlaceholderText("off")
        self.clip.setToolTip("Clip the total gradient norm to this value; empty: no clipping")
        self.zero_grad = QCheckBox("zero_grad() before each step")
        self.zero_grad.setObjectName("trainZeroGrad")
        self.zero_grad.setChecked(True)
        self.zero_grad.setToolTip("Untick to see the classic bug: gradients add up from step to step")
        self.seed = QSpinBox()
        self.seed.setObjectName("trainSeed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the dataset and of the batch order")

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Data", self.data)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.lr)
        form.addRow("Momentum", self.momentum)
        form.addRow("Batch size", self.batch)
        form.addRow("Loss", self.loss)
        form.addRow("Clip grad norm", self.clip)
        form.addRow("Seed", self.seed)
        form.addRow("Steps per run", self.steps)
        form.addRow("", self.zero_grad)

        self.run_button = self._button("Run", "trainRun", "Run the steps (F5)", self.runRequested)
        self.pause_button = self._button(
            "Pause", "trainPause", "Pause after the current step (Shift+F5)", self.pauseRequested
        )
        self.step_button = self._button("Step", "trainStep", "One SGD step (F10)", self.stepRequested)
        self.reset_button = self._button(
            "Reset weights", "trainReset", "Back to the starting weights; the plots start over", self.resetRequested
        )
        self.run_button.setDefault(True)
        buttons = QGridLayout()
        buttons.setContentsMargins(0, 6, 0, 0)
        buttons.addWidget(self.run_button, 0, 0)
        buttons.addWidget(self.pause_button, 0, 1)
        buttons.addWidget(self.step_button, 1, 0)
        buttons.addWidget(self.reset_button, 1, 1)
        self.progress = QProgressBar()
        self.progress.setObjectName("trainProgress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.status = QLabel("Press Run to train, or Step for one SGD step.")
        self.status.setObjectName("trainStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas_note = QLabel("")
        self.canvas_note.setObjectName("trainCanvasNote")
        self.canvas_note.setWordWrap(True)
        self.canvas_note.setToolTip("The pass the graph shows: which training step, its batch and its loss")
        self.canvas_note.setVisible(False)

        # Settings that differ from the defaults, always in view: a setting such as zero_grad
        # off changes every step, and must not go unnoticed.
        self.changes = QLabel("")
        self.changes.setObjectName("trainChanges")
        self.changes.setWordWrap(True)
        self.defaults_button = QPushButton("Reset to defaults")
        self.defaults_button.setObjectName("trainDefaults")
        self.defaults_button.setToolTip("Every setting above back to its default (steps per run stay)")
        self.defaults_button.clicked.connect(self.reset_to_defaults)
        self.changes_box = QWidget()
        self.changes_box.setObjectName("trainChangesBox")
        changes_column = QVBoxLayout(self.changes_box)
        changes_column.setContentsMargins(0, 0, 0, 4)
        changes_column.setSpacing(2)
        changes_column.addWidget(self.changes)
        changes_column.addWidget(self.defaults_button, 0, Qt.AlignmentFlag.AlignLeft)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        # First: the dock is short, and a changed setting is what must not be missed.
        layout.addWidget(self.changes_box)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.canvas_note)
        layout.addStretch(1)
        for signal in (
            self.data.changed,
            self.optimizer.currentIndexChanged,
            self.lr.textChanged,
            self.momentum.valueChanged,
            self.batch.valueChanged,
            self.loss.currentIndexChanged,
            self.clip.textChanged,
            self.zero_grad.toggled,
            self.seed.valueChanged,
        ):
            signal.connect(self._sync_changes)
        self.set_running(False)
        self._sync_enabled()
        self._sync_changes()

    def _button(self, text: str, name: str, tip: str, signal) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.clicked.connect(signal)
        return b

    # ------------------------------------------------------------------------ reading
    def settings(self) -> Settings:
        """Everything but the number of steps, as plain data."""
        batch = self.batch.value()
        return Settings(
            optimizer=self.optimizer.currentData(),
            lr=_number_or_text(self.lr.text()),
            momentum=round(self.momentum.value(), 6),
            batch_size=batch or None,
            clip_norm=_number_or_text(self.clip.text()),
            zero_grad=self.zero_grad.isChecked(),
            seed=self.seed.value(),
            loss=self.loss.currentData(),
            data=self.data.choice(),
        )

    def step_count(self) -> int:
        """Steps per Run."""
        return self.steps.value()

    def changed_settings(self) -> list[str]:
        """The settings that differ from the defaults, in a few words each ("zero_grad off")."""
        s, out = self.settings(), []
        if not s.zero_grad:
            out.append("zero_grad off")
        if s.data.kind != OWN:
            out.append(f"data {s.data.describe().removeprefix('dataset ')}")
        if s.optimizer != "sgd":
            out.append(self.optimizer.currentText())
        if s.lr is not None:
            out.append(f"lr {self.lr.text().strip()}")
        if s.momentum:
            out.append(f"momentum {s.momentum:g}")
        if s.batch_size is not None:
            out.append(f"batch size {s.batch_size}")
        if s.loss is not None:
            out.append(f"loss {s.loss}")
        if s.clip_norm is not None:
            out.append(f"clip {self.clip.text().strip()}")
        if s.seed:
            out.append(f"seed {s.seed}")
        return out

    def reset_to_defaults(self) -> list[str]:
        """Every setting back to its default (not the steps per run); returns what was changed."""
        changed = self.changed_settings()
        self.data.choose_builtin("")
        self.optimizer.setCurrentIndex(0)
        self.lr.clear()
        self.momentum.setValue(0.0)
        self.batch.setValue(0)
        self.loss.setCurrentIndex(0)
        self.clip.clear()
        self.zero_grad.setChecked(True)
        self.seed.setValue(0)
        return changed

    def set_canvas_note(self, text: str) -> None:
        """Say which pass the canvas shows (empty: hide the line)."""
        self.canvas_note.setText(text)
        self.canvas_note.setVisible(bool(text))

    def _sync_changes(self) -> None:
        changed = self.changed_settings()
        self.changes.setText("<b>Changed from the defaults:</b> " + ", ".join(changed) if changed else "")
        self.changes_box.setVisible(bool(changed))

    # ------------------------------------------------------------------------ state
    def set_scenario_lr(self, lr: float | None) -> None:
        """Show the scenario's own learning rate as the field's placeholder."""
        self.lr.setPlaceholderText(f"{lr:g} (the scenario's)" if lr is not None else "the scenario's")

    def set_running(self, running: bool) -> None:
        """Buttons for a running (Pause, Reset) or an idle trainer (Run, Step, Reset)."""
        self.run_button.setEnabled(not running)
        self.step_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.reset_button.setEnabled(True)

    def set_available(self, available: bool, why: str = "") -> None:
        """Disable everything when there is nothing to train (and say why)."""
        for w in (self.run_button, self.step_button, self.reset_button):
            w.setEnabled(available)
        if why:
            self.status.setText(why)

    def set_progress(self, done: int, total: int) -> None:
        """Steps done of this run."""
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(min(done, total))

    def _sync_enabled(self) -> None:
        self.momentum.setEnabled(self.optimizer.currentData() == "sgd")
        self.batch.setEnabled(self.data.uses_dataset())
