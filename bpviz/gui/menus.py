"""The main window's menu bar: File (open, lessons, recent, export, quit), View (zoom, module
collapse, shape-only ops, theme, legend, animation, docks), Step (the step shortcuts), Train
(built by the training controller) and Help.

Menu actions ask the document (open, view options, theme), the canvas (zoom, legend, animation,
export) or the widget that owns the action; the document owns all state.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QToolBar,
)

if TYPE_CHECKING:
    from bpviz.gui.builder import BuilderController
    from bpviz.gui.canvas_panel import CanvasPanel
    from bpviz.gui.document import Document
    from bpviz.gui.file_follower import FileFollower
    from bpviz.gui.training import TrainingController
    from bpviz.gui.window_support import Settings

OPEN_FILTERS = "Scenarios and networks (*.py *.bpviz);;Python scenarios (*.py);;bpviz networks (*.bpviz);;All files (*)"
EXPORT_FILTERS = "PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf)"
PNG_SCALES = ("1×", "2×", "3×", "4×")
ANIMATION_FILTERS = "GIF animation (*.gif);;MP4 video (*.mp4);;WebP animation (*.webp);;Animated PNG (*.apng)"


class Menus:
    """Builds the menu bar of ``window`` for ``document`` and keeps the actions other code needs
    to reach. ``docks`` get a show/hide entry in View; ``step_actions`` fill the Step menu (the
    last, the predict mode toggle, is on the toolbar too)."""

    def __init__(
        self,
        window: QMainWindow,
        document: Document,
        canvas: CanvasPanel,
        settings: Settings,
        training: TrainingController,
        follower: FileFollower,
        docks: list[QDockWidget],
        step_actions: list[QAction],
        builder: BuilderController | None = None,
    ):
        self.window = w = window
        self.builder = builder
        self.document = doc = document
        self.canvas = canvas
        self.settings = settings
        bar = w.menuBar()
        file_menu = self.file_menu = bar.addMenu("&File")
        self.open = self._action(file_menu, "&Open Scenario…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.lessons = file_menu.addMenu("&Lessons")
        self.lessons.setObjectName("lessonsMenu")
        self.lessons.aboutToShow.connect(self._fill_lessons)
        self.recent = file_menu.addMenu("Open &Recent")
        self.recent.setObjectName("recentMenu")
        self.reload = self._action(file_menu, "Re&load", doc.reload, "Ctrl+R")
        self.reload.setToolTip("Load the scenario again: an edited file, or the starting weights")
        self.follow = self._action(file_menu, "Reload When the File &Changes", self._set_follow, checkable=True)
        self.follow.setToolTip("Reload the scenario file each time it is saved (edit it in your editor)")
        self._follower = follower
        self.follow.setChecked(str(settings.value("followFile", "false")).lower() == "true")
        if builder is not None:
            file_menu.addSeparator()
            builder.build_file_menu(file_menu)
        file_menu.addSeparator()
        self.export = self._action(file_menu, "&Export Image…", self.export_dialog, "Ctrl+E")
        self.copy = self._action(file_menu, "&Copy Image", self.copy_image, "Ctrl+Shift+C")
        self.export_animation = self._action(file_menu, "Export &Animation…", self.export_animation_dialog)
        self.export_animation.setToolTip("The whole pass as a GIF, MP4, WebP or APNG, tokens moving")
        file_menu.addAction(training.export_action)
        file_menu.addSeparator()
        self.trusted = self._action(file_menu, "&Trusted Scenarios…", self.edit_trust)
        self.trusted.setToolTip("Which Python scenarios run without asking; revoke any of them")
        file_menu.addSeparator()
        self.quit = self._action(file_menu, "&Quit", w.close, QKeySequence.StandardKey.Quit)

        if builder is not None:
            builder.build_menu(bar)
        view = bar.addMenu("&View")
        # The canvas keys (+, -, Ctrl+0) work when it has focus; the menu shortcuts work anywhere.
        self.zoom_in = self._action(view, "Zoom &In", partial(self._zoom, True), "Ctrl+=")
        self.zoom_out = self._action(view, "Zoom &Out", partial(self._zoom, False), "Ctrl+-")
        self.fit = self._action(view, "&Fit to Window", canvas.fit, "Ctrl+0")
        view.addSeparator()
        self.hide_shape = self._action(view, "&Hide Shape-Only Ops", doc.set_hide_shape_ops, checkable=True)
        self.hide_shape.setToolTip("Hide view, reshape, transpose and similar ops that move no numbers")
        # The document may refuse a change (a view too big to draw): the tick shows what it keeps.
        view.aboutToShow.connect(lambda: self.hide_shape.setChecked(doc.hide_shape_ops))
        self.collapse = view.addMenu("&Level of Detail")
        direction_menu = view.addMenu("Layout &Direction")
        self._directions = QActionGroup(w)
        self.direction_actions = {}
        for key, text in (
            ("auto", "&Automatic (by the window's shape)"),
            ("TB", "&Top to Bottom"),
            ("LR", "&Left to Right"),
        ):
            act = self._action(direction_menu, text, partial(doc.set_direction, key))
            act.setCheckable(True)
            act.setChecked(key == doc.direction)
            self._directions.addAction(act)
            self.direction_actions[key] = act
        self.collapse.aboutToShow.connect(self._fill_collapse)
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        self._themes = QActionGroup(w)
        self.theme_actions = {}
        for name in ("light", "dark"):
            act = self._action(theme_menu, name.capitalize(), partial(doc.set_theme, name))
            # Checkable but driven by triggered (user choice only): sync_theme ticks it silently.
            act.setCheckable(True)
            self._themes.addAction(act)
            self.theme_actions[name] = act
        self.legend = self._action(view, "Show &Legend", self._toggle_legend, "Ctrl+L", checkable=True)
        self.legend.setChecked(True)
        self.animate = self._action(view, "&Animate Steps", self._toggle_animation, checkable=True)
        self.animate.setChecked(True)
        view.addSeparator()
        for dock in docks:
            view.addAction(dock.toggleViewAction())

        step = bar.addMenu("&Step")
        for act in step_actions:
            step.addAction(act)

        training.build_menu(bar)

        help_menu = bar.addMenu("&Help")
        self.how_to_read = self._action(help_menu, "&How to Read the Graph", self.show_how_to_read, "F1")
        self.shortcuts = self._action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/")
        help_menu.addSeparator()
        self._action(help_menu, "&About bpviz", self.about)
        predict = step_actions[-1]
        predict.setIcon(w.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion))
        training.show_action.setIcon(w.style().standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.toolbar = self._toolbar([predict, training.show_action])
        self.refresh_recent()
        self.sync_theme(doc.theme.name)
        doc.themeChanged.connect(lambda theme: self.sync_theme(theme.name))
        doc.opened.connect(self._remember_source)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, checkable: bool = False) -> QAction:
        act = QAction(text, self.window)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        (act.toggled if checkable else act.triggered).connect(slot)
        menu.addAction(act)
        return act

    def _toolbar(self, modes: list[QAction]) -> QToolBar:
        """The main actions, with words beside their icons (a learner should not guess)."""
        bar = QToolBar("Main toolbar", self.window)
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.window.style()
        icons = (
            (self.open, QStyle.StandardPixmap.SP_DialogOpenButton),
            (self.reload, QStyle.StandardPixmap.SP_BrowserReload),
            (self.export, QStyle.StandardPixmap.SP_DialogSaveButton),
            (self.fit, QStyle.StandardPixmap.SP_TitleBarMaxButton),
        )
        for act, icon in icons:
            act.setIcon(style.standardIcon(icon))
        bar.addAction(self.open)
        bar.addAction(self.reload)
        bar.addSeparator()
        bar.addAction(self.export)
        bar.addAction(self.fit)
        bar.addSeparator()
        for act in modes:
            bar.addAction(act)
        self.window.addToolBar(bar)
        return bar

    def actions(self) -> list[QAction]:
        """Every action of the menu bar, menu by menu, in menu order."""
        found: list[QAction] = []
        pending = list(self.window.menuBar().actions())
        while pending:
            act = pending.pop(0)
            menu = act.menu()
            if isinstance(menu, QMenu):
                pending[:0] = menu.actions()
            elif not act.isSeparator() and act not in found:
                found.append(act)
        return found

    # ------------------------------------------------------------------------ help
    def show_how_to_read(self) -> None:
        """Help ▸ How to Read the Graph."""
        from bpviz.gui.help_dialogs import how_to_read

        how_to_read(self.window).exec()

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts, listed from the actions themselves."""
        from bpviz.gui.help_dialogs import keyboard_shortcuts

        keyboard_shortcuts(self.window, self.actions()).exec()

    # ------------------------------------------------------------------------ file
    def _set_follow(self, on: bool) -> None:
        self._follower.set_enabled(on)
        self.settings.set_value("followFile", "true" if on else "false")

    def open_dialog(self) -> None:
        """Ask for a scenario file and open it."""

        source = self.document.source
        start = source.folder if source is not None else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open scenario", start, OPEN_FILTERS)
        if path:
            self.open_path(path)

    def edit_trust(self) -> None:
        """File ▸ Trusted Scenarios: the dialog opens window-modal; Save replaces the trust."""
        from bpviz.gui.trust_dialog import TrustDialog

        dialog = TrustDialog(self.document.trust, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def save() -> None:
            self.document.trust = dialog.store()
            self.settings.save_trust(self.document.trust)
            self.window.statusBar().showMessage("Trusted scenarios saved", 5000)

        dialog.accepted.connect(save)
        dialog.open()

    def open_path(self, path: str) -> None:
        """Open a file as its kind asks: a ``.bpviz`` network into the editor (nothing in it
        runs; it goes to Open Recent), anything else as a scenario (asked about before it runs)."""
        from bpviz.core.sources import FileSource

        if path.lower().endswith(".bpviz") and self.builder is not None:
            if self.builder.open_network(path):
                self.settings.add_recent_file(path)
                self.refresh_recent()
        else:
            self.document.open(FileSource(path))

    def _fill_lessons(self) -> None:
        from bpviz.core.scenario import lesson_names, lesson_summary
        from bpviz.core.sources import LessonSource

        self.lessons.clear()
        for name in lesson_names():
            act = self.lessons.addAction(name, partial(self.document.open, LessonSource(name)))
            act.setToolTip(lesson_summary(name))
            act.setStatusTip(lesson_summary(name))
            act.setText(f"{name}  —  {_short(lesson_summary(name))}")
        self.lessons.setToolTipsVisible(True)

    def _remember_source(self) -> None:
        """A newly opened file goes to the top of Open Recent (lessons and models do not)."""
        source = self.document.source
        path = source.recent_path if source is not None else None
        if path:
            self.settings.add_recent_file(path)
            self.refresh_recent()

    def refresh_recent(self) -> None:
        """Rebuild Open Recent from the settings."""

        self.recent.clear()
        files = self.settings.recent_files()
        for path in files:
            self.recent.addAction(
                os.path.basename(path) + f"   ({os.path.dirname(path)})", partial(self.open_path, path)
            )
        if files:
            self.recent.addSeparator()
            self.recent.addAction("Clear Recent Files", self._clear_recent)
        self.recent.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self.refresh_recent()

    def export_dialog(self) -> None:
        """Ask for a file name (PNG, SVG or PDF) and, for PNG, a scale; then export."""
        w = self.window
        if self.canvas.scene is None:
            return
        source = self.document.source
        base = source.stem if source is not None else "graph"
        path, chosen = QFileDialog.getSaveFileName(w, "Export image", f"{base}.png", EXPORT_FILTERS)
        if not path:
            return
        if not os.path.splitext(path)[1]:
            path += "." + chosen.split("*.")[1].rstrip(")") if "*." in chosen else ".png"
        scale = 2.0
        if path.lower().endswith(".png"):
            choice, ok = QInputDialog.getItem(w, "PNG scale", "Pixels per scene pixel:", PNG_SCALES, 1, False)
            if not ok:
                return
            scale = float(choice.rstrip("×"))
        self.export_to(path, scale)

    def export_to(self, path: str, scale: float = 2.0) -> bool:
        """Export the whole graph at the current step to ``path``; errors go to a dialog."""
        from bpviz.core.errors import BpvizError
        from bpviz.gui.export import export_scene

        try:
            if self.canvas.scene is None:
                return False
            result = export_scene(self.canvas.scene, path, scale)
        except BpvizError as exc:
            self.document.warn("Cannot export", str(exc))
            return False
        self.document.report(f"Exported {result.path} ({result.width}×{result.height})")
        return True

    def export_animation_dialog(self) -> None:
        """Ask for a .gif, .mp4, .webp or .apng name and write the whole pass as an animation."""
        source = self.document.source
        if self.document.trace is None:
            return
        base = source.stem if source is not None else "pass"
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export animation", f"{base}.gif", ANIMATION_FILTERS)
        if path:
            if not os.path.splitext(path)[1]:
                path += "." + chosen.split("*.")[1].rstrip(")") if "*." in chosen else ".gif"
            self.export_animation_to(path)

    def export_animation_to(self, path: str) -> bool:
        """Write every step of the pass, as drawn now, to ``path``; errors go to a dialog."""
        from bpviz.core.errors import BpvizError
        from bpviz.gui.animation import DEFAULT_FPS, DEFAULT_FRAMES_PER_STEP, render_frames, write_animation
        from bpviz.gui.export import offscreen_scene

        doc = self.document
        if doc.trace is None or doc.sequence is None:
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            scene, show = offscreen_scene(doc.trace, doc.view_graph, doc.sequence, doc.theme)
            frames = render_frames(scene, show, range(doc.sequence.last + 1), DEFAULT_FRAMES_PER_STEP, 1.0)
            written = write_animation(frames, path, DEFAULT_FPS)
        except BpvizError as exc:
            doc.warn("Cannot export the animation", str(exc))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        doc.report(f"Exported {written[0]} ({len(frames.images)} frames)")
        return True

    def copy_image(self) -> None:
        """Copy the whole graph at the current step to the clipboard."""
        from bpviz.gui.export import copy_to_clipboard

        if self.canvas.scene is not None:
            image = copy_to_clipboard(self.canvas.scene)
            self.document.report(f"Copied the graph ({image.width()}×{image.height()})", 5000)

    # ------------------------------------------------------------------------ view
    def _zoom(self, zoom_in: bool) -> None:
        view = self.canvas.view
        if view is not None:
            view.zoom_in() if zoom_in else view.zoom_out()

    def _fill_collapse(self) -> None:
        """The levels of the current graph: every op, one box per layer, or modules folded at
        each depth from the whole model (0) down to the deepest."""
        self.collapse.clear()
        doc = self.document
        if doc.trace is None:
            return
        from bpviz.core.views import BLOCKS, LAYERS, module_depth

        deepest = module_depth(doc.trace.graph)
        group = QActionGroup(self.collapse)
        choices: list[tuple[int | str | None, str]] = [(None, "Every Operation")]
        if doc.arrangement is not None:
            choices.insert(0, (BLOCKS, "One Box per Block, as Placed"))
        if deepest:
            choices.append((LAYERS, "One Box per Layer"))
            choices += [(d, f"Modules at Depth {d}" if d else "Whole Model as One Box") for d in range(deepest + 1)]
        for level, text in choices:
            act = self.collapse.addAction(text, partial(doc.set_collapse, level))
            act.setCheckable(True)
            act.setChecked(level == doc.collapse)
            group.addAction(act)
        if deepest == 0:
            note = self.collapse.addAction("(this graph has no nn.Module groups)")
            note.setEnabled(False)

    def sync_theme(self, name: str) -> None:
        """Tick the current theme."""
        if name in self.theme_actions:
            self.theme_actions[name].setChecked(True)

    def _toggle_legend(self, on: bool) -> None:
        self.canvas.set_legend_visible(on)

    def _toggle_animation(self, on: bool) -> None:
        self.canvas.set_animation_enabled(on)

    def about(self) -> None:
        """A short About box."""
        from bpviz import __version__

        QMessageBox.about(
            self.window,
            "About bpviz",
            f"<b>bpviz {__version__}</b><p>See backpropagation: step through the "
            "forward and backward pass of any torch model, with the local derivative "
            "and the chain rule on every edge.</p>",
        )


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
