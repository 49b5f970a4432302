"""Animated exports: frames per step, each step ending on its still, and the encoded files."""

from __future__ import annotations

import pytest
from PIL import Image

from bpviz.cli import main
from bpviz.core.scenario import load_scenario
from bpviz.core.stepper import StepSequence
from bpviz.core.trace import trace_scenario
from bpviz.core.views import collapse_modules, default_level
from bpviz.gui.animation import encode, render_frames
from bpviz.gui.export import offscreen_scene, render_image, source_rect
from bpviz.gui.theme import LIGHT


def _setup(lesson: str):
    trace = trace_scenario(load_scenario(f"lesson:{lesson}"))
    level = default_level(trace.graph)
    graph = collapse_modules(trace.graph, level, trace.module_titles) if level else trace.graph
    sequence = StepSequence(trace)
    return trace, graph, sequence


@pytest.mark.parametrize("lesson", ["chain56", "mlp_10_5_1"])
def test_each_step_gets_its_frames_and_ends_on_its_still(qapp, lesson):
    trace, graph, sequence = _setup(lesson)
    scene, show = offscreen_scene(trace, graph, sequence, LIGHT)
    positions = list(range(sequence.last + 1))
    frames = render_frames(scene, show, positions, 4, 1.0)
    assert len(frames.images) == len(positions) * 4
    assert frames.positions == [p for p in positions for _ in range(4)]
    # An independent still of each step (a fresh scene, its own area) equals the step's last frame.
    still_scene, still_show = offscreen_scene(trace, graph, sequence, LIGHT)
    for i, position in enumerate(positions):
        still_show(position)
        still = render_image(still_scene, 1.0, source_rect(still_scene))
        last = frames.images[i * 4 + 3]
        assert (last.width(), last.height()) == (still.width(), still.height())
        assert last == still, f"step {position}"
        first, step = frames.images[i * 4], sequence.steps[position]
        if step.node is None or step.node in graph:  # a drawn op: its tokens are on the way
            moving = step.phase in ("Forward", "Backward") and bool(step.edges)
            assert (first != last) == moving, f"step {position}"


def test_gif_durations_and_mp4_frame_count(qapp, tmp_path):
    import imageio_ffmpeg

    trace, graph, sequence = _setup("chain56")
    scene, show = offscreen_scene(trace, graph, sequence, LIGHT)
    frames = render_frames(scene, show, range(sequence.last + 1), 3, 0.5)
    gif = tmp_path / "pass.gif"
    gif.write_bytes(encode(frames.images, ".gif", 6))
    with Image.open(gif) as image:
        total = 0
        for k in range(image.n_frames):
            image.seek(k)
            total += image.info["duration"]
        size = image.size
    assert total == round(len(frames.images) * 1000 / 6, -1)  # no drift: GIF has 10 ms ticks
    assert size == (frames.images[0].width(), frames.images[0].height())
    mp4 = tmp_path / "pass.mp4"
    mp4.write_bytes(encode(frames.images, ".mp4", 6))
    count, _seconds = imageio_ffmpeg.count_frames_and_secs(str(mp4))
    assert count == len(frames.images)


def test_export_command_animates_and_refuses_bad_requests(tmp_path, capsys):
    assert main(["export", "lesson:square", "-o", str(tmp_path / "a.webp"), "--frames-per-step", "2"]) == 0
    with Image.open(tmp_path / "a.webp") as image:
        assert image.n_frames >= 2
    assert (
        main(
            [
                "export",
                "lesson:chain56",
                "-o",
                str(tmp_path / "f.png"),
                "--animate",
                "--frames-per-step",
                "2",
                "--from",
                "1",
                "--to",
                "2",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in tmp_path.glob("f_*.png")) == ["f_0001.png", "f_0002.png", "f_0003.png", "f_0004.png"]
    capsys.readouterr()
    assert main(["export", "lesson:square", "-o", str(tmp_path / "b.gif"), "--from", "end", "--to", "start"]) == 2
    assert "comes after" in capsys.readouterr().err
    assert main(["export", "lesson:square", "-o", str(tmp_path / "c.svg"), "--animate"]) == 2
    assert "Cannot animate" in capsys.readouterr().err
    assert main(["export", "lesson:square", "-o", str(tmp_path / "d.gif"), "--size", "big"]) == 2


def test_file_export_animation_in_the_app(qtbot, open_window, tmp_path):
    window = open_window()
    out = tmp_path / "pass.gif"
    assert window.menus.export_animation_to(str(out))
    with Image.open(out) as image:
        assert image.n_frames > 1
    assert "Exported" in window.statusBar().currentMessage()


def test_mp4_without_imageio_ffmpeg_says_what_to_install(qapp, monkeypatch):
    import sys

    from bpviz.core.errors import BpvizError

    trace, graph, sequence = _setup("square")
    scene, show = offscreen_scene(trace, graph, sequence, LIGHT)
    frames = render_frames(scene, show, range(2), 1, 0.5)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as in the desktop bundle
    with pytest.raises(BpvizError, match=r"pip install 'bpviz\[video\]'"):
        encode(frames.images, ".mp4", 4)
