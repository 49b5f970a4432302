"""The main window: launch, lessons, broken files, menus, export, theme, the app entry points."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from bpviz.core.scenario import lesson_names
from tests.gui.helpers import TRACE_TIMEOUT_MS, node_texts, open_and_wait


def test_launch_draws_the_default_lesson_fitted(open_window):
    window = open_window()
    assert window.document.source.label == "lesson:chain56"
    assert window.windowTitle().startswith("x → x² → +3 → ² at x = 2")
    names = {window.trace.node(n)["name"] for n in window.scene.node_ids()}
    assert {"x", "y", "z", "loss"} <= names
    assert window.view.isVisible() and window.centralWidget().isVisible()
    assert window.step_bar.phase_label.text() == "Start"
    assert node_texts(window, "x")[3] == "2"  # x's value, shown from the start
    # Fitted: the whole graph is inside the viewport, and nothing is left to scroll to (a plain
    # fitInView overflowed by 5 px here once the view had settled, and kept a scroll bar).
    QApplication.processEvents()
    window.canvas.fit()  # as Ctrl+0 does, the window having settled
    QApplication.processEvents()
    shown = window.view.mapFromScene(window.scene.content_rect()).boundingRect()
    assert window.view.viewport().rect().adjusted(-2, -2, 2, 2).contains(shown)
    for bar in (window.view.verticalScrollBar(), window.view.horizontalScrollBar()):
        assert bar.maximum() == bar.minimum()


def test_window_shows_a_trace_without_a_worker(qtbot):
    import bpviz
    from bpviz.core.stepper import StepSequence
    from bpviz.gui.main_window import MainWindow

    trace = bpviz.trace(lambda: (torch_tensor() ** 2).sum())
    window = MainWindow()
    qtbot.addWidget(window)
    window.document.title_override = "my model"
    window.document.show_loaded(None, None, trace, StepSequence(trace))
    assert window.trace is trace and window.scene is not None
    assert window.windowTitle() == "my model — bpviz"
    assert window.controller.sequence.last > 0


def torch_tensor():
    import torch

    return torch.tensor([1.0, 2.0], requires_grad=True)


def test_every_lesson_opens_from_the_lessons_menu(qtbot, open_window):
    window = open_window()
    menu = window.menus.lessons
    menu.aboutToShow.emit()
    actions = {a.text().split()[0]: a for a in menu.actions()}
    assert list(actions) == lesson_names()  # in teaching order
    assert lesson_names()[:3] == ["square", "square_plus_linear", "chain56"]
    assert not any("= 56" in a.text() or "-9" in a.text() for a in actions.values())  # no answers
    assert all(" — " in a.text() or "—" in a.text() for a in actions.values())  # with summaries
    for name in lesson_names():
        with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
            actions[name].trigger()
        assert window.document.source.label == f"lesson:{name}"
        assert window.trace.title in window.windowTitle()
        assert len(window.scene.node_ids()) == window.document.view_graph.number_of_nodes()
        assert window.controller.position == 0
        window.controller.to_end()
        assert window.step_bar.phase_label.text() == "Update"


def _broken(tmp_path, name: str, source: str) -> str:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "name, source, expected",
    [
        ("syntax.py", "import torch\nx = torch.tensor(2.0, requires_grad=True\n", "syntax error"),
        (
            "vector_loss.py",
            "import torch\nx = torch.ones(3, requires_grad=True)\n\ndef loss():\n    return x * 2\n",
            "not a scalar",
        ),
        ("missing.py", None, "No scenario file"),
    ],
)
def test_a_broken_file_shows_the_message_and_keeps_the_graph(
    qtbot, open_window, dialogs, tmp_path, name, source, expected
):
    window = open_window()
    window.document.go_to("backward")
    before_nodes = sorted(window.scene.node_ids())
    before_title = window.windowTitle()
    position = window.controller.position
    path = _broken(tmp_path, name, source) if source is not None else str(tmp_path / name)
    with qtbot.waitSignal(window.document.openFailed, timeout=TRACE_TIMEOUT_MS) as blocker:
        window.document.open_spec(path)
    assert len(dialogs) == 1
    _title, text = dialogs[0]
    assert expected in text and text == blocker.args[0]
    assert "\n" not in text  # the core's one-line message
    assert "Traceback" not in text
    assert sorted(window.scene.node_ids()) == before_nodes
    assert window.windowTitle() == before_title
    assert window.controller.position == position
    assert window.document.source.label == "lesson:chain56"
    assert window.settings.recent_files() == []


def test_slow_trace_runs_off_the_ui_thread_with_a_busy_indication(qtbot, open_window, tmp_path):
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    window = open_window()
    slow = _broken(
        tmp_path,
        "slow.py",
        "import time\nimport torch\nw = torch.tensor(3.0, requires_grad=True)\n\n"
        "def loss():\n    time.sleep(0.8)\n    return w * w\n",
    )
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    window.document.open_spec(slow)
    qtbot.waitUntil(window.busy_bar.isVisible, timeout=5000)
    assert QGuiApplication.overrideCursor() is not None
    assert "Opening slow.py" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        pass
    timer.stop()
    assert not window.busy_bar.isVisible() and QGuiApplication.overrideCursor() is None
    # The event loop kept running while the scenario slept for 0.8 s on the worker.
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20 and max(gaps) < 0.25
    assert window.document.source.label == slow


def test_opened_files_go_to_recent_files_in_memory_only(qtbot, open_window, tmp_path):
    window = open_window()
    assert window.settings._qs is None  # BPVIZ_NO_SETTINGS=1 (tests/conftest.py)
    path = _broken(
        tmp_path, "ok.py", "import torch\nw = torch.tensor(3.0, requires_grad=True)\n\ndef loss():\n    return w * w\n"
    )
    open_and_wait(qtbot, window, path)
    assert window.document.source.label == path
    assert window.settings.recent_files() == [os.path.abspath(path)]
    texts = [a.text() for a in window.menus.recent.actions()]
    assert texts[0].startswith("ok.py") and "Clear Recent Files" in texts
    assert "w" in {window.trace.node(n)["name"] for n in window.scene.node_ids()}


def test_export_writes_png_svg_and_pdf_of_the_current_step(qtbot, open_window, tmp_path):
    window = open_window()
    window.document.go_to("end")
    png, svg, pdf = tmp_path / "g.png", tmp_path / "g.svg", tmp_path / "g.pdf"
    assert window.menus.export_to(str(png), 2.0)
    image = QImage(str(png))
    assert image.width() > 400
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20  # a drawing, not a blank page
    assert window.menus.export_to(str(svg))
    text = svg.read_text(encoding="utf-8")
    assert ">z<" in text and ">loss · pow<" in text and ">grad = 56<" in text  # names and x's gradient
    assert window.menus.export_to(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "Exported" in window.statusBar().currentMessage()


def test_export_to_a_bad_name_shows_a_message(qtbot, open_window, dialogs, tmp_path):
    window = open_window()
    assert not window.menus.export_to(str(tmp_path / "graph.bmp"))
    assert dialogs and ".png, .svg or .pdf" in dialogs[0][1]


def test_copy_image_puts_the_graph_on_the_clipboard(qtbot, open_window):
    window = open_window()
    window.menus.copy.trigger()
    assert not QApplication.clipboard().image().isNull()


def test_dark_theme_recolours_canvas_and_widgets(qtbot, open_window):
    from bpviz.gui.theme import DARK, LIGHT

    window = open_window()
    window.menus.theme_actions["dark"].trigger()
    assert window.document.theme is DARK
    assert window.scene.backgroundBrush().color().name() == DARK.background
    assert QApplication.palette().window().color().lightness() < 80
    window.menus.theme_actions["light"].trigger()
    assert window.scene.backgroundBrush().color().name() == LIGHT.background
    assert QApplication.palette().window().color().lightness() > 200


def test_every_level_of_detail_is_reachable_from_the_menu_and_keeps_the_step(qtbot, open_window):
    from bpviz.core.views import module_depth

    window = open_window("lesson:residual_mlp")
    window.document.go_to("backward")
    position = window.controller.position
    window.menus.collapse.aboutToShow.emit()
    choices = [a for a in window.menus.collapse.actions() if a.isEnabled()]
    texts = [a.text() for a in choices]
    deepest = module_depth(window.trace.graph)
    assert texts[:3] == ["Every Operation", "One Box per Layer", "Whole Model as One Box"]
    assert texts[-1] == f"Modules at Depth {deepest}"  # the deepest level is offered too
    assert next(a for a in choices if a.isChecked()).text() == "One Box per Layer"
    counts = []
    for act in choices:
        act.trigger()
        counts.append(len(window.scene.node_ids()))
        assert window.controller.position == position
    assert counts[0] == window.trace.graph.number_of_nodes()  # every op
    assert counts[2] < counts[1] < counts[0]  # whole model < layers < ops
    window.menus.hide_shape.setChecked(True)
    assert window.controller.position == position
    window.menus.legend.setChecked(False)
    assert not window.scene.legend.isVisible()


def test_double_click_opens_a_layer_on_the_canvas(qtbot, open_window):
    window = open_window("lesson:mlp_10_5_1")
    scene = window.scene
    titles = sorted(scene.node_item(n).name for n in scene.node_ids() if scene.graph.nodes[n]["kind"] == "group")
    assert titles == ["Linear(10→5)", "Linear(5→1)", "ReLU"]
    box = next(n for n in scene.node_ids() if scene.node_item(n).name == "ReLU")
    view = window.view
    point = view.mapFromScene(scene.node_item(box).pos())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert "ReLU" not in [window.scene.node_item(n).name for n in window.scene.node_ids()]
    assert "relu" in [window.scene.node_item(n).name for n in window.scene.node_ids()]


def test_show_opens_a_window_on_a_user_model_and_blocks_until_closed(qtbot):
    import torch
    from PySide6.QtCore import QTimer

    import bpviz
    from bpviz.gui.main_window import MainWindow

    model = torch.nn.Linear(2, 1)
    data = torch.tensor([[1.0, 2.0]])
    seen = {}

    def close_it():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["names"] = {w.trace.node(n)["name"] for w in windows for n in w.trace.graph}
        seen["title"] = [w.windowTitle() for w in windows]
        for w in windows:
            w.close()

    QTimer.singleShot(300, close_it)
    assert bpviz.show(model, data, target=torch.tensor([[1.0]]), title="tiny") == 0
    assert seen["title"] == ["tiny — bpviz"]
    assert {"weight", "bias", "data"} <= seen["names"]  # the script's own variable name


def test_show_trains_a_copy_of_the_user_model(qtbot):
    import time

    import torch
    from PySide6.QtCore import QTimer

    import bpviz
    from bpviz.gui.main_window import MainWindow

    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    before = model.weight.detach().clone()
    seen: dict = {}
    deadline = time.monotonic() + 30

    def train_then_close():
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        tc = window.training
        if "stepped" not in seen:
            seen["stepped"] = True
            tc.set_shown(True)
            tc.docks.panel.lr.setText("0.1")
            tc.step()
        if time.monotonic() < deadline and (tc.is_running() or tc.live.busy() or tc.history.table.offered < 1):
            QTimer.singleShot(50, train_then_close)
            return
        seen["trained"] = tc.worker._session.trainer.param_values()["weight"]
        seen["error"] = window.document.last_error
        window.close()

    QTimer.singleShot(300, train_then_close)
    assert bpviz.show(model, torch.tensor([[1.0, 2.0]]), target=torch.tensor([[5.0]])) == 0
    assert seen["error"] == ""
    expected = torch.nn.Linear(2, 1)
    expected.load_state_dict(model.state_dict())
    torch.nn.functional.mse_loss(expected(torch.tensor([[1.0, 2.0]])), torch.tensor([[5.0]])).backward()
    with torch.no_grad():
        expected.weight -= 0.1 * expected.weight.grad
    assert torch.allclose(seen["trained"], expected.weight, rtol=1e-6, atol=0)
    assert torch.equal(model.weight, before)  # the caller's model is untouched


def test_the_window_module_loads_without_torch():
    """The window must show before torch loads: importing it (and the app) must not import torch."""
    code = "import sys, bpviz.gui.app, bpviz.gui.main_window; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def _run_cli(*args, tmp_env=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BPVIZ_NO_SETTINGS="1")
    return subprocess.run([sys.executable, "-m", "bpviz", *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.slow
def test_cli_smoke_test_and_screenshot(tmp_path):
    done = _run_cli("--smoke-test")
    assert done.returncode == 0, done.stderr
    shot = tmp_path / "shot.png"
    done = _run_cli("lesson:square", "--screenshot", str(shot), "--step", "backward")
    assert done.returncode == 0, done.stderr
    image = QImage(str(shot))
    assert image.width() >= 700 and image.height() >= 450
    # The app's --step and `bpviz export --step` read a step name the same way.
    for step in ("backward", "forward", "loss"):
        shown = _run_cli("lesson:chain56", "--screenshot", str(shot), "--step", step)
        exported = _run_cli("export", "lesson:chain56", "-o", str(tmp_path / "e.png"), "--step", step)
        assert shown.returncode == 0 == exported.returncode, shown.stderr + exported.stderr
        assert shown.stdout.split(", ")[-1] == exported.stdout.split(", ")[-1]
        assert shown.stdout.split(", ")[-1].startswith(step.capitalize())
    broken = _run_cli(str(tmp_path / "nope.py"), "--smoke-test")
    assert broken.returncode == 1 and "No scenario file" in broken.stderr


def test_toolbar_and_help_list_the_main_actions(qtbot, open_window, monkeypatch):
    from PySide6.QtWidgets import QDialog, QTableWidget, QToolBar

    window = open_window()
    bar = window.findChild(QToolBar, "mainToolBar")
    texts = [a.text().replace("&", "") for a in bar.actions() if not a.isSeparator()]
    assert texts == ["Open Scenario…", "Reload", "Export Image…", "Fit to Window", "Predict Mode", "Show Training"]
    shown: list[QDialog] = []
    monkeypatch.setattr(QDialog, "exec", lambda self: shown.append(self) or 0)
    window.menus.shortcuts.trigger()
    table = shown[-1].findChild(QTableWidget, "shortcutTable")
    rows = {table.item(i, 0).text(): table.item(i, 1).text() for i in range(table.rowCount())}
    assert rows["Reload"] == "Ctrl+R" and rows["Show Training"] == "Ctrl+T"
    assert any(keys == "Right" for keys in rows.values())  # the step shortcuts are listed too
    window.menus.how_to_read.trigger()
    assert shown[-1].objectName() == "howToReadDialog"


def test_window_geometry_and_docks_are_remembered(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from bpviz.gui.main_window import MainWindow

    monkeypatch.setenv("BPVIZ_NO_SETTINGS", "0")
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    first = MainWindow()
    qtbot.addWidget(first)
    first.resize(760, 560)
    first.show()
    first.diagnostics.hide()
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (760, 560)
    assert not second.diagnostics.isVisible() and second.inspector.isVisible()
    second.close()


def test_reload_when_the_file_changes_follows_the_editor(qtbot, open_window, tmp_path):
    path = tmp_path / "edited.py"
    path.write_text("import torch\nx = torch.tensor(2.0, requires_grad=True)\n\ndef loss():\n    return x * x\n")
    window = open_window(str(path))
    assert window.follower.watched() == [str(path)]
    window.menus.follow.setChecked(True)
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        path.write_text(path.read_text().replace("2.0", "3.0"))
    assert window.trace.loss == 9.0
    window.menus.follow.setChecked(False)
    path.write_text(path.read_text().replace("3.0", "4.0"))
    qtbot.wait(800)
    assert window.trace.loss == 9.0
