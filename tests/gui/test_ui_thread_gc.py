"""Cyclic garbage is collected on the UI thread, never on a worker (where Qt objects in it
deadlocked the training worker against the UI thread)."""

from __future__ import annotations

import gc
import threading

from bpviz.gui import ui_thread_gc


class Cycle:
    """A reference cycle that notes the thread that finally frees it."""

    def __init__(self, freed_in: list[int]):
        self.me = self
        self.freed_in = freed_in

    def __del__(self):
        self.freed_in.append(threading.get_ident())


def test_a_worker_never_collects_cycles_and_the_ui_thread_does(open_window, qtbot):
    open_window()
    assert not gc.isenabled()
    freed_in: list[int] = []
    Cycle(freed_in)
    kept: list = []
    # Enough new container objects that the interpreter would have collected in this thread.
    worker = threading.Thread(target=lambda: kept.append([[] for _ in range(20 * gc.get_threshold()[0])]))
    worker.start()
    worker.join()
    assert freed_in == []
    qtbot.waitUntil(lambda: len(freed_in) > 0, timeout=2000)
    assert freed_in == [threading.get_ident()]


def test_collects_only_the_generations_that_are_due():
    collector = ui_thread_gc.install()
    gc.collect()
    assert collector.collect() == -1  # nothing allocated since
    kept = [[] for _ in range(2 * gc.get_threshold()[0])]
    assert collector.collect() in (0, 1, 2) and gc.get_count()[0] < gc.get_threshold()[0]
    del kept


def test_a_full_collection_waits_until_the_oldest_generation_grew_by_a_quarter(monkeypatch):
    monkeypatch.setattr(ui_thread_gc, "FULL_CHECK_S", 0.0)
    collector = ui_thread_gc.install()
    gc.collect()
    collector.collect()  # nothing due
    collector._long_lived = len(gc.get_objects(2))
    kept = [[] for _ in range(collector._long_lived // 10)]
    gc.collect(1)  # survivors of generation 1 move to the oldest
    assert not collector._full_due()  # grew by a tenth
    kept += [[] for _ in range(collector._long_lived // 5)]
    gc.collect(1)
    assert collector._full_due()  # by three tenths
    del kept


def test_installed_gives_collection_back_only_if_it_took_it(qapp):
    ui_thread_gc.uninstall()
    assert gc.isenabled()
    with ui_thread_gc.installed():
        assert not gc.isenabled()
        with ui_thread_gc.installed():  # a second window while the first one runs
            pass
        assert not gc.isenabled()  # the first one still needs it
    assert gc.isenabled()
    try:
        with ui_thread_gc.installed():
            raise KeyError("the window failed")
    except KeyError:
        pass
    assert gc.isenabled()
