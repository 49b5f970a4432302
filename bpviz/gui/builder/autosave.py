"""Autosave: the network being built is written to a spare file a little while after each edit,
while it has unsaved changes; the file goes away when the network is saved or its changes are
given up. If bpviz ends without either (a crash, a killed process), the next start offers the
network back.

Nothing is autosaved when settings are off (``BPVIZ_NO_SETTINGS=1``: tests, CI), so a test never
reads a user's leftover network.
"""

from __future__ import annotations

import contextlib
import os

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from bpviz.core.errors import BpvizError
from bpviz.core.network import fileformat
from bpviz.core.network.document import Network
from bpviz.gui.builder.session import NetworkSession
from bpviz.gui.window_support import settings_enabled

# Long enough that typing a value or dragging a block writes once, short enough that a crash
# loses little.
AUTOSAVE_DELAY_MS = 5000
FILE_NAME = "autosave.bpviz"


def default_folder() -> str | None:
    """Where the autosave file lives (None: autosave is off)."""
    if not settings_enabled():
        return None
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation) or None


def leftover(folder: str | None) -> str | None:
    """The autosave file a previous run left behind, if any."""
    if folder is None:
        return None
    path = os.path.join(folder, FILE_NAME)
    return path if os.path.isfile(path) else None


def read_leftover(path: str) -> Network | None:
    """The network in a leftover autosave file (None when it cannot be read: it is then removed)."""
    try:
        return fileformat.load(path)
    except BpvizError:
        discard(path)
        return None


def discard(path: str) -> None:
    """Remove an autosave file (gone already is fine)."""
    with contextlib.suppress(OSError):
        os.remove(path)


class Autosave(QObject):
    """Writes ``session``'s network to ``folder``/autosave.bpviz while it has unsaved changes."""

    def __init__(self, session: NetworkSession, folder: str | None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.path = os.path.join(folder, FILE_NAME) if folder is not None else None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_now)
        session.stack.indexChanged.connect(self._on_edit)
        session.fileChanged.connect(self._on_file)

    def _on_edit(self, _index: int = 0) -> None:
        if self.path is not None and self.session.dirty:
            self._timer.start()

    def _on_file(self) -> None:
        if not self.session.dirty:
            self.clear()

    def save_now(self) -> bool:
        """Write the network now (True when written)."""
        if self.path is None or not self.session.dirty:
            return False
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fileformat.save(self.session.network, self.path)
        except (BpvizError, OSError) as exc:
            self.session.message.emit(f"Could not autosave the network ({exc}).")
            return False
        return True

    def stop(self) -> None:
        """Write nothing more (the window is closing); a file already written stays."""
        self._timer.stop()

    def clear(self) -> None:
        """Forget the autosaved network (it was saved, or its changes were given up)."""
        self._timer.stop()
        if self.path is not None:
            discard(self.path)
