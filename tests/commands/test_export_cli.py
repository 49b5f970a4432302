"""`bpviz export`: headless images of a lesson at a chosen step, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from bpviz.cli import main
from bpviz.core.step_names import step_position


def svg_texts(path) -> set[str]:
    root = ET.parse(path).getroot()
    return {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}


def test_svg_at_the_last_backward_step_shows_the_chain_rule(tmp_path, qapp, capsys):
    out = tmp_path / "chain.svg"
    assert main(["export", "lesson:chain56", "-o", str(out), "--step", "backward"]) == 0
    texts = svg_texts(out)
    assert "×(2x = 4)   14 × 4 = 56" in texts
    assert "grad = 56" in texts
    assert "wrote" in capsys.readouterr().out


def test_forward_step_shows_values_but_no_gradients(tmp_path, qapp):
    out = tmp_path / "fwd.svg"
    assert main(["export", "lesson:chain56", "-o", str(out), "--step", "forward", "--theme", "dark"]) == 0
    texts = svg_texts(out)
    assert "7" in texts and "49" not in texts
    assert not any(t.startswith("×") for t in texts)


def test_png_scale_and_pdf(tmp_path, qapp):
    from PySide6.QtGui import QImage

    small, big = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["export", "lesson:chain56", "-o", str(small), "--scale", "1"]) == 0
    assert main(["export", "lesson:chain56", "-o", str(big), "--scale", "2"]) == 0
    a, b = QImage(str(small)), QImage(str(big))
    assert abs(b.width() - 2 * a.width()) <= 1 and abs(b.height() - 2 * a.height()) <= 1
    pdf = tmp_path / "c.pdf"
    assert main(["export", "lesson:chain56", "-o", str(pdf), "--step", "3"]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-o", "out.bmp"], "must end in .png, .svg or .pdf"),
        (["-o", "out.png", "--step", "sideways"], "Unknown step 'sideways'"),
        (["-o", "out.png", "--scale", "0"], "--scale must be a positive number"),
        (["-o", "no/such/folder/out.png"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, qapp, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "lesson:chain56", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_unknown_lesson_is_a_clear_error(tmp_path, capsys):
    assert main(["export", "lesson:nope", "-o", str(tmp_path / "x.png")]) == 2
    assert "no lesson named 'nope'" in capsys.readouterr().err


def test_step_names_pick_the_documented_positions():
    from bpviz.core.stepper import StepSequence
    from tests.gui.synthetic import chain_trace

    seq = StepSequence(chain_trace())
    phases = [s.phase for s in seq.steps]
    assert step_position(seq, "start") == 0
    assert step_position(seq, "forward") == max(i for i, p in enumerate(phases) if p == "Forward")
    assert step_position(seq, "loss") == seq.loss_position
    assert step_position(seq, "backward") == max(i for i, p in enumerate(phases) if p == "Backward")
    assert step_position(seq, "end") == seq.last == step_position(seq, "update")
    assert step_position(seq, "99") == seq.last


@pytest.mark.slow
def test_works_without_a_display(tmp_path):
    """A fresh process with neither DISPLAY nor QT_QPA_PLATFORM set still renders."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "headless.png"
    proc = subprocess.run(
        [sys.executable, "-m", "bpviz", "export", "lesson:chain56", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_the_command_process_ends_with_atexit_handlers_run_and_output_flushed(tmp_path):
    """`bpviz export` ends its process without the interpreter's teardown: the scenario's atexit
    handlers still run, what it printed reaches a pipe (block-buffered, so it must be flushed),
    and a file it left open keeps what it wrote."""
    marker, log = tmp_path / "atexit-ran", tmp_path / "log.txt"
    scenario = tmp_path / "scene.py"
    scenario.write_text(
        "import atexit\nimport torch\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        f"log = open({str(log)!r}, 'w')\nlog.write('left open')\n"
        "x = torch.tensor(2.0, requires_grad=True)\n"
        "def loss():\n    return (x * x + 3) ** 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.svg"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffered pipe
    proc = subprocess.run(
        [sys.executable, "-m", "bpviz", "export", str(scenario), "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("wrote ") and str(out) in proc.stdout
    assert marker.read_text() == "yes"
    assert log.read_text() == "left open"  # a file the scenario never closed is flushed
    assert out.read_text(encoding="utf-8").rstrip().endswith("</svg>")


@pytest.mark.slow
def test_export_loads_only_what_it_draws(tmp_path):
    """`bpviz export` is a one-shot command: it imports no plotting library, no window, training
    or inspector code, and no token animation (which an export never shows)."""
    out = tmp_path / "x.svg"
    code = (
        "import sys\nfrom bpviz.cli import main\n"
        f"assert main(['export', 'lesson:chain56', '-o', {str(out)!r}]) == 0\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    assert "bpviz.gui.graph_scene" in loaded and out.exists()
    unwanted = {
        "pyqtgraph",
        "bpviz.gui.main_window",
        "bpviz.gui.inspector",
        "bpviz.gui.app",
        "bpviz.core.training",
        "bpviz.gui.training",
        "bpviz.gui.token_animator",
        "bpviz.gui.items.token_item",
    }
    assert not unwanted & loaded


def _export_command(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as users run it
    return subprocess.run([sys.executable, "-m", "bpviz", "export", *args], env=env, timeout=120, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_export_with_a_standard_stream_closed_succeeds(tmp_path, closed):
    """With stdout or stderr closed (or under pythonw) the stream is None: nothing to flush."""
    out = tmp_path / "x.svg"
    proc = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m bpviz export lesson:chain56 -o "{out}" {closed}'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert out.read_text(encoding="utf-8").rstrip().endswith("</svg>")


@pytest.mark.slow
def test_files_left_open_keep_what_the_scenario_and_its_atexit_handlers_wrote(tmp_path):
    """Files a scenario's own helper module leaves open are flushed too, and after the atexit
    handlers, which may still write to them (as the interpreter's teardown would)."""
    helper_log, own_log = tmp_path / "helper.log", tmp_path / "own.log"
    (tmp_path / "helper_log.py").write_text(f"LOG = open({str(helper_log)!r}, 'w')\nLOG.write('helper')\n")
    (tmp_path / "scene.py").write_text(
        "import atexit\nimport torch\nimport helper_log\n"
        f"log = open({str(own_log)!r}, 'w')\nlog.write('start;')\n"
        "atexit.register(lambda: log.write('summary'))\n"
        "x = torch.tensor(2.0, requires_grad=True)\n"
        "def loss():\n    return (x * x + 3) ** 2\n",
        encoding="utf-8",
    )
    proc = _export_command(
        [str(tmp_path / "scene.py"), "-o", str(tmp_path / "x.svg")], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert helper_log.read_text() == "helper"
    assert own_log.read_text() == "start;summary"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_report_that_cannot_be_written_is_not_a_success(tmp_path):
    """stdout on a full disk: exit 120, as Python's own exit reports a failed flush."""
    with open("/dev/full", "w") as full:
        proc = _export_command(
            ["lesson:chain56", "-o", str(tmp_path / "x.svg")], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert proc.returncode == 120, proc.stderr
    assert (tmp_path / "x.svg").exists()


@pytest.mark.slow
def test_a_tool_running_bpviz_as_main_gets_control_back(tmp_path):
    """Profilers and coverage tools run ``-m bpviz`` with runpy inside their own process: the
    export must end with SystemExit, which they catch, not end their process."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['bpviz', 'export', 'lesson:chain56', '-o', {str(tmp_path / 'x.svg')!r}]\n"
        "try:\n    runpy.run_module('bpviz', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exit:\n    print('caller resumed', exit.code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "caller resumed 0" in proc.stdout, proc.stdout + proc.stderr
