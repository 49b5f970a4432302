"""Benchmark: the network builder's core (issue 9), without Qt.

* **Open a 300-block document**: parse the ``.bpviz`` text, infer every wire's shape on the meta
  device, and build the runnable scenario (the app then traces it like any scenario). Target:
  at most 1 s.
* **An edit on a 30-block network**: push a property change through the undo history, re-infer
  the shapes, rebuild and re-trace with torch autograd. Target: at most 100 ms (the GUI's
  debounce and drawing come on top; bench_gui measures those).
* **First shape inference in a process**: torch imports its Python decompositions the first
  time a Linear runs on the meta device; the app pays this once.

The networks are MLPs of Linear(16, 16) + ReLU pairs with an MSE loss; "plain torch" is the
same forward and backward written by hand, for scale. ``--strict`` exits with status 1 when a
target is missed. Run: ``.venv/bin/python benchmarks/bench_network.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
from torch import nn

from bpviz.core.network.build import build
from bpviz.core.network.commands import History, SetProperty
from bpviz.core.network.fileformat import dumps, loads
from bpviz.core.network.shapes import infer_shapes
from bpviz.core.network.templates import _Builder
from bpviz.core.trace import trace_scenario

OPEN_TARGET_MS = 1000.0
EDIT_TARGET_MS = 100.0


def mlp(pairs: int, width: int = 16):
    """Input, ``pairs`` x (Linear + ReLU), a Linear head, Target and MSELoss: 2 * pairs + 4 blocks."""
    b = _Builder(title=f"mlp x{pairs}")
    b.add("Input", "x", data="randn", shape=(8, width))
    h = "x"
    for i in range(pairs):
        b.add("Linear", f"fc{i}", h, in_features=width, out_features=width)
        h = b.add("ReLU", f"act{i}", f"fc{i}")
    b.add("Linear", "head", h, in_features=width, out_features=1)
    b.add("Target", "y", data="randn", shape=(8, 1))
    b.add("MSELoss", "mse", "head", "y")
    return b.done()


def median_ms(fn, seconds: float = 1.0, least: int = 15) -> float:
    fn()  # warm-up
    times, start = [], time.perf_counter()
    while len(times) < least or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def first_inference_ms() -> float:
    here = str(Path(__file__).parent)
    code = (
        f"import time, sys; sys.path.insert(0, {here!r})\n"
        "from bench_network import mlp\n"
        "from bpviz.core.network.shapes import infer_shapes\n"
        "doc = mlp(13); t = time.perf_counter(); infer_shapes(doc)\n"
        "print((time.perf_counter() - t) * 1000)"
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}; load average: {os.getloadavg()[0]:.2f}")

    big = mlp(148)
    text = dumps(big)

    def open_big():
        doc = loads(text)
        build(doc, shapes=infer_shapes(doc))

    small = mlp(13)
    history = History(small)
    flip = [False]

    def edit_small():
        flip[0] = not flip[0]
        history.push(SetProperty(small, small.by_name("fc6").id, "bias", flip[0]))
        shapes = infer_shapes(small)
        trace_scenario(build(small, shapes=shapes).scenario)

    model = nn.Sequential(*[m for _ in range(13) for m in (nn.Linear(16, 16), nn.ReLU())], nn.Linear(16, 1))
    x, y = torch.randn(8, 16), torch.randn(8, 1)

    def plain():
        model.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()

    rows = [
        (f"open {len(big.blocks)}-block document", median_ms(open_big), OPEN_TARGET_MS),
        (f"edit + re-trace, {len(small.blocks)} blocks", median_ms(edit_small), EDIT_TARGET_MS),
        ("plain torch fwd+bwd, same 30-block net", median_ms(plain), None),
        ("first shape inference in a process", first_inference_ms(), None),
    ]
    missed = False
    print(f"{'what':44} {'median ms':>10} {'target ms':>10}")
    for what, ms, target in rows:
        mark = "" if target is None else ("  ok" if ms <= target else "  MISSED")
        missed |= target is not None and ms > target
        print(f"{what:44} {ms:10.2f} {'' if target is None else f'{target:10.0f}'}{mark}")
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
