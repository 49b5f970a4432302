"""Trace time against plain forward+backward, measured side by side (interleaved), medians.

Targets (issue 2): <= 1.5x on the ResNet-18-like net, <= 3x on the 20-layer MLP.
Also prints the memory a trace holds (values, gradients, edge gradients, retained graph).
``--fallback`` also times each trace by torch_compat's public-API fallbacks, interleaved.

    python benchmarks/bench_trace.py [--repeats N] [--seconds S] [--threads N] [--fallback]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import bpviz
from bpviz.core import torch_compat
from models import cases


def plain(model, x, y, loss_fn):
    model.zero_grad(set_to_none=True)
    loss = (loss_fn or torch.nn.functional.mse_loss)(model(x), y)
    loss.backward()


def traced(model, x, y, loss_fn):
    return bpviz.trace(model, x, target=y, loss_fn=loss_fn)


def tensor_bytes(trace) -> int:
    seen, total = set(), 0
    items = [a.get(k) for _, a in trace.graph.nodes(data=True) for k in ("value", "grad")]
    items += [e["grad"] for _, _, e in trace.graph.edges(data=True)]
    for t in items:
        if t is None:
            continue
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), t.numel())
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total


def activation_bytes(model, x, y, loss_fn) -> int:
    """Bytes autograd saves for backward in a plain pass (what retaining the graph keeps)."""
    sizes = []

    def pack(t):
        sizes.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        (loss_fn or torch.nn.functional.mse_loss)(model(x), y)
    return sum(sizes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget per model (more repeats)")
    ap.add_argument(
        "--threads", type=int, default=0, help="torch intra-op threads for both sides (default: torch's own choice)"
    )
    ap.add_argument(
        "--fallback", action="store_true", help="also time traces by the public-API fallbacks (torch_compat)"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}; load average: {os.getloadavg()[0]:.2f}")
    print(
        f"{'model':30} {'nodes/edges':>11} {'plain ms':>9} {'trace ms':>9} {'ratio':>6} {'trace MB':>9} {'saved MB':>9}"
        + (f" {'fallback ms':>11} {'fb/fast':>7}" if args.fallback else "")
    )
    fast = torch_compat.fast_paths()
    for name, model, x, y, loss_fn in cases():
        t0 = time.perf_counter()
        for _ in range(3):  # warm up both paths
            plain(model, x, y, loss_fn)
            traced(model, x, y, loss_fn)
        # At least --repeats pairs, and about --seconds per model: a median of 15 sub-millisecond
        # samples moves by 5-10% from run to run on a shared machine.
        pair = (time.perf_counter() - t0) / 3
        repeats = max(args.repeats, int(args.seconds / pair))
        tp, tt, tf = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            plain(model, x, y, loss_fn)
            t1 = time.perf_counter()
            tr = traced(model, x, y, loss_fn)
            t2 = time.perf_counter()
            tp.append(t1 - t0)
            tt.append(t2 - t1)
            if args.fallback:
                before = torch_compat.reset_for_tests("fallback")
                t3 = time.perf_counter()
                traced(model, x, y, loss_fn)
                tf.append(time.perf_counter() - t3)
                torch_compat.restore_for_tests(before)
        p, t = statistics.median(tp), statistics.median(tt)
        extra = f" {statistics.median(tf) * 1e3:11.2f} {statistics.median(tf) / t:7.2f}" if tf and fast else ""
        g = tr.graph
        print(
            f"{name:30} {g.number_of_nodes():>5}/{g.number_of_edges():<5} {p * 1e3:9.2f} {t * 1e3:9.2f} "
            f"{t / p:6.2f} {tensor_bytes(tr) / 2**20:9.2f} {activation_bytes(model, x, y, loss_fn) / 2**20:9.2f}"
            + extra
        )


if __name__ == "__main__":
    main()
