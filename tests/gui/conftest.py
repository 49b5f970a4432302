"""Helpers for the window tests: open a MainWindow and wait until its trace is drawn."""

from __future__ import annotations

import pytest

from tests.gui.builder_helpers import builder  # noqa: F401 - the builder tests' fixture
from tests.gui.helpers import TRACE_TIMEOUT_MS

# A modal dialog offscreen waits for a click nobody makes and hangs the whole run (CI's only
# symptom would be its time limit). Every static dialog is replaced: it records what it would
# have asked and answers "cancel"; the test then fails, naming the dialog. Tests that expect a
# dialog patch QMessageBox.warning themselves, after this fixture.
_CANCEL = {
    ("QMessageBox", "warning"): "button",
    ("QMessageBox", "critical"): "button",
    ("QMessageBox", "information"): "button",
    ("QMessageBox", "question"): "button",
    ("QMessageBox", "about"): None,
    ("QFileDialog", "getOpenFileName"): ("", ""),
    ("QFileDialog", "getSaveFileName"): ("", ""),
    ("QInputDialog", "getItem"): ("", False),
}


@pytest.fixture(autouse=True)
def collector_back_after_each_test():
    """A window turns automatic garbage collection over to the UI thread's timer (see
    bpviz.gui.ui_thread_gc); after each test (its windows closed, their workers stopped) the
    interpreter collects again, so later tests run as they would alone."""
    yield
    from bpviz.gui import ui_thread_gc

    ui_thread_gc.uninstall()


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """Fail (instead of hang) when code under test opens a modal dialog it did not expect."""
    from PySide6 import QtWidgets

    opened: list[str] = []

    def replacement(cls_name: str, method: str, answer):
        def fake(*args, **kwargs):
            texts = [a for a in args if isinstance(a, str)]
            opened.append(f"{cls_name}.{method}{tuple(texts)}")
            if answer == "button":
                return QtWidgets.QMessageBox.StandardButton.Cancel
            return answer

        return staticmethod(fake)

    for (cls_name, method), answer in _CANCEL.items():
        monkeypatch.setattr(getattr(QtWidgets, cls_name), method, replacement(cls_name, method, answer))

    def box_exec(box):  # a QMessageBox built and run by hand (one with details)
        opened.append(f"QMessageBox.exec{(box.windowTitle(), box.text())}")
        return QtWidgets.QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", box_exec)
    yield
    assert not opened, f"unexpected modal dialog(s): {opened}"


@pytest.fixture
def dialogs(monkeypatch):
    """Every QMessageBox.warning (or QMessageBox run with exec) as (title, text), for tests that
    expect one."""
    from PySide6.QtWidgets import QMessageBox

    shown = _Shown()

    def fake_warning(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    def fake_exec(box):
        shown.append((box.windowTitle(), box.text()))
        shown.details.append(box.detailedText())
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(fake_warning))
    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    return shown


class _Shown(list):
    """The dialogs shown, as (title, text); ``details`` the detailed texts of those built by hand."""

    def __init__(self):
        super().__init__()
        self.details: list[str] = []


@pytest.fixture
def open_window(qtbot):
    """``open_window(spec=None, animate=False)``: a shown MainWindow with its first trace drawn.

    Animations are off unless asked for: tokens are decoration, and tests compare what the
    items show, which must not depend on a running animation.
    """
    from bpviz.gui.main_window import DEFAULT_SPEC, MainWindow

    windows = []

    def _open(spec=None, animate: bool = False):
        window = MainWindow()
        qtbot.addWidget(window)
        window.menus.animate.setChecked(animate)
        with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
            window.show()
            window.document.open_spec(spec or DEFAULT_SPEC)
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield _open
    for window in windows:
        window.controller.pause()
        window.document.runner.wait()
