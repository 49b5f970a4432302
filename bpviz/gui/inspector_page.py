"""InspectorPage: the building blocks of one inspector page (titles, sections, notes, the
'not reached yet' marks and the chain-rule formula), so the inspector reads as a list of
sections rather than widget plumbing. Whether a number is shown, marked or hidden at the current
step is the visibility policy's answer (:mod:`bpviz.presentation.visibility`)."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from bpviz.gui.theme import Theme
from bpviz.presentation.visibility import HIDDEN, SHOWN


def reveal_position(sequence, test) -> int | None:
    """The first position whose DisplayState passes ``test`` (None if none does).

    What a state reveals only grows with the position (values, gradients, edge gradients), so a
    binary search over ``state_at`` finds it with a dozen calls even on long sequences.
    """
    lo, hi = 0, sequence.last
    if not test(sequence.state_at(hi)):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if test(sequence.state_at(mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


def selectable(text: str) -> QLabel:
    """A label whose text the user can select and copy."""
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class InspectorPage(QWidget):
    """One page of the inspector. ``sequence``/``state`` decide the 'not reached yet' marks;
    ``on_jump(position)`` runs when the user asks to go to the step that reveals something."""

    def __init__(self, theme: Theme, sequence=None, state=None, on_jump: Callable[[int], None] | None = None):
        super().__init__()
        self.setObjectName("inspectorPage")
        self.theme = theme
        self._sequence, self._state, self._on_jump = sequence, state, on_jump
        self.formula_label: QLabel | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(12, 10, 12, 12)
        self.layout_.setSpacing(6)

    def add(self, widget: QWidget) -> None:
        """Append a widget."""
        self.layout_.addWidget(widget)

    def finish(self) -> None:
        """Push everything to the top."""
        self.layout_.addStretch(1)

    def title(self, text: str, kind: str = "", size: int = 17) -> None:
        """The page title with a kind tag on the right."""
        row = QHBoxLayout()
        title = selectable(text)
        title.setObjectName("inspectorTitle")
        title.setStyleSheet(f"font-size: {size}px; font-weight: bold; color: {self.theme.text};")
        title.setWordWrap(True)
        row.addWidget(title, 1)
        if kind:
            row.addWidget(self.muted(kind), 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.addLayout(row)

    def form(self, rows) -> None:
        """Key/value rows (rows with an empty value are left out)."""
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        for key, value in rows:
            if value:
                form.addRow(self.muted(key), selectable(str(value)))
        self.layout_.addLayout(form)

    def section(self, text: str) -> None:
        """A rule and a bold heading."""
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {self.theme.grid};")
        self.layout_.addSpacing(4)
        self.layout_.addWidget(line)
        head = QLabel(text)
        head.setStyleSheet(f"font-weight: bold; color: {self.theme.text};")
        head.setWordWrap(True)
        self.layout_.addWidget(head)

    def muted(self, text: str) -> QLabel:
        """A secondary-colour label (not added)."""
        label = selectable(text)
        label.setStyleSheet(f"color: {self.theme.text_muted};")
        return label

    def note(self, text: str) -> QLabel:
        """A wrapped secondary-colour paragraph."""
        label = self.muted(text)
        label.setWordWrap(True)
        self.layout_.addWidget(label)
        return label

    def reveal(self, status: Callable, what: str) -> bool:
        """Mark ``what`` where the current step has not reached it; False where it is hidden.

        ``status(state)`` is the visibility policy's answer for ``what`` at a state. Marked: a
        'not reached yet' line with a button that jumps to the step where it is shown. Hidden:
        a note saying so, and False, so the caller leaves the number out.
        """
        if self._sequence is None or self._state is None:
            return True
        now = status(self._state)
        if now == SHOWN:
            return True
        if now == HIDDEN:
            hidden = self.note(f"Hidden for now: the {what} is not shown at this step.")
            hidden.setObjectName("hiddenNote")
            return False
        pos = reveal_position(self._sequence, lambda s: status(s) == SHOWN)  # marked: where shown
        if pos is None:
            return True
        row = QHBoxLayout()
        note = QLabel(f"Not reached yet: the {what} appears at step {pos}.")
        note.setObjectName("revealNote")
        note.setStyleSheet(f"color: {self.theme.text_muted}; font-style: italic;")
        note.setWordWrap(True)
        row.addWidget(note, 1)
        button = QPushButton(f"Go to step {pos}")
        button.setObjectName("revealJump")
        if self._on_jump is not None:
            button.clicked.connect(lambda: self._on_jump(pos))
        row.addWidget(button)
        self.layout_.addLayout(row)
        return True

    def formula(self, lines: list[str]) -> None:
        """The chain rule: the first line large and in the gradient colour, the rest plain."""
        if not lines:
            return
        first = selectable(lines[0])
        first.setObjectName("chainRule")
        first.setWordWrap(True)
        # A formula gets the gradient colour; "no gradient reaches b" is a remark, not a result.
        colour = self.theme.grad_text if "=" in lines[0] else self.theme.text_muted
        first.setStyleSheet(f"font-family: 'DejaVu Sans Mono'; font-size: 15px; font-weight: bold; color: {colour};")
        self.formula_label = first
        self.layout_.addWidget(first)
        for line in lines[1:]:
            label = selectable(line)
            label.setWordWrap(True)
            if line.startswith(("  ", "dL/d")):
                label.setStyleSheet(f"font-family: 'DejaVu Sans Mono'; color: {self.theme.text};")
            self.layout_.addWidget(label)

    def rule(self, lines: list[str], marked: bool = False) -> None:
        """The local derivative rule (:mod:`bpviz.presentation.rules`): the first line in the
        formula's font, the rest plain; ``marked``: its numbers are not reached yet."""
        if not lines:
            return
        first = selectable(lines[0] + ("   (not reached yet)" if marked else ""))
        first.setObjectName("localRule")
        first.setWordWrap(True)
        first.setStyleSheet(
            f"font-family: 'DejaVu Sans Mono'; font-size: 14px; font-weight: bold; color: {self.theme.text};"
        )
        self.layout_.addWidget(first)
        for line in lines[1:]:
            label = selectable(line)
            label.setWordWrap(True)
            mono = line.startswith(("  ", "dL/d", "["))
            # Every label names its colour: one styled without it keeps the palette of the theme
            # it was made in when the theme changes.
            label.setStyleSheet(
                f"font-family: 'DejaVu Sans Mono'; color: {self.theme.text};"
                if mono
                else f"color: {self.theme.text_muted};"
            )
            self.layout_.addWidget(label)

    def diagnostics(self, diagnostics) -> None:
        """The findings about this node, in their colours."""
        if not diagnostics:
            return
        self.section("Diagnostics")
        for d in diagnostics:
            # The kind's colour on the marker only: some (no gradient: grey) are too pale for text.
            label = QLabel(
                f'<span style="color:{self.theme.diagnostic_colour(d.kind)}">●</span> {html.escape(d.message)}'
            )
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.layout_.addWidget(label)
