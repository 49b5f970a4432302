"""Measuring and drawing one tensor inside a node: a number, a table, a heatmap or a summary.

:class:`TensorPainter` holds the fonts and metrics of one theme; NodeItem asks it for sizes when
it measures (before layout) and for drawing when it paints, so both always agree.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPen

from bpviz.gui.items.heatmap import heat_image
from bpviz.gui.items.style import font, metrics, shared_colour
from bpviz.gui.theme import Theme
from bpviz.presentation.format import TensorDisplay

HEAT_CELL = 12.0
HEAT_MAX_W = 168.0
HEAT_MAX_H = 96.0
PAIR_MAX_W = 120.0  # each heatmap of a value | grad pair
PAIR_GAP = 14.0
COL_GAP = 8.0
ROLES = ("title", "small", "value", "table")
# Qt measures text in 1/64 px (QFixed): a text at least this much narrower than the room it is
# given fits whichever way Qt rounds the room.
_FIXED_STEP = 1 / 64
# Remembered text widths per theme: a graph repeats many texts (a node's value line is measured
# when it is sized and again when it is drawn); the bound keeps a long training session small.
_WIDTHS_MAX = 50_000


def heat_cell(disp: TensorDisplay, max_w: float = HEAT_MAX_W) -> float:
    """The side of one heatmap cell, so the map fits ``max_w`` × HEAT_MAX_H."""
    return min(HEAT_CELL, max_w / max(1, len(disp.matrix[0])), HEAT_MAX_H / max(1, len(disp.matrix)))


def heat_size(disp: TensorDisplay, max_w: float = HEAT_MAX_W) -> tuple[float, float]:
    """(width, height) of the heatmap of ``disp``."""
    cell = heat_cell(disp, max_w)
    return cell * len(disp.matrix[0]), cell * len(disp.matrix)


class TensorPainter:
    """Fonts, metrics and the measure/draw routines of one theme."""

    def __init__(self, theme: Theme):
        self.theme = theme
        self.fonts = {r: font(theme, r) for r in ROLES}
        self.fm = {r: metrics(theme, r) for r in ROLES}
        self._widths: dict[tuple[str, str], float] = {}

    def width(self, text: str, role: str) -> float:
        """Advance width of ``text`` in a role's font."""
        key = (text, role)
        w = self._widths.get(key)
        if w is None:
            if len(self._widths) >= _WIDTHS_MAX:
                self._widths.clear()
            w = self._widths[key] = self.fm[role].horizontalAdvance(text)
        return w

    def elided(self, text: str, role: str, width: float, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> str:
        """``text`` as QFontMetricsF.elidedText shortens it to ``width``; a text that fits is
        returned as it is without laying it out again (nearly every text does)."""
        if self.width(text, role) <= width - _FIXED_STEP:
            return text
        return self.fm[role].elidedText(text, mode, width)

    def line_height(self, role: str) -> float:
        """Line height of a role's font."""
        return self.fm[role].height()

    def col_widths(self, disp: TensorDisplay) -> list[float]:
        """Widths of the table columns of ``disp``."""
        cols = max(len(r) for r in disp.rows)
        return [max(self.width(r[c], "table") for r in disp.rows if c < len(r)) for c in range(cols)]

    def size(self, disp: TensorDisplay, prefix: str) -> tuple[float, float]:
        """Width and height of ``disp`` drawn as a block with a ``prefix`` (e.g. "grad = ")."""
        small = self.line_height("small")
        if disp.mode in ("scalar", "none"):
            return self.width(prefix + disp.text, "value"), self.line_height("value")
        if disp.mode == "table":
            width = sum(self.col_widths(disp)) + COL_GAP * (max(len(r) for r in disp.rows) - 1)
            caption = small if prefix else 0.0
            return max(width, self.width(prefix, "small")), caption + len(disp.rows) * self.line_height("table")
        head = self.width(prefix + disp.text, "small")
        if disp.mode == "heatmap":
            w, h = heat_size(disp)
            return max(head, w), small + 2 + h
        return head, small

    def text(self, painter: QPainter, rect: QRectF, text: str, role: str, c: str) -> None:
        """One line of text, elided at the right to fit ``rect``."""
        painter.setFont(self.fonts[role])
        painter.setPen(shared_colour(c))
        painter.drawText(
            rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.elided(text, role, rect.width() + 0.5),
        )

    def line(self, rect: QRectF, role: str, index: int = 0) -> QRectF:
        """The ``index``-th line of a role's height inside ``rect``."""
        h = self.line_height(role)
        return QRectF(rect.x(), rect.y() + index * h, rect.width(), h)

    def draw(self, painter: QPainter, r: QRectF, disp: TensorDisplay, prefix: str, c: str) -> None:
        """Draw ``disp`` as measured by :meth:`size` into ``r``."""
        if disp.mode in ("scalar", "none"):
            self.text(painter, r, prefix + disp.text, "value", c)
            return
        if disp.mode == "summary":
            self.text(painter, r, prefix + disp.text, "small", c)
            return
        y = r.y()
        if disp.mode == "table":
            if prefix:
                self.text(painter, self.line(r, "small"), prefix.strip(), "small", c)
                y += self.line_height("small")
            painter.setFont(self.fonts["table"])
            painter.setPen(shared_colour(c))
            row_h = self.line_height("table")
            widths = self.col_widths(disp)
            for row in disp.rows:
                x = r.x()
                for cell, w in zip(row, widths):
                    # Right-aligned cells line the digits up like a printed matrix.
                    painter.drawText(
                        QRectF(x, y, w, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, cell
                    )
                    x += w + COL_GAP
                y += row_h
            return
        self.text(painter, self.line(r, "small"), prefix + disp.text, "small", c)
        self.heatmap(painter, r.x(), y + self.line_height("small") + 2, disp)

    def heatmap(self, painter: QPainter, x: float, y: float, disp: TensorDisplay, max_w: float = HEAT_MAX_W) -> None:
        """The heatmap of ``disp`` with its top-left corner at (x, y), framed."""
        w, h = heat_size(disp, max_w)
        target = QRectF(x, y, w, h)
        # One image pixel per cell, scaled up without smoothing: one draw call per heatmap, and
        # an SVG/PDF export embeds a tiny image instead of thousands of rectangles.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, heat_image(self.theme, disp))
        painter.setPen(QPen(shared_colour(self.theme.grid), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target)


@lru_cache(maxsize=8)
def painter_for(theme: Theme) -> TensorPainter:
    """The shared TensorPainter of a theme (fonts and metrics are read-only once built)."""
    return TensorPainter(theme)
