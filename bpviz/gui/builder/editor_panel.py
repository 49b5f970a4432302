"""EditorPanel: the editor view under a one-line banner that says why the network cannot be
stepped (hidden while there is nothing to say)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bpviz.gui.builder.view import EditorView

BANNER_STYLE = (
    "QLabel { background: #fde8e8; color: #9b1c1c; padding: 6px 10px; "
    "border-bottom: 1px solid #f5b5b5; font-weight: bold; }"
)


class EditorPanel(QWidget):
    """``view`` with a banner above it."""

    def __init__(self, view: EditorView, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("networkEditorPanel")
        self.view = view
        self.banner = QLabel()
        self.banner.setObjectName("builderBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(view, 1)

    def show_message(self, text: str) -> None:
        """Show ``text`` in the banner ("" hides it)."""
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
