"""EdgeItem: a curve from the producer's bottom to the consumer's top, with an arrowhead and an
optional chain-rule label (a separate item, so labels stack above nodes while curves stay below).
"""

from __future__ import annotations

import weakref
from itertools import pairwise

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.items.style import colour, font, metrics, shared_colour
from bpviz.gui.items.zorder import CACHE_EDGE, LOD_SHAPE, LOD_TEXT, Z_EDGE, Z_EDGE_ACTIVE, Z_EDGE_LABEL
from bpviz.gui.theme import Theme

ARROW_LEN = 9.0
ARROW_HALF = 4.5
HIT_WIDTH = 10.0
LABEL_PAD_X = 6.0
LABEL_PAD_Y = 2.0
LABEL_SIDE_GAP = 3.0  # between a curve and a label placed beside it


class EdgeLabelItem(QGraphicsItem):
    """The text pill of one edge; positioned by the scene at a fraction along the edge."""

    def __init__(self, edge: EdgeItem):
        super().__init__()
        # A weak link back: edge <-> label would be a reference cycle, which only the cyclic
        # GC frees (and never, once frozen: see bpviz.gui.app); this way replacing a graph frees
        # its items at once.
        self._edge = weakref.ref(edge)
        self.text = ""
        self._size = (0.0, 0.0)
        self._bounds = QRectF()
        self.setZValue(Z_EDGE_LABEL)
        self.setVisible(False)

    def set_text(self, text: str, theme: Theme) -> None:
        """Show ``text`` (hide the pill when empty)."""
        self._theme = theme
        fm = metrics(theme, "edge")
        size = (fm.horizontalAdvance(text) + 2 * LABEL_PAD_X, fm.height() + 2 * LABEL_PAD_Y) if text else (0.0, 0.0)
        if size != self._size:
            self.prepareGeometryChange()
            self._size = size
            self._bounds = QRectF(-size[0] / 2, -size[1] / 2, size[0], size[1])
        self.text = text
        self.setVisible(bool(text))
        self.update()

    @property
    def edge(self) -> EdgeItem | None:
        """The edge this label belongs to (None once the edge is gone)."""
        return self._edge()

    def size(self) -> tuple[float, float]:
        """(width, height) of the pill."""
        return self._size

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        edge = self.edge
        if edge is None or not self.text or option.levelOfDetailFromTransform(painter.worldTransform()) < LOD_TEXT:
            return
        t = self._theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.boundingRect()
        painter.setPen(QPen(shared_colour(edge.current_colour(), 140), 1.0))
        painter.setBrush(shared_colour(t.label_background, 235))
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        painter.setFont(font(t, "edge"))
        painter.setPen(shared_colour(t.grad_text if edge.label_is_grad else t.text_muted))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)


class EdgeItem(QGraphicsItem):
    """A directed edge u -> v. Geometry comes from :meth:`set_geometry`, looks from
    :meth:`set_display`; it never reads the graph itself."""

    def __init__(self, u: str, v: str, attrs: dict, theme: Theme):
        super().__init__()
        self.u, self.v = u, v
        self.detached = attrs["detached"]
        self.label = EdgeLabelItem(self)
        self.label_is_grad = False
        self._theme = theme
        self._path = QPainterPath()
        self._arrow = QPolygonF()
        self._tip = QPointF()
        self._points: dict[float, QPointF] = {}
        self._bounds = QRectF()
        self._colour: str | None = None
        self._width = 1.4
        self._active = self._selected = self._dimmed = False
        # Where the label sits: (fraction along the curve, side: 0 on it, ±1 beside it); None
        # only while set_geometry moves the label.
        self._label_t: tuple[float, int] | None = (0.5, 0)
        self._display_key: tuple = ()
        self._plain_colour: QColor | None = None
        self._horizontal = False
        self.setZValue(Z_EDGE)
        self.setCacheMode(CACHE_EDGE)

    # ----------------------------------------------------------------------- geometry
    def set_geometry(self, start: QPointF, end: QPointF, waypoints=(), horizontal: bool = False) -> None:
        """Route the edge from ``start`` through ``waypoints`` to ``end`` (scene coordinates).

        Each stretch is a cubic with vertical tangents, so edges leave and enter boxes straight
        down and bend smoothly in between; ``horizontal`` (a left-to-right layout) turns the
        tangents and the arrow sideways.
        """
        self.prepareGeometryChange()
        self._horizontal = horizontal
        points = [QPointF(start), *(QPointF(p) for p in waypoints), QPointF(end)]
        tip = points[-1]
        # Stop the line at the arrow's base so the round cap does not poke through its tip.
        if horizontal:
            points[-1] = QPointF(tip.x() - ARROW_LEN + 1, tip.y())
        else:
            points[-1] = QPointF(tip.x(), tip.y() - ARROW_LEN + 1)
        path = QPainterPath(points[0])
        for a, b in pairwise(points):
            if horizontal:
                k = max(abs(b.x() - a.x()) / 2, 12.0)
                path.cubicTo(QPointF(a.x() + k, a.y()), QPointF(b.x() - k, b.y()), b)
            else:
                k = max(abs(b.y() - a.y()) / 2, 12.0)
                path.cubicTo(QPointF(a.x(), a.y() + k), QPointF(b.x(), b.y() - k), b)
        self._path = path
        self._points = {}
        self._tip = tip
        self._arrow = self._arrow_at(ARROW_HALF)
        # Room for the widest stroke (5 px), its glow and the widest arrowhead.
        self._bounds = path.boundingRect().united(self._arrow_at(9.0).boundingRect()).adjusted(-8, -8, 8, 8)
        spot, self._label_t = self._label_t, None
        assert spot is not None  # None only between these two lines
        self.place_label(*spot)

    def _arrow_at(self, half: float) -> QPolygonF:
        tip = self._tip
        if self._horizontal:
            return QPolygonF(
                [tip, QPointF(tip.x() - ARROW_LEN, tip.y() - half), QPointF(tip.x() - ARROW_LEN, tip.y() + half)]
            )
        return QPolygonF(
            [tip, QPointF(tip.x() - half, tip.y() - ARROW_LEN), QPointF(tip.x() + half, tip.y() - ARROW_LEN)]
        )

    def path(self) -> QPainterPath:
        """The curve in scene coordinates (tokens travel along it)."""
        return self._path

    def label_rect_at(self, t: float, side: int = 0) -> QRectF:
        """Where the label pill would sit at fraction ``t`` along the curve: centred on it, or
        beside it (``side`` -1 or 1: left or right of a downward edge, above or below a
        rightward one)."""
        w, h = self.label.size()
        c = self._label_centre(t, side)
        return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)

    def _label_centre(self, t: float, side: int) -> QPointF:
        c = self._point_at(t)
        if not side:
            return c
        w, h = self.label.size()
        if self._horizontal:
            return QPointF(c.x(), c.y() + side * (h / 2 + LABEL_SIDE_GAP))
        return QPointF(c.x() + side * (w / 2 + LABEL_SIDE_GAP), c.y())

    def _point_at(self, t: float) -> QPointF:
        # Label placement asks for the same few fractions on every step; curve lengths are slow.
        point = self._points.get(t)
        if point is None:
            point = self._points[t] = self._path.pointAtPercent(max(0.0, min(1.0, t)))
        return point

    def place_label(self, t: float, side: int = 0) -> None:
        """Move the label to fraction ``t`` along the curve, on it or beside it (``side``)."""
        if (t, side) == self._label_t:
            return  # set_geometry resets _label_t, so a new curve always moves the label
        self._label_t = (t, side)
        if not self._path.isEmpty():
            self.label.setPos(self._label_centre(t, side))

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds

    def shape(self) -> QPainterPath:  # noqa: D102 - a wide stroke, so thin edges are clickable
        stroker = QPainterPathStroker()
        stroker.setWidth(HIT_WIDTH)
        shape = stroker.createStroke(self._path)
        shape.addPolygon(self._arrow)
        return shape

    # ----------------------------------------------------------------------- display
    def set_theme(self, theme: Theme) -> None:
        """Restyle with another theme (the label keeps its text)."""
        self._theme = theme
        self._display_key = ()
        self._plain_colour = None
        self.label.set_text(self.label.text, theme)
        self.update()

    def set_display(
        self,
        label: str = "",
        colour_hex: str | None = None,
        width: float = 1.4,
        label_is_grad: bool = False,
        active: bool = False,
        selected: bool = False,
        dimmed: bool = False,
    ) -> None:
        """The look for the current step: label text, colour (None: theme default), width and
        highlight flags."""
        key = (label, colour_hex, width, label_is_grad, active, selected, dimmed)
        if key == self._display_key:
            return  # apply_state touches every edge; unchanged ones cost nothing
        self._display_key = key
        self._plain_colour = None
        self._colour, self._width = colour_hex, width
        self._active, self._selected, self._dimmed = active, selected, dimmed
        self.label_is_grad = label_is_grad
        self.label.set_text(label, self._theme)
        self.setZValue(Z_EDGE_ACTIVE if active or selected else Z_EDGE)
        self.setOpacity(0.15 if dimmed else 1.0)
        self.label.setOpacity(0.15 if dimmed else 1.0)
        self.update()

    def current_colour(self) -> str:
        """The stroke colour as drawn now."""
        t = self._theme
        if self._selected:
            return t.selection
        if self._colour:
            return self._colour  # a gradient colour stays readable; the glow marks activity
        if self._active:
            return t.active
        return t.edge_detached if self.detached else t.edge

    def current_width(self) -> float:
        """The stroke width as drawn now."""
        return max(self._width, 2.4) if self._active or self._selected else self._width

    def visual_state(self) -> tuple:
        """Everything that decides this edge's look; equal tuples mean identical pixels."""
        return (
            self.label.text,
            self.current_colour(),
            round(self.current_width(), 3),
            self.detached,
            self._active,
            self._selected,
            self._dimmed,
            self.label.pos().toTuple(),
        )

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_SHAPE:
            self._paint_plain(painter, lod)
            return
        t = self._theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = shared_colour(self.current_colour())
        width = self.current_width()
        if self._active or self._selected:
            glow = QPen(shared_colour(t.selection if self._selected else t.active, 80), width + 7)
            glow.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(glow)
            painter.drawPath(self._path)
        pen = QPen(c, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        if self.detached:
            pen.setDashPattern([4.0, 3.0])
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(c)
        # Thick (large-gradient) edges get a wider head so the arrow still reads as one.
        painter.drawPolygon(self._arrow_at(max(ARROW_HALF, width * 1.7)))

    def _paint_plain(self, painter: QPainter, lod: float) -> None:
        """Far zoomed out: the curve as a one-pixel line without antialiasing or arrowhead (the
        arrow is under a pixel there), as opaque as the real stroke covers that pixel, so it
        looks as it did antialiased."""
        c = self._plain_colour
        if c is None:
            c = self._plain_colour = colour(self.current_colour())
        c = QColor(c)
        c.setAlphaF(min(1.0, self.current_width() * lod))
        pen = QPen(c, 0)  # cosmetic: one device pixel
        if self.detached:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
