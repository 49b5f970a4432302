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


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--seed", "99999999999999999999999"], "The seed must be a whole number from 0 to 18446744073709551615"),
        (["--seed", "-1"], "The seed must be a whole number from 0"),
        (["--lr", "1e300"], "The learning rate 1e+300 is larger than a float32 parameter can hold"),
        (["--lr", "inf"], "The learning rate must be a positive number"),
    ],
)
def test_train_numbers_out_of_range_are_one_sentence(capsys, argv, says):
    code, _, err = run(capsys, "train", "lesson:linear_fit", "--steps", "2", *argv)
    assert code == 2 and says in err and one_line(err), err
    assert "unexpected" not in err


def test_a_scenario_lr_too_large_for_float32_is_one_sentence(tmp_path, capsys):
    path = tmp_path / "huge_lr.py"
    path.write_text(
        "import torch\nlr = 1e300\nw = torch.ones(2, requires_grad=True)\ndef loss():\n    return (w * w).sum()\n"
    )
    code, _, err = run(capsys, "train", str(path), "--steps", "2")
    assert code == 2 and "larger than a float32 parameter can hold" in err and one_line(err)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["-o", "a.png", "--scale", "inf"],
            "--scale must be a positive number of image pixels per scene pixel (finite",
        ),
        (
            ["-o", "a.png", "--scale", "nan"],
            "--scale must be a positive number of image pixels per scene pixel (finite",
        ),
        (["-o", "a.gif", "--fps", "99999999999"], "--fps must be a whole number from 1 to 100"),
        (["-o", "a.gif", "--fps", "0"], "--fps must be a whole number from 1 to 100"),
        (["-o", "a.gif", "--frames-per-step", "99999999999"], "--frames-per-step must be a whole number from 1 to 100"),
        (["-o", "a.gif", "--size", "99999999999x99999999999"], "give each side from 16 to 3840 pixels"),
        (["-o", "a.gif", "--size", "8x8"], "give each side from 16 to 3840 pixels"),
    ],
)
def test_export_numbers_out_of_range_are_one_sentence(tmp_path, capsys, argv, says):
    argv = [a if not a.startswith("a.") else str(tmp_path / a) for a in argv]
    code, _, err = run(capsys, "export", "lesson:square", *argv)
    assert code == 2 and says in err and one_line(err), err
    assert not list(tmp_path.iterdir())


def test_a_huge_png_scale_is_reduced_to_the_raster_limit_not_to_one_pixel():
    from PySide6.QtCore import QRectF

    from bpviz.gui.export import MAX_PIXELS, MAX_SIDE, fit_scale

    wide = QRectF(0, 0, 4000, 30)
    assert fit_scale(wide, 1e300) * 4000 == pytest.approx(MAX_SIDE)
    rect = QRectF(0, 0, 400, 300)
    assert fit_scale(rect, 1e300) ** 2 * 400 * 300 == pytest.approx(MAX_PIXELS)
    assert fit_scale(rect, 2.0) == 2.0


def test_a_huge_animation_scale_is_reduced_to_the_frame_limit(tmp_path, capsys):
    from PIL import Image

    from bpviz.gui.animation import MAX_FRAME_SIDE

    out = tmp_path / "a.gif"
    code, _, err = run(capsys, "export", "lesson:square", "-o", str(out), "--scale", "1e300", "--frames-per-step", "1")
    assert code == 0 and "the scale was reduced" in err
    with Image.open(out) as image:
        assert max(image.size) == MAX_FRAME_SIDE


ODD_TENSORS = {
    "complex.py": (
        "import torch\nx = torch.tensor([1+2j], requires_grad=True)\ndef loss():\n    return (x*x).abs().sum()\n",
        "complex.py: 'x' is a complex tensor, and bpviz shows real numbers only; split it",
    ),
    "sparse.py": (
        "import torch\nx = torch.eye(3).to_sparse().requires_grad_()\n"
        "def loss():\n    return torch.sparse.sum(x * 2)\n",
        "sparse.py: 'x' is a sparse tensor (sparse_coo), which bpviz can neither trace nor train; make it dense",
    ),
    "meta.py": (
        "import torch\nx = torch.ones(3, device='meta', requires_grad=True)\ndef loss():\n    return (x*x).sum()\n",
        "meta.py: 'x' is on the meta device and holds no values; create it on the CPU instead.",
    ),
    "leaf.py": (
        "import torch\nx = torch.tensor(2.0, requires_grad=True)\ndef loss():\n    return x\n",
        "leaf.py: the loss is the leaf tensor 'x' itself, so there is no operation to step through",
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_TENSORS))
@pytest.mark.parametrize("command", [["trace"], ["export", "-o", "OUT.png"], ["train", "--steps", "2"]])
def test_unsupported_tensors_and_a_leaf_loss_are_one_sentence(tmp_path, capsys, name, command):
    source, says = ODD_TENSORS[name]
    if name == "complex.py" and command[0] == "train":
        pytest.skip("torch's optimisers train complex tensors, and so does bpviz (see the next test)")
    path = tmp_path / name
    path.write_text(source)
    argv = [a if a != "OUT.png" else str(tmp_path / "out.png") for a in command]
    code, _, err = run(capsys, argv[0], str(path), *argv[1:])
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert says in last and "Traceback" not in err and "unexpected" not in err
    assert not (tmp_path / "out.png").exists()


def test_a_complex_tensor_trains_as_torch_trains_it(tmp_path, capsys):
    import torch

    path = tmp_path / "complex.py"
    path.write_text(ODD_TENSORS["complex.py"][0])
    code, out, err = run(capsys, "train", str(path), "--steps", "2")
    assert code == 0, err
    x = torch.tensor([1 + 2j], requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (x * x).abs().sum().backward()
        optimizer.step()
    assert f"x = [{x.item().real:.4g}+{x.item().imag:.4g}j]" in out
