"""Help ▸ How to Read the Graph and Help ▸ Keyboard Shortcuts.

The shortcut list is read from the window's own actions, so it cannot drift from what the keys
do; the reading guide is written once here.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

HOW_TO_READ = """
<h3>What you see</h3>
<p>Each box is one value of the computation: <b>inputs</b> and <b>constants</b> (blue and grey),
<b>parameters</b> the update changes (olive green), <b>operations</b> (teal) and the <b>loss</b>
(indigo); a dashed grey box is a whole layer (a <b>module</b>, or a <b>block</b> you built):
double-click it to see the operations inside. A box shows its shape, its value, and once the
backward pass reaches it, its gradient <b>grad</b> = dL/d(box).</p>
<p>One colour per meaning, named in the legend: <b>blue</b> for values and the forward pass,
<b>magenta</b> for gradients and the backward pass, <b>amber</b> for the current step and
<b>red</b> for a warning.</p>
<h3>Stepping</h3>
<p><b>Forward</b> steps compute one operation each, from the inputs down to the loss.
The <b>Loss</b> step starts the backward pass with dL/dL = 1. <b>Backward</b> steps send the
gradient back along the edges, one operation at a time, in the order autograd runs them.
The <b>Update</b> step shows each parameter after one SGD step: param ← param − lr × grad. A
<b>variable</b> is a tensor of the scenario's own with requires_grad=True: the update changes it
too, like a parameter.</p>
<h3>Edges: the chain rule in numbers</h3>
<p>An edge from <i>u</i> to <i>v</i> is labelled <b>×d</b>, the local derivative dv/du, and
<b>upstream × local</b>: the gradient arriving at <i>v</i> times ×d is the part of dL/du that
flows along this edge. Where a value feeds several operations, its gradient is the sum of what
its edges bring back. Thicker, deeper magenta edges carry larger gradients, on a log scale
from the smallest nonzero gradient of the graph to the largest (the legend shows both ends); a
grey edge carries none.</p>
<h3>Badges</h3>
<p>A badge on a box marks a problem: no gradient (detached, unused, requires_grad off),
NaN or Inf, an exploding or vanishing gradient, or dead ReLU units. The Diagnostics panel lists
them; click one to select its box.</p>
<h3>Inspect</h3>
<p>Click a box or an edge: the Inspector shows its numbers, its local derivative and the chain
rule written out with the real values. Click the background to see the whole pass again.</p>
"""


def how_to_read(parent: QWidget) -> QDialog:
    """A dialog explaining boxes, steps, edge labels and badges."""
    dialog = QDialog(parent)
    dialog.setObjectName("howToReadDialog")
    dialog.setWindowTitle("How to Read the Graph")
    text = QLabel(HOW_TO_READ)
    text.setWordWrap(True)
    text.setTextFormat(Qt.TextFormat.RichText)
    return _with_close(dialog, text, 560, 560)


def keyboard_shortcuts(parent: QWidget, actions: Iterable[QAction]) -> QDialog:
    """A dialog listing every action of ``actions`` that has a shortcut, in the given order."""
    rows = []
    for act in actions:
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append((act.text().replace("&", ""), keys))
    table = QTableWidget(len(rows), 2)
    table.setObjectName("shortcutTable")
    table.setHorizontalHeaderLabels(["Action", "Keys"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for i, (text, keys) in enumerate(rows):
        table.setItem(i, 0, QTableWidgetItem(text))
        table.setItem(i, 1, QTableWidgetItem(keys))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
    dialog = QDialog(parent)
    dialog.setObjectName("shortcutsDialog")
    dialog.setWindowTitle("Keyboard Shortcuts")
    return _with_close(dialog, table, 420, 520)


def _with_close(dialog: QDialog, content: QWidget, width: int, height: int) -> QDialog:
    layout = QVBoxLayout(dialog)
    layout.addWidget(content, 1)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.resize(width, height)
    return dialog
