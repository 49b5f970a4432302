"""The File ▸ New Network dialog: an empty network or one of the templates, each with its summary."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from bpviz.core.network.templates import template_names, template_summary

NAME_ROLE = Qt.ItemDataRole.UserRole


class NewNetworkDialog(QDialog):
    """Choose a template; :meth:`chosen` is its name after the dialog is accepted."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New Network")
        self.setObjectName("newNetworkDialog")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from an empty canvas or from a worked example:"))
        self.list = QListWidget()
        self.list.setObjectName("templateList")
        for name in template_names():
            item = QListWidgetItem(f"{name}\n    {template_summary(name)}")
            item.setData(NAME_ROLE, name)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.accept())
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 360)

    def chosen(self) -> str:
        """The selected template's name."""
        item = self.list.currentItem()
        return str(item.data(NAME_ROLE)) if item is not None else "empty"
