"""Training in the app vs a plain torch loop, side by side, with live plots and graph updates on.

The workload is the issue's: an XOR MLP 2-8-8-1 (ReLU), BCE with logits, SGD lr 0.1, batch 64
from the 200-point ``xor`` dataset. The app runs it from its training panel in a real
MainWindow (offscreen), with every training dock shown: loss, gradient norms and the data/fit
plot drawing live, the canvas re-traced and redrawn, the event log filling. The plain loop is the
seeds' ``train_step`` on the same batches (benchmarks/bench_training.py's PlainLoop). Blocks of
each alternate so machine noise hits both alike; figures are medians over blocks.

While the app trains, a 16 ms QTimer on the UI thread records the gap between its ticks: a gap
is one UI frame's latency (16-17 ms when the event loop is free).

    python benchmarks/bench_training_gui.py            # ~1 min
    python benchmarks/bench_training_gui.py --long     # plus RSS over 100,000 steps in the app
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BPVIZ_NO_SETTINGS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench_training import BATCH, LR, PlainLoop, make_model, rss_kib  # noqa: E402

SCENARIO = '''"""XOR MLP 2-8-8-1 (bench_training_gui)."""
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
inputs = torch.tensor([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])
target = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
loss_fn = nn.BCEWithLogitsLoss()
lr = 0.1
'''


def wait_until(app: QApplication, done, timeout_s: float = 600.0) -> None:
    """Run the event loop until ``done()`` (checked every 10 ms) or the timeout."""
    loop = QEventLoop()
    start = time.perf_counter()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: (done() or time.perf_counter() - start > timeout_s) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()


class FrameProbe:
    """A 16 ms timer on the UI thread; records the gaps between ticks while on."""

    def __init__(self):
        self.gaps: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setInterval(16)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = None
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def open_app(path: str):
    """A shown MainWindow on the scenario with all training docks up and the panel set."""
    from bpviz.gui.main_window import MainWindow

    app = QApplication.instance()
    window = MainWindow()
    window.document.open_spec(path)
    window.show_dialogs = False
    window.menus.animate.setChecked(False)
    window.resize(1440, 900)
    window.show()
    wait_until(app, lambda: window.trace is not None, 120)
    tc = window.training
    tc.set_shown(True)
    panel = tc.panel
    panel.data.choose_builtin("xor")
    panel.batch.setValue(BATCH)
    panel.lr.setText(str(LR))
    return window


def app_block(app, window, steps: int, probe: FrameProbe | None = None) -> float:
    """Run ``steps`` steps from the panel; returns steps per second (wall clock)."""
    tc = window.training
    tc.panel.steps.setValue(steps)
    if probe is not None:
        probe.start()
    start = time.perf_counter()
    tc.run()
    wait_until(app, lambda: not tc.is_running())
    elapsed = time.perf_counter() - start
    if probe is not None:
        probe.stop()
    if window.document.last_error:
        raise SystemExit(f"training failed: {window.document.last_error}")
    return steps / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=4000, help="steps per block")
    parser.add_argument("--long", action="store_true", help="RSS over 100,000 steps in the app")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads for both sides (default 1, as bench_training)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "xor_mlp.py")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(SCENARIO)
        window = open_app(path)
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); XOR MLP 2-8-8-1, batch {BATCH}, "
            f"{os.environ['QT_QPA_PLATFORM']} platform; all training docks shown"
        )
        plain = PlainLoop(copy.deepcopy(make_model()))
        plain.steps(300)
        app_block(app, window, 300)
        probe = FrameProbe()
        rates: dict[str, list[float]] = {"app": [], "plain": []}
        frames0 = window.training.live.frames
        for r in range(args.rounds):
            for side in ("plain", "app") if r % 2 == 0 else ("app", "plain"):
                if side == "plain":
                    t0 = time.perf_counter()
                    plain.steps(args.block)
                    rates["plain"].append(args.block / (time.perf_counter() - t0))
                else:
                    rates["app"].append(app_block(app, window, args.block, probe))
        app_rate, plain_rate = statistics.median(rates["app"]), statistics.median(rates["plain"])
        gaps = np.array(probe.gaps) * 1000
        app_seconds = args.rounds * args.block / app_rate
        frames = window.training.live.frames - frames0
        print(
            f"app   {app_rate:6.0f} steps/s   plain {plain_rate:6.0f} steps/s   ratio {app_rate / plain_rate:.2f}"
            "   (target >= 0.5)"
        )
        print(
            f"UI frames while training: {len(gaps)} ticks of a 16 ms timer; p50 {np.percentile(gaps, 50):.0f} ms, "
            f"p95 {np.percentile(gaps, 95):.0f} ms, max {gaps.max():.0f} ms; "
            f"{np.mean(gaps < 33) * 100:.1f}% under 33 ms (target >= 95%)"
        )
        print(f"live redraws: {frames / app_seconds:.1f} frames/s of plots and canvas")
        steps = 100_000 if args.long else 10_000
        app_block(app, window, 2000)
        before = rss_kib()
        t0 = time.perf_counter()
        app_block(app, window, steps // 2)
        middle = rss_kib()
        app_block(app, window, steps - steps // 2)
        after = rss_kib()
        h = window.training.history
        # Two halves: growth that stops after the first half is the allocator settling, not a leak.
        print(
            f"RSS after warm-up {before} KiB, after {steps // 2:,} more steps {middle} KiB, after {steps:,} "
            f"{after} KiB (growth {after - before} KiB, second half {after - middle} KiB, "
            f"{time.perf_counter() - t0:.0f} s); plot buffer holds {len(h.table)} of {h.table.offered:,} rows "
            f"(stride {h.table.stride})"
        )
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
