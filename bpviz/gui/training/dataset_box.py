"""The data part of the training panel: the scenario's own batch, a toy dataset, or CSV columns.

The CSV file's header is read here, only to offer its column names; the file itself is loaded
and checked by the core on the training thread when a run starts, so a broken file gets the
core's message (row, column, what is wrong) in a dialog.
"""

from __future__ import annotations

import csv
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpviz.core import datasets
from bpviz.core.csv_data import read_csv_header
from bpviz.gui.training.settings import BUILTIN, CSV, OWN, DataChoice

CSV_LABEL = "CSV file…"


def read_header(path: str) -> list[str]:
    """The column names of a CSV file's first non-empty row (OSError, csv.Error, or
    UnicodeDecodeError for an unreadable file)."""
    return read_csv_header(path)


class DatasetBox(QWidget):
    """Source chooser; for CSV also the file, the feature columns and the target column.

    ``changed()`` fires on any change; ``problem(str)`` when a chosen file cannot be read.
    """

    changed = Signal()
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source = QComboBox()
        self.source.setObjectName("trainData")
        self.source.addItem("Scenario's own batch", (OWN, ""))
        self.source.setItemData(
            0, "The inputs and target the scenario defines, as one batch", Qt.ItemDataRole.ToolTipRole
        )
        for name in datasets.dataset_names():
            self.source.addItem(name.replace("_", " "), (BUILTIN, name))
            doc = (getattr(datasets, name, None).__doc__ or "").strip().splitlines()
            if doc:
                self.source.setItemData(self.source.count() - 1, doc[0], Qt.ItemDataRole.ToolTipRole)
        self.source.addItem(CSV_LABEL, (CSV, ""))
        self.source.currentIndexChanged.connect(self._on_source)

        self.path = QLineEdit()
        self.path.setObjectName("csvPath")
        self.path.setPlaceholderText("path of a .csv file with a header row")
        self.path.editingFinished.connect(lambda: self.set_csv(self.path.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.features = QListWidget()
        self.features.setObjectName("csvFeatures")
        self.features.setMaximumHeight(84)
        self.features.itemChanged.connect(lambda _item: self.changed.emit())
        self.target = QComboBox()
        self.target.setObjectName("csvTarget")
        self.target.currentTextChanged.connect(self._on_target)

        self.csv_box = QWidget()
        form = QFormLayout(self.csv_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("File", row)
        form.addRow("Features", self.features)
        form.addRow("Target", self.target)
        self.csv_box.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.source)
        layout.addWidget(self.csv_box)

    # ------------------------------------------------------------------------ reading
    def choice(self) -> DataChoice:
        """What the user chose, as plain data."""
        kind, name = self.source.currentData()
        if kind != CSV:
            return DataChoice(kind, name)
        feats = tuple(
            self.features.item(i).text()
            for i in range(self.features.count())
            if self.features.item(i).checkState() == Qt.CheckState.Checked
        )
        return DataChoice(CSV, path=self.path.text().strip(), features=feats, target=self.target.currentText())

    def uses_dataset(self) -> bool:
        """True unless the scenario's own batch is chosen (batch size applies to datasets only)."""
        return self.source.currentData()[0] != OWN

    # ------------------------------------------------------------------------ choosing
    def choose_builtin(self, name: str) -> None:
        """Select a built-in dataset by name (or ``""`` for the scenario's own batch)."""
        for i in range(self.source.count()):
            if self.source.itemData(i) == ((BUILTIN, name) if name else (OWN, "")):
                self.source.setCurrentIndex(i)
                return
        raise KeyError(name)

    def set_csv(self, path: str, features: list[str] | None = None, target: str | None = None) -> None:
        """Choose a CSV file and offer its columns: by default every column but the last is a
        feature and the last is the target, as on the command line."""
        self.source.setCurrentIndex(self.source.count() - 1)
        path = path.strip()
        self.path.setText(path)
        try:
            header = read_header(path) if path else []
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            header = []
            self.problem.emit(
                f"Cannot read the columns of {os.path.basename(path)} ({exc}); choose a readable UTF-8 CSV file."
            )
        target = target if target in header else (header[-1] if header else "")
        chosen = set(features if features is not None else [c for c in header if c != target])
        self.features.blockSignals(True)
        self.target.blockSignals(True)
        self.features.clear()
        self.target.clear()
        for name in header:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in chosen and name != target else Qt.CheckState.Unchecked)
            self.features.addItem(item)
        self.target.addItems(header)
        self.target.setCurrentText(target)
        self.features.blockSignals(False)
        self.target.blockSignals(False)
        self.changed.emit()

    def _browse(self) -> None:
        start = os.path.dirname(self.path.text()) if self.path.text() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Training data", start, "CSV files (*.csv);;All files (*)")
        if path:
            self.set_csv(path)

    def _on_source(self) -> None:
        self.csv_box.setVisible(self.source.currentData()[0] == CSV)
        self.changed.emit()

    def _on_target(self, target: str) -> None:
        # The target cannot be a feature too: untick it (the user may tick another one back).
        for i in range(self.features.count()):
            item = self.features.item(i)
            if item.text() == target and item.checkState() == Qt.CheckState.Checked:
                item.setCheckState(Qt.CheckState.Unchecked)
        self.changed.emit()
