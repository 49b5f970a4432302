"""Export the whole graph scene (not only the visible part) as PNG, SVG or PDF, or to the clipboard.

The app's File > Export and the headless ``bpviz export`` both call :func:`export_scene`, so the
file matches what the canvas draws. Rendering happens with item caches off (vector formats must
get vectors, not cached pixmaps), tokens hidden and the legend shown.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from bpviz.core.atomic import write_bytes
from bpviz.core.errors import BpvizError

FORMATS = (".png", ".svg", ".pdf")
# Raster limits: QPainter's raster engine and most image viewers cope up to here. Larger exports
# are scaled down to fit (the vector formats have no such limit).
MAX_SIDE = 16384
MAX_PIXELS = 120_000_000
MARGIN = 24.0
_HINTS = (
    QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing | QPainter.RenderHint.SmoothPixmapTransform
)


@dataclass(frozen=True)
class ExportResult:
    """What was written: the path, the size in pixels (points for PDF) and the scale used."""

    path: Path
    width: int
    height: int
    scale: float


def source_rect(scene: QGraphicsScene) -> QRectF:
    """The scene area an export covers: every item (GraphScene: graph, labels, legend) + margin."""
    content = getattr(scene, "content_rect", None)
    rect = content() if callable(content) else scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    if rect.isEmpty():
        rect = QRectF(0, 0, 100, 100)
    return rect


@contextmanager
def _export_mode(scene: QGraphicsScene, tokens: bool = False):
    """Tokens hidden (unless ``tokens``: an animation frame), legend visible, caches off;
    everything restored afterwards."""
    # No token exists before its module is loaded (GraphScene imports it with its animator).
    token_module = sys.modules.get("bpviz.gui.items.token_item") if not tokens else None
    token_type = token_module.TokenItem if token_module is not None else ()
    saved = []
    for item in scene.items():
        saved.append((item, item.cacheMode(), item.isVisible()))
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        if isinstance(item, token_type):
            item.setVisible(False)
    legend = getattr(scene, "legend", None)
    if legend is not None:
        legend.setVisible(True)
    try:
        yield
    finally:
        for item, mode, visible in saved:
            item.setCacheMode(mode)
            item.setVisible(visible)


def _check_path(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in FORMATS:
        shown = ext or "no extension"
        raise BpvizError(f"Cannot export to '{path.name}' ({shown}); use a .png, .svg or .pdf file name.")
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise BpvizError(f"'{path}' is a folder; give a file name such as graph{ext}.")
    if not parent.is_dir():
        raise BpvizError(f"Cannot write '{path}': the folder '{parent}' does not exist.")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BpvizError(f"Cannot write '{path}': permission denied; choose another folder.")
    return ext


def _background(scene: QGraphicsScene) -> QColor:
    brush = scene.backgroundBrush()
    return brush.color() if brush.style() != Qt.BrushStyle.NoBrush else QColor("#ffffff")


def fit_scale(rect: QRectF, scale: float) -> float:
    """``scale``, reduced if needed so the image stays within the raster limits."""
    if not scale > 0:
        raise BpvizError(f"The export scale must be a positive number, got {scale}.")
    # Bounds on the scale itself, not on scaled sizes: rect.width() * 1e300 squared overflows
    # to inf, which once shrank the image to one pixel.
    w, h = max(rect.width(), 1e-9), max(rect.height(), 1e-9)
    return min(scale, MAX_SIDE / max(w, h), (MAX_PIXELS / (w * h)) ** 0.5)


def render_image(scene: QGraphicsScene, scale: float = 2.0, rect: QRectF | None = None, tokens: bool = False) -> QImage:
    """The whole scene (or ``rect`` of it) as an image at ``scale`` (reduced to fit the raster
    limits); ``tokens`` draws the travelling tokens too (animation frames)."""
    rect = rect if rect is not None else source_rect(scene)
    scale = fit_scale(rect, scale)
    image = QImage(
        max(1, round(rect.width() * scale)),
        max(1, round(rect.height() * scale)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.fill(_background(scene))
    # Let viewers show the image at its logical size: 96 dpi times the scale.
    dots_per_metre = round(96 * scale / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    with _export_mode(scene, tokens):
        painter = QPainter(image)
        try:
            painter.setRenderHints(_HINTS)
            scene.render(painter, QRectF(image.rect()), rect, Qt.AspectRatioMode.IgnoreAspectRatio)
        finally:
            painter.end()
    return image


def _render_vector(scene: QGraphicsScene, device, rect: QRectF, target: QRectF) -> None:
    with _export_mode(scene):
        painter = QPainter()
        if not painter.begin(device):
            raise BpvizError("Cannot start drawing the export; check that the file can be written.")
        try:
            painter.setRenderHints(_HINTS)
            painter.fillRect(target, _background(scene))
            scene.render(painter, target, rect, Qt.AspectRatioMode.IgnoreAspectRatio)
        finally:
            painter.end()


def export_scene(scene: QGraphicsScene, path, scale: float = 2.0) -> ExportResult:
    """Write the whole scene to ``path``; the extension (.png, .svg, .pdf) picks the format.

    ``scale`` applies to PNG (2.0: two image pixels per scene pixel). Raises BpvizError for an
    unknown extension, a missing or unwritable folder, or a failed write.
    """
    path = Path(path)
    ext = _check_path(path)
    rect = source_rect(scene)
    w, h = rect.width(), rect.height()
    if ext == ".png":
        image = render_image(scene, scale)
        write_bytes(path, png_bytes(image))
        return ExportResult(path, image.width(), image.height(), image.width() / w)
    if ext == ".svg":
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        gen = QSvgGenerator()
        gen.setOutputDevice(buffer)
        gen.setSize(QSize(round(w), round(h)))
        gen.setViewBox(QRectF(0, 0, w, h))
        gen.setTitle(getattr(scene, "title", "") or "bpviz graph")
        gen.setDescription("Exported by bpviz")
        _render_vector(scene, gen, rect, QRectF(0, 0, w, h))
        del gen
        write_bytes(path, lean_svg(bytes(buffer.data().data())))
    else:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(buffer)
        writer.setCreator("bpviz")
        writer.setTitle(getattr(scene, "title", "") or "bpviz graph")
        # One PDF point per scene pixel: the page is exactly the graph, with no margins.
        writer.setResolution(72)
        writer.setPageSize(QPageSize(QSizeF(w, h), QPageSize.Unit.Point, "bpviz", QPageSize.SizeMatchPolicy.ExactMatch))
        writer.setPageMargins(QMarginsF(0, 0, 0, 0))
        _render_vector(scene, writer, rect, QRectF(0, 0, w, h))
        del writer  # ends the document in the buffer
        write_bytes(path, bytes(buffer.data().data()))
    return ExportResult(path, round(w), round(h), 1.0)


def png_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG, in memory (written to disk in one atomic step)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs type the format as bytes, but PySide6 (6.11) accepts only a str there.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise BpvizError("Cannot encode the image as PNG; it may be too large. Try a smaller scale.")
    return bytes(buffer.data().data())


# What QSvgGenerator writes in vain: a group with nothing inside at every painter state change
# (about 40% of its groups), and on a <text> the font attributes its group sets already.
# Bytes, not text: the generator writes UTF-8, whose multi-byte characters never contain these
# ASCII patterns, and the file is written as it comes (no decoding and encoding 1.4 MB).
_EMPTY_GROUP = re.compile(rb"<g\b[^>]*>\s*</g>\s*")
_GROUP_FONT_TEXT = re.compile(
    rb'(\n(font-family="[^"]*" font-size="[^"]*" font-weight="[^"]*" '
    rb'font-style="[^"]*") \n>\n<text [^>]*?) \2'
)


def lean_svg(svg: bytes) -> bytes:
    """QSvgGenerator's output (UTF-8) without its empty groups, and without the font attributes
    a ``<text>`` inherits from its group (SVG inheritance). Draws exactly the same; a quarter
    smaller. Output laid out otherwise is left as it is."""
    return _GROUP_FONT_TEXT.sub(rb"\1", _EMPTY_GROUP.sub(b"", svg))


def copy_to_clipboard(scene: QGraphicsScene, scale: float = 2.0) -> QImage:
    """Put the whole scene on the clipboard as an image; returns the image."""
    image = render_image(scene, scale)
    QGuiApplication.clipboard().setImage(image)
    return image


def offscreen_scene(trace: Any, graph: Any, sequence: Any, theme: Any) -> tuple[Any, Callable[[int], Any]]:
    """A GraphScene of ``graph`` (the drawn view of ``trace``) for exports, and ``show(position)``
    that puts it at a step, captioned as the step bar captions it; returns the DisplayState."""
    from bpviz.gui.graph_scene import GraphScene
    from bpviz.presentation.captions import step_subtitle
    from bpviz.presentation.view_mapping import ViewMap

    scene = GraphScene(theme)
    scene.set_graph(graph, trace.loss_node, trace.diagnostics, theme, sequence.lr)
    view_map = ViewMap(graph)

    def show(position: int) -> Any:
        state = sequence.state_at(position)
        scene.apply_state(state, trace, lr=sequence.lr)
        node = state.step.node
        box = view_map.view_of(node) if node is not None and node not in graph else None
        caption = scene.policy().caption(sequence, position)
        scene.set_caption(
            trace.title,
            step_subtitle(
                caption, state.phase, position, sequence.last, graph.nodes[box]["name"] if box is not None else None
            ),
        )
        return state

    return scene, show
