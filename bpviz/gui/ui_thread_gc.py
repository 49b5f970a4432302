"""Cyclic garbage collection on the UI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a generation fills
up. When that is a worker (tracing, training) and the garbage holds Qt objects (a closed
window, a replaced plot), their C++ destructors run on the worker: a QObject's destructor takes
Qt's connection lock and asks the interpreter for a Python override, while Shiboken hands the
widgets to the UI thread, which holds the interpreter lock and waits for that same Qt lock.
Both threads then wait for ever (seen in the test suite: the training worker, importing
torch._dynamo, collected the menus of a closed window).

So while bpviz's windows live, automatic collection is off and a timer on the UI thread
collects instead, by the interpreter's own thresholds. Reference counting, which frees almost
everything, is untouched.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 100
# A full collection walks every tracked object (torch, Qt and a big graph: up to a second), so,
# like the interpreter, it runs only once the objects that reached the oldest generation since
# the last one are a quarter of those that survived it; counting them costs ~5 ms per 400,000
# objects, so that is asked at most this often.
FULL_CHECK_S = 1.0
FULL_GROWTH = 0.25


class UiThreadCollector(QObject):
    """Collects garbage from a timer on the thread it lives on (the UI thread)."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.collections = [0, 0, 0]  # per generation, for tests and curiosity
        self._long_lived = len(gc.get_objects(2))  # survivors of the last full collection
        self._last_check = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> int:
        """Collect the generations that are due (like the interpreter would); returns the
        generation collected, or -1 for none."""
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 <= t0 or t0 == 0:
            return -1
        generation = 2 if c2 > t2 and self._full_due() else 1 if c1 > t1 else 0
        gc.collect(generation)
        if generation == 2:
            self._long_lived = len(gc.get_objects(2))
        self.collections[generation] += 1
        return generation

    def _full_due(self) -> bool:
        now = time.monotonic()
        if now - self._last_check < FULL_CHECK_S:
            return False
        self._last_check = now
        oldest = len(gc.get_objects(2))
        # Fewer than before (freed, or moved out by gc.freeze()): the new count is the base.
        self._long_lived = min(self._long_lived, oldest)
        return oldest - self._long_lived > FULL_GROWTH * self._long_lived

    def stop(self) -> None:
        """Stop the timer (the caller turns automatic collection back on)."""
        self._timer.stop()


_installed: dict[str, object] = {}


def install() -> UiThreadCollector:
    """Turn automatic collection off and collect on the UI thread instead (once per process;
    needs the QApplication). Returns the collector."""
    collector = _installed.get("collector")
    if not isinstance(collector, UiThreadCollector):  # None: not installed yet
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("ui_thread_gc.install() needs a QApplication")
        _installed["was_enabled"] = gc.isenabled()
        collector = _installed["collector"] = UiThreadCollector(app)
    gc.disable()
    return collector


def uninstall() -> None:
    """Back to the interpreter's own collection (when no bpviz window or worker is left, e.g.
    after ``bpviz.show()`` returns to the user's script)."""
    collector = _installed.pop("collector", None)
    if not isinstance(collector, UiThreadCollector):  # None: not installed
        return
    collector.stop()
    collector.deleteLater()
    if _installed.pop("was_enabled", True):
        gc.enable()
    gc.collect()


@contextmanager
def installed() -> Iterator[UiThreadCollector]:
    """``install()`` for the block; on leaving it, ``uninstall()`` only if the block installed
    it (another bpviz window may still need it), whatever the block raised."""
    owner = "collector" not in _installed
    collector = install()
    try:
        yield collector
    finally:
        if owner:
            uninstall()
