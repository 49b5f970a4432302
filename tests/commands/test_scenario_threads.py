"""A scenario that leaves a daemon thread running torch backward in a loop: every command still
exits with its own code, without the abort that stopping that thread inside torch's C++ code at
the interpreter's teardown used to cause ("terminate called without an active exception")."""

from __future__ import annotations

import subprocess
import sys

import pytest

SPINNER = """
import threading
import torch

def _spin():
    a = torch.randn(64, 64, requires_grad=True)
    while True:
        (a @ a).sum().backward()

threading.Thread(target=_spin, daemon=True).start()
"""

MODEL = """
model = torch.nn.Linear(3, 1)
inputs = torch.randn(4, 3)
target = torch.randn(4, 1)
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bpviz", *args], capture_output=True, text=True, timeout=180)


def _no_abort(done: subprocess.CompletedProcess) -> None:
    for word in ("terminate called", "Aborted", "Fatal Python error", "Traceback"):
        assert word not in done.stderr, done.stderr


@pytest.mark.parametrize(
    "command, expected",
    [
        (["trace"], "loss"),
        (["train", "--steps", "3"], "step"),
        (["export", "-o", "{tmp}/graph.png"], "graph.png"),
    ],
)
def test_a_daemon_thread_running_backward_does_not_abort_the_command(tmp_path, command, expected):
    path = tmp_path / "spinner.py"
    path.write_text(SPINNER + MODEL, encoding="utf-8")
    args = [part.format(tmp=tmp_path) for part in command]
    done = _run(args[0], str(path), *args[1:])
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    _no_abort(done)


def test_a_failing_scenario_with_a_daemon_thread_exits_2_in_one_line(tmp_path):
    path = tmp_path / "spinner_broken.py"
    path.write_text(SPINNER + "raise ValueError('broken on purpose')\n", encoding="utf-8")
    for command in (["trace"], ["train", "--steps", "2"]):
        done = _run(command[0], str(path), *command[1:])
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "broken on purpose" in done.stderr
        _no_abort(done)
