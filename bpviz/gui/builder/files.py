"""The builder's file actions: New Network, Open, Save, Save As, Export as Python, and the
question about unsaved changes before anything replaces or closes the network.

Nothing is executed from a ``.bpviz`` file: it is JSON, read by the strict core loader, and a
file that is malformed leaves the open network as it was.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from bpviz.core.errors import BpvizError
from bpviz.core.network import fileformat
from bpviz.core.network.codegen import to_python
from bpviz.core.network.templates import make_template
from bpviz.gui.builder.session import NetworkSession

if TYPE_CHECKING:
    from bpviz.core.scenario import Scenario

NETWORK_FILTER = "bpviz networks (*.bpviz);;All files (*)"
PYTHON_FILTER = "Python scenario (*.py)"


class NetworkFiles:
    """File operations on ``session``'s network; dialogs are parented to ``parent``.
    ``dialogs`` False (screenshots, smoke tests) answers every question with its default:
    unsaved changes are kept (the operation does not happen), file names are not asked."""

    def __init__(self, session: NetworkSession, parent: QWidget, report, warn):
        self.session = session
        self.parent = parent
        self.report = report
        self.warn = warn
        self.dialogs = True

    # ------------------------------------------------------------------------ questions
    def may_discard(self, doing: str) -> bool:
        """True when the network has no unsaved changes, or the user saved or discarded them."""
        if not self.session.dirty:
            return True
        if not self.dialogs:
            return False
        name = os.path.basename(self.session.path) if self.session.path else "the network"
        answer = QMessageBox.question(
            self.parent,
            "Unsaved changes",
            f"Save the changes to {name} before {doing}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ------------------------------------------------------------------------ new, open
    def new(self, template: str) -> bool:
        """Replace the network with the template ``template`` (``empty`` for none): one undo step."""
        if not self.may_discard("starting a new network"):
            return False
        try:
            network = make_template(template)
        except BpvizError as exc:
            self.warn("Cannot make the network", str(exc))
            return False
        self.session.replace(network, None, undoable=True, text=f"New network from {template}")
        self.report(f"New network from the template {template}")
        return True

    def import_scenario(self, scenario: Scenario, label: str) -> bool:
        """Replace the network with ``scenario`` turned into blocks (its weights and data kept):
        one undo step; what cannot become a block is one sentence and imports nothing."""
        from bpviz.core.network.importer import import_scenario

        try:
            network = import_scenario(scenario)
        except BpvizError as exc:
            self.warn("Cannot edit this scenario as a network", str(exc))
            return False
        if not self.may_discard("editing another network"):
            return False
        self.session.replace(network, None, undoable=True, text=f"Edit {label} as a network")
        self.report(f"{label} as a network of {len(network.blocks)} blocks")
        return True

    def open(self, path: str) -> bool:
        """Open the ``.bpviz`` file at ``path``; a bad file is one sentence and changes nothing."""
        if not self.may_discard("opening another network"):
            return False
        try:
            network = fileformat.load(path)
        except BpvizError as exc:
            self.warn("Cannot open the network", str(exc))
            return False
        self.session.replace(network, os.path.abspath(path), undoable=False, text="Open")
        self.report(f"Opened {os.path.basename(path)} ({len(network.blocks)} blocks)")
        return True

    def open_dialog(self) -> bool:
        """Ask for a ``.bpviz`` file and open it."""
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open network", self._folder(), NETWORK_FILTER)
        return bool(path) and self.open(path)

    # ------------------------------------------------------------------------ save
    def save(self) -> bool:
        """Save to the network's file (asks for one the first time)."""
        if self.session.path is None:
            return self.save_as()
        return self.save_to(self.session.path)

    def save_as(self) -> bool:
        """Ask for a file name and save there."""
        if not self.dialogs:
            return False
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Save network as", self._suggested(fileformat.SUFFIX), NETWORK_FILTER
        )
        if not path:
            return False
        if not os.path.splitext(path)[1]:
            path += fileformat.SUFFIX
        return self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Write the network to ``path`` atomically (the old file stays whole if writing fails)."""
        try:
            fileformat.save(self.session.network, path)
        except BpvizError as exc:
            self.warn("Cannot save the network", str(exc))
            return False
        self.session.mark_saved(os.path.abspath(path))
        self.report(f"Saved {os.path.basename(path)}")
        return True

    # ------------------------------------------------------------------------ export
    def export_python_dialog(self) -> bool:
        """Ask for a file name and write the network as a Python scenario there."""
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export as Python", self._suggested(".py"), PYTHON_FILTER)
        if not path:
            return False
        if not os.path.splitext(path)[1]:
            path += ".py"
        return self.export_python(path)

    def export_python(self, path: str) -> bool:
        """Write the network as a Python scenario file (``bpviz trace`` loads it to the same
        numbers); a network that cannot run is one sentence and writes nothing."""
        try:
            text = to_python(self.session.network)
        except BpvizError as exc:
            self.warn("Cannot export the network", str(exc))
            return False
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            if os.path.exists(tmp):
                os.remove(tmp)
            self.warn(
                "Cannot export the network", f"Cannot write '{path}' ({exc.strerror or exc}); choose a writable path."
            )
            return False
        self.report(f"Exported {os.path.basename(path)}")
        return True

    # ------------------------------------------------------------------------ names
    def _folder(self) -> str:
        return os.path.dirname(self.session.path) if self.session.path else ""

    def _suggested(self, suffix: str) -> str:
        if self.session.path:
            stem = os.path.splitext(self.session.path)[0]
        else:
            title = self.session.network.title or "network"
            stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in title.split(":")[0].strip()) or "network"
        return stem + suffix
