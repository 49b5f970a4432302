"""BuilderController: the network builder inside the main window: the editor, the palette and
property docks, the file actions, the Edit menu and the Build/Step toggle.

It follows the training controller's pattern: actions exist from the start (cheap), everything
that imports torch (the network document, the editor, the docks) is created on first use. The
editor and the window's stepping canvas share the central area: the controller wraps the
window's central widget in a stack, once, and Build / Step choose the page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QMenuBar, QStackedWidget, QToolBar

if TYPE_CHECKING:
    from bpviz.gui.builder.autosave import Autosave
    from bpviz.gui.builder.editor_panel import EditorPanel
    from bpviz.gui.builder.files import NetworkFiles
    from bpviz.gui.builder.palette import PaletteDock
    from bpviz.gui.builder.properties import PropertyDock
    from bpviz.gui.builder.scene import EditorScene
    from bpviz.gui.builder.session import NetworkSession
    from bpviz.gui.builder.stepping import SteppingLink
    from bpviz.gui.builder.view import EditorView
    from bpviz.gui.document import Document

PALETTE_WIDTH = 240
BUILD = "build"
STEP = "step"


@dataclass(frozen=True)
class BuilderParts:
    """What the controller creates on first use."""

    session: NetworkSession
    files: NetworkFiles
    scene: EditorScene
    view: EditorView
    panel: EditorPanel
    palette: PaletteDock
    properties: PropertyDock
    link: SteppingLink
    stack: QStackedWidget
    autosave: Autosave


def _warm_up_shapes() -> None:
    from bpviz.core.network.shapes import warm_up

    warm_up()


class BuilderController(QObject):
    """The builder of ``document``'s window ``host``."""

    def __init__(self, document: Document, host: QMainWindow):
        super().__init__(host)
        self.document = document
        self.host = host
        self.parts: BuilderParts | None = None
        self.mode = STEP
        self._hidden_docks: list[QDockWidget] = []
        # The first meta-device op of a process is slow: pay it now, off the UI thread. Not a
        # daemon: killed inside torch at exit it aborts the process.
        threading.Thread(target=_warm_up_shapes, name="bpviz-shape-warm-up").start()
        self.new_action = self._action(
            "New &Network…",
            self.new_dialog,
            QKeySequence.StandardKey.New,
            "Start a network in the editor: empty, or from a worked example",
        )
        self.save_action = self._action(
            "&Save Network", self.save, QKeySequence.StandardKey.Save, "Save the network being built (.bpviz)"
        )
        self.save_as_action = self._action("Save Network &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
        self.import_action = self._action(
            "&Edit Scenario as Network",
            self.import_scenario,
            None,
            "Turn the scenario on screen into blocks you can edit (torch.fx; its weights and data are kept)",
        )
        self.import_action.setEnabled(False)
        self.export_python_action = self._action(
            "Export Network as &Python…", self.export_python, None, "Write the network as a Python scenario file"
        )
        self.undo_action = self._action("&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("&Redo", self.redo, QKeySequence.StandardKey.Redo)
        self.delete_action = self._action(
            "&Delete", self.delete, QKeySequence.StandardKey.Delete, "Delete the selected blocks and wires"
        )
        self.duplicate_action = self._action(
            "D&uplicate", self.duplicate, "Ctrl+D", "Copy the selected blocks with the wires among them"
        )
        self.arrange_action = self._action(
            "Auto-&Arrange", self.arrange, "Ctrl+Shift+A", "Lay the blocks out in layers, data flowing left to right"
        )
        self.fit_action = self._action("Fit Network", self.fit, None, "Show every block")
        self.keep_action = self._action(
            "&Keep Trained Weights",
            self.keep_weights,
            None,
            "Put the weights and values training found into the network's "
            "blocks (one undo step), so it saves and steps with them",
        )
        self.keep_action.setEnabled(False)
        self.build_action = self._action(
            "Build",
            lambda: self.set_mode(BUILD),
            None,
            "Edit the network: add blocks from the palette, drag wires from outputs to inputs",
        )
        self.step_action = self._action(
            "Step",
            lambda: self.set_mode(STEP),
            None,
            "Trace the network and step through its forward and backward pass",
        )
        group = QActionGroup(self)
        for act in (self.build_action, self.step_action):
            act.setCheckable(True)
            group.addAction(act)
        self.build_action.setObjectName("buildMode")
        self.step_action.setObjectName("stepMode")
        self.step_action.setChecked(True)
        for act in (
            self.undo_action,
            self.redo_action,
            self.save_action,
            self.save_as_action,
            self.export_python_action,
            self.delete_action,
            self.duplicate_action,
            self.arrange_action,
            self.fit_action,
        ):
            act.setEnabled(False)
        self.toolbar = self._toolbar()
        document.opened.connect(self._on_opened)
        # After the app has set the window up (dialogs on or off), from the event loop.
        QTimer.singleShot(0, self.offer_autosaved)

    def _action(self, text: str, slot: Any, key: Any, tip: str = "") -> QAction:
        act = QAction(text, self.host)
        if isinstance(key, QKeySequence.StandardKey):
            act.setShortcuts(key)  # every binding of the platform (Redo: Ctrl+Y and Ctrl+Shift+Z)
        elif key is not None:
            act.setShortcut(QKeySequence(key))
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        act.triggered.connect(slot)
        return act

    def _toolbar(self) -> QToolBar:
        bar = QToolBar("Network toolbar", self.host)
        bar.setObjectName("networkToolBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (self.build_action, self.step_action):
            bar.addAction(act)
        bar.addSeparator()
        for act in (self.undo_action, self.redo_action, self.arrange_action, self.fit_action):
            bar.addAction(act)
        self.host.addToolBar(bar)
        return bar

    # ------------------------------------------------------------------------ menus
    def build_file_menu(self, menu: QMenu) -> None:
        """Add New Network, Save, Save As and Export as Python to the File menu."""
        menu.addAction(self.new_action)
        menu.addAction(self.import_action)
        menu.addAction(self.save_action)
        menu.addAction(self.save_as_action)
        menu.addAction(self.export_python_action)

    def build_menu(self, bar: QMenuBar) -> QMenu:
        """Add the Edit menu to the menu bar ``bar``."""
        menu = bar.addMenu("&Edit")
        menu.setObjectName("editMenu")
        for act in (self.undo_action, self.redo_action):
            menu.addAction(act)
        menu.addSeparator()
        for act in (self.delete_action, self.duplicate_action, self.arrange_action, self.keep_action):
            menu.addAction(act)
        menu.addSeparator()
        for act in (self.build_action, self.step_action):
            menu.addAction(act)
        return menu

    # ------------------------------------------------------------------------ building
    def ensure(self) -> BuilderParts:
        """Create the session, the editor, the docks and the central stack (once)."""
        if self.parts is not None:
            return self.parts
        from bpviz.gui.builder import autosave
        from bpviz.gui.builder.editor_panel import EditorPanel
        from bpviz.gui.builder.files import NetworkFiles
        from bpviz.gui.builder.palette import PaletteDock
        from bpviz.gui.builder.properties import PropertyDock
        from bpviz.gui.builder.scene import EditorScene
        from bpviz.gui.builder.session import NetworkSession
        from bpviz.gui.builder.stepping import SteppingLink
        from bpviz.gui.builder.view import EditorView

        doc, host = self.document, self.host
        session = NetworkSession(self)
        files = NetworkFiles(session, host, doc.report, doc.warn)
        scene = EditorScene(session, doc.theme, self)
        view = EditorView(scene)
        panel = EditorPanel(view)
        palette = PaletteDock(lambda kind: view.add_block(kind, view.centre_position()), host)
        properties = PropertyDock(session, host)
        # Docks made after the window restored its layout take their remembered place (asked
        # before they are added: for an added dock Qt always answers yes). Else the palette
        # above the properties, sized once the window has laid them out.
        restored = [host.restoreDockWidget(dock) for dock in (palette, properties)]
        if not all(restored):
            host.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, palette)
            host.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, properties)
            host.splitDockWidget(palette, properties, Qt.Orientation.Vertical)
            QTimer.singleShot(0, self._size_docks)
        link = SteppingLink(session, doc, self)
        stack = QStackedWidget()
        stack.setObjectName("centralStack")
        stepping_page = host.takeCentralWidget()
        assert stepping_page is not None, "the window composes its central widget before the builder"
        stack.addWidget(stepping_page)
        stack.addWidget(panel)
        host.setCentralWidget(stack)
        stack.show()  # a layout shows a new child of a visible window only later, from the event loop
        saver = autosave.Autosave(session, autosave.default_folder(), self)
        self.parts = BuilderParts(session, files, scene, view, panel, palette, properties, link, stack, saver)
        session.message.connect(doc.report)
        session.stack.canUndoChanged.connect(self.undo_action.setEnabled)
        session.stack.canRedoChanged.connect(self.redo_action.setEnabled)
        # The undo step's name goes to the tooltip: in the toolbar a long name would push the
        # other buttons off the window.
        session.stack.undoTextChanged.connect(lambda t: self.undo_action.setToolTip(f"Undo {t}".strip()))
        session.stack.redoTextChanged.connect(lambda t: self.redo_action.setToolTip(f"Redo {t}".strip()))
        session.selectionChanged.connect(self._sync_actions)
        scene.selectionChanged.connect(self._sync_actions)
        session.edited.connect(lambda: panel.show_message(""))
        session.fileChanged.connect(self._update_title)
        link.failed.connect(self._on_step_failed)
        doc.themeChanged.connect(self._on_theme)
        doc.traceChanged.connect(lambda _keep: self.keep_action.setEnabled(link.showing))
        for act in (self.save_action, self.save_as_action, self.export_python_action):
            act.setEnabled(True)
        return self.parts

    def _size_docks(self) -> None:
        """The palette lists short names: narrow is enough; the properties need the height."""
        parts, host = self.parts, self.host
        if parts is None:
            return
        host.resizeDocks([parts.palette], [PALETTE_WIDTH], Qt.Orientation.Horizontal)
        height = max(400, host.height())
        host.resizeDocks([parts.palette, parts.properties], [height // 2, height // 2], Qt.Orientation.Vertical)
        if self.mode == BUILD:
            parts.view.fit()

    def _stepping_docks(self) -> list[QDockWidget]:
        """The window's docks that show a trace (inspector, diagnostics, training): not the
        builder's own."""
        parts = self.parts
        mine = (parts.palette, parts.properties) if parts is not None else ()
        return [d for d in self.host.findChildren(QDockWidget) if d not in mine and d.parent() is self.host]

    def _hide_stepping_docks(self) -> None:
        """While building, the trace's docks show nothing of the network: give their width to the
        editor, and remember which were open."""
        if self._hidden_docks:
            return
        self._hidden_docks = [d for d in self._stepping_docks() if d.isVisible()]
        for dock in self._hidden_docks:
            dock.hide()

    def _restore_stepping_docks(self) -> None:
        for dock in self._hidden_docks:
            dock.show()
        self._hidden_docks = []

    @property
    def session(self) -> NetworkSession:
        """The network being built (created on first access)."""
        return self.ensure().session

    # ------------------------------------------------------------------------ modes
    def set_mode(self, mode: str) -> bool:
        """Show the editor (``build``) or trace the network and show the stepper (``step``);
        False when the network cannot be stepped (the editor stays, saying why)."""
        parts = self.ensure()
        requested = mode
        if mode == STEP and not parts.session.network.blocks:
            # Nothing built yet: keep showing what the window shows, and say how to start.
            self.document.report("The network is empty: add blocks in Build mode, or start from File ▸ New Network.")
            parts.stack.setCurrentIndex(0)
            parts.palette.hide()
            self._restore_stepping_docks()
        elif mode == STEP:
            parts.panel.show_message("")
            if not parts.link.start():
                mode = BUILD
            else:
                parts.stack.setCurrentIndex(0)
                parts.palette.hide()
                self._restore_stepping_docks()
        if mode == BUILD:
            parts.link.stop()
            parts.stack.setCurrentWidget(parts.panel)
            self._hide_stepping_docks()
            parts.palette.show()
            parts.properties.show()
            parts.view.setFocus()
            self._update_title()
        self.mode = mode
        self.build_action.setChecked(mode == BUILD)
        self.step_action.setChecked(mode == STEP)
        self._sync_actions()
        return requested == mode

    def _on_step_failed(self, message: str) -> None:
        parts = self.ensure()
        parts.panel.show_message(f"Cannot step the network: {message}")
        if self.mode == STEP and not parts.link.showing:
            self.set_mode(BUILD)

    def _on_opened(self) -> None:
        """Something else (a lesson, a scenario file) was opened: show it, not the editor."""
        parts = self.parts
        showing_network = parts is not None and parts.link.showing
        self.import_action.setEnabled(self.document.scenario is not None and not showing_network)
        if parts is None or showing_network:
            return
        parts.link.stop()
        if self.mode == BUILD:
            parts.stack.setCurrentIndex(0)
            parts.palette.hide()
            self._restore_stepping_docks()
            self.mode = STEP
            self.step_action.setChecked(True)
            self._sync_actions()

    def _sync_actions(self) -> None:
        parts = self.parts
        editing = parts is not None and self.mode == BUILD
        selected = parts is not None and bool(parts.session.selection)
        self.delete_action.setEnabled(editing and (selected or bool(parts and parts.scene.selected_wires())))
        self.duplicate_action.setEnabled(editing and selected)
        # They act on the editor, which Step mode does not show.
        self.arrange_action.setEnabled(editing)
        self.fit_action.setEnabled(editing)

    def _update_title(self) -> None:
        parts = self.parts
        if parts is None or self.mode != BUILD:
            return
        import os

        session = parts.session
        name = os.path.basename(session.path) if session.path else (session.network.title or "untitled")
        self.host.setWindowTitle(f"{name}{' •' if session.dirty else ''} — bpviz (building)")

    def _on_theme(self, theme: Any) -> None:
        parts = self.parts
        if parts is not None:
            parts.scene.set_theme(theme)
            parts.view.viewport().update()

    # ------------------------------------------------------------------------ files
    def new_dialog(self) -> bool:
        """File ▸ New Network: choose an empty network or a template, then edit it."""
        from bpviz.gui.builder.new_dialog import NewNetworkDialog

        dialog = NewNetworkDialog(self.host)
        if dialog.exec() != NewNetworkDialog.DialogCode.Accepted:
            return False
        return self.new_network(dialog.chosen())

    def new_network(self, template: str) -> bool:
        """Start a network from ``template`` (``empty`` for none) and show the editor."""
        parts = self.ensure()
        if not parts.files.new(template):
            return False
        self.set_mode(BUILD)
        parts.view.fit()
        return True

    def open_network(self, path: str) -> bool:
        """Open a ``.bpviz`` file into the editor (nothing in it is executed)."""
        parts = self.ensure()
        if not parts.files.open(path):
            return False
        self.set_mode(BUILD)
        parts.view.fit()
        return True

    def import_scenario(self) -> bool:
        """File ▸ Edit Scenario as Network: the scenario on screen as blocks in the editor."""
        scenario, source = self.document.scenario, self.document.source
        if scenario is None:
            return False
        parts = self.ensure()
        label = source.display_name if source is not None else "the scenario"
        if not parts.files.import_scenario(scenario, label):
            return False
        self.set_mode(BUILD)
        parts.view.fit()
        return True

    def save(self) -> bool:
        """File ▸ Save Network."""
        return self.ensure().files.save()

    def save_as(self) -> bool:
        """File ▸ Save Network As."""
        return self.ensure().files.save_as()

    def export_python(self) -> bool:
        """File ▸ Export Network as Python."""
        return self.ensure().files.export_python_dialog()

    def may_close(self) -> bool:
        """True unless the network has unsaved changes the user wants to keep (asked). When
        True the builder is at rest: no re-trace pending (it would start work in a closed
        window), the autosave written or cleared, and the docks the editor had set aside back,
        so the window saves its real layout. Without dialogs (--smoke-test, --screenshot)
        nobody can answer: closing goes ahead, and the autosave keeps unsaved changes."""
        parts = self.parts
        if parts is None:
            return True
        if getattr(self.host, "show_dialogs", True):
            if not parts.files.may_discard("closing"):
                return False
            parts.autosave.clear()
        else:
            parts.autosave.save_now()
            parts.autosave.stop()
        parts.link.stop()
        self._restore_stepping_docks()
        return True

    def offer_autosaved(self, folder: str | None = None) -> bool:
        """Offer back the network a previous run left unsaved (a crash); True when restored.
        ``folder``: where to look (the autosave folder unless given)."""
        from PySide6.QtWidgets import QMessageBox

        from bpviz.gui.builder import autosave

        path = autosave.leftover(folder if folder is not None else autosave.default_folder())
        if path is None or not getattr(self.host, "show_dialogs", True):
            return False
        network = autosave.read_leftover(path)
        if network is None:
            return False
        answer = QMessageBox.question(
            self.host,
            "Restore unsaved network",
            f"bpviz ended without saving a network of {len(network.blocks)} blocks "
            f"('{network.title or 'untitled'}'). Restore it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            autosave.discard(path)
            return False
        parts = self.ensure()
        parts.session.replace(network, None, undoable=False, text="Restore")
        parts.session.mark_unsaved()
        self.set_mode(BUILD)
        parts.view.fit()
        return True

    # ------------------------------------------------------------------------ edits
    def undo(self) -> None:
        """Edit ▸ Undo."""
        if self.parts is not None:
            self.parts.session.stack.undo()

    def redo(self) -> None:
        """Edit ▸ Redo."""
        if self.parts is not None:
            self.parts.session.stack.redo()

    def delete(self) -> None:
        """Edit ▸ Delete: the selected blocks and wires."""
        from bpviz.gui.builder.edits import delete

        parts = self.ensure()
        blocks, wires = list(parts.session.selection), parts.scene.selected_wires()
        if blocks or wires:
            parts.session.push(delete(parts.session.network, blocks, wires))

    def duplicate(self) -> None:
        """Edit ▸ Duplicate: copies of the selected blocks (selected afterwards)."""
        from bpviz.core.network.commands import AddBlock, duplicate

        parts = self.ensure()
        session = parts.session
        if not session.selection:
            return
        command = duplicate(session.network, list(session.selection))
        if session.push(command):
            session.select([c.block.id for c in command.commands if isinstance(c, AddBlock)])

    def arrange(self) -> None:
        """Edit ▸ Auto-Arrange: the app's layered layout, one undo step."""
        from bpviz.core.network.arrange import arrange

        parts = self.ensure()
        if parts.session.network.blocks:
            parts.session.push(arrange(parts.session.network))
            parts.view.fit()

    def keep_weights(self) -> bool:
        """Edit ▸ Keep Trained Weights: the values of the trace on screen (after training) into
        the blocks; False when the trace is not the network's or holds nothing new."""
        from bpviz.gui.builder.keep_weights import keep_trained

        parts = self.ensure()
        if not parts.link.showing or self.document.trace is None:
            return False
        command = keep_trained(parts.session.network, parts.link.blocks_of_trace(), self.document.trace)
        if command is None:
            self.document.report("The network already holds these weights.")
            return False
        return parts.session.push(command)

    def fit(self) -> None:
        """Show every block in the editor."""
        self.ensure().view.fit()
