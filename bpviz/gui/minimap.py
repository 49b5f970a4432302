"""Minimap: a small overview of the whole graph in a corner of the canvas.

It shows up only when the graph does not fit the view (the view keeps text readable instead of
shrinking it), draws the whole scene small, the part the view shows as a frame, and the current
step's node as a dot; a click or a drag moves the view there.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsView, QWidget

MAX_W = 220  # the overview's largest size in screen pixels
MAX_H = 170
MIN_SIDE = 48  # a very long graph still gets a strip wide enough to click
CORNER = 12  # distance from the view's bottom-right corner
BORDER = 1
REDRAW_DELAY_MS = 150  # the scene changes in bursts (a step restyles many items): draw once after
EMPTY_MARGIN = 36.0  # scene units around the graph that may be out of view without an overview


class Minimap(QWidget):
    """An overview of ``view``'s scene, a child of the view shown over its bottom-right corner.

    The view calls :meth:`sync` whenever what it shows changes (zoom, scroll, size, scene); the
    canvas tells it the current step's node with :meth:`set_marker`.
    """

    def __init__(self, view: QGraphicsView):
        super().__init__(view)
        self.setObjectName("minimap")
        self._view = view
        self._pixmap = QPixmap()
        self._content_drawn = QRectF()  # the content rectangle the pixmap was drawn for
        # The scene's content rectangle, kept between scene changes: scrolling and zooming call
        # sync several times a frame, and measuring every box and label each time was most of it.
        self._content_known: QRectF | None = None
        self._source = QRectF()  # the scene rectangle the pixmap shows (content, padded to shape)
        self._marker: QRectF | None = None
        self._colours = ("#ffffff", "#1f2933", "#f29d0c")  # surface, frame, marker
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_DELAY_MS)
        self._redraw.timeout.connect(self._render)
        self.hide()

    # ------------------------------------------------------------------ state
    def needed(self) -> bool:
        """Whether the view shows less than the whole graph (then the overview is shown)."""
        scene = self._view.scene()
        if scene is None:
            return False
        content = self._content()
        if content.isEmpty():
            return False
        visible = self._view.mapToScene(self._view.viewport().rect()).boundingRect()
        # The content's empty margin may be cut off: an overview over a graph the user sees
        # whole would only hide part of it.
        slack = min(EMPTY_MARGIN, content.width() / 4, content.height() / 4)
        return not visible.contains(content.adjusted(slack, slack, -slack, -slack))

    def sync(self) -> None:
        """Show or hide the overview as needed, keep it in its corner and redraw its frame."""
        if not self.needed():
            self.hide()
            return
        content = self._content()
        size = _fitted(content.size().toSize())
        port = self._view.viewport().geometry()
        self.setGeometry(
            port.right() - CORNER - size.width(), port.bottom() - CORNER - size.height(), size.width(), size.height()
        )
        if content != self._content_drawn or self._pixmap.deviceIndependentSize() != self._inner().size():
            self._render()
        if not self.isVisible():
            self.show()
            self.raise_()
        self.update()

    def scene_changed(self) -> None:
        """The scene's items changed (a step, a theme): draw the overview again soon."""
        self._content_known = None
        if self.isVisible():
            self._redraw.start()

    def set_marker(self, rect: QRectF | None) -> None:
        """Mark this scene rectangle (the current step's node) with a dot; None: no mark."""
        if rect != self._marker:
            self._marker = QRectF(rect) if rect is not None else None
            self.update()

    def drawn_content(self) -> QRectF:
        """The scene rectangle the overview was last drawn for (empty before the first)."""
        return QRectF(self._content_drawn)

    def marker(self) -> QRectF | None:
        """The scene rectangle marked as the current step's node (None: none)."""
        return QRectF(self._marker) if self._marker is not None else None

    def set_colours(self, surface: str, frame: str, marker: str) -> None:
        """The panel's background, the view frame's and the marker's colours (from the theme)."""
        self._colours = (surface, frame, marker)
        self.scene_changed()
        self.update()

    def visible_frame(self) -> QRectF:
        """The view's visible part as drawn on the overview (widget coordinates)."""
        visible = self._view.mapToScene(self._view.viewport().rect()).boundingRect()
        return self._to_map(visible).intersected(self._inner())

    # ------------------------------------------------------------------ geometry
    def _content(self) -> QRectF:
        if self._content_known is None:
            scene = self._view.scene()
            content = getattr(scene, "content_rect", None)
            self._content_known = content() if callable(content) else scene.sceneRect()
        return self._content_known

    def _inner(self) -> QRectF:
        return QRectF(self.rect()).adjusted(BORDER, BORDER, -BORDER, -BORDER)

    def _to_map(self, r: QRectF) -> QRectF:
        src, dst = self._source, self._inner()
        if src.isEmpty():
            return QRectF()
        sx, sy = dst.width() / src.width(), dst.height() / src.height()
        return QRectF(
            dst.left() + (r.left() - src.left()) * sx,
            dst.top() + (r.top() - src.top()) * sy,
            r.width() * sx,
            r.height() * sy,
        )

    def to_scene(self, p: QPointF) -> QPointF:
        """The scene point under the overview's point ``p`` (widget coordinates)."""
        src, dst = self._source, self._inner()
        return QPointF(
            src.left() + (p.x() - dst.left()) * src.width() / dst.width(),
            src.top() + (p.y() - dst.top()) * src.height() / dst.height(),
        )

    # ------------------------------------------------------------------ painting
    def _render(self) -> None:
        """Draw the whole graph small into the cached pixmap: edges as hairlines in their
        current colour, boxes filled with their kind's colour (text would be dots here)."""
        scene = self._view.scene()
        content = self._content_drawn = self._content()
        inner = self._inner()
        self._source = _padded_to(content, inner.width() / max(1.0, inner.height()))
        if scene is None or inner.isEmpty() or self._source.isEmpty():
            self._pixmap = QPixmap()
            return
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap((inner.size() * ratio).toSize())
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(QColor(self._colours[0]))
        painter = QPainter(pixmap)
        try:
            k = inner.width() / self._source.width()
            painter.scale(k, k)
            painter.translate(-self._source.topLeft())
            _draw_overview(painter, scene)
        finally:
            painter.end()
        self._pixmap = pixmap
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        """The overview, the view's frame and the current step's dot."""
        surface, frame, marker = self._colours
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(frame), BORDER))
        painter.setBrush(QColor(surface))
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        inner = self._inner()
        if not self._pixmap.isNull():
            painter.drawPixmap(inner.topLeft(), self._pixmap)
        view = self.visible_frame()
        if not view.isEmpty():
            fill = QColor(frame)
            fill.setAlpha(28)
            painter.setBrush(fill)
            painter.setPen(QPen(QColor(frame), 1.5))
            painter.drawRect(view)
        if self._marker is not None:
            centre = self._to_map(self._marker).center()
            painter.setPen(QPen(QColor(surface), 1.5))
            painter.setBrush(QColor(marker))
            painter.drawEllipse(centre, 4.5, 4.5)
        painter.end()

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """Move the view to the point clicked."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._view.centerOn(self.to_scene(event.position()))
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """The press moved the view already; the release is ours too (not the canvas's)."""
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """Dragging keeps the view under the pointer."""
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._view.centerOn(self.to_scene(event.position()))
            event.accept()


def _fitted(content: QSize) -> QSize:
    """The overview's size: ``content``'s aspect within MAX_W x MAX_H, no side under MIN_SIDE."""
    w, h = max(1, content.width()), max(1, content.height())
    k = min(MAX_W / w, MAX_H / h)
    return QSize(max(MIN_SIDE, round(w * k)), max(MIN_SIDE, round(h * k)))


def _padded_to(r: QRectF, aspect: float) -> QRectF:
    """``r`` grown around its centre to the width/height ratio ``aspect``."""
    if r.isEmpty():
        return QRectF(r)
    w, h = r.width(), r.height()
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    out = QRectF(0, 0, w, h)
    out.moveCenter(r.center())
    return out


def _draw_overview(painter: QPainter, scene) -> None:
    """The graph scene's edges and boxes, simplified; any other scene is rendered as is."""
    if not all(hasattr(scene, name) for name in ("node_ids", "node_item", "edge_item", "graph", "theme")):
        scene.render(painter, scene.sceneRect(), scene.sceneRect())
        return
    theme = scene.theme()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for u, v in scene.graph.edges:
        edge = scene.edge_item(u, v)
        pen = QPen(QColor(edge.current_colour()), 0)  # cosmetic: one device pixel
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(edge.path())
    painter.setPen(Qt.PenStyle.NoPen)
    for n in scene.node_ids():
        item = scene.node_item(n)
        painter.setBrush(QColor(theme.kind_style(item.kind).accent))
        painter.drawRect(item.scene_rect())
    legend = getattr(scene, "legend", None)
    if legend is not None and legend.isVisible():
        painter.setPen(QPen(QColor(theme.text_muted), 0))
        painter.setBrush(QColor(theme.surface))
        painter.drawRect(legend.sceneBoundingRect())
