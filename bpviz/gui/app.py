"""Starting the desktop app: ``bpviz [FILE|lesson:NAME]`` and ``bpviz.show(model, x, ...)``.

The window shows first; torch loads and the first trace runs afterwards, on a worker thread, so
the window appears quickly and stays responsive. ``--smoke-test`` and ``--screenshot`` run the
same path and quit once the first trace is drawn (CI and the README screenshot use them).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager, suppress
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from bpviz.core.errors import BpvizError
from bpviz.gui.window_support import APP_NAME, ORG_NAME, app_icon

# How long --smoke-test / --screenshot wait for the first trace before failing: generous, since
# a cold CI machine loads torch from disk first.
HEADLESS_TIMEOUT_MS = 90_000
# After the trace is drawn: time for the view to fit and paint before the screenshot.
SETTLE_MS = 400


def _one_torch_thread() -> None:
    """Give torch one intra-op thread in the app process.

    bpviz's torch work (tracing a lesson, tensor statistics, small training runs) is made of
    small ops: a second OpenMP thread gains nothing on them, and on a busy machine every parallel
    op waits for it (BENCHMARKS.md: opening the ResNet-18-like graph 0.35 s with one thread vs
    3 s with two at load 2.3). torch is not imported yet when the window opens, so this sets
    OMP_NUM_THREADS for it, unless the user chose a number.
    """
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    else:
        os.environ.setdefault("OMP_NUM_THREADS", "1")


@contextmanager
def _torch_threads(n: int):
    """torch with ``n`` intra-op threads inside the block, the caller's number afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def require_display() -> None:
    """Refuse to make the QApplication on Linux with no display to show it on (raises BpvizError): Qt
    would abort the process with its platform-plugin error when the QApplication is made.
    QT_QPA_PLATFORM (offscreen in tests and CI) means the user chose a platform themselves."""
    if not sys.platform.startswith("linux"):
        return
    if any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM")):
        return
    raise BpvizError(
        "There is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); run bpviz "
        "in a desktop session, set DISPLAY, start it under xvfb-run, or use a subcommand such as "
        "`bpviz trace FILE`."
    )


def application() -> QApplication:
    """The running QApplication (left as its owner set it up), or a new one named for QSettings
    and with the bpviz icon."""
    running = QApplication.instance()
    if isinstance(running, QApplication):
        return running
    require_display()
    app = QApplication(sys.argv[:1] or ["bpviz"])
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("bpviz")
    app.setDesktopFileName("io.github.bpviz.bpviz")
    app.setWindowIcon(app_icon())
    return app


def run_app(args) -> int:
    """Open the main window on ``args.scenario`` (default lesson) and run the event loop.

    With ``args.smoke_test``: quit with 0 once the first trace is drawn, 1 if it fails or takes
    too long. With ``args.screenshot``: save the window to that PNG once drawn, then quit.
    ``args.step`` (a number or a phase name) jumps there after the first trace.
    """
    _one_torch_thread()
    app = application()
    from bpviz.core.sources import source_from_spec
    from bpviz.gui.main_window import DEFAULT_SPEC, MainWindow

    source = source_from_spec(getattr(args, "scenario", None) or DEFAULT_SPEC)
    smoke = bool(getattr(args, "smoke_test", False))
    shot = getattr(args, "screenshot", None)
    step = getattr(args, "step", None)
    window = MainWindow()
    document = window.document
    window.debug = bool(getattr(args, "debug", False))
    headless = smoke or bool(shot)
    window.show_dialogs = not headless
    result = {"code": 0}

    def fail(message: str) -> None:
        print(f"bpviz: error: {message}", file=sys.stderr)
        result["code"] = 1
        app.exit(1)

    def on_first_trace() -> None:
        document.opened.disconnect(on_first_trace)
        # torch, Qt and the first graph are loaded: ~280,000 objects (2,000-node graph) that
        # live as long as the app. Frozen, every later full collection skips them (150-1,300 ms
        # each otherwise, a visible stall in a step), and so does the shutdown. Objects made from
        # now on (later graphs, training) are collected as usual; only the first graph's items,
        # if dropped while part of a reference cycle, would stay in memory (GraphScene breaks
        # its own item cycles when it replaces them). Not in show(): the caller's process is
        # the user's, and so are its objects.
        gc.freeze()
        if step is not None:
            from bpviz.core.errors import BpvizError

            try:
                document.go_to(step)
            except BpvizError as exc:
                fail(str(exc)) if headless else document.warn("Unknown step", str(exc))
                return
        if headless:
            QTimer.singleShot(SETTLE_MS, finish)

    def finish() -> None:
        window.canvas.show_initial_view()
        image = window.view.viewport().grab().toImage() if window.view is not None else None
        if image is None or image.isNull() or _uniform(image):
            fail("the graph was not drawn")
            return
        if shot:
            if not window.grab().save(str(shot), "PNG"):
                fail(f"cannot write the screenshot to {shot}")
                return
            # The same words as `bpviz export`, so a script can tell which step it shows.
            position, sequence = document.steps.position, document.sequence
            phase = sequence.steps[position].phase
            print(f"wrote {shot} ({window.width()}×{window.height()} px, {phase} step {position} of {sequence.last})")
        app.exit(0)

    document.opened.connect(on_first_trace)
    if headless:
        document.openFailed.connect(lambda message, _details: fail(message))
        # Screenshots show the settled step, not a token caught halfway along an edge.
        window.menus.animate.setChecked(False)
        QTimer.singleShot(HEADLESS_TIMEOUT_MS, lambda: fail("timed out waiting for the first trace"))
    window.show()
    spec_text = str(getattr(args, "scenario", "") or "")
    if not headless and spec_text.lower().endswith(".bpviz"):
        # A network opens into the editor (Step traces it); headless runs trace it at once.
        QTimer.singleShot(0, lambda: window.menus.open_path(spec_text))
    else:
        # Named on the command line: the user asked for this file to run, so no question is asked.
        QTimer.singleShot(0, lambda: document.open(source, trusted=True))
    code = app.exec()
    code = result["code"] or code
    # Saved now: the process may end without the teardown that would save them (here or in
    # cli.main, when a scenario left a thread running).
    window.settings.sync()
    if not document.runner.wait() or not window.training.stopped():
        # A scenario's code is stuck in a call Python cannot interrupt (the window said so): the
        # interpreter's teardown would wait for it or abort when it wakes (Qt's "QThread:
        # Destroyed while thread is still running", torch's C++ unwinding). Settings are saved;
        # end the process here.
        end_now(code, window.settings)
    return code


def end_now(code: int, settings) -> None:
    """Save ``settings``, flush stdout and stderr, and end the process with ``code`` at once,
    without the interpreter's teardown (a thread stuck in user code would abort or hang it)."""
    settings.sync()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with suppress(OSError, ValueError):
                stream.flush()
    os._exit(code)


def _uniform(image) -> bool:
    """True when a sample grid of pixels is all one colour (nothing but background drawn)."""
    w, h = image.width(), image.height()
    first = image.pixel(0, 0)
    return all(image.pixel(x * (w - 1) // 15, y * (h - 1) // 15) == first for x in range(16) for y in range(16))


def show(
    model_or_closure: Any, inputs: Any = None, target: Any = None, loss_fn: Callable | None = None, title: str = ""
) -> int:
    """Trace a user's model (or zero-argument loss closure) and open the window on it; blocks
    until the window closes, like ``plt.show()``. Reuses a running QApplication if there is one.

    Tracing errors raise :class:`bpviz.core.errors.BpvizError` in the caller, before any window
    opens, so a script gets the same message ``bpviz.trace`` would give.
    """
    # One torch thread while bpviz runs (see _one_torch_thread); the caller's setting is back
    # when the window closes.
    with _torch_threads(1):
        trace, scenario = _trace_user_model(model_or_closure, inputs, target, loss_fn, title)
        _check_drawable(trace)
        application()
        from bpviz.core.sources import ScenarioSource
        from bpviz.core.stepper import StepSequence
        from bpviz.gui import ui_thread_gc
        from bpviz.gui.main_window import MainWindow

        # The caller's script gets its own garbage collection back once the window is closed
        # and its workers are stopped (unless another bpviz window still runs).
        with ui_thread_gc.installed():
            window = MainWindow()
            document = window.document
            document.title_override = title
            # A model scenario is a source like any other: the training panel trains a copy of
            # it (the caller's model keeps its weights); a closure is shown but not trained.
            source = ScenarioSource(scenario) if scenario is not None else None
            document.show_loaded(source, scenario, trace, StepSequence(trace))
            loop = QEventLoop()
            window.closed.connect(loop.quit)
            window.show()
            window.activateWindow()
            loop.exec()
            document.runner.wait()
            window.deleteLater()
    return 0


def _check_drawable(trace) -> None:
    """Raise BpvizError, before any window opens, when the graph as the window would first
    draw it has more boxes than bpviz draws (see bpviz.core.draw_limit)."""
    from bpviz.core.draw_limit import drawing_refusal
    from bpviz.core.errors import BpvizError
    from bpviz.core.views import default_level, drawn_graph

    refusal = drawing_refusal(drawn_graph(trace, collapse=default_level(trace.graph)).number_of_nodes())
    if refusal is not None:
        raise BpvizError(refusal)


def _trace_user_model(model_or_closure, inputs, target, loss_fn, title):
    """``bpviz.trace`` with tensor names taken from the user's own frame (the first frame outside
    bpviz), which the core's lookup, two frames up, cannot reach through show(). Returns the trace
    and the model scenario (None for a closure)."""
    import torch

    from bpviz.core.scenario import scenario_from_model
    from bpviz.core.trace import trace, trace_scenario

    if inputs is None:  # a closure (names come from its own variables), or a missing input
        return trace(model_or_closure, inputs, target, loss_fn, title=title), None
    scenario = scenario_from_model(model_or_closure, inputs, target, loss_fn, title)
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("bpviz"):
        frame = frame.f_back
    if frame is not None:
        names = {**frame.f_globals, **frame.f_locals}
        # A plain function's own variables (what it closes over) win over the caller's.
        scenario.namespace = {k: v for k, v in names.items() if isinstance(v, torch.Tensor)} | scenario.namespace
    return trace_scenario(scenario), scenario
