"""Benchmark: an animated export against writing the same frames as PNG stills.

For chain56 and mlp_10_5_1 (layer view) at 8 frames per step and scale 1, both sides render the
same frames from the same scene (tokens placed on the way); one side encodes them as one GIF
(and one MP4), the other writes each as a PNG file. Medians of alternating runs, one torch
thread. Target (issue 11): the animation costs at most 2x the PNG stills. ``--strict`` exits 1
when missed. Run: ``.venv/bin/python benchmarks/bench_animation.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGET = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    import torch
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication(["bench_animation"])
    from bpviz.core.atomic import write_bytes
    from bpviz.core.scenario import load_scenario
    from bpviz.core.stepper import StepSequence
    from bpviz.core.trace import trace_scenario
    from bpviz.core.views import collapse_modules, default_level
    from bpviz.gui.animation import render_frames, write_animation
    from bpviz.gui.export import offscreen_scene, png_bytes
    from bpviz.gui.theme import LIGHT

    print(f"torch threads: 1; load average: {os.getloadavg()[0]:.2f}; medians of {args.repeats}")
    print(f"{'lesson':<12} {'frames':>6} {'PNG stills ms':>14} {'GIF ms':>8} {'ratio':>6} {'MP4 ms':>8} {'ratio':>6}")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        for lesson in ("chain56", "mlp_10_5_1"):
            trace = trace_scenario(load_scenario(f"lesson:{lesson}"))
            level = default_level(trace.graph)
            graph = collapse_modules(trace.graph, level, trace.module_titles) if level else trace.graph
            sequence = StepSequence(trace)
            scene, show = offscreen_scene(trace, graph, sequence, LIGHT)
            positions = range(sequence.last + 1)
            times: dict[str, list[float]] = {"png": [], "gif": [], "mp4": []}
            count = 0
            for _ in range(args.repeats):
                for kind in ("png", "gif", "mp4"):
                    start = time.perf_counter()
                    frames = render_frames(scene, show, positions, 8, 1.0)
                    if kind == "png":
                        for i, image in enumerate(frames.images):
                            write_bytes(os.path.join(folder, f"still_{i:04d}.png"), png_bytes(image))
                    else:
                        write_animation(frames, os.path.join(folder, f"pass.{kind}"), 8)
                    times[kind].append((time.perf_counter() - start) * 1000)
                    count = len(frames.images)
            png, gif, mp4 = (statistics.median(times[k]) for k in ("png", "gif", "mp4"))
            ok = ok and gif <= TARGET * png and mp4 <= TARGET * png
            print(f"{lesson:<12} {count:>6} {png:>14.0f} {gif:>8.0f} {gif / png:>6.2f} {mp4:>8.0f} {mp4 / png:>6.2f}")
    print(f"target: animation <= {TARGET}x the PNG stills: {'met' if ok else 'MISSED'}")
    app.processEvents()
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
