"""Benchmark: the network editor in the app (issue 9), offscreen, medians.

* **Drag a block** in a 30-block and a 300-block network: one frame is what a mouse move does
  (an undoable MoveBlocks merged into the drag, the block and its wires re-routed) plus a
  synchronous repaint of a 1400x900 editor viewport. Target: under 16 ms.
* **Edit while stepping** a 30-block network: a property changed through the undo stack until
  the new trace is on the canvas (shapes, build, trace and steps on the worker, the canvas
  redrawn), without the debounce that groups quick edits. Target: at most 100 ms.
* **Open a 300-block document** into the editor: the file read, every shape inferred, every
  block and wire item made, and the first paint. Target: at most 1 s.

The networks are the MLPs of ``bench_network.py`` (Linear(16, 16) + ReLU pairs, MSE loss).
Run: ``.venv/bin/python benchmarks/bench_builder.py [--strict]`` (exit 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BPVIZ_NO_SETTINGS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtWidgets import QApplication

from bench_network import mlp
from bpviz.core.network import fileformat
from bpviz.core.network.commands import MoveBlocks, SetProperty

FRAME_TARGET_MS = 16.0
EDIT_TARGET_MS = 100.0
OPEN_TARGET_MS = 1000.0


def wait(app: QApplication, done) -> None:
    while not done():
        app.processEvents()
        time.sleep(0.0005)


def drag_frames(app, window, pairs: int, frames: int = 60) -> float:
    """Median ms of one drag frame in an ``mlp(pairs)`` network."""
    session = window.builder.session
    session.replace(mlp(pairs), None, undoable=False, text="bench")
    view = window.builder.parts.view
    view.fit()
    app.processEvents()
    block = session.network.by_name("fc0").id
    x0, y0 = session.network.blocks[block].position
    drag = session.new_drag()
    times = []
    for i in range(frames):
        t = time.perf_counter()
        session.push(MoveBlocks(session.network, {block: (x0 + 10 * (i % 20), y0 + 10 * (i % 7))}), drag)
        view.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def edit_while_stepping(app, window, repeats: int = 15) -> float:
    """Median ms from a property edit to its new trace drawn (debounce left out)."""
    session = window.builder.session
    session.replace(mlp(13), None, undoable=False, text="bench")
    traced = []
    window.document.traceChanged.connect(lambda _keep: traced.append(time.perf_counter()))
    window.builder.set_mode("step")
    wait(app, lambda: traced)
    link = window.builder.parts.link
    times = []
    for i in range(repeats):
        n = len(traced)
        t = time.perf_counter()
        session.push(SetProperty(session.network, session.network.by_name("fc3").id, "bias", i % 2 == 0))
        link.retrace()  # what the debounce timer calls
        wait(app, lambda n=n: len(traced) > n and not window.document.runner.busy)
        app.processEvents()
        times.append((traced[-1] - t) * 1000)
    window.builder.set_mode("build")
    return statistics.median(times)


def open_big(app, window, path: str, repeats: int = 5) -> float:
    """Median ms to open a 300-block file into the editor and paint it."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        window.builder.parts.files.open(path)
        window.builder.parts.view.viewport().repaint()
        times.append((time.perf_counter() - t) * 1000)
        window.builder.session.mark_saved()
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from bpviz.core.network.shapes import warm_up
    from bpviz.gui.main_window import MainWindow

    warm_up()
    window = MainWindow()
    window.show_dialogs = False
    window.resize(1400, 900)
    window.show()
    window.builder.new_network("empty")
    rows = [
        ("drag frame, 30 blocks", drag_frames(app, window, 13), FRAME_TARGET_MS),
        ("drag frame, 300 blocks", drag_frames(app, window, 148), FRAME_TARGET_MS),
        ("edit -> re-traced and drawn, 30 blocks", edit_while_stepping(app, window), EDIT_TARGET_MS),
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.bpviz")
        fileformat.save(mlp(148), path)
        rows.append(("open 300 blocks into the editor", open_big(app, window, path), OPEN_TARGET_MS))
    missed = 0
    print(f"{'measure':42} {'median ms':>10} {'target':>8}  result  (load {os.getloadavg()[0]:.2f})")
    for name, ms, target in rows:
        ok = ms <= target
        missed += not ok
        print(f"{name:42} {ms:10.1f} {target:8.0f}  {'met' if ok else 'MISSED'}")
    window.builder.session.mark_saved()
    window.close()
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
