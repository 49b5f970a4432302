"""Editors for typed block properties: text for numbers, lists and tensors (so a wrong value can
be typed, and refused with the reason, instead of silently clamped), a check box for a bool, a
combo box for a choice. Each emits ``committed(value)`` when the user is done with it.
"""

from __future__ import annotations

import ast
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QWidget

from bpviz.core.network.properties import BOOL, CHOICE, OPTIONAL_INT, Prop

# A property typed as text longer than this is refused before it is parsed: it would be a
# tensor beyond what a property may hold anyway.
MAX_TEXT = 200_000


class UnreadableError(ValueError):
    """Text that is not a number, a list of numbers, or (for an optional int) empty."""


def format_value(value: Any) -> str:
    """A property value as editable text: ``2``, ``0.5``, ``[32, 10]``, ``true``, or "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def parse_value(text: str, prop: Prop) -> Any:
    """The value typed as ``text`` (a Python literal: numbers, lists, tuples), left to the
    property's own validation; UnreadableError when it is not a literal at all."""
    text = text.strip()
    if prop.type == "str":
        return text
    if prop.type == OPTIONAL_INT and text.lower() in ("", "none"):
        return None
    if len(text) > MAX_TEXT:
        raise UnreadableError(
            f"{prop.name}: the text is too long ({len(text)} characters); bind a dataset for data that large."
        )
    lowered = {"true": "True", "false": "False"}.get(text.lower(), text)
    try:
        return ast.literal_eval(lowered)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise UnreadableError(
            f"{prop.name}: cannot read {shown!r} as a number or a list of numbers; type e.g. 2, 0.5 or [1, 2]."
        ) from None


class PropEditor(QWidget):
    """The editor of one property; ``committed(value)`` when the user finished an edit,
    ``unreadable(message)`` when the text cannot be read as a value."""

    committed = Signal(object)
    unreadable = Signal(str)

    def __init__(self, prop: Prop, value: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.prop = prop
        self.setObjectName(f"prop_{prop.name}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check: QCheckBox | None = None
        self.combo: QComboBox | None = None
        self.line: QLineEdit | None = None
        if prop.type == BOOL:
            self.check = QCheckBox()
            self.check.toggled.connect(lambda on: self.committed.emit(on))
            layout.addWidget(self.check)
        elif prop.type == CHOICE:
            self.combo = QComboBox()
            self.combo.addItems(list(prop.choices))
            self.combo.activated.connect(lambda _i: self.committed.emit(self.combo.currentText()))
            layout.addWidget(self.combo)
        else:
            self.line = QLineEdit()
            self.line.editingFinished.connect(self._commit_text)
            layout.addWidget(self.line)
        self.setToolTip(prop.help)
        self.set_value(value)

    def set_value(self, value: Any) -> None:
        """Show ``value`` (the document's), clearing any refused text."""
        if self.check is not None:
            self.check.blockSignals(True)
            self.check.setChecked(bool(value))
            self.check.blockSignals(False)
        elif self.combo is not None:
            self.combo.setCurrentText(str(value))
        elif self.line is not None:
            text = format_value(value)
            if self.line.text() != text:
                self.line.setText(text)
            self.set_refused(False)
        self._value = value

    def set_refused(self, refused: bool) -> None:
        """Mark the text as refused (a red frame) or not."""
        if self.line is not None:
            self.line.setStyleSheet("QLineEdit { border: 2px solid #dc2626; }" if refused else "")

    def _commit_text(self) -> None:
        assert self.line is not None
        if self.line.text().strip() == format_value(self._value):
            return  # focus left without a change: nothing to commit
        try:
            value = parse_value(self.line.text(), self.prop)
        except UnreadableError as exc:
            self.set_refused(True)
            self.unreadable.emit(str(exc))
            return
        self.committed.emit(value)
