"""`bpviz train`: run optimisation steps headless and write per-step loss and gradient statistics.

    bpviz train FILE|lesson:NAME --steps N [--optimizer sgd|adam] [--lr X] [--momentum X]
        [--clip X] [--no-zero-grad] [--dataset NAME|CSV] [--seed N] [--batch N]
        [--loss mse|cross_entropy|bce] [--json OUT] [--csv OUT] [--plot OUT.png|OUT.svg]

``--json`` schema (``"schema": "bpviz.train/1"``; NaN and Inf are written as null)::

    {"schema", "scenario", "title",
     "config": {TrainConfig fields, plus "lr" resolved and "loss" as used},
     "steps": [{"step", "loss", "val_loss", "total_norm", "pre_clip_norm", "clipped",
                "params": {name: {"norm", "mean_abs", "max_abs", "pre_clip_norm"}},
                "diagnostics": [{"kind", "node", "message", "detail"?}]}],
     "stopped": null | {"step", "message", "node", "step_result": {one "steps" entry}},
     "final_params": {name: nested lists of values}}

``step`` counts from 0 and ``loss`` is the loss before that step's update. Gradient statistics
describe the gradient the optimiser used (after clipping; ``pre_clip_norm`` before it).

``--csv``: one row per step and parameter, columns :data:`CSV_COLUMNS`; a parameter that got
no gradient has empty statistics and ``none_grad`` in ``diagnostics``.

A run that hits a NaN/Inf (or whose forward pass fails mid-run) still writes what it collected
to --json/--csv/--plot, prints the message to stderr and returns 2; bad settings or data raise
BpvizError before any step runs (the dispatcher prints it and exits 2).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from bpviz.core.atomic import write_text
from bpviz.core.errors import BpvizError
from bpviz.core.scenario import load_scenario
from bpviz.core.training import LOSSES, OPTIMIZERS, StepResult, TrainConfig, Trainer, TrainingError

SCHEMA = "bpviz.train/1"
CSV_COLUMNS = (
    "step",
    "loss",
    "val_loss",
    "total_norm",
    "pre_clip_norm",
    "param",
    "norm",
    "mean_abs",
    "max_abs",
    "param_pre_clip_norm",
    "diagnostics",
)
PROGRESS_LINES = 10


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `train` subcommand."""
    p = subparsers.add_parser(
        "train",
        help="run SGD/Adam steps and write per-step loss and gradient statistics",
        description="Train a scenario headless: print a progress table and write the loss and each "
        "parameter's gradient norm, mean |grad| and max |grad| per step.",
    )
    p.add_argument("scenario", metavar="FILE|lesson:NAME", help="scenario file or built-in lesson")
    p.add_argument("--steps", type=_whole, required=True, metavar="N", help="number of optimisation steps")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default: sgd")
    p.add_argument("--lr", type=_number, metavar="X", help="learning rate (default: the scenario's lr)")
    p.add_argument("--momentum", type=_number, default=0.0, metavar="X", help="SGD momentum in [0, 1)")
    p.add_argument("--clip", type=_number, metavar="X", help="clip the total gradient norm to X")
    p.add_argument(
        "--no-zero-grad",
        action="store_true",
        help="do not zero the gradients between steps: they accumulate (the classic bug)",
    )
    p.add_argument(
        "--dataset",
        metavar="NAME|CSV",
        help="line, sine, xor, circles, two_moons, spirals, or a CSV file (last column = "
        "target); default: the scenario's own inputs and target",
    )
    p.add_argument(
        "--seed", type=_whole, default=0, metavar="N", help="seed of the dataset and batch order (default 0)"
    )
    p.add_argument("--batch", type=_whole, metavar="N", help="batch size for a dataset (default: all rows)")
    p.add_argument("--loss", choices=LOSSES, help="default: the scenario's loss, or one fitting the dataset")
    p.add_argument("--json", metavar="OUT", help="write per-step statistics as JSON")
    p.add_argument("--csv", metavar="OUT", help="write one row per step and parameter as CSV")
    p.add_argument("--plot", metavar="OUT.png|OUT.svg", help="write the loss and gradient-norm plots")
    p.add_argument(
        "--every",
        type=_whole,
        metavar="K",
        help=f"print a progress line every K steps (default: about {PROGRESS_LINES} lines)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; returns the exit code (2 when a NaN/Inf stopped the run)."""
    for path in (args.json, args.csv):
        if path:
            _check_writable(path)
    if args.plot:
        from bpviz.gui.plot_export import check_plot_path  # Qt itself is imported only to draw

        check_plot_path(args.plot)
    config = TrainConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        batch_size=args.batch,
        steps=args.steps,
        clip_norm=args.clip,
        zero_grad=not args.no_zero_grad,
        seed=args.seed,
        loss=args.loss,
        dataset=args.dataset,
    )
    if args.every is not None and args.every < 1:
        raise BpvizError(f"--every must be at least 1, got {args.every}.")
    scenario = load_scenario(args.scenario)
    trainer = Trainer(scenario, config)
    try:
        for note in _notes(args):
            print(f"note: {note}", file=sys.stderr)
        every = args.every or max(1, config.steps // PROGRESS_LINES)
        results: list[StepResult] = []
        stopped: TrainingError | InterruptedRunError | None = None
        print(
            f"Training '{scenario.title}': {config.optimizer}, lr {trainer.lr:g}, loss {trainer.problem.loss_name}"
            f"{', dataset ' + trainer.problem.dataset.name if trainer.problem.dataset else ''}, {config.steps} steps"
        )
        print(f"{'step':>7}  {'loss':>12}  {'val_loss':>12}  {'grad norm':>11}  diagnostics")
        interrupted = False
        try:
            for result in trainer.run():
                results.append(result)
                if result.step % every == 0 or result.step == config.steps - 1:
                    print(_row(result))
        except TrainingError as exc:  # TrainingStopped (NaN/Inf) or a forward that fails mid-run
            stopped = exc
            failed = getattr(exc, "result", None)  # TrainingStopped's failed step
            if failed is not None:
                print(_row(failed))
        except KeyboardInterrupt:  # Ctrl-C: the steps done so far are worth their files
            interrupted = True
            stopped = InterruptedRunError(len(results))
        _write_outputs(args, scenario, trainer, results, stopped)
        if interrupted:
            written = [f for f in (args.json, args.csv, args.plot) if f]
            kept = f"; {', '.join(written)} hold them" if written else ""
            print(f"bpviz: {stopped}{kept}.", file=sys.stderr)
            return 130
        if stopped is not None:
            print(f"bpviz: error: {stopped}", file=sys.stderr)
            return 2
        print(_summary(trainer))
        return 0
    finally:
        trainer.close()


class InterruptedRunError(Exception):
    """Ctrl-C during the run: ``step`` steps were done (the JSON output's ``stopped``)."""

    def __init__(self, step: int):
        super().__init__(f"interrupted (Ctrl-C) after {step} steps")
        self.step = step


def _notes(args: argparse.Namespace) -> list[str]:
    notes = []
    if args.optimizer == "adam" and args.momentum:
        notes.append("--momentum applies to sgd; Adam uses its own moment estimates, so it is ignored.")
    if args.batch is not None and not args.dataset:
        notes.append("--batch applies with --dataset; the scenario's own inputs are one batch.")
    return notes


def _fmt(value: float | None, width: int) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}.6g}" if math.isfinite(value) else f"{value!s:>{width}}"


def _row(r: StepResult) -> str:
    kinds: dict[str, int] = {}
    for d in r.diagnostics:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    diag = ", ".join(f"{n} {k}" if n > 1 else k for k, n in kinds.items()) or "-"
    return f"{r.step:>7}  {_fmt(r.loss, 12)}  {_fmt(r.val_loss, 12)}  {_fmt(r.total_norm, 11)}  {diag}"


def _summary(trainer: Trainer) -> str:
    values = trainer.param_values()
    small = [(n, v) for n, v in values.items() if v.numel() <= 4]
    if not small or len(small) != len(values):
        return f"Done: {trainer.step_index} steps."
    shown = ", ".join(f"{n} = {_short(v.tolist())}" for n, v in small)
    return f"Done: {trainer.step_index} steps; {shown}."


def _short(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return f"{value:.4g}"


def _check_writable(path: str) -> None:
    out = Path(path)
    if out.is_dir():
        raise BpvizError(f"'{out}' is a folder; give a file name to write.")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BpvizError(f"The folder '{parent}' does not exist; create it or choose another path.")


def _clean(value):
    """JSON has no NaN/Inf: write them as null (nested lists of parameter values included)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _write_outputs(args, scenario, trainer: Trainer, results: list[StepResult], stopped) -> None:
    try:
        if args.json:
            _write_json(args.json, args, scenario, trainer, results, stopped)
        if args.csv:
            _write_csv(args.csv, trainer, results)
    except OSError as exc:
        raise BpvizError(
            f"Cannot write the output ({exc.strerror}: '{exc.filename}'); choose a writable path."
        ) from exc
    if args.plot:
        from bpviz.gui.plot_export import export_training_plot

        steps = [r.step for r in results]
        norms: dict[str, Sequence[float | None]] = {
            n: [r.params[n].norm if n in r.params else None for r in results] for n in trainer.names
        }
        export_training_plot(
            args.plot, steps, [r.loss for r in results], [r.val_loss for r in results], norms, scenario.title
        )


def _write_json(path, args, scenario, trainer: Trainer, results, stopped) -> None:
    config = trainer.config.to_json()
    config.update(lr=trainer.lr, loss=trainer.problem.loss_name)
    doc = {
        "schema": SCHEMA,
        "scenario": args.scenario,
        "title": scenario.title,
        "config": config,
        "steps": [r.to_json() for r in results],
        "stopped": None,
        "final_params": {n: v.tolist() for n, v in trainer.param_values().items()},
    }
    if stopped is not None:
        result = getattr(stopped, "result", None)
        culprit = getattr(stopped, "culprit", None)
        doc["stopped"] = {
            "step": getattr(stopped, "step", trainer.step_index),
            "message": str(stopped),
            "node": culprit.node if culprit else None,
            "step_result": result.to_json() if result is not None else None,
        }
    write_text(path, json.dumps(_clean(doc), indent=1, allow_nan=False))


def _write_csv(path, trainer: Trainer, results) -> None:
    def cell(value):
        return "" if value is None or not math.isfinite(value) else repr(value)

    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for r in results:
        by_node: dict[str, list[str]] = {}
        for d in r.diagnostics:
            by_node.setdefault(d.node or "", []).append(d.kind)
        head = [r.step, cell(r.loss), cell(r.val_loss), cell(r.total_norm), cell(r.pre_clip_norm)]
        for name in trainer.names:
            s = r.params.get(name)
            stats = [cell(s.norm), cell(s.mean_abs), cell(s.max_abs), cell(s.pre_clip_norm)] if s else [""] * 4
            writer.writerow([*head, name, *stats, ";".join(by_node.get(name, []))])
    write_text(path, text.getvalue())
