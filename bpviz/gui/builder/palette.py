"""The block palette dock (``blockPalette``): every block kind by level, with a filter box and
the selected kind's summary. Double-click (or Enter) adds a block at the middle of the editor;
dragging a kind onto the editor adds it where it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bpviz.core.network.catalogue import EXPRESSION, LAYER, get_kind, kind_names
from bpviz.gui.builder.view import MIME_KIND

LEVELS = (
    (EXPRESSION, "Expression blocks", "torch ops on tensors you set: the seeds' scalar chains"),
    (LAYER, "Layer blocks", "nn layers, inputs bound to data, and losses"),
)
KIND_ROLE = Qt.ItemDataRole.UserRole


class KindTree(QTreeWidget):
    """The kinds as a tree (level, then kind) whose items drag as :data:`MIME_KIND`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("paletteTree")
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.items: dict[str, QTreeWidgetItem] = {}
        for level, title, tip in LEVELS:
            group = QTreeWidgetItem(self, [title])
            group.setToolTip(0, tip)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for name in kind_names(level):
                spec = get_kind(name)
                item = QTreeWidgetItem(group, [name])
                item.setData(0, KIND_ROLE, name)
                item.setToolTip(0, spec.summary)
                item.setStatusTip(0, spec.summary)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self.items[name] = item
            group.setExpanded(True)

    def mimeTypes(self) -> list[str]:  # noqa: N802, D102 - Qt API
        return [MIME_KIND]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:  # noqa: N802, D102 - Qt API
        data = QMimeData()
        kinds = [i.data(0, KIND_ROLE) for i in items if i.data(0, KIND_ROLE)]
        if kinds:
            data.setData(MIME_KIND, kinds[0].encode("utf-8"))
        return data


class PaletteDock(QDockWidget):
    """The palette; ``add(kind)`` is called for an activated kind (a double-click, or Enter)."""

    def __init__(self, add: Callable[[str], object], parent: QWidget | None = None):
        super().__init__("Blocks", parent)
        self.setObjectName("blockPalette")
        self._add = add
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        self.filter = QLineEdit()
        self.filter.setObjectName("paletteFilter")
        self.filter.setPlaceholderText("Filter blocks (e.g. linear, relu)")
        self.filter.setClearButtonEnabled(True)
        self.tree = KindTree()
        self.summary = QLabel(
            "Double-click a block to add it, or drag it onto the canvas (or press Tab in the canvas and type its name)."
        )
        self.summary.setObjectName("paletteSummary")
        self.summary.setWordWrap(True)
        self.summary.setMinimumHeight(48)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.summary)
        self.setWidget(body)
        self.filter.textChanged.connect(self.apply_filter)
        self.tree.itemActivated.connect(self._activated)
        self.tree.currentItemChanged.connect(self._show_summary)

    def apply_filter(self, text: str) -> None:
        """Show only the kinds whose name or summary contains ``text``."""
        needle = text.strip().lower()
        for name, item in self.tree.items.items():
            item.setHidden(bool(needle) and needle not in name.lower() and needle not in get_kind(name).summary.lower())

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self._add(kind)

    def _show_summary(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        kind = item.data(0, KIND_ROLE) if item is not None else None
        if kind:
            spec = get_kind(kind)
            inputs = ", ".join(spec.inputs) if spec.inputs else "none"
            self.summary.setText(f"<b>{kind}</b>: {spec.summary}<br><small>inputs: {inputs}</small>")
