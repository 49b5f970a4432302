"""The property dock (``blockProperties``): the selected block's name and properties, the
problem that stops it from running with its fixes, or (nothing selected) the network's title,
seed and learning rate. Every change is an undoable command; a value the block refuses is not
applied, and the reason stays in red under the form until the next accepted edit.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from bpviz.core.errors import BpvizError
from bpviz.core.network.commands import Command, Rename, SetProperty, SetSetting
from bpviz.core.network.document import SETTINGS, Change
from bpviz.gui.builder.prop_editors import PropEditor
from bpviz.gui.builder.session import NetworkSession

ERROR_STYLE = "color: #dc2626; font-weight: bold;"


class PropertyDock(QDockWidget):
    """The properties of ``session``'s selected block (or of the network)."""

    def __init__(self, session: NetworkSession, parent: QWidget | None = None):
        super().__init__("Properties", parent)
        self.setObjectName("blockProperties")
        self.session = session
        self.block_id: str | None = None
        self.editors: dict[str, PropEditor] = {}
        self.name_edit: QLineEdit | None = None
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        self.layout_ = QVBoxLayout(body)
        self.layout_.setContentsMargins(8, 8, 8, 8)
        self.heading = QLabel()
        self.heading.setObjectName("propertyHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 4, 0, 4)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.issue = QLabel()
        self.issue.setObjectName("propertyIssue")
        self.issue.setWordWrap(True)
        self.issue.setStyleSheet(ERROR_STYLE)
        self.fixes = QWidget()
        self.fix_layout = QVBoxLayout(self.fixes)
        self.fix_layout.setContentsMargins(0, 0, 0, 0)
        self.error = QLabel()
        self.error.setObjectName("propertyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        for w in (self.heading, self.form_host, self.issue, self.fixes, self.error):
            self.layout_.addWidget(w)
        self.layout_.addStretch(1)
        scroll.setWidget(body)
        self.setWidget(scroll)
        session.selectionChanged.connect(self.rebuild)
        session.changed.connect(self._on_change)
        session.shapesChanged.connect(self._show_issue)
        self.rebuild()

    # ------------------------------------------------------------------------ building
    def rebuild(self) -> None:
        """Show the form of the selected block (or of the network)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        self.name_edit = None
        self.error.clear()
        net = self.session.network
        self.block_id = self.session.selected_block
        if self.block_id is None:
            count = len(self.session.selection)
            note = f"{count} blocks selected; " if count > 1 else ""
            self.heading.setText(f"<b>Network</b><br><small>{note}select one block to edit it</small>")
            for prop in SETTINGS:
                self._row(prop.name, prop, net.settings[prop.name], partial(self._set_setting, prop.name))
        else:
            block = net.blocks[self.block_id]
            spec = block.spec
            self.heading.setText(f"<b>{block.name}</b> <small>({spec.name})</small><br><small>{spec.summary}</small>")
            self.name_edit = QLineEdit(block.name)
            self.name_edit.setObjectName("blockName")
            self.name_edit.setToolTip("the block's name: its tensor's or module's name in the trace and the code")
            self.name_edit.editingFinished.connect(self._rename)
            self.form.addRow("name", self.name_edit)
            for prop in spec.props:
                self._row(prop.name, prop, block.props[prop.name], partial(self._set_prop, prop.name))
        self._show_issue()

    def _row(self, name: str, prop: Any, value: Any, commit: Any) -> None:
        editor = PropEditor(prop, value)
        editor.committed.connect(commit)
        editor.unreadable.connect(self._refuse_text)
        label = QLabel(name)
        label.setToolTip(prop.help)
        self.form.addRow(label, editor)
        self.editors[name] = editor

    def _on_change(self, change: Change) -> None:
        if change.what == "settings" and self.block_id is None and change.key in self.editors:
            self.editors[change.key].set_value(change.new)
        elif change.what == "block" and change.key == self.block_id:
            if change.new is None:
                return  # the selection follows at the end of the step
            block = change.new
            for name, editor in self.editors.items():
                editor.set_value(block.props[name])
            if self.name_edit is not None and self.name_edit.text() != block.name:
                self.name_edit.setText(block.name)
                self.heading.setText(
                    f"<b>{block.name}</b> <small>({block.spec.name})</small><br><small>{block.spec.summary}</small>"
                )

    def _show_issue(self) -> None:
        while self.fix_layout.count():
            item = self.fix_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        issue = self.session.shapes.issues.get(self.block_id) if self.block_id else None
        self.issue.setText(issue.message if issue is not None else "")
        self.issue.setVisible(issue is not None)
        if issue is not None:
            for fix in issue.fixes:
                button = QPushButton(f"Fix: {fix.text}")
                button.setObjectName("propertyFix")
                button.clicked.connect(partial(self._push, fix.command))
                self.fix_layout.addWidget(button)

    # ------------------------------------------------------------------------ edits
    def _push(self, command: Command) -> None:
        if self.session.push(command):
            self.error.clear()

    def _refuse(self, name: str, message: str) -> None:
        self.error.setText(message)
        if name in self.editors:
            self.editors[name].set_refused(True)

    def _refuse_text(self, message: str) -> None:
        self.error.setText(message)

    def _set_prop(self, name: str, value: Any) -> None:
        net = self.session.network
        if self.block_id is None:
            return
        try:
            command = SetProperty(net, self.block_id, name, value)
        except BpvizError as exc:
            self._refuse(name, str(exc))
            return
        if command.value == net.blocks[self.block_id].props[name]:
            self.editors[name].set_value(command.value)
            self.error.clear()
            return
        self._push(command)

    def _set_setting(self, name: str, value: Any) -> None:
        net = self.session.network
        try:
            command = SetSetting(net, name, value)
        except BpvizError as exc:
            self._refuse(name, str(exc))
            return
        if command.value != net.settings[name]:
            self._push(command)

    def _rename(self) -> None:
        assert self.name_edit is not None
        net = self.session.network
        if self.block_id is None or self.name_edit.text() == net.blocks[self.block_id].name:
            return
        try:
            command = Rename(net, self.block_id, self.name_edit.text())
            command.check(net)
        except BpvizError as exc:
            self.error.setText(str(exc))
            self.name_edit.setStyleSheet("QLineEdit { border: 2px solid #dc2626; }")
            return
        self.name_edit.setStyleSheet("")
        self._push(command)
