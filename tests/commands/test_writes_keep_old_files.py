"""Every writer of the command line and the app goes through the atomic write: with the disk
full (a faked ENOSPC at the sync), the old file stays as it was, no temporary file is left, and a
command exits 2 with one line."""

from __future__ import annotations

import errno

import pytest

from bpviz.cli import main
from bpviz.core import atomic


@pytest.fixture
def full_disk(monkeypatch):
    def no_space(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)


CASES = {
    "export.png": ["export", "lesson:chain56", "-o", "{out}"],
    "export.svg": ["export", "lesson:chain56", "-o", "{out}"],
    "export.pdf": ["export", "lesson:chain56", "-o", "{out}"],
    "trace.json": ["trace", "lesson:chain56", "--json", "{out}"],
    "train.json": ["train", "lesson:linear_fit", "--steps", "3", "--json", "{out}"],
    "train.csv": ["train", "lesson:linear_fit", "--steps", "3", "--csv", "{out}"],
    "plot.png": ["train", "lesson:linear_fit", "--steps", "3", "--plot", "{out}"],
    "plot.svg": ["train", "lesson:linear_fit", "--steps", "3", "--plot", "{out}"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_full_disk_keeps_the_old_output(name, tmp_path, full_disk, capsys):
    out = tmp_path / name
    out.write_bytes(b"the user's old file")
    code = main([a.format(out=out) for a in CASES[name]])
    err = capsys.readouterr().err
    assert code == 2
    assert "No space left on device" in err and "Traceback" not in err and err.count("\n") == 1
    assert out.read_bytes() == b"the user's old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_writers_succeed_with_space(name, tmp_path, capsys):
    out = tmp_path / name
    out.write_bytes(b"old")
    assert main([a.format(out=out) for a in CASES[name]]) == 0
    assert out.read_bytes() != b"old" and out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
