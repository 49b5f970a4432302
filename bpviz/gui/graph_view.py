"""GraphView: the canvas widget. Zoom with the wheel (under the mouse) and +/-, Ctrl+0 fits,
drag the background to pan; a click on empty space (without dragging) clears the selection.

Fit never shrinks text below the readable size (theme.readable_zoom): a graph too big for that
is shown at readable size from its start (or at a given spot), and a minimap in the corner shows
the whole of it whenever the view shows only part.

Smooth on 2,000-node graphs: nodes cache their painting (see items/zorder.py), the scene keeps a
BSP index, and the view repaints only what changed (SmartViewportUpdate) and never relayouts.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from bpviz.gui.minimap import Minimap
from bpviz.gui.theme import readable_zoom

MIN_ZOOM = 0.03
MAX_ZOOM = 8.0
FIT_MAX_ZOOM = 1.5  # fitting a tiny graph should not blow it up to poster size
FIT_ROOM = 0.97  # a fitted graph leaves a little room at the tightest side
ZOOM_STEP = 1.2
CLICK_SLOP = 4  # pixels a press may move and still count as a click
# Keys the main window uses for stepping; the view lets them through instead of scrolling.
_PASS_THROUGH = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Space}


class GraphView(QGraphicsView):
    """A QGraphicsView tuned for the graph scene. Signal: ``zoomChanged(float)`` (1.0 = 100%)."""

    zoomChanged = Signal(float)

    def __init__(self, scene: QGraphicsScene | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        # Items draw inside their bounding rects (margins included), so the view need not pad
        # every exposed rect by a pixel for antialiasing.
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        # No background cache: the background is one solid colour, cheaper to fill than a cached
        # viewport-sized pixmap is to render again after every zoom step.
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._press: QPoint | None = None
        self.minimap = Minimap(self)
        # Through our setScene (Qt's constructor would not call it): the minimap follows the
        # scene's changes (a new level of detail, an opened layer) only through its signals.
        if scene is not None:
            self.setScene(scene)

    # ------------------------------------------------------------------------ zoom
    def zoom(self) -> float:
        """The current zoom factor (1.0 = one scene pixel per screen pixel)."""
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        """Zoom to ``factor`` (clamped), keeping the view centre fixed."""
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self._scale_to(factor)
        self.setTransformationAnchor(anchor)

    def zoom_by(self, step: float) -> None:
        """Multiply the zoom by ``step`` (clamped), anchored under the mouse when it is over
        the view, else at the centre."""
        self._scale_to(max(MIN_ZOOM, min(MAX_ZOOM, self.zoom() * step)))

    def _scale_to(self, factor: float) -> None:
        current = self.zoom()
        if current > 0 and abs(factor - current) > 1e-9:
            self.scale(factor / current, factor / current)
            self._zoom_changed()

    def _zoom_changed(self) -> None:
        """Tell the scene (its items' caching depends on the zoom), then the listeners."""
        set_view_zoom = getattr(self.scene(), "set_view_zoom", None)
        if callable(set_view_zoom):
            set_view_zoom(self.zoom())
        self.minimap.sync()
        self.zoomChanged.emit(self.zoom())

    def setScene(self, scene) -> None:  # noqa: N802 - Qt API
        """Show ``scene`` at the current zoom."""
        old = self.scene()
        if old is not None:
            old.changed.disconnect(self._scene_changed)
            old.sceneRectChanged.disconnect(self._scene_changed)
        super().setScene(scene)
        set_view_zoom = getattr(scene, "set_view_zoom", None)
        if callable(set_view_zoom):
            set_view_zoom(self.zoom())
        if scene is not None:
            scene.changed.connect(self._scene_changed)
            scene.sceneRectChanged.connect(self._scene_changed)
        self.minimap.scene_changed()
        self.minimap.sync()

    def _scene_changed(self, *_args) -> None:
        self.minimap.scene_changed()
        self.minimap.sync()

    def zoom_in(self) -> None:
        """One zoom step in."""
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """One zoom step out."""
        self.zoom_by(1 / ZOOM_STEP)

    def readable_zoom(self) -> float:
        """The smallest zoom at which the scene's text is readable (see theme.readable_zoom)."""
        theme = getattr(self.scene(), "theme", None)
        return readable_zoom(theme()) if callable(theme) else 0.0

    def fits_readable(self, rect: QRectF) -> bool:
        """Whether ``rect`` (scene coordinates) fits the viewport at the readable zoom."""
        zoom = self.readable_zoom() / FIT_ROOM
        port = self.viewport().rect()
        return rect.width() * zoom <= port.width() and rect.height() * zoom <= port.height()

    def fit(self, focus: QRectF | None = None) -> None:
        """Show the whole scene (graph and legend), at most at 150% and never below the
        readable zoom. A scene too big for that is shown at the readable zoom around ``focus``
        (a scene rectangle; by default the current step's node marked with :meth:`set_marker`),
        else from its start: the top left, where the forward pass begins; the minimap then
        shows the whole."""
        scene = self.scene()
        if scene is None:
            return
        rect = scene.sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        # fitInView measures the viewport as it is (scroll bars included) and keeps margins of
        # its own: its fit could overflow by a few pixels and leave a scroll bar for nothing.
        fitted = min(self.zoom() * FIT_ROOM, FIT_MAX_ZOOM)
        floor = self.readable_zoom()
        focus = focus if focus is not None else self.minimap.marker()
        self.set_zoom(max(fitted, floor))
        if fitted >= floor:
            self.centerOn(rect.center())
        elif focus is not None:
            self.centerOn(focus.center())
        else:
            self.centerOn(self._start_of(rect))
        self._zoom_changed()

    def _start_of(self, rect: QRectF) -> QPointF:
        """The view centre that shows ``rect``'s top-left part: on each axis, centred where the
        rect fits the viewport, else at its start."""
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        x = rect.center().x() if rect.width() <= shown.width() else rect.left() + shown.width() / 2
        y = rect.center().y() if rect.height() <= shown.height() else rect.top() + shown.height() / 2
        return QPointF(x, y)

    def show_spot(self, rect: QRectF, margin: float = 60.0) -> None:
        """Scroll just enough that ``rect`` (a node) is in view and not under the minimap."""
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        hidden = self.minimap.isVisible() and self.mapFromScene(rect).boundingRect().intersects(
            self.minimap.geometry().translated(-self.viewport().pos())
        )
        if hidden:
            self.centerOn(rect.center())
        elif not visible.contains(rect):
            self.ensureVisible(rect, int(margin), int(margin))

    def set_marker(self, rect: QRectF | None) -> None:
        """The current step's node (scene rectangle), marked on the minimap; None: no mark."""
        self.minimap.set_marker(rect)

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 - Qt API
        """Scrolling moves the minimap's frame."""
        super().scrollContentsBy(dx, dy)
        self.minimap.sync()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        """The minimap stays in its corner (and goes when the graph now fits)."""
        super().resizeEvent(event)
        self.minimap.sync()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        """The wheel zooms (under the mouse); trackpad pixel deltas zoom proportionally."""
        delta = event.angleDelta().y()
        if delta == 0:
            return super().wheelEvent(event)
        self.zoom_by(ZOOM_STEP ** (delta / 120))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        """+/= zoom in, - zooms out, Ctrl+0 fits; stepping keys pass through to the window."""
        key, mods = event.key(), event.modifiers()
        if key == Qt.Key.Key_0 and mods & Qt.KeyboardModifier.ControlModifier:
            self.fit()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key in _PASS_THROUGH:
            event.ignore()
            return
        else:
            return super().keyPressEvent(event)
        event.accept()

    # ------------------------------------------------------------------------ clicks
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Remember presses on empty space: released without a drag, they clear the selection."""
        pos = event.position().toPoint()
        self._press = pos if event.button() == Qt.MouseButton.LeftButton and self._is_empty(pos) else None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        """A click (no drag) on empty space clears the scene's selection."""
        super().mouseReleaseEvent(event)
        # The scene has no mouse grabber (clicks select on press), so nobody else accepts it.
        event.accept()
        press, self._press = self._press, None
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if (event.position().toPoint() - press).manhattanLength() <= CLICK_SLOP:
            clear = getattr(self.scene(), "clear_selection", None)
            if callable(clear):
                clear()

    def _is_empty(self, pos: QPoint) -> bool:
        scene = self.scene()
        if scene is None:
            return True
        point = self.mapToScene(pos)
        # scene.items() tests item shapes, so a thin edge only counts where its stroke is.
        return not any(
            item.acceptedMouseButtons() & Qt.MouseButton.LeftButton and item.isVisible() for item in scene.items(point)
        )
