"""Training engine vs a plain torch loop: steps per second, side by side, and memory over a long run.

The workload is the issue's: an XOR MLP 2-8-8-1 (ReLU), BCE with logits, SGD, batch 64 drawn from
the 200-point ``xor`` dataset. The plain loop does what the seeds' ``train_step`` does (zero_grad,
forward, loss, backward, step, ``loss.item()``) on the same batches (same shuffling); the engine
adds gradient statistics, diagnostics (dead ReLU hooks) and a validation loss every 10 steps.
Blocks of each alternate so machine noise hits both alike; the figures are medians over blocks.

    python benchmarks/bench_training.py            # ~20 s (10,000-step memory check)
    python benchmarks/bench_training.py --long     # plus RSS before/after 100,000 engine steps
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch
import torch.nn.functional as F
from torch import nn

from bpviz.core.datasets import make_dataset
from bpviz.core.scenario import Scenario
from bpviz.core.training import TrainConfig, Trainer

BATCH = 64
LR = 0.1


def rss_kib() -> int:
    """Resident set size of this process in KiB, from /proc/self/status."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))


class PlainLoop:
    """The reference: the seeds' training step, with the engine's batch order."""

    def __init__(self, model: nn.Module, seed: int = 0):
        data = make_dataset("xor", seed)
        self.X, self.y = data.X, data.y
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=LR)
        self.gen = torch.Generator().manual_seed(seed)
        self.pos = len(self.X)
        self.perm = None

    def steps(self, n: int) -> None:
        rows = len(self.X)
        for _ in range(n):
            if self.pos + BATCH > rows:
                self.perm = torch.randperm(rows, generator=self.gen)
                self.pos = 0
            idx = self.perm[self.pos : self.pos + BATCH]
            self.pos += BATCH
            xb, yb = self.X.index_select(0, idx), self.y.index_select(0, idx)
            self.opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            loss.item()


def make_trainer(model: nn.Module) -> Trainer:
    scenario = Scenario(title="xor-mlp", model=model, inputs=(torch.zeros(1, 2),))
    return Trainer(scenario, TrainConfig(lr=LR, dataset="xor", batch_size=BATCH, loss="bce"))


def engine_steps(trainer: Trainer, n: int) -> None:
    for _ in trainer.run(n):
        pass  # the caller keeps nothing: results are dropped, as a plot with bounded buffers would


def side_by_side(rounds: int, block: int) -> dict[str, float]:
    """Median steps/s of the engine and of the plain loop over alternating blocks.

    Both by CPU time of this thread (``time.thread_time``: other processes on a shared machine
    do not count against either side) and by wall-clock time.
    """
    base = make_model()
    plain = PlainLoop(copy.deepcopy(base))
    trainer = make_trainer(copy.deepcopy(base))
    plain.steps(200)
    engine_steps(trainer, 200)
    rates: dict[str, list[float]] = {"engine_cpu": [], "plain_cpu": [], "engine_wall": [], "plain_wall": []}
    order = (("engine", lambda: engine_steps(trainer, block)), ("plain", lambda: plain.steps(block)))
    for r in range(rounds):
        for name, run in order if r % 2 == 0 else order[::-1]:
            c0, w0 = time.thread_time(), time.perf_counter()
            run()
            c1, w1 = time.thread_time(), time.perf_counter()
            rates[f"{name}_cpu"].append(block / max(c1 - c0, 1e-9))
            rates[f"{name}_wall"].append(block / (w1 - w0))
    medians = {k: statistics.median(v) for k, v in rates.items()}
    # The best block of each side: on a shared machine, interference only ever slows a block down.
    medians.update({f"{k}_best": max(v) for k, v in rates.items()})
    return medians


def memory_run(steps: int) -> tuple[int, int, int]:
    """RSS (KiB) after a warm-up, after ``steps`` more engine steps, and the difference."""
    trainer = make_trainer(make_model())
    engine_steps(trainer, 2000)
    before = rss_kib()
    engine_steps(trainer, steps)
    after = rss_kib()
    return before, after, after - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="also run 100,000 steps and report RSS")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=200)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: these tensors are too small to split, "
        "and extra threads only spin against other processes)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); XOR MLP 2-8-8-1, batch {BATCH}")
    r = side_by_side(args.rounds, args.block)
    for label, clock in (("median (cpu)", "cpu"), ("median (wall)", "wall"), ("best block (cpu)", "cpu_best")):
        engine, plain = r[f"engine_{clock}"], r[f"plain_{clock}"]
        print(
            f"{label:17} engine {engine:6.0f} steps/s ({1e6 / engine:5.1f} us/step)   "
            f"plain {plain:6.0f} steps/s ({1e6 / plain:5.1f} us/step)   ratio {engine / plain:.2f}"
        )
    print("target: ratio >= 0.8 for the engine alone (>= 0.5 with the GUI on top)")
    steps = 100_000 if args.long else 10_000
    before, after, growth = memory_run(steps)
    print(f"RSS before {before} KiB, after {steps:,} engine steps {after} KiB, growth {growth} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
