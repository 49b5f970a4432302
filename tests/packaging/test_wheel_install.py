"""The built wheel, installed into a fresh venv, is a working bpviz: commands, icons, lessons, app.

This is what `pip install bpviz-*.whl` or `pipx install .` gives a user, away from the checkout:
package data left out of the wheel (the icons, the lessons) or a missing entry point fails here
and nowhere else, since every other test imports bpviz from the source tree.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The parts of the checkout a wheel is built from; copied so the build leaves no build/ or
# egg-info behind in the tree.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "bpviz")


def local_torch_wheel() -> Path | None:
    """The CPU torch wheel already on this machine (the folders of PIP_FIND_LINKS, /opt/wheels).
    Installing from it takes seconds; resolving torch from an index could pull a CUDA build of
    several GB."""
    folders = [p for p in os.environ.get("PIP_FIND_LINKS", "").split() if p] + ["/opt/wheels"]
    for folder in folders:
        found = sorted(glob.glob(os.path.join(folder.removeprefix("file://"), "torch-2.13.0*.whl")))
        if found:
            return Path(found[-1])
    return None


def build_wheel(out: Path) -> Path:
    src = out / "src"
    src.mkdir()
    for name in WHEEL_SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out / "dist"), str(src)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (out / "dist").glob("bpviz-*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_commands_and_finds_its_icons(tmp_path):
    torch_wheel = local_torch_wheel()
    if torch_wheel is None:
        pytest.skip("no torch 2.13.0 wheel on this machine to install offline")
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"bpviz/resources/bpviz-{s}.png" for s in (16, 24, 32, 48, 64, 128, 256, 512)} <= set(names)
    assert "bpviz/lessons/chain56.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(ROOT / "constraints.txt"),
            "--find-links",
            str(torch_wheel.parent),
            "torch==2.13.0",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    assert (bin_dir / "bpviz-gui").is_file()  # the gui-script entry point

    # Run from an empty folder with no PYTHONPATH, so nothing can come from the checkout.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(QT_QPA_PLATFORM="offscreen", BPVIZ_NO_SETTINGS="1")
    work = tmp_path / "work"
    work.mkdir()

    def run(*args: str) -> str:
        result = subprocess.run([str(a) for a in args], cwd=work, env=env, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
        return result.stdout

    where = run(bin_dir / "python", "-c", "import bpviz, torch; print(bpviz.__file__, torch.__version__)")
    assert str(venv) in where and "+cpu" in where
    assert "lesson:chain56" in run(bin_dir / "bpviz", "lessons")
    run(bin_dir / "bpviz", "export", "lesson:chain56", "-o", work / "chain56.png")
    assert (work / "chain56.png").read_bytes().startswith(b"\x89PNG")
    sizes = run(
        bin_dir / "python",
        "-c",
        "from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "from bpviz.gui.window_support import app_icon;"
        "print(sorted(s.width() for s in app_icon().availableSizes()))",
    )
    assert sizes.strip() == "[16, 24, 32, 48, 64, 128, 256, 512]"
    run(bin_dir / "bpviz-gui", "--smoke-test")
