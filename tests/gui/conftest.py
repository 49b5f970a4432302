"""Helpers for the window tests: open a MainWindow and wait until its trace is drawn."""

from __future__ import annotations

import pytest

from tests.gui.helpers import TRACE_TIMEOUT_MS


@pytest.fixture
def open_window(qtbot):
    """``open_window(spec=None, animate=False)``: a shown MainWindow with its first trace drawn.

    Animations are off unless asked for: tokens are decoration, and tests compare what the
    items show, which must not depend on a running animation.
    """
    from bpviz.gui.main_window import MainWindow

    windows = []

    def _open(spec=None, animate: bool = False):
        window = MainWindow(spec)
        qtbot.addWidget(window)
        window.menus.animate.setChecked(animate)
        with qtbot.waitSignal(window.traceShown, timeout=TRACE_TIMEOUT_MS):
            window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield _open
    for window in windows:
        window.controller.pause()
        window.runner.wait()
