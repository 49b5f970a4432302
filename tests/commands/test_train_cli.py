"""`bpviz train`: options, progress table, JSON/CSV content, PNG/SVG plots, exit codes."""

from __future__ import annotations

import argparse
import csv
import json
import math
import xml.etree.ElementTree as ET

import pytest
import torch

from bpviz.commands import train
from bpviz.core.errors import BpvizError

LINE = '''"""y = 2x"""
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Linear(1, 1)
inputs = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
target = 2 * inputs
lr = 0.05
'''

MLP = '''"""XOR MLP"""
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
inputs = torch.zeros(1, 2)
'''


def parse(*argv):
    parser = argparse.ArgumentParser(prog="bpviz")
    train.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", *map(str, argv)])


def scenario_file(tmp_path, text=LINE, name="line.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_line_json_and_csv(tmp_path, capsys):
    out_json, out_csv = tmp_path / "run.json", tmp_path / "run.csv"
    args = parse(scenario_file(tmp_path), "--steps", 1500, "--json", out_json, "--csv", out_csv)
    assert args.run is train.run
    assert train.run(args) == 0
    printed = capsys.readouterr().out
    assert "step" in printed and "loss" in printed and "\n   1499 " in printed
    assert "weight = [[2" in printed or "weight = [[1.99" in printed
    doc = json.loads(out_json.read_text())
    assert doc["schema"] == "bpviz.train/1"
    assert doc["config"]["steps"] == 1500 and doc["config"]["lr"] == 0.05 and doc["config"]["zero_grad"] is True
    steps = doc["steps"]
    assert [s["step"] for s in steps] == list(range(1500))
    assert steps[0]["loss"] > 1 and steps[-1]["loss"] < 1e-5
    assert set(steps[0]["params"]) == {"weight", "bias"}
    assert set(steps[0]["params"]["weight"]) == {"norm", "mean_abs", "max_abs", "pre_clip_norm"}
    assert steps[0]["diagnostics"][0]["kind"] == "exploding"  # the seeds' >10 threshold
    assert doc["stopped"] is None
    assert doc["final_params"]["weight"][0][0] == pytest.approx(2.0, abs=2e-3)
    assert doc["final_params"]["bias"][0] == pytest.approx(0.0, abs=5e-3)
    # The first step's gradient, checked against torch by hand: d/dw mean((wx+b-2x)^2).
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    torch.nn.functional.mse_loss(model(x), 2 * x).backward()
    assert steps[0]["params"]["weight"]["norm"] == pytest.approx(model.weight.grad.norm().item(), rel=1e-6)
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(train.CSV_COLUMNS)
    assert len(rows) == 1500 * 2 and [r["param"] for r in rows[:2]] == ["weight", "bias"]
    for row in rows[:10]:
        s = steps[int(row["step"])]
        assert float(row["loss"]) == s["loss"]
        assert float(row["norm"]) == s["params"][row["param"]]["norm"]
        assert float(row["mean_abs"]) == s["params"][row["param"]]["mean_abs"]
    assert rows[0]["diagnostics"] == "exploding" and rows[1]["diagnostics"] == ""


def test_options_reach_the_engine(tmp_path):
    out = tmp_path / "run.json"
    args = parse(
        scenario_file(tmp_path, MLP, "mlp.py"),
        "--steps",
        30,
        "--optimizer",
        "adam",
        "--lr",
        0.01,
        "--clip",
        0.05,
        "--no-zero-grad",
        "--dataset",
        "xor",
        "--seed",
        3,
        "--batch",
        16,
        "--loss",
        "bce",
        "--json",
        out,
    )
    assert train.run(args) == 0
    doc = json.loads(out.read_text())
    config = doc["config"]
    assert (
        config["optimizer"],
        config["lr"],
        config["clip_norm"],
        config["zero_grad"],
        config["dataset"],
        config["seed"],
        config["batch_size"],
        config["loss"],
    ) == ("adam", 0.01, 0.05, False, "xor", 3, 16, "bce")
    assert all(s["total_norm"] <= 0.05 + 1e-6 for s in doc["steps"])
    assert any(s["clipped"] for s in doc["steps"])
    assert any(d["kind"] == "dead_relu" for s in doc["steps"] for d in s["diagnostics"])
    assert doc["steps"][0]["val_loss"] is not None


def test_divergent_lr_writes_partial_output_and_returns_2(tmp_path, capsys):
    out_json, out_csv = tmp_path / "run.json", tmp_path / "run.csv"
    args = parse(scenario_file(tmp_path), "--steps", 500, "--lr", 1.0, "--json", out_json, "--csv", out_csv)
    assert train.run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("bpviz: error: Training stopped at step ") and "mse_loss" in err
    doc = json.loads(out_json.read_text())  # strict JSON: no NaN
    stopped = doc["stopped"]
    assert stopped["node"] == "mse_loss" and 0 < stopped["step"] < 500
    assert len(doc["steps"]) == stopped["step"]
    assert stopped["step_result"]["loss"] is None
    assert any(d["kind"] == "nonfinite" for d in stopped["step_result"]["diagnostics"])
    assert all(math.isfinite(v) for v in doc["final_params"]["weight"][0])
    with open(out_csv, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 2 * stopped["step"]


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--lr", "-1"], "learning rate must be a positive number"),
        (["--lr", "nan"], "learning rate must be a positive number"),
        (["--steps", "0"], "steps must be a whole number of at least 1"),
        (["--momentum", "1.5"], "Momentum must be a number from 0"),
        (["--dataset", "xor"], "The dataset 'xor' has 2 features but the model expects 1"),
        (["--dataset", "mnist"], "neither a built-in dataset"),
        (["--plot", "out.jpg"], "use a file name ending in .png or .svg"),
        (["--json", "no/such/dir/out.json"], "does not exist"),
    ],
)
def test_bad_input_raises_bpviz_error(tmp_path, monkeypatch, extra, needle):
    monkeypatch.chdir(tmp_path)
    steps = [] if "--steps" in extra else ["--steps", "5"]
    args = parse(scenario_file(tmp_path), *steps, *extra)
    with pytest.raises(BpvizError) as info:
        train.run(args)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "out.jpg").exists()


def test_bad_csv_dataset_names_row_and_column(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("x,y\n1,2\n2,four\n", encoding="utf-8")
    args = parse(scenario_file(tmp_path), "--steps", 5, "--dataset", data)
    with pytest.raises(BpvizError, match=r"bad.csv row 2 \(line 3\), column 'y' holds 'four'"):
        train.run(args)


def test_unparseable_numbers_are_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        parse(scenario_file(tmp_path), "--steps", 5, "--lr", "fast")
    assert info.value.code == 2 and "'fast' is not a number" in capsys.readouterr().err


def test_notes_for_options_that_do_not_apply(tmp_path, capsys):
    args = parse(scenario_file(tmp_path), "--steps", 2, "--batch", 2, "--optimizer", "adam", "--momentum", 0.5)
    assert train.run(args) == 0
    err = capsys.readouterr().err
    assert "--batch applies with --dataset" in err and "--momentum applies to sgd" in err


def non_white_pixels(path):
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull()
    count, coloured = 0, 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if (c.red(), c.green(), c.blue()) != (255, 255, 255):
                count += 1
                if max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) > 60:
                    coloured += 1
    return image, count, coloured


def test_plot_png(tmp_path, qapp):
    out = tmp_path / "plot.png"
    args = parse(scenario_file(tmp_path, MLP, "mlp.py"), "--steps", 60, "--dataset", "xor", "--lr", 0.1, "--plot", out)
    assert train.run(args) == 0
    image, count, coloured = non_white_pixels(out)
    assert (image.width(), image.height()) == (960, 720)
    assert count > 2000  # axes, text, grid and curves
    assert coloured > 200  # the coloured curves themselves, not only black axes


def test_plot_svg(tmp_path, qapp):
    out = tmp_path / "plot.svg"
    args = parse(scenario_file(tmp_path), "--steps", 100, "--plot", out)
    assert train.run(args) == 0
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    shapes = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("path", "polyline")]
    assert len(shapes) >= 3
    longest = max(len((e.get("points") or e.get("d") or "").split()) for e in shapes)
    assert longest >= 50  # a curve through ~100 steps, not only axis ticks
    colours = {e.get("stroke") for e in root.iter() if e.get("stroke")} | {
        g.get("stroke") for g in root.iter() if g.tag.endswith("g")
    }
    assert "#1f77b4" in colours  # the loss curve's colour
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "weight" in text and "bias" in text  # the legend names the parameters


def test_log_axes_of_the_plot_label_decades_not_a_crowd():
    """XOR's loss over 300 steps: ticks 0.01 and 0.1 are labelled, not the 2..9 ticks in
    between (pyqtgraph offered only those, always labelled, and they overlapped)."""
    import numpy as np
    from PySide6.QtGui import QImage, QPainter

    from bpviz.core.scenario import load_scenario
    from bpviz.core.training import TrainConfig, Trainer
    from bpviz.gui import plot_export

    app = plot_export._ensure_app()
    with Trainer(load_scenario("lesson:xor_mlp"), TrainConfig(steps=300)) as trainer:
        loss = [r.loss for r in trainer.run(300)]  # 0.69 down to 0.0066, as `bpviz train` plots it
    widget = plot_export._build(list(range(300)), loss, [None] * 300, {"w": list(np.geomspace(0.1, 0.01, 300))}, "t")
    widget.resize(plot_export.WIDTH, plot_export.HEIGHT)
    widget.grab()
    image = QImage(100, 100, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    texts = [spec[2] for spec in widget.getItem(0, 0).getAxis("left").generateDrawSpecs(painter)[2]]
    painter.end()
    assert texts == ["0.01", "0.1"], texts
    assert app is not None


def test_ctrl_c_writes_the_steps_done_and_exits_130(tmp_path):
    """A long run stopped with Ctrl-C keeps what it did: the JSON and CSV hold every step done."""
    import signal
    import subprocess
    import sys
    import time

    scenario = tmp_path / "long.py"
    scenario.write_text(
        "import torch\nmodel = torch.nn.Linear(2, 1)\ninputs = torch.ones(4, 2)\ntarget = torch.zeros(4, 1)\n"
    )
    out_json, out_csv = tmp_path / "run.json", tmp_path / "run.csv"
    command = [sys.executable, "-m", "bpviz", "train", str(scenario), "--steps", "100000000"]
    proc = subprocess.Popen(
        [*command, "--json", str(out_json), "--csv", str(out_csv), "--every", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        # A child of a non-interactive shell may inherit SIGINT ignored; Ctrl-C is the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    for _ in range(5):  # the header and a few steps: the run is under way
        proc.stdout.readline()
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted (Ctrl-C) after" in err and "Traceback" not in err
    doc = json.loads(out_json.read_text())
    done = len(doc["steps"])
    assert done >= 3 and doc["stopped"]["step"] == done and "Ctrl-C" in doc["stopped"]["message"]
    assert len(out_csv.read_text().splitlines()) > done  # a header and a row per step and parameter
