"""Animated exports of the pass: GIF, WebP, APNG, MP4, or numbered PNG frames.

Each step becomes ``frames_per_step`` frames: for a forward or backward step the tokens travel
their edges (the same eased motion as in the app), and the step's last frame is exactly its still
export; other steps hold their still. Every frame covers the same scene area (the union over the
steps), is captioned with the step and its equation, and lasts 1/fps seconds. Pillow encodes
GIF, WebP and APNG; imageio-ffmpeg, which ships its own ffmpeg, encodes MP4 (H.264 needs even
sides, so frames are padded by a pixel where needed; it is the optional `video` extra). Files
are written atomically.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from bpviz.core.atomic import write_bytes
from bpviz.core.errors import BpvizError
from bpviz.gui.export import png_bytes, render_image, source_rect

if TYPE_CHECKING:
    from bpviz.core.stepper import StepSequence
    from bpviz.gui.graph_scene import GraphScene

ANIMATED = (".gif", ".webp", ".apng", ".mp4")
DEFAULT_FPS = 8
DEFAULT_FRAMES_PER_STEP = 8
# Largest side of an animation frame, in pixels (4K): every frame is held as an image until the
# file is encoded, so a frame at the still export's raster limit would fill memory.
MAX_FRAME_SIDE = 3840


@dataclass(frozen=True)
class Frames:
    """The rendered frames, and for each the position of the step it shows."""

    images: list[QImage]
    positions: list[int]
    scale: float = 1.0  # the scale drawn at, reduced from the one asked for to fit MAX_FRAME_SIDE


def render_frames(
    scene: GraphScene, show: Callable[[int], Any], positions: Sequence[int], frames_per_step: int, scale: float
) -> Frames:
    """Draw ``frames_per_step`` frames for each position; ``show(position)`` puts the scene at a
    step (state and caption) and returns its DisplayState."""
    if frames_per_step < 1:
        raise BpvizError(f"--frames-per-step must be 1 or more, got {frames_per_step}.")
    area = QRectF()
    for position in positions:  # one area for all frames: the union over the steps
        show(position)
        area = area.united(source_rect(scene))
    scale = min(scale, MAX_FRAME_SIDE / max(area.width(), area.height(), 1.0))
    images: list[QImage] = []
    shown: list[int] = []
    for position in positions:
        state = show(position)
        moving = frames_per_step > 1 and state.phase in ("Forward", "Backward")
        if moving:
            scene.animate_step(state)
            for k in range(frames_per_step - 1):
                scene.animator.seek((k + 1) / frames_per_step)
                images.append(render_image(scene, scale, area, tokens=True))
            scene.stop_animations()
            images.append(render_image(scene, scale, area))
        else:
            images.extend([render_image(scene, scale, area)] * frames_per_step)
        shown.extend([position] * frames_per_step)
    return Frames(images, shown, scale)


def _rgb(image: QImage, even: bool = False) -> tuple[bytes, int, int]:
    """The image as packed RGB bytes (padded to even sides with the background if ``even``)."""
    w, h = image.width(), image.height()
    if even and (w % 2 or h % 2):
        padded = QImage(w + w % 2, h + h % 2, QImage.Format.Format_RGB888)
        padded.fill(QColor(image.pixel(0, 0)))
        painter = QPainter(padded)
        painter.drawImage(0, 0, image)
        painter.end()
        image, w, h = padded, padded.width(), padded.height()
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    line = rgb.bytesPerLine()
    data = bytes(rgb.constBits())
    return b"".join(data[y * line : y * line + 3 * w] for y in range(h)), w, h


def encode(images: Sequence[QImage], ext: str, fps: int) -> bytes:
    """The frames as one animated file of type ``ext`` at ``fps`` frames a second."""
    if not images:
        raise BpvizError("There are no frames to export; check --from and --to.")
    if ext == ".mp4":
        return _mp4(images, fps)
    from PIL import Image

    pictures = []
    for image in images:
        data, w, h = _rgb(image)
        pictures.append(Image.frombytes("RGB", (w, h), data))
    out = io.BytesIO()
    first, rest = pictures[0], pictures[1:]
    if ext == ".gif":  # GIF counts in hundredths of a second
        first.save(out, "GIF", save_all=True, append_images=rest, duration=durations(len(pictures), fps, 10), loop=0)
    elif ext == ".webp":
        first.save(
            out,
            "WEBP",
            save_all=True,
            append_images=rest,
            duration=durations(len(pictures), fps, 1),
            loop=0,
            lossless=True,
        )
    elif ext == ".apng":
        first.save(out, "PNG", save_all=True, append_images=rest, duration=durations(len(pictures), fps, 1), loop=0)
    else:
        raise BpvizError(f"Cannot animate to '{ext}'; use .gif, .webp, .apng, .mp4 or .png frames.")
    return out.getvalue()


def durations(count: int, fps: int, tick_ms: int) -> list[int]:
    """Milliseconds per frame, in whole ``tick_ms``, so that frame k starts at k/fps seconds as
    nearly as the format can say (at 8 fps a GIF alternates 120 and 130 ms, never drifting)."""

    def at(k: int) -> int:
        return round(k * 1000 / fps / tick_ms) * tick_ms

    return [at(k + 1) - at(k) for k in range(count)]


def _mp4(images: Sequence[QImage], fps: int) -> bytes:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise BpvizError(
            "MP4 export needs the imageio-ffmpeg package (it brings its own ffmpeg): "
            "pip install 'bpviz[video]' (or imageio-ffmpeg), or export .gif, .webp or .apng."
        ) from None

    frames = [_rgb(image, even=True) for image in images]
    w, h = frames[0][1], frames[0][2]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "pass.mp4")
        writer = imageio_ffmpeg.write_frames(
            path,
            (w, h),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            quality=8,
            ffmpeg_log_level="error",
        )
        writer.send(None)  # start the encoder
        for data, fw, fh in frames:
            if (fw, fh) != (w, h):
                raise BpvizError("The frames differ in size; export again with a fixed --size.")
            writer.send(data)
        writer.close()
        return Path(path).read_bytes()


def write_animation(frames: Frames, path: str | os.PathLike[str], fps: int) -> list[Path]:
    """Write ``frames`` to ``path``: one animated file, or for ``.png`` numbered frames
    (``pass_0001.png``...). Returns the files written."""
    if fps < 1:
        raise BpvizError(f"--fps must be 1 or more, got {fps}.")
    out = Path(path)
    ext = out.suffix.lower()
    if ext == ".png":
        written = []
        for i, image in enumerate(frames.images, start=1):
            frame = out.with_name(f"{out.stem}_{i:04d}.png")
            write_bytes(frame, png_bytes(image))
            written.append(frame)
        return written
    if ext not in ANIMATED:
        raise BpvizError(f"Cannot animate to '{out.name}'; use .gif, .webp, .apng, .mp4, or .png for frames.")
    write_bytes(out, encode(frames.images, ext, fps))
    return [out]


def step_positions(sequence: StepSequence, first: int, last: int) -> list[int]:
    """Positions ``first``..``last`` (clamped, in order)."""
    first, last = max(0, first), min(sequence.last, last)
    if first > last:
        raise BpvizError(f"--from (step {first}) comes after --to (step {last}); swap them.")
    return list(range(first, last + 1))
