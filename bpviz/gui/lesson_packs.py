"""File ▸ Open Lesson Pack: a teacher's lessons in a menu, each opened in predict mode with the
steps the pack asks about and the controls it locks (see :mod:`bpviz.core.lesson_pack`)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMenu

from bpviz.gui.document import Document
from bpviz.gui.predict_bar import PredictBar

if TYPE_CHECKING:  # they import torch: the window shows before it loads
    from bpviz.core.lesson_pack import LessonPack, PackLesson

PACK_FILTER = "Lesson packs (*.json);;All files (*)"


class LessonPacks:
    """Opens packs into a Pack menu and applies a pack lesson's settings once it is on screen."""

    def __init__(
        self,
        window: QMainWindow,
        document: Document,
        predict: PredictBar,
        training_action: QAction,
        inspector: QDockWidget,
    ):
        self.window = window
        self.document = document
        self.predict = predict
        self.training_action = training_action
        self.inspector = inspector
        self.pack: LessonPack | None = None
        self.current: PackLesson | None = None
        self._pending: PackLesson | None = None
        self.open_action = QAction("Open &Lesson Pack…", window)
        self.open_action.setToolTip("A teacher's lessons for predict mode (a .json lesson pack)")
        self.open_action.triggered.connect(self.open_dialog)
        self.menu = QMenu("&Pack", window)
        self.menu.setObjectName("packMenu")
        self._menu_action = window.menuBar().insertMenu(window.menuBar().actions()[-1], self.menu)
        self._menu_action.setVisible(False)
        document.opened.connect(self._on_opened)
        predict.toggle_action.toggled.connect(lambda _on: self.refresh_training())

    def open_dialog(self) -> None:
        """Ask for a pack file and open it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open lesson pack", "", PACK_FILTER)
        if path:
            self.open_pack(path)

    def open_pack(self, path: str) -> bool:
        """Read a pack, list its lessons in the Pack menu and open the first; errors: a dialog."""
        from bpviz.core.errors import BpvizError
        from bpviz.core.lesson_pack import load_pack

        try:
            pack = load_pack(path)
        except BpvizError as exc:
            self.document.warn("Cannot open the lesson pack", str(exc))
            return False
        self.pack = pack
        self.menu.clear()
        self.menu.setTitle(f"&Pack: {pack.title}")
        for i, lesson in enumerate(pack.lessons, start=1):
            self.menu.addAction(f"{i}. {lesson.title}", partial(self.open_lesson, lesson))
        self._menu_action.setVisible(True)
        self.open_lesson(pack.lessons[0])
        return True

    def open_lesson(self, lesson: PackLesson) -> None:
        """Open one lesson of the pack (its settings apply once it is on screen)."""
        from bpviz.core.sources import source_from_spec

        self._pending = lesson
        self.document.open(source_from_spec(lesson.scenario))

    def _on_opened(self) -> None:
        from bpviz.core.sources import source_from_spec

        source = self.document.source
        lesson = (
            self._pending
            if source is not None
            and self._pending is not None
            and source.label == source_from_spec(self._pending.scenario).label
            else None
        )
        self._pending = None
        self.current = lesson
        locked = lesson.locked if lesson is not None else frozenset()
        self.inspector.setVisible("inspector" not in locked)
        self.inspector.toggleViewAction().setEnabled("inspector" not in locked)
        self.predict.set_ask(frozenset(lesson.ask) if lesson is not None and lesson.ask is not None else None)
        if lesson is not None:
            self.predict.set_enabled(True)
        self.predict.toggle_action.setEnabled("predict" not in locked)
        self.refresh_training()

    def refresh_training(self) -> None:
        """Training is out of reach while predicting (its plots would show numbers the learner is
        working out) and in a lesson that locks it."""
        locked = self.current is not None and "training" in self.current.locked
        allowed = not locked and not self.predict.enabled
        if not allowed and self.training_action.isChecked():
            self.training_action.setChecked(False)
        self.training_action.setEnabled(allowed)
