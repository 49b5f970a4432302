"""Guards the PySide6 pin: 6.12.0 on Python 3.11 drops a reference to None on every void call,
which aborts the interpreter after a few thousand paint calls."""

import sys

from PySide6.QtWidgets import QGraphicsRectItem


def test_void_qt_calls_do_not_leak_none(qapp):
    item = QGraphicsRectItem(0, 0, 1, 1)
    before = sys.getrefcount(None)
    for i in range(2000):
        item.setPos(i, i)
    assert sys.getrefcount(None) >= before - 10
