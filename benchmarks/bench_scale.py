"""Scale (issue 13): a long Python loop, from 2,000 boxes to 40,000, side by side with plain torch.

The program is the issue's: ``x = leaf; for _ in range(n): x = x * 1.0001 + 0.0``, then
``(x**2).sum()``, a graph of 4n + 4 boxes (each step a mul, an add and their two constants).
For each n, in one run:

1. plain: the same ``loss().backward()`` in plain torch, alternated with ``trace``: bpviz's
   load + traced pass (``trace_scenario``); medians.
2. app open: a real MainWindow (offscreen), ``document.open`` of the file until the graph is
   drawn and painted once, or until the app refuses it (the one-sentence message, the previous
   graph kept: see bpviz/core/draw_limit.py). The window opened a lesson first, so torch and the
   canvas modules are loaded, as after the app's first graph.
3. export: the ``bpviz export FILE -o x.svg`` and ``-o x.png`` commands as a user runs them (a
   new process each, imports included), wall time, exit code and file size; and
   ``bpviz trace FILE --json x.json`` (no drawing, no limit).

Targets (issue 13): a 40,000-box graph opens in the app in <= 10 s and exports in <= 20 s, or is
refused with a message beyond a size limit. The graph at the limit (the largest the app draws)
is held to the same targets.

Run: ``.venv/bin/python benchmarks/bench_scale.py --threads 1 [--sizes 500,2499,2500,10000]``.
Put an older tree first on PYTHONPATH to measure it the same way (it may have no limit).
"""

from __future__ import annotations

import argparse
import gc
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication
os.environ.setdefault("BPVIZ_NO_SETTINGS", "1")  # no recent files or geometry from the user's settings

import torch

LOOP = """import torch

leaf = torch.tensor([1.0], requires_grad=True)


def loss():
    x = leaf
    for _ in range({n}):
        x = x * 1.0001 + 0.0
    return (x**2).sum()
"""
OPEN_TARGET_S = 10.0
EXPORT_TARGET_S = 20.0
ISSUE_SIZE = 10_000  # loop steps of the issue's example: 40,004 boxes
TIMEOUT_S = 600.0


def boxes(n: int) -> int:
    """Boxes of the loop's graph: a mul, an add and two constants per step; the leaf, the
    square, its exponent and the sum."""
    return 4 * n + 4


def plain_and_trace(path: Path, budget_s: float) -> tuple[float, float, int]:
    """Medians (s) of plain ``loss().backward()`` and of bpviz's load + trace, alternated; and
    the pairs measured."""
    from bpviz.core.scenario import load_scenario
    from bpviz.core.trace import trace_scenario

    namespace = runpy.run_path(str(path))
    leaf, loss = namespace["leaf"], namespace["loss"]

    def plain() -> None:
        leaf.grad = None
        loss().backward()

    plain_s, trace_s = [], []
    start = time.perf_counter()
    while len(plain_s) < 3 or (time.perf_counter() - start < budget_s and len(plain_s) < 15):
        t0 = time.perf_counter()
        plain()
        t1 = time.perf_counter()
        trace = trace_scenario(load_scenario(str(path)))
        t2 = time.perf_counter()
        del trace
        plain_s.append(t1 - t0)
        trace_s.append(t2 - t1)
    return statistics.median(plain_s), statistics.median(trace_s), len(plain_s)


class App:
    """A MainWindow, offscreen, dialogs off (a refusal goes to the status bar and is recorded)."""

    def __init__(self) -> None:
        from bpviz.gui.app import application
        from bpviz.gui.main_window import MainWindow

        self.qapp = application()
        self.window = MainWindow()
        self.window.show_dialogs = False
        self.window.menus.animate.setChecked(False)
        self.window.resize(1440, 900)
        self.window.show()
        self.open("lesson:chain56")

    def open(self, spec: str) -> tuple[float, str | None]:
        """Seconds from asking to open ``spec`` to its graph painted (or its refusal), and the
        refusal's message (None when it opened)."""
        from PySide6.QtCore import QEventLoop, QTimer

        from bpviz.core.sources import source_from_spec

        doc = self.window.document
        loop = QEventLoop()
        outcome: dict[str, str | None] = {}

        def opened() -> None:
            outcome["message"] = None
            loop.quit()

        def failed(message: str, _details: str) -> None:
            outcome["message"] = message
            loop.quit()

        doc.opened.connect(opened)
        doc.openFailed.connect(failed)
        QTimer.singleShot(int(TIMEOUT_S * 1e3), loop.quit)
        start = time.perf_counter()
        doc.open(source_from_spec(spec), trusted=True)
        loop.exec()
        if outcome.get("message", "") is None:
            self.qapp.processEvents()  # what the opening queued (the view's first frame)
            self.window.view.viewport().repaint()
        seconds = time.perf_counter() - start
        doc.opened.disconnect(opened)
        doc.openFailed.disconnect(failed)
        if "message" not in outcome:
            raise SystemExit(f"no answer after {TIMEOUT_S:.0f} s opening {spec}")
        return seconds, outcome["message"]


def command(args: list[str], cwd: str) -> tuple[float, int, str]:
    """Wall time, exit code and last stderr line of ``python -m bpviz ARGS`` run in ``cwd`` (not
    in a checkout: ``-m`` would import the bpviz found there before PYTHONPATH's)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bpviz", *args], capture_output=True, text=True, timeout=TIMEOUT_S, cwd=cwd
    )
    err = proc.stderr.strip().splitlines()
    return time.perf_counter() - start, proc.returncode, err[-1] if err else ""


def size_text(path: Path) -> str:
    if not path.exists():
        return "no file"
    size = path.stat().st_size
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} kB"


def outcome_text(seconds: float, code_or_message) -> str:
    if code_or_message is None or code_or_message == 0:
        return f"{seconds:6.2f} s"
    return f"{seconds:6.2f} s refused" if code_or_message == 2 or isinstance(code_or_message, str) else "failed"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,2499,2500,10000", help="loop steps, comma-separated (boxes: 4n + 4)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's own choice)")
    ap.add_argument("--seconds", type=float, default=6.0, help="time budget per size for plain vs trace")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    try:
        from bpviz.core.draw_limit import MAX_DRAWN_BOXES

        limit = f"{MAX_DRAWN_BOXES:,} boxes"
    except ImportError:
        limit = "none (a tree without bpviz/core/draw_limit.py)"
    import bpviz

    print(f"bpviz from {Path(bpviz.__file__).parent}; drawing limit: {limit}")
    print(f"torch threads: {torch.get_num_threads()}; load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    app = App()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"loop{n}.py"
            path.write_text(LOOP.format(n=n))
            plain_s, trace_s, pairs = plain_and_trace(path, args.seconds)
            # The window's collector runs only in its event loop: the garbage of the traces just
            # timed would otherwise be collected during the open and counted in it.
            gc.collect()
            open_s, refusal = app.open(str(path))
            exports = {}
            for ext in (".svg", ".png"):
                out = Path(tmp) / f"x{n}{ext}"
                seconds, code, last = command(["export", str(path), "-o", str(out)], tmp)
                exports[ext] = (seconds, code, size_text(out), last)
                out.unlink(missing_ok=True)
            out = Path(tmp) / f"x{n}.json"
            json_s, json_code, _ = command(["trace", str(path), "--json", str(out)], tmp)
            json_size = size_text(out)
            rows.append((n, plain_s, trace_s, pairs, open_s, refusal, exports, json_s, json_code, json_size))
            svg, png = exports[".svg"], exports[".png"]
            print(
                f"\n{boxes(n):,} boxes ({n:,} loop steps): plain fwd+bwd {plain_s * 1e3:.1f} ms, trace "
                f"{trace_s:.2f} s ({trace_s / plain_s:.0f}x, median of {pairs})\n"
                f"  app open    {outcome_text(open_s, refusal)}{'' if refusal is None else ': ' + refusal}\n"
                f"  export .svg {outcome_text(svg[0], svg[1])}  {svg[2]}\n"
                f"  export .png {outcome_text(png[0], png[1])}  {png[2]}\n"
                f"  trace --json {json_s:5.2f} s  exit {json_code}  {json_size}",
                flush=True,
            )
            for ext, (_, code, _, last) in exports.items():
                if code not in (0, 2):
                    print(f"  export {ext} failed: {last}")

    print(f"\n== summary (load average now {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    print(f"{'boxes':>8} {'plain ms':>9} {'trace s':>8} {'open s':>8} {'svg s':>8} {'png s':>8} {'json s':>7}  drawn?")
    for n, plain_s, trace_s, _, open_s, refusal, exports, json_s, _, _ in rows:
        print(
            f"{boxes(n):8,} {plain_s * 1e3:9.1f} {trace_s:8.2f} {open_s:8.2f} {exports['.svg'][0]:8.2f} "
            f"{exports['.png'][0]:8.2f} {json_s:7.2f}  {'refused' if refusal is not None else 'drawn'}"
        )
    failed = 0
    print(f"\n{'target':58}{'measured':>12}  result")
    for n, _, _, _, open_s, refusal, exports, json_s, json_code, _ in rows:
        if n != ISSUE_SIZE and refusal is not None:
            continue  # the issue's size, and every size that is drawn
        what = f"{boxes(n):,} boxes"
        worst_export = max(exports[".svg"][0], exports[".png"][0])
        checks = [
            (f"app open, {what}, <= {OPEN_TARGET_S:.0f} s", open_s, open_s <= OPEN_TARGET_S),
            (f"export svg and png, {what}, <= {EXPORT_TARGET_S:.0f} s", worst_export, worst_export <= EXPORT_TARGET_S),
        ]
        if n == ISSUE_SIZE:
            checks.append((f"trace --json, {what}, works (exit 0)", json_s, json_code == 0))
        for label, measured, ok in checks:
            failed += not ok
            note = " (refused)" if refusal is not None and "trace" not in label else ""
            print(f"{label:58}{measured:10.2f} s  {'met' if ok else 'NOT MET'}{note}")
    app.window.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
