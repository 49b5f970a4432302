"""User code that never ends cannot hold the app: Cancel and Esc stop a scenario being opened,
a second Pause stops a training step inside, a scenario stuck in C is abandoned, and the window
closes while one is stuck."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from tests.gui.helpers import TRACE_TIMEOUT_MS, open_and_wait

REPO = Path(__file__).resolve().parents[2]


def _endless(tmp_path: Path, marker: Path, name: str = "endless.py") -> str:
    """A scenario whose loss() touches ``marker`` and then loops for ever in Python."""
    path = tmp_path / name
    path.write_text(
        "import torch\n"
        "w = torch.tensor(3.0, requires_grad=True)\n\n"
        "def loss():\n"
        f"    open({str(marker)!r}, 'w').close()\n"
        "    while True:\n"
        "        w.add(1)\n",
        encoding="utf-8",
    )
    return str(path)


def _wait_for(qtbot, marker: Path) -> None:
    """Until the scenario's own code runs (not the imports before it)."""
    qtbot.waitUntil(marker.exists, timeout=TRACE_TIMEOUT_MS)


def _open_lesson_after(qtbot, window, lesson: str = "lesson:square") -> None:
    open_and_wait(qtbot, window, lesson)
    assert window.document.source.label == lesson
    assert window.windowTitle() == f"{window.document.trace.title} — bpviz"
    assert window.scene is not None and sorted(window.scene.node_ids()) == sorted(window.trace.graph.nodes)


def test_cancel_button_stops_an_endless_scenario_and_keeps_the_graph(qtbot, open_window, tmp_path):
    window = open_window()
    before = sorted(window.scene.node_ids())
    marker = tmp_path / "running"
    window.document.open_spec(_endless(tmp_path, marker))
    _wait_for(qtbot, marker)
    qtbot.waitUntil(window.cancel_button.isVisible, timeout=5000)
    assert window.cancel_button.text() == "Cancel" and window.busy_bar.isVisible()

    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)

    assert not window.document.busy
    assert not window.cancel_button.isVisible() and not window.busy_bar.isVisible()
    assert window.statusBar().currentMessage() == "Cancelled opening endless.py; chain56 stays open."
    assert sorted(window.scene.node_ids()) == before and window.document.source.label == "lesson:chain56"
    # The loop itself stopped: no thread of it is left behind.
    assert window.document.runner.wait(5000) and window.document.runner.stuck_jobs == 0
    _open_lesson_after(qtbot, window)


def test_esc_cancels_the_first_open_and_the_next_open_works(qtbot, tmp_path):
    from bpviz.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    marker = tmp_path / "running"
    window.document.open_spec(_endless(tmp_path, marker))
    _wait_for(qtbot, marker)
    assert window.cancel_action.isEnabled()

    # A window shortcut fires only in the active window: the offscreen platform can hand the
    # activation over late, after the trace started.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)

    assert not window.document.busy and window.document.trace is None
    assert window.statusBar().currentMessage() == "Cancelled opening endless.py."
    assert window.canvas.placeholder.text().startswith("Cancelled opening endless.py.")
    assert window.canvas.currentWidget() is window.canvas.placeholder
    assert window.step_bar.caption_label.text() == "Nothing is open."
    assert "Nothing is open." in " ".join(label.text() for label in window.inspector.findChildren(QLabel))
    assert not window.cancel_action.isEnabled()  # Esc belongs to the widgets again
    assert window.document.runner.wait(5000)
    _open_lesson_after(qtbot, window)
    window.document.runner.wait()


def test_a_scenario_stuck_in_c_is_abandoned_and_does_not_change_the_next(qtbot, open_window, tmp_path):
    """time.sleep cannot be interrupted: the app goes on without it, says so, and the next
    scenario runs under torch's usual switches, not the stuck one's float64."""
    window = open_window()
    marker = tmp_path / "sleeping"
    path = tmp_path / "sleepy.py"
    path.write_text(
        "import time\nimport torch\ntorch.set_default_dtype(torch.float64)\n"
        "w = torch.tensor(3.0, requires_grad=True)\n\n"
        f"def loss():\n    open({str(marker)!r}, 'w').close()\n    time.sleep(4)\n    return w * w\n",
        encoding="utf-8",
    )
    window.document.open_spec(str(path))
    _wait_for(qtbot, marker)
    qtbot.waitUntil(window.cancel_button.isVisible, timeout=5000)
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert window.statusBar().currentMessage() == "Cancelled opening sleepy.py; chain56 stays open."

    qtbot.waitUntil(lambda: window.document.runner.stuck_jobs == 1, timeout=5000)
    assert window.statusBar().currentMessage().startswith("sleepy.py did not stop: its code is stuck in a call")
    started = time.monotonic()
    _open_lesson_after(qtbot, window, "lesson:chain56")
    assert time.monotonic() - started < 3.5  # it did not wait for the sleeping one
    assert torch.get_default_dtype() == torch.float32
    values = [a["value"] for _n, a in window.trace.graph.nodes(data=True) if a.get("value") is not None]
    floats = [v for v in values if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float32 for v in floats)
    # The sleeping thread ends by itself, with its exception, and leaves nothing changed.
    deadline = time.monotonic() + 10
    while window.document.runner.stuck_jobs and time.monotonic() < deadline:
        qtbot.wait(100)
        window.document.runner.wait(0)
    assert window.document.runner.stuck_jobs == 0
    assert torch.get_default_dtype() == torch.float32


def _click(qtbot, window, name: str) -> None:
    button = window.findChild(QPushButton, name)
    assert button is not None and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_training_step_that_never_ends_is_stopped_by_a_second_pause(qtbot, open_window, tmp_path, dialogs):
    """Once ``hang`` exists, the forward pass loops for ever. Pause cannot act between steps;
    pressed again (Esc) it stops the step inside, the weights go back to the start, and a fresh
    thread trains on."""
    hang = tmp_path / "hang"
    path = tmp_path / "hangs_later.py"
    path.write_text(
        "import os\nimport torch\n"
        "w = torch.tensor([1.0, -2.0], requires_grad=True)\nx = torch.tensor([0.5, 1.5])\n\n"
        "def loss():\n"
        f"    while os.path.exists({str(hang)!r}):\n"
        "        x.add(1)\n"
        "    return ((w * x).sum() - 1.0) ** 2\n",
        encoding="utf-8",
    )
    window = open_window(str(path))
    tc = window.training
    tc.set_shown(True)
    w = window.document.scenario.namespace["w"]  # a file's loss() trains its own tensors
    start = w.detach().clone()
    _click(qtbot, window, "trainStep")
    qtbot.waitUntil(lambda: not tc.is_running() and not tc.live.busy(), timeout=30_000)
    assert not torch.equal(w, start)  # one step moved the weights

    hang.touch()
    old_worker = tc.worker
    _click(qtbot, window, "trainStep")
    qtbot.wait(300)
    _click(qtbot, window, "trainPause")
    qtbot.waitUntil(lambda: "Press Pause again" in tc.panel.status.text(), timeout=5000)
    assert tc.is_running()  # the first Pause cannot stop a step that never ends

    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc: Pause again

    qtbot.waitUntil(lambda: not tc.is_running(), timeout=10_000)
    assert dialogs == []
    message = "The step did not finish and was stopped inside; the weights went back to the start."
    assert window.statusBar().currentMessage() == message
    assert torch.equal(w, start)
    assert tc.worker is not old_worker
    qtbot.waitUntil(lambda: not old_worker.isRunning(), timeout=5000)
    assert tc.panel.run_button.isEnabled() and tc.panel.step_button.isEnabled()

    hang.unlink()
    _click(qtbot, window, "trainStep")
    qtbot.waitUntil(lambda: not tc.is_running() and not tc.live.busy(), timeout=30_000)
    assert dialogs == []
    assert not torch.equal(w, start) and tc.history.table.offered == 1  # the plots started over


_CLOSE_DRIVER = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import bpviz.commands.process_end as process_end
from bpviz.cli import main
from bpviz.gui.app import application

# As in the `bpviz` command's own process (this driver is not bpviz/__main__.py).
process_end.is_command_process = lambda: True
marker = sys.argv[2]
app = application()

def close_when_running():
    import os
    from bpviz.gui.main_window import MainWindow
    for window in QApplication.topLevelWidgets():
        if isinstance(window, MainWindow) and window.document.busy and os.path.exists(marker):
            start = time.monotonic()
            window.close()
            print(f"closed in {time.monotonic() - start:.2f} s", flush=True)
            return
    QTimer.singleShot(50, close_when_running)

QTimer.singleShot(50, close_when_running)
sys.exit(main([sys.argv[1]]))
"""


def _close_while_running(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess, float]:
    marker = tmp_path / "running"
    path = tmp_path / "stuck.py"
    path.write_text(
        "import time\nimport torch\nw = torch.tensor(3.0, requires_grad=True)\n\n"
        f"def loss():\n    open({str(marker)!r}, 'w').close()\n{body}\n    return w * w\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "BPVIZ_NO_SETTINGS": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CLOSE_DRIVER, str(path), str(marker)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done, time.monotonic() - started


def _closed_seconds(done: subprocess.CompletedProcess) -> float:
    lines = [line for line in done.stdout.splitlines() if line.startswith("closed in ")]
    assert lines, done.stdout + done.stderr
    return float(lines[0].split()[2])


def test_closing_the_window_while_a_scenario_is_stuck_in_c_ends_the_app(tmp_path):
    done, _ = _close_while_running(tmp_path, "    time.sleep(1000)")
    assert done.returncode == 0, done.stderr
    assert _closed_seconds(done) < 3  # the window does not wait for the sleeping code
    for word in ("Fatal", "terminate", "Traceback", "QThread"):
        assert word not in done.stderr


def test_closing_the_window_while_a_scenario_loops_stops_it(tmp_path):
    done, _ = _close_while_running(tmp_path, "    while True:\n        w.add(1)")
    assert done.returncode == 0, done.stderr
    assert _closed_seconds(done) < 3
    for word in ("Fatal", "terminate", "Traceback"):
        assert word not in done.stderr
