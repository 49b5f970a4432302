"""Valid input accepted, and bad input refused with one sentence (exit 2, no traceback): a
misspelled subcommand, no display, odd tensors, numeric options out of range."""

import os
import subprocess
import sys

import pytest

from bpviz.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


def run_headless(*argv: str, cwd) -> subprocess.CompletedProcess:
    """``python -m bpviz ARGV`` as on a server: no display and no Qt platform chosen."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM")
    }
    return subprocess.run(
        [sys.executable, "-m", "bpviz", *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    ("word", "hint"),
    [("trian", "did you mean 'train'?"), ("frobnicate", "bpviz -h"), ("lesson", "did you mean 'lessons'?")],
)
def test_a_misspelled_subcommand_is_refused_before_the_app_starts(tmp_path, word, hint):
    proc = run_headless(word, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert (
        f"'{word}' is neither a subcommand (trace, lessons, export, train, new, code) nor a scenario file"
        in proc.stderr
    )
    assert hint in proc.stderr and one_line(proc.stderr)


def test_an_existing_file_named_like_a_word_still_opens(tmp_path, monkeypatch):
    from bpviz import cli

    (tmp_path / "frobnicate").write_text("")
    monkeypatch.chdir(tmp_path)
    cli._refuse_unknown_word("frobnicate")  # no error: the app opens the file


def test_no_display_is_one_sentence_before_qt_starts(tmp_path):
    proc = run_headless("lesson:square", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "There is no display" in proc.stderr and "xvfb-run" in proc.stderr
    assert one_line(proc.stderr)
