"""QuickSearch: the Tab popup of the editor: type part of a block kind, Enter adds the first match
where the mouse is; with one block selected, the new block is wired after it (Orange's and
Ryven's quick-add, searchable)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from bpviz.core.network.catalogue import get_kind, kind_names

KIND_ROLE = Qt.ItemDataRole.UserRole
MAX_ROWS = 12


class QuickSearch(QFrame):
    """A search box over every kind; ``chosen(kind)`` when one is picked (Enter, click)."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("quickSearch")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.box = QLineEdit()
        self.box.setObjectName("quickSearchBox")
        self.box.setPlaceholderText("Add a block: type its name")
        self.list = QListWidget()
        self.list.setObjectName("quickSearchList")
        layout.addWidget(self.box)
        layout.addWidget(self.list)
        self.box.textChanged.connect(self.filter)
        self.box.installEventFilter(self)
        self.list.itemActivated.connect(self._pick)
        self.filter("")
        self.resize(300, 320)

    def filter(self, text: str) -> None:
        """Show the kinds whose name contains ``text`` (names starting with it first)."""
        needle = text.strip().lower()
        names = [n for n in kind_names() if needle in n.lower() or needle in get_kind(n).summary.lower()]
        names.sort(key=lambda n: (not n.lower().startswith(needle), needle not in n.lower()))
        self.list.clear()
        for name in names:
            item = QListWidgetItem(f"{name}  —  {get_kind(name).summary}")
            item.setData(KIND_ROLE, name)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def matches(self) -> list[str]:
        """The kinds listed now, in order."""
        return [self.list.item(i).data(KIND_ROLE) for i in range(self.list.count())]

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802, D102 - Qt API
        if obj is self.box and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._pick(item)
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, self.list.currentRow() + step)))
                return True
        return False

    def _pick(self, item: QListWidgetItem) -> None:
        kind = item.data(KIND_ROLE)
        self.close()
        if kind:
            self.chosen.emit(kind)
