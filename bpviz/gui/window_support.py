"""Small pieces the main window and the app share: settings, recent files, palette, icon.

Settings go through QSettings (organisation and application names are set by the app), except
when ``BPVIZ_NO_SETTINGS=1``: tests and CI then get an in-memory store, so they never read a
user's recent files or write their own.
"""

from __future__ import annotations

import os
from importlib import resources

from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from bpviz.core.trust import TrustStore
from bpviz.gui.theme import Theme

ORG_NAME = "bpviz"
APP_NAME = "bpviz"
MAX_RECENT = 10
# The sizes of bpviz/resources/bpviz-N.png (resources/make_icons.py writes them).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def settings_enabled() -> bool:
    """False when the environment asks bpviz not to persist anything (BPVIZ_NO_SETTINGS=1)."""
    return os.environ.get("BPVIZ_NO_SETTINGS", "") not in ("1", "true", "yes")


class Settings:
    """Key/value settings: QSettings normally, a dict when persisting is switched off."""

    def __init__(self) -> None:
        self._memory: dict[str, object] = {}
        self._qs = QSettings(ORG_NAME, APP_NAME) if settings_enabled() else None

    def value(self, key: str, default=None):
        """The stored value or ``default``."""
        if self._qs is None:
            return self._memory.get(key, default)
        return self._qs.value(key, default)

    def set_value(self, key: str, value) -> None:
        """Store a value (kept in memory only when persisting is off)."""
        if self._qs is None:
            self._memory[key] = value
        else:
            self._qs.setValue(key, value)

    def sync(self) -> None:
        """Write what was set to disk now (QSettings does it on its own only later)."""
        if self._qs is not None:
            self._qs.sync()

    def recent_files(self) -> list[str]:
        """Recently opened scenario files, newest first, only those that still exist."""
        raw = self.value("recentFiles", []) or []
        items = [raw] if isinstance(raw, str) else list(raw)
        return [p for p in items if isinstance(p, str) and os.path.isfile(p)]

    def add_recent_file(self, path: str) -> None:
        """Put ``path`` first in the recent files."""
        path = os.path.abspath(path)
        items = [p for p in self.recent_files() if p != path]
        self.set_value("recentFiles", [path, *items][:MAX_RECENT])

    def clear_recent_files(self) -> None:
        """Forget the recent files."""
        self.set_value("recentFiles", [])

    def trust_store(self) -> TrustStore:
        """The scenario files and folders the user agreed to run."""

        def strings(key: str) -> set[str]:
            raw = self.value(key, []) or []
            return {p for p in ([raw] if isinstance(raw, str) else raw) if isinstance(p, str)}

        return TrustStore(strings("trust/files"), strings("trust/folders"))

    def save_trust(self, store: TrustStore) -> None:
        """Remember ``store`` (sorted, so the settings file stays stable)."""
        self.set_value("trust/files", sorted(store.files))
        self.set_value("trust/folders", sorted(store.folders))


def ask_to_run(parent: QWidget, path: str) -> str | None:
    """Ask before a scenario file runs for the first time: ``"file"`` (run it), ``"folder"``
    (run it and trust its folder from now on) or None (do not run it)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Run this scenario?")
    box.setText(f"Run {os.path.basename(path)}?")
    box.setInformativeText(
        f"{path} is a Python file: opening it runs its code with your permissions. Run only files you trust."
    )
    run = box.addButton("Run", QMessageBox.ButtonRole.AcceptRole)
    folder = box.addButton("Always Trust This Folder", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return "file" if clicked is run else "folder" if clicked is folder else None


def apply_palette(theme: Theme, app: QApplication | None = None) -> None:
    """Give the widgets (menus, docks, buttons) the canvas theme's colours, so a dark canvas is
    not framed by light chrome. The Fusion style follows the palette on every platform."""
    running = app or QApplication.instance()
    if not isinstance(running, QApplication):
        return
    app = running
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    p = QPalette()
    dark = theme.name == "dark"
    base = QColor(theme.surface)
    window = QColor("#23272e" if dark else "#eef0f3")
    text = QColor(theme.text)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(theme.grid))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor("#2c313a" if dark else "#f8f9fb"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.ToolTipBase, base)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(theme.text_muted))
    p.setColor(QPalette.ColorRole.Highlight, QColor(theme.selection))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor(theme.selection))
    p.setColor(QPalette.ColorRole.Light, QColor("#3a404a" if dark else "#ffffff"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#4a515c" if dark else "#c5cad2"))
    p.setColor(QPalette.ColorRole.Dark, QColor("#15171b" if dark else "#9aa2ad"))
    muted = QColor(theme.text_muted)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, muted)
    app.setPalette(p)


def app_icon() -> QIcon:
    """The bpviz icon: the PNGs rendered from resources/bpviz.svg by resources/make_icons.py,
    shipped inside the package (bpviz/resources/bpviz-N.png) so a wheel, an editable checkout
    and the PyInstaller bundle all find them. Qt loads each size only when a window needs it.
    An empty icon (Qt's default) if the files are missing, never an error: a missing icon must
    not stop the app from opening."""
    icon = QIcon()
    folder = resources.files("bpviz") / "resources"
    for size in ICON_SIZES:
        path = folder / f"bpviz-{size}.png"
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    return icon
