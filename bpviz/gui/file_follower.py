"""FileFollower: reload the scenario file when it changes on disk (File ▸ Reload When the File
Changes), for a user who edits the scenario in their editor beside the app."""

from __future__ import annotations

import os

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from bpviz.gui.document import Document

# Editors write a file in bursts (truncate, write, rename): reload once the burst is over.
SETTLE_MS = 300


class FileFollower(QObject):
    """Watches the file of the document's source; while enabled, a change reloads it."""

    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.enabled = False
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._reload)
        document.opened.connect(self._watch)

    def set_enabled(self, on: bool) -> None:
        """Follow the file (True) or leave it alone."""
        self.enabled = bool(on)

    def watched(self) -> list[str]:
        """The files watched now."""
        return self._watcher.files()

    def _path(self) -> str | None:
        source = self.document.source
        return source.code_path if source is not None else None

    def _watch(self) -> None:
        if self._watcher.files():
            self._watcher.removePaths(self._watcher.files())
        path = self._path()
        if path and os.path.isfile(path):
            self._watcher.addPath(path)

    def _changed(self, path: str) -> None:
        # An editor that saves by replacing the file ends the watch: watch the new file.
        if os.path.isfile(path) and path not in self._watcher.files():
            self._watcher.addPath(path)
        if self.enabled and path == self._path():
            self._timer.start()

    def _reload(self) -> None:
        source = self.document.source
        if self.enabled and source is not None and source.code_path is not None:
            # The user opened this file (and agreed to run it) and asked to follow its edits.
            self.document.open(source, trusted=True)
