"""`bpviz export`: render the graph at one step to PNG, SVG or PDF, headless, with the app's renderer.

bpviz export lesson:chain56 -o chain.png --step backward --scale 2 --theme dark
"""

from __future__ import annotations

import argparse
import atexit
import gc
import math
import os
import sys

from bpviz.commands.process_end import end_process, is_command_process, user_namespaces
from bpviz.core.errors import BpvizError
from bpviz.core.step_names import STEP_NAMES, step_position

# Outputs that are animations (kept here: the parser must not import Qt).
ANIMATED = (".gif", ".webp", ".apng", ".mp4")
# Most --fps and --frames-per-step: a GIF's frame delay is counted in 1/100 s, and more frames per
# step than a hundred only fill memory (every frame is an image held until the file is encoded).
MAX_ANIMATION_NUMBER = 100


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `export` subcommand."""
    p = subparsers.add_parser(
        "export",
        help="render the graph at one step to PNG, SVG or PDF (no display needed)",
        description="Render the whole graph at one step of the forward/backward pass, with a "
        "legend, to PNG, SVG or PDF. Works without a display.",
    )
    p.add_argument("scenario", metavar="FILE|lesson:NAME", help="scenario file or built-in lesson")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file: .png, .svg or .pdf")
    p.add_argument(
        "--step",
        default="end",
        metavar="N|" + "|".join(STEP_NAMES),
        help="step number, or start, forward (last forward step), loss, backward (last "
        "backward step), update/end (default: end)",
    )
    p.add_argument("--scale", type=float, default=None, help="PNG pixels per scene pixel (default 2; 1 for animations)")
    p.add_argument("--theme", choices=("light", "dark"), default="light", help="colour theme")
    p.add_argument(
        "--collapse",
        metavar="layers|ops|DEPTH",
        help="level of detail: one box per layer, every op, or nn.Module groups folded at a "
        "depth (default: layers for module networks, ops otherwise, as in the app)",
    )
    p.add_argument("--hide-shape-ops", action="store_true", help="hide view/reshape/transpose ops")
    anim = p.add_argument_group("animation (-o pass.gif|.mp4|.webp|.apng, or .png with --animate for frames)")
    anim.add_argument("--animate", action="store_true", help="write the steps as an animation")
    anim.add_argument("--fps", type=int, default=8, help="frames per second (default 8)")
    anim.add_argument("--frames-per-step", type=int, default=8, help="frames for each step (default 8)")
    anim.add_argument("--from", dest="from_step", metavar="STEP", help="first step (default: start)")
    anim.add_argument("--to", dest="to_step", metavar="STEP", help="last step (default: end)")
    anim.add_argument("--size", metavar="WxH", help="fit every frame into this many pixels")
    p.set_defaults(run=run)


def _ensure_platform() -> None:
    """Headless machines have no display: use Qt's offscreen platform (before any QApplication)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse numeric options out of range in one sentence each, before any work (an infinite
    --scale once ended in "cannot convert float NaN to integer", a huge --size ran for ever)."""
    if args.scale is not None and not 0 < args.scale < math.inf:
        raise BpvizError(
            f"--scale must be a positive number of image pixels per scene pixel (finite, e.g. 2), got {args.scale}."
        )
    for option, value in (("--fps", args.fps), ("--frames-per-step", args.frames_per_step)):
        if not 1 <= value <= MAX_ANIMATION_NUMBER:
            raise BpvizError(f"{option} must be a whole number from 1 to {MAX_ANIMATION_NUMBER}, got {value}.")
    if args.size is not None:
        _parse_size(args.size)


def _parse_size(size: str) -> tuple[int, int]:
    """--size WxH as two whole numbers of pixels within the animation frame limits."""
    from bpviz.gui.animation import MAX_FRAME_SIDE

    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise BpvizError(f"--size must look like 800x600, got '{size}'.") from None
    if not (16 <= w <= MAX_FRAME_SIDE and 16 <= h <= MAX_FRAME_SIDE):
        raise BpvizError(f"--size {size} is out of range; give each side from 16 to {MAX_FRAME_SIDE} pixels.")
    return w, h


def _view_graph(trace, collapse: str | None, hide_shape_ops: bool):
    from bpviz.core import views

    level: int | str | None
    if collapse is None:
        level = views.default_level(trace.graph)
    else:
        try:
            level = views.parse_level(collapse)
        except ValueError as exc:
            raise BpvizError(f"--collapse: {exc}.") from None
    graph = trace.graph
    if hide_shape_ops:
        graph = views.hide_shape_ops(graph)
    if level is not None:
        graph = views.collapse_modules(graph, level, trace.module_titles)
    return graph


def run(args: argparse.Namespace) -> int:
    """Trace the scenario, apply the chosen step, and write the image; 0 on success."""
    out = str(args.output)
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".svg", ".pdf", *ANIMATED):
        raise BpvizError(
            f"Cannot export to '{out}'; the output must end in .png, .svg or .pdf "
            "(or .gif, .mp4, .webp, .apng for an animation)."
        )
    if args.animate and ext not in (".png", *ANIMATED):
        raise BpvizError(f"Cannot animate to '{out}'; use .gif, .mp4, .webp, .apng, or .png for frames.")
    _check_numbers(args)
    # A one-shot command: the cyclic garbage collector would only walk the ~200,000 objects that
    # importing torch, networkx and Qt creates, again and again (about 400 collections, a quarter
    # of a second here); reference counting still frees everything else.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    command = is_command_process()
    if command:
        # The process ends right after this command. On success end_process skips the teardown;
        # after an error the normal exit's collections would walk every object once more (~0.3 s
        # with torch loaded), and frozen objects are skipped (and freed by the OS). Only in the
        # `bpviz` process itself, never in a caller of cli.main.
        atexit.register(gc.freeze)
    try:
        import torch

        # bpviz's torch work is small reductions: a second intra-op thread gains nothing, and on
        # a busy machine each parallel op waits for it (BENCHMARKS.md). Restored afterwards, for
        # callers of cli.main in a longer-lived process.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        loaded = set(sys.modules)
        try:
            code, namespace = _export(args, out, ext)
        finally:
            torch.set_num_threads(threads)
        if command:
            # With the collector still off: no collection on the way out.
            end_process(code, user_namespaces(namespace, sys.modules.keys() - loaded))
        return code
    finally:
        if gc_was_enabled:
            gc.enable()


def _export(args: argparse.Namespace, out: str, ext: str) -> tuple[int, dict]:
    """Write the image; the exit code and the scenario's namespace (see end_process)."""
    from bpviz.core.draw_limit import drawing_refusal
    from bpviz.core.scenario import load_scenario
    from bpviz.core.stepper import StepSequence
    from bpviz.core.trace import trace_scenario

    scenario = load_scenario(args.scenario)
    trace = trace_scenario(scenario)
    graph = _view_graph(trace, args.collapse, args.hide_shape_ops)
    # Before any step or drawing work: a graph past the limit is refused at once.
    refusal = drawing_refusal(graph.number_of_nodes(), args.scenario)
    if refusal is not None:
        raise BpvizError(refusal)
    sequence = StepSequence(trace)
    position = step_position(sequence, args.step)

    _ensure_platform()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bpviz-export"])
    from bpviz.gui.export import export_scene, offscreen_scene
    from bpviz.gui.theme import theme_by_name

    scene, show = offscreen_scene(trace, graph, sequence, theme_by_name(args.theme))
    if args.animate or ext in ANIMATED:
        return _animate(args, scene, show, sequence, out), scenario.namespace
    scale = args.scale if args.scale is not None else 2.0
    state = show(position)
    result = export_scene(scene, out, scale)
    app.processEvents()
    unit = "pt" if ext == ".pdf" else "px"
    print(
        f"wrote {result.path} ({result.width}×{result.height} {unit}, {state.phase} step {position} of {sequence.last})"
    )
    if ext == ".png" and result.scale < scale * 0.999:
        print(
            f"note: the scale was reduced to {result.scale:.2g} to keep the image under the raster "
            "size limit; use .svg or .pdf for full detail",
            file=sys.stderr,
        )
    return 0, scenario.namespace


def _animate(args: argparse.Namespace, scene, show, sequence, out: str) -> int:
    """Write the steps --from..--to as an animation (or numbered PNG frames)."""
    from bpviz.gui.animation import MAX_FRAME_SIDE, render_frames, step_positions, write_animation

    first = step_position(sequence, args.from_step) if args.from_step is not None else 0
    last = step_position(sequence, args.to_step) if args.to_step is not None else sequence.last
    positions = step_positions(sequence, first, last)
    scale = args.scale if args.scale is not None else 1.0
    if args.size:
        scale = _fit_size(args.size, scene, show, positions)
    frames = render_frames(scene, show, positions, args.frames_per_step, scale)
    if frames.scale < scale * 0.999:
        print(
            f"note: the scale was reduced to {frames.scale:.2g} to keep each frame within "
            f"{MAX_FRAME_SIDE} pixels a side",
            file=sys.stderr,
        )
    written = write_animation(frames, out, args.fps)
    image = frames.images[0]
    what = f"{len(written)} frames" if len(written) > 1 else f"{len(frames.images)} frames"
    print(
        f"wrote {written[0] if len(written) == 1 else written[0].parent} ({image.width()}×{image.height()} px, "
        f"{what}, steps {positions[0]} to {positions[-1]} at {args.fps} fps)"
    )
    return 0


def _fit_size(size: str, scene, show, positions: list[int]) -> float:
    """The scale that fits every frame into --size WxH."""
    from bpviz.gui.export import source_rect

    w, h = _parse_size(size)
    widest = tallest = 1.0
    for position in positions:
        show(position)
        rect = source_rect(scene)
        widest, tallest = max(widest, rect.width()), max(tallest, rect.height())
    return min(w / widest, h / tallest)
