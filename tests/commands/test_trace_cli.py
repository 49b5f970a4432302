"""`bpviz trace` / `bpviz lessons`: the table, the JSON, and every bad-input path (exit 2, one line)."""

import json
import subprocess
import sys

import pytest
import torch

import bpviz
from bpviz.cli import main
from bpviz.core.errors import BpvizError


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_table_shows_the_chain(capsys):
    code, out, err = run(capsys, "trace", "lesson:chain56")
    assert code == 0 and err == ""
    assert "loss = 49" in out
    assert "14 x 4 = 56" in out


def test_trace_json_schema(tmp_path, capsys):
    path = tmp_path / "t.json"
    code, _, _ = run(capsys, "trace", "lesson:relu_two_weights", "--json", str(path))
    assert code == 0
    data = json.loads(path.read_text())
    assert data["loss"] == 2.25
    by_name = {n["name"]: n for n in data["nodes"]}
    assert by_name["w1"]["grad"] == [-9.0] and by_name["w2"]["grad"] == [-3.0]
    assert set(by_name["w1"]) >= {"id", "kind", "name", "op", "module", "shape", "value", "grad"}
    assert all(set(e) >= {"source", "target", "grad", "local"} for e in data["edges"])
    assert data["forward_order"][-1] == data["backward_order"][0] == data["loss_node"]


def test_trace_json_to_stdout_with_diagnostics(capsys):
    code, out, _ = run(capsys, "trace", "lesson:log_softmax_naive", "--json", "-")
    data = json.loads(out)
    assert code == 0
    assert {d["kind"] for d in data["diagnostics"]} == {"nonfinite"}
    logits = next(n for n in data["nodes"] if n["name"] == "logits")
    assert logits["grad"] == [["NaN", "NaN", "NaN"]]


def test_lessons_lists_every_lesson(capsys):
    code, out, _ = run(capsys, "lessons")
    assert code == 0 and "lesson:chain56" in out and "(default)" in out
    assert len(out.strip().splitlines()) >= 14


BAD = {
    "syntax.py": ("def loss(:\n", "line 1: syntax error"),
    "raises.py": ("import torch\nraise ValueError('boom')\n", "line 2: ValueError: boom"),
    "nonscalar.py": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ndef loss():\n    return x * 2\n",
        "not a scalar",
    ),
    "nograd.py": ("import torch\nx = torch.ones(3)\ndef loss():\n    return (x * 2).sum()\n", "requires grad"),
    "inplace.py": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ndef loss():\n"
        "    y = x.exp()\n    y.add_(1)\n    return y.sum()\n",
        "changed in place",
    ),
    "leafinplace.py": (
        "import torch\nx = torch.ones(3, requires_grad=True)\ndef loss():\n    x.add_(1)\n    return x.sum()\n",
        "leaf tensor",
    ),
    "empty.py": ("import torch\n", "neither loss() nor model"),
    "noinputs.py": ("import torch\nmodel = torch.nn.Linear(2, 1)\n", "not inputs"),
    "shape.py": ("import torch\nmodel = torch.nn.Linear(2, 1)\ninputs = torch.ones(4, 3)\n", "forward pass failed"),
    "runtime.py": (
        "import torch\nx = torch.ones(1, requires_grad=True)\ndef loss():\n    return x / undefined\n",
        "NameError",
    ),
    "not_a_model.py": (
        "import torch\nmodel = 3\ninputs = torch.ones(2)\n",
        "model must be a torch.nn.Module or a function of the inputs, got int",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_scenarios_exit_2_with_one_line(tmp_path, capsys, name):
    source, expected = BAD[name]
    path = tmp_path / name
    path.write_text(source)
    code, _, err = run(capsys, "trace", str(path))
    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_model_that_is_not_callable_is_refused_by_the_api_too():
    with pytest.raises(BpvizError, match=r"model must be a torch\.nn\.Module or a function of the inputs, got str"):
        bpviz.trace("model", torch.ones(2))


def test_missing_file_and_unknown_lesson(capsys):
    code, _, err = run(capsys, "trace", "/nonexistent/x.py")
    assert code == 2 and "No scenario file" in err
    code, _, err = run(capsys, "trace", "lesson:nope")
    assert code == 2 and "bpviz lessons" in err


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("raise ValueError('boom')\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bpviz", "trace", str(path), "--debug"], capture_output=True, text=True
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "bpviz", "trace", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_unwritable_json_path(capsys):
    code, _, err = run(capsys, "trace", "lesson:square", "--json", "/nonexistent/dir/t.json")
    assert code == 2 and "Cannot write" in err


def test_gradcheck_reports_small_errors(capsys):
    code, out, _ = run(capsys, "trace", "lesson:dead_relu", "--gradcheck")
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip().startswith(("0.weight", "2.bias"))]
    errors = [float(line.split(":")[1]) for line in lines[-2:]]
    assert errors and max(errors) < 1e-6


def test_a_scenario_that_prints_keeps_json_on_stdout_valid(tmp_path, capsys):
    import json

    from bpviz.cli import main

    path = tmp_path / "chatty.py"
    path.write_text(
        "import torch\nprint('loading')\nx = torch.tensor(2.0, requires_grad=True)\n\n"
        "def loss():\n    print('forward')\n    return x * x\n"
    )
    assert main(["trace", str(path), "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["loss"] == 4.0
    assert "loading" in err and "forward" in err


def test_timeout_ends_an_endless_scenario_with_exit_2(tmp_path):
    import os
    import subprocess
    import sys

    hang = tmp_path / "hang.py"
    hang.write_text(
        "import torch\nx = torch.tensor(2.0, requires_grad=True)\n\ndef loss():\n    while True:\n        pass\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "bpviz", "trace", str(hang), "--timeout", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "did not finish within 2 s" in done.stderr
    fine = subprocess.run(
        [sys.executable, "-m", "bpviz", "trace", "lesson:square", "--timeout", "60"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert fine.returncode == 0 and "loss" in fine.stdout


@pytest.mark.parametrize("command", ["trace", "export", "train"])
def test_help_lists_the_timeout_every_command_takes(command, capsys):
    assert main([command, "-h"]) == 0
    assert "--timeout SECONDS" in capsys.readouterr().out


def test_the_apps_help_names_the_subcommands_timeout(capsys):
    assert main(["-h"]) == 0
    assert "--timeout SECONDS" in capsys.readouterr().out
