"""`bpviz export` refuses a graph past the drawing limit at once, with one line and exit 2;
`bpviz trace` has no limit."""

from __future__ import annotations

import json

import pytest

from bpviz.cli import main
from bpviz.core import draw_limit

LOOP = """import torch

leaf = torch.tensor([1.0], requires_grad=True)


def loss():
    x = leaf
    for _ in range({n}):
        x = x * 1.0001 + 0.0
    return (x**2).sum()
"""


def loop_file(tmp_path, n: int):
    """A scenario whose graph has 4n + 4 boxes: per step a mul, an add and their two constants;
    the leaf, the square, its exponent and the sum."""
    path = tmp_path / f"loop{n}.py"
    path.write_text(LOOP.format(n=n))
    return path


def test_a_graph_just_over_the_real_limit_is_refused_before_drawing(tmp_path, qapp, capsys):
    path, out = loop_file(tmp_path, 2500), tmp_path / "big.svg"
    assert draw_limit.MAX_DRAWN_BOXES == 10_000
    assert main(["export", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "This graph has 10,004 boxes, more than the 10,000 bpviz draws" in err
    assert f"`bpviz trace {path} --json trace.json`" in err
    assert not out.exists()


@pytest.mark.parametrize("ext", [".png", ".svg", ".pdf"])
def test_just_over_a_lowered_limit_is_refused_and_just_under_is_written(tmp_path, qapp, capsys, monkeypatch, ext):
    monkeypatch.setattr(draw_limit, "MAX_DRAWN_BOXES", 40)
    over, under = tmp_path / f"over{ext}", tmp_path / f"under{ext}"
    assert main(["export", str(loop_file(tmp_path, 10)), "-o", str(over)]) == 2
    assert "This graph has 44 boxes, more than the 40 bpviz draws" in capsys.readouterr().err
    assert not over.exists()
    assert main(["export", str(loop_file(tmp_path, 9)), "-o", str(under)]) == 0
    assert under.stat().st_size > 0


def test_trace_json_has_no_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(draw_limit, "MAX_DRAWN_BOXES", 40)
    out = tmp_path / "trace.json"
    assert main(["trace", str(loop_file(tmp_path, 10)), "--json", str(out)]) == 0
    assert len(json.loads(out.read_text())["nodes"]) == 44
