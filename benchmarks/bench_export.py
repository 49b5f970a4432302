"""Headless SVG export of the ResNet-18-like graph: ``bpviz export`` vs torchviz ``make_dot`` + ``dot -Tsvg``.

Both start from the same scenario file (written to a temp dir; it builds ``ResNet18Like`` from
benchmarks/models.py with a batch of 8 CIFAR-size images and cross-entropy) and end with an SVG
file. Measured side by side in one run, alternating which goes first, medians:

* in-process (imports already paid): bpviz = ``bpviz.cli.main(["export", FILE, "-o", OUT.svg])``
  (load the file, trace forward + backward, steps, scene, layout, ``export_scene``), also split
  into its parts by running the same pipeline by hand; torchviz = run the file, forward, then
  ``make_dot(loss, params=dict(model.named_parameters()))`` and ``dot -Tsvg`` (graphviz's
  ``pipe``), write the file.
* whole commands, which is what users wait for: ``python -m bpviz export FILE -o OUT.svg`` vs
  ``python torchviz_svg.py FILE OUT.svg`` (the torchviz steps above in a script), subprocess wall
  time. ``python -c "import torch"`` is shown as the floor both pay.

Target (issue 3): bpviz no slower than torchviz + dot (ratio <= 1).

torchviz is not a bpviz dependency: ``.venv/bin/pip install torchviz`` (it pulls the ``graphviz``
Python package; the ``dot`` binary comes from the system). Without it, only bpviz is timed.
``--threads N`` sets torch's intra-op threads (in-process, and OMP_NUM_THREADS for the commands);
``bpviz export`` itself runs its torch work on one thread, and so does the split into parts here.
``--busy N`` runs N busy-loop processes meanwhile (a loaded machine, reproducibly).

Bytecode: the commands run with bytecode cached, as for an installed package (pip compiles every
module when it installs one, and a checkout's first run writes ``__pycache__``); the warm-up run
of each command writes what is missing. ``PYTHONDONTWRITEBYTECODE`` (set in some containers)
is therefore dropped from the commands' environment: with it, and no ``__pycache__`` in the
checkout, every run would compile bpviz's ~40 modules again (~40 ms) while torch, networkx,
PySide6 and torchviz load theirs from site-packages. ``--compile-each-run`` keeps it, to measure
that case.
Run: ``.venv/bin/python benchmarks/bench_export.py [--repeats N] [--command-repeats N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from models import RESNET_SCENARIO  # noqa: E402 - the benchmarks folder is on the path only now

TORCHVIZ_SCRIPT = '''"""torchviz make_dot + dot -Tsvg on a bpviz scenario file (model, inputs, target, loss_fn)."""
import runpy
import sys

from torchviz import make_dot

ns = runpy.run_path(sys.argv[1])
model = ns["model"]
loss = ns["loss_fn"](model(ns["inputs"]), ns["target"])
dot = make_dot(loss, params=dict(model.named_parameters()))
with open(sys.argv[2], "wb") as fh:
    fh.write(dot.pipe(format="svg"))      # runs graphviz's `dot -Tsvg`
'''


def ms(seconds: float) -> float:
    return seconds * 1e3


# ---------------------------------------------------------------------------- bpviz
def bpviz_command_inprocess(scenario: str, out: str) -> None:
    """Exactly what ``bpviz export`` runs, minus starting Python and importing."""
    from bpviz.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["export", scenario, "-o", out])
    if code != 0:
        raise RuntimeError(f"bpviz export exited with {code}")


def bpviz_parts(scenario: str, out: str) -> dict[str, float]:
    """The export pipeline of bpviz/commands/export.py, timed by part (ms), on one torch thread
    as the command runs it."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _bpviz_parts(scenario, out)
    finally:
        torch.set_num_threads(threads)


def _bpviz_parts(scenario: str, out: str) -> dict[str, float]:
    from bpviz.core.scenario import load_scenario
    from bpviz.core.stepper import StepSequence
    from bpviz.core.trace import trace_scenario
    from bpviz.gui.export import export_scene
    from bpviz.gui.graph_scene import GraphScene
    from bpviz.gui.theme import theme_by_name

    t0 = time.perf_counter()
    scenario_obj = load_scenario(scenario)
    t1 = time.perf_counter()
    trace = trace_scenario(scenario_obj)
    t2 = time.perf_counter()
    sequence = StepSequence(trace)
    theme = theme_by_name("light")
    scene = GraphScene(theme)
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, theme, sequence.lr)
    t3 = time.perf_counter()
    state = sequence.state_at(sequence.last)
    scene.apply_state(state, trace, lr=sequence.lr)
    scene.set_caption(trace.title, f"{state.phase} · step {sequence.last} of {sequence.last}")
    t4 = time.perf_counter()
    export_scene(scene, out)
    t5 = time.perf_counter()
    return {
        "load file": ms(t1 - t0),
        "trace": ms(t2 - t1),
        "scene+layout": ms(t3 - t2),
        "apply_state": ms(t4 - t3),
        "export_scene svg": ms(t5 - t4),
        "total": ms(t5 - t0),
        "nodes": trace.graph.number_of_nodes(),
    }


# ---------------------------------------------------------------------------- torchviz
def torchviz_parts(scenario: str, out: str) -> dict[str, float]:
    """torchviz's way, timed by part (ms)."""
    import runpy

    from torchviz import make_dot

    t0 = time.perf_counter()
    ns = runpy.run_path(scenario)
    t1 = time.perf_counter()
    model = ns["model"]
    loss = ns["loss_fn"](model(ns["inputs"]), ns["target"])
    t2 = time.perf_counter()
    dot = make_dot(loss, params=dict(model.named_parameters()))
    t3 = time.perf_counter()
    svg = dot.pipe(format="svg")
    t4 = time.perf_counter()
    Path(out).write_bytes(svg)
    t5 = time.perf_counter()
    return {
        "load file": ms(t1 - t0),
        "forward": ms(t2 - t1),
        "make_dot": ms(t3 - t2),
        "dot -Tsvg": ms(t4 - t3),
        "total": ms(t5 - t0),
        "nodes": sum("->" not in line for line in dot.body),
    }


def torchviz_missing() -> str | None:
    """Why torchviz cannot run here, or None."""
    try:
        import graphviz  # noqa: F401
        import torchviz  # noqa: F401
    except ImportError:
        return "skipped: pip install torchviz (into this venv: .venv/bin/pip install torchviz)"
    if shutil.which("dot") is None:
        return "skipped: graphviz's 'dot' binary not found (apt-get install graphviz)"
    return None


# ---------------------------------------------------------------------------- helpers
def run_command(argv: list[str], env: dict) -> float:
    """Wall time of one subprocess, in ms; raises if it fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = ms(time.perf_counter() - start)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def svg_facts(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return (
        f"{path.stat().st_size / 1024:.0f} KiB, {text.count('<text')} <text> elements, "
        f"'fc.weight' {'present' if 'fc.weight' in text else 'ABSENT'}"
    )


def start_busy(n: int) -> list:
    """``n`` busy-loop processes (this script's children) standing in for other work on the
    machine: shows how much a figure depends on contention for the cores."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def stop_busy(procs: list) -> None:
    for proc in procs:
        proc.terminate()
        proc.wait()


def alternate(n: int, first, second) -> tuple[list, list]:
    """Run ``first`` and ``second`` ``n`` times each, swapping which goes first every round."""
    a, b = [], []
    for i in range(n):
        if i % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def verdict(ratio: float) -> str:
    return "PASS" if ratio <= 1.0 else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="in-process runs of each (median)")
    parser.add_argument("--command-repeats", type=int, default=5, help="whole-command runs of each")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch intra-op threads, in-process and (OMP_NUM_THREADS) in the "
        "commands (default: torch's default, as users get)",
    )
    parser.add_argument(
        "--busy", type=int, default=0, metavar="N", help="run N busy-loop processes meanwhile (simulated load)"
    )
    parser.add_argument(
        "--compile-each-run",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE in the commands' environment if set "
        "(without __pycache__, bpviz then compiles its modules in every run)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()
    busy = start_busy(args.busy)
    try:
        return run(args)
    finally:
        stop_busy(busy)


def run(args) -> int:
    """The measurements and the tables (see the module notes)."""

    skip = torchviz_missing()
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # as `bpviz export` does
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, {os.cpu_count()} "
        f"cores, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
        + (f"; {args.busy} busy-loop process(es) of this script running" if args.busy else "")
    )
    if skip:
        print(f"torchviz: {skip}")
    tmp = Path(tempfile.mkdtemp(prefix="bpviz-bench-export-"))
    scenario = tmp / "resnet18_like.py"
    scenario.write_text(RESNET_SCENARIO.format(benchmarks=str(HERE)), encoding="utf-8")
    tv_script = tmp / "torchviz_svg.py"
    tv_script.write_text(TORCHVIZ_SCRIPT, encoding="utf-8")
    out_b, out_t = tmp / "bpviz.svg", tmp / "torchviz.svg"
    results = []
    try:
        # ---- in-process: warm both (first trace, Qt and graphviz start-up), then alternate.
        bpviz_command_inprocess(str(scenario), str(out_b))
        if not skip:
            torchviz_parts(str(scenario), str(out_t))

        def run_b():
            start = time.perf_counter()
            bpviz_command_inprocess(str(scenario), str(out_b))
            return ms(time.perf_counter() - start)

        def run_t():
            return torchviz_parts(str(scenario), str(out_t))["total"] if not skip else float("nan")

        b_times, t_times = alternate(args.repeats, run_b, run_t)
        b_parts = [bpviz_parts(str(scenario), str(out_b)) for _ in range(args.repeats)]
        t_parts = [torchviz_parts(str(scenario), str(out_t)) for _ in range(args.repeats)] if not skip else []

        def med_parts(parts):
            return {k: statistics.median(p[k] for p in parts) for k in parts[0]}

        bp = med_parts(b_parts)
        print(f"\n== in-process, ResNet-18-like ({bp['nodes']:.0f} bpviz nodes), medians of {args.repeats}, ms")
        print("bpviz parts:    " + ", ".join(f"{k} {v:.0f}" for k, v in bp.items() if k != "nodes"))
        if t_parts:
            tp = med_parts(t_parts)
            print(
                "torchviz parts: "
                + ", ".join(f"{k} {v:.0f}" for k, v in tp.items() if k != "nodes")
                + f"  ({tp['nodes']:.0f} torchviz nodes)"
            )
        print(f"{'':34}{'median':>9}{'min':>9}{'max':>9}")
        print(f"{'bpviz export (cli.main)':34}{statistics.median(b_times):9.0f}{min(b_times):9.0f}{max(b_times):9.0f}")
        if not skip:
            print(
                f"{'torchviz make_dot + dot -Tsvg':34}{statistics.median(t_times):9.0f}"
                f"{min(t_times):9.0f}{max(t_times):9.0f}"
            )
            results.append(("in-process", statistics.median(b_times), statistics.median(t_times)))

        # ---- whole commands.
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        if not args.compile_each_run:
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module notes: as installed
        if not env.get("PYTHONDONTWRITEBYTECODE"):
            bytecode = "cached, as installed"
        elif (ROOT / "bpviz" / "__pycache__").is_dir():
            bytecode = "from bpviz/__pycache__ (PYTHONDONTWRITEBYTECODE set, but an earlier run wrote it)"
        else:
            bytecode = "compiled in every run (PYTHONDONTWRITEBYTECODE, no bpviz/__pycache__)"
        py = sys.executable
        bpviz_cmd = [py, "-m", "bpviz", "export", str(scenario), "-o", str(out_b)]
        tv_cmd = [py, str(tv_script), str(scenario), str(out_t)]
        floor_cmd = [py, "-c", "import torch"]
        run_command(bpviz_cmd, env)  # page cache, .pyc files
        if not skip:
            run_command(tv_cmd, env)
        cb, ct = alternate(
            args.command_repeats,
            lambda: run_command(bpviz_cmd, env),
            (lambda: run_command(tv_cmd, env)) if not skip else (lambda: float("nan")),
        )
        floor = [run_command(floor_cmd, env) for _ in range(max(3, args.command_repeats // 2))]
        print(f"\n== whole commands, subprocess wall time, medians of {args.command_repeats}, ms; bytecode {bytecode}")
        print(f"{'':44}{'median':>9}{'min':>9}{'max':>9}")
        print(f"{'python -m bpviz export FILE -o x.svg':44}{statistics.median(cb):9.0f}{min(cb):9.0f}{max(cb):9.0f}")
        if not skip:
            print(f"{'python torchviz_svg.py FILE x.svg':44}{statistics.median(ct):9.0f}{min(ct):9.0f}{max(ct):9.0f}")
            results.append(("whole command", statistics.median(cb), statistics.median(ct)))
        floor_label = 'python -c "import torch" (floor)'
        print(f"{floor_label:44}{statistics.median(floor):9.0f}{min(floor):9.0f}{max(floor):9.0f}")

        print(f"\nbpviz SVG:    {svg_facts(out_b)}")
        if not skip:
            print(f"torchviz SVG: {svg_facts(out_t)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if skip:
        print(f"\ntarget not checked: {skip}")
        return 0
    print(
        f"\n== summary (load average now {' '.join(f'{v:.2f}' for v in os.getloadavg())}); "
        "target: bpviz <= torchviz + dot"
    )
    print(f"{'measure':16}{'bpviz ms':>10}{'torchviz ms':>13}{'ratio':>8}  result")
    for name, b, t in results:
        print(f"{name:16}{b:10.0f}{t:13.0f}{b / t:8.2f}  {verdict(b / t)}")
    missed = any(b > t for _, b, t in results)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
