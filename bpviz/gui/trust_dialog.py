"""File ▸ Trusted Scenarios: see which scenario files and folders run without asking, and revoke
any of them.

The dialog edits a copy of the store; the caller takes :meth:`TrustDialog.store` when the user
presses Save, so Cancel leaves the trust as it was.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpviz.core.trust import TrustEntry, TrustStore


class TrustDialog(QDialog):
    """Lists the trusted folders and files of ``store`` with Revoke and Revoke All."""

    def __init__(self, store: TrustStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trustDialog")
        self.setWindowTitle("Trusted Scenarios")
        self._store = copy.deepcopy(store)
        explain = QLabel(
            "Python scenarios in these folders, and these files as they were when you agreed, run "
            "without asking. Revoke one and bpviz asks again before it runs."
        )
        explain.setWordWrap(True)
        self.entries = QListWidget()
        self.entries.setObjectName("trustEntries")
        self.entries.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.empty = QLabel("Nothing is trusted: every Python scenario is asked about before it runs.")
        self.empty.setWordWrap(True)
        self.revoke_button = QPushButton("&Revoke")
        self.revoke_button.setObjectName("revokeTrust")
        self.revoke_all_button = QPushButton("Revoke &All")
        self.revoke_all_button.setObjectName("revokeAllTrust")
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.revoke_all_button.clicked.connect(self.revoke_all)
        self.entries.itemSelectionChanged.connect(self._sync_buttons)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.revoke_button)
        row.addWidget(self.revoke_all_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.entries, 1)
        layout.addWidget(self.empty)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(620, 360)
        self._fill()

    def store(self) -> TrustStore:
        """The trust as the user left it in the dialog."""
        return self._store

    def revoke_selected(self) -> None:
        """Revoke the selected entries."""
        for item in self.entries.selectedItems():
            self._store.revoke(item.data(Qt.ItemDataRole.UserRole))
        self._fill()

    def revoke_all(self) -> None:
        """Revoke everything."""
        for entry in self._store.entries():
            self._store.revoke(entry)
        self._fill()

    def _fill(self) -> None:
        self.entries.clear()
        for entry in self._store.entries():
            item = QListWidgetItem(_describe(entry))
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip(entry.path)
            self.entries.addItem(item)
        has_entries = self.entries.count() > 0
        self.entries.setVisible(has_entries)
        self.empty.setVisible(not has_entries)
        self.revoke_all_button.setEnabled(has_entries)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.revoke_button.setEnabled(bool(self.entries.selectedItems()))


def _describe(entry: TrustEntry) -> str:
    if entry.kind == "folder":
        return f"Folder: {entry.path} (and everything in it)"
    return f"File: {entry.path} (as it was when you agreed)"
