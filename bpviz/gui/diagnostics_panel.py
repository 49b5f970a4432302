"""Diagnostics dock: the trace's findings (no gradient, NaN/Inf, exploding, vanishing, dead ReLU)
as a list; clicking one selects its node on the canvas.

The findings come from the core (``trace.diagnostics``); this panel only lists them.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QDockWidget, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from bpviz.gui.document import Document
from bpviz.gui.items.badge_item import BADGE_SYMBOLS
from bpviz.gui.theme import Theme

# The same symbols the node badges use, so the list and the canvas read alike.
SYMBOLS = BADGE_SYMBOLS
TITLES = {
    "none_grad": "No gradient",
    "nonfinite": "NaN / Inf",
    "exploding": "Exploding gradient",
    "vanishing": "Vanishing gradient",
    "dead_relu": "Dead ReLU",
    "several_outputs": "Several outputs",
    "torch_fallback": "Public torch route",
}


def badge_icon(kind: str, theme: Theme, size: int = 18) -> QIcon:
    """A round badge icon in the diagnostic's colour with its symbol."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(theme.diagnostic_colour(kind)))
    painter.drawEllipse(QPointF(size / 2, size / 2), size / 2 - 1, size / 2 - 1)
    painter.setPen(QColor("#ffffff"))
    f = QFont()
    f.setPixelSize(int(size * 0.62))
    f.setBold(True)
    painter.setFont(f)
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, SYMBOLS.get(kind, "?"))
    painter.end()
    return QIcon(pixmap)


class DiagnosticsPanel(QDockWidget):
    """Lists the document's ``trace.diagnostics``; picking one with a node selects that node."""

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__("Diagnostics", parent)
        self.setObjectName("diagnosticsDock")
        self.document = document
        self._theme = document.theme
        self._diagnostics: list = []
        self._hid = False
        document.traceChanged.connect(lambda _keep: self.set_diagnostics(document.trace.diagnostics))
        document.themeChanged.connect(self.set_theme)
        # The findings speak of gradients: a policy that hides gradients (predict mode) hides them.
        document.policyChanged.connect(self._fill)
        document.steps.stepped.connect(self._on_stepped)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 6)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("diagnosticsList")
        self.list.setAccessibleName("diagnosticsList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(False)
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addStretch(0)
        self.setWidget(body)

    def set_diagnostics(self, diagnostics) -> None:
        """Show these findings (:class:`bpviz.core.trace_record.Diagnostic` objects)."""
        self._diagnostics = list(diagnostics)
        self._fill()

    def set_theme(self, theme: Theme) -> None:
        """Recolour the badges."""
        self._theme = theme
        self._fill()

    def messages(self) -> list[str]:
        """The texts listed (for tests)."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _on_stepped(self, _position: int, _forward_one: bool) -> None:
        if self._hidden() != self._hid:
            self._fill()

    def _hidden(self) -> bool:
        return not self.document.policy.diagnostics(self.document.steps.state())

    def _fill(self) -> None:
        self.list.clear()
        self._hid = self._hidden()
        if self._hid:
            self.setWindowTitle("Diagnostics")
            self.summary.setText("Hidden while you predict: the findings appear at the end of the pass.")
            self.list.setVisible(False)
            return
        n = len(self._diagnostics)
        self.setWindowTitle(f"Diagnostics ({n})" if n else "Diagnostics")
        if not n:
            self.summary.setText("No problems found: every gradient that should flow is finite and of a healthy size.")
            self.list.setVisible(False)
            self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            return
        self.list.setVisible(True)
        self.summary.setText("Click a finding to select its node.")
        for d in self._diagnostics:
            title = TITLES.get(d.kind, d.kind)
            item = QListWidgetItem(badge_icon(d.kind, self._theme), f"{title}: {d.message}")
            item.setData(Qt.ItemDataRole.UserRole, d.node)
            item.setToolTip(d.message)
            if d.node is None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.list.addItem(item)

    def _on_item(self, item: QListWidgetItem) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.document.select_node(str(node))
