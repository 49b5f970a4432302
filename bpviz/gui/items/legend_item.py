"""LegendItem: node kinds, text colours, diagnostic badges and the gradient colour scale.

It lives in the scene (top-left origin) so an export of the whole scene carries it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.items.badge_item import BADGE_SYMBOLS
from bpviz.gui.items.style import colour, font, metrics
from bpviz.gui.items.zorder import CACHE_LEGEND, LOD_TEXT, Z_LEGEND
from bpviz.gui.theme import GRAD_LOG_MAX, GRAD_LOG_MIN, Theme, grad_level, grad_width
from bpviz.presentation.roles import VARIABLE

KIND_LABELS = {
    "input": "input",
    "variable": "variable (the update changes it)",
    "param": "parameter",
    "constant": "constant",
    "op": "operation",
    "loss": "loss",
    "group": "module (collapsed)",
}
DIAG_LABELS = {
    "none_grad": "no gradient",
    "nonfinite": "NaN / Inf",
    "exploding": "exploding gradient",
    "vanishing": "vanishing gradient",
    "dead_relu": "dead ReLU units",
    "several_outputs": "several outputs (each edge its own)",
}
PAD = 12.0
ROW = 19.0
BAR_W = 150.0
BAR_H = 8.0
WRAP = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)


class LegendItem(QGraphicsItem):
    """A framed legend; :meth:`set_content` chooses which kinds and diagnostics it lists."""

    def __init__(self, theme: Theme):
        super().__init__()
        self._theme = theme
        self._kinds: tuple[str, ...] = ()
        self._diags: tuple[str, ...] = ()
        self._caption: tuple[str, str] = ("", "")
        self._caption_h: tuple[float, ...] = (0.0, 0.0)
        self._size = (0.0, 0.0)
        self.setZValue(Z_LEGEND)
        self.setCacheMode(CACHE_LEGEND)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._measure()

    def set_content(self, kinds, diagnostics) -> None:
        """List these node kinds and diagnostic kinds (in the canonical order)."""
        self._kinds = tuple(k for k in KIND_LABELS if k in set(kinds))
        self._diags = tuple(d for d in DIAG_LABELS if d in set(diagnostics))
        self._measure()
        self.update()

    def set_caption(self, title: str = "", subtitle: str = "") -> None:
        """A title (e.g. the lesson) and a subtitle (e.g. the step) shown above the legend, so an
        exported image says what it shows."""
        self._caption = (title, subtitle)
        self._measure()
        self.update()

    def caption(self) -> tuple[str, str]:
        """The (title, subtitle) shown."""
        return self._caption

    def set_theme(self, theme: Theme) -> None:
        """Repaint in another theme."""
        self._theme = theme
        self._measure()
        self.update()

    def texts(self) -> list[str]:
        """The labels the legend shows (for tests)."""
        return (
            [c for c in self._caption if c]
            + ["Nodes", *(KIND_LABELS[k] for k in self._kinds), "value", "grad", "update"]
            + (["Diagnostics", *(DIAG_LABELS[d] for d in self._diags)] if self._diags else [])
            + ["Edge gradient |g|", "1e-6", "1e-3", "1", "100"]
        )

    def _measure(self) -> None:
        fm = metrics(self._theme, "legend")
        widest = max(fm.horizontalAdvance(s) for s in self.texts()[len([c for c in self._caption if c]) :]) + 30
        width = max(BAR_W + 40, widest) + 2 * PAD
        self._caption_h = tuple(
            self._wrapped_height(text, role, width - 2 * PAD)
            for text, role in zip(self._caption, ("legend_title", "legend"))
        )
        caption = sum(self._caption_h) + (10 if any(self._caption) else 0)
        rows = 1 + len(self._kinds) + 1 + (1 + len(self._diags) if self._diags else 0)
        height = PAD + caption + rows * ROW + 6 + ROW + BAR_H + 8 + ROW + PAD
        if (width, height) != self._size:
            self.prepareGeometryChange()
            self._size = (width, height)

    def _wrapped_height(self, text: str, role: str, width: float) -> float:
        if not text:
            return 0.0
        fm = metrics(self._theme, role)
        return fm.boundingRect(QRectF(0, 0, width, 10000), WRAP, text).height() + 2

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(0, 0, *self._size)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        t = self._theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour(t.grid), 1.0))
        painter.setBrush(colour(t.surface, 240))
        painter.drawRoundedRect(self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < LOD_TEXT:
            return  # unreadable this far out; its cached pixmap would be drawn again per zoom
        y = PAD
        inner = self._size[0] - 2 * PAD
        for text, role, h, c in zip(self._caption, ("legend_title", "legend"), self._caption_h, (t.text, t.text_muted)):
            if text:
                painter.setFont(font(t, role))
                painter.setPen(colour(c))
                painter.drawText(QRectF(PAD, y, inner, h), WRAP, text)
                y += h
        if any(self._caption):
            y += 4
            painter.setPen(QPen(colour(t.grid), 1.0))
            painter.drawLine(QPointF(PAD, y), QPointF(PAD + inner, y))
            y += 6
        y = self._heading(painter, "Nodes", y)
        body = font(t, "legend")
        for kind in self._kinds:
            style = t.kind_style("input" if kind == VARIABLE else kind)  # variables look like inputs
            painter.setPen(QPen(colour(style.accent), 1.2))
            painter.setBrush(colour(style.tint))
            painter.drawRoundedRect(QRectF(PAD, y + 4, 18, 11), 3, 3)
            self._text(painter, PAD + 26, y, KIND_LABELS[kind], t.text, body)
            y += ROW
        x = PAD
        mono = font(t, "table")
        fm = metrics(t, "table")
        for label, c in (("value", t.value_text), ("grad", t.grad_text), ("update", t.update_text)):
            self._text(painter, x, y, label, c, mono)
            x += fm.horizontalAdvance(label) + 14
        y += ROW
        if self._diags:
            y = self._heading(painter, "Diagnostics", y)
            for kind in self._diags:
                centre = QPointF(PAD + 9, y + ROW / 2)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour(t.diagnostic_colour(kind)))
                painter.drawEllipse(centre, 7.5, 7.5)
                painter.setPen(colour("#ffffff"))
                painter.setFont(font(t, "badge"))
                painter.drawText(
                    QRectF(centre.x() - 8, centre.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, BADGE_SYMBOLS[kind]
                )
                self._text(painter, PAD + 26, y, DIAG_LABELS[kind], t.text, body)
                y += ROW
        y = self._heading(painter, "Edge gradient |g|", y + 6)
        self._scale_bar(painter, y)

    def _heading(self, painter: QPainter, text: str, y: float) -> float:
        self._text(painter, PAD, y, text, self._theme.text_muted, font(self._theme, "legend_title"))
        return y + ROW

    @staticmethod
    def _text(painter: QPainter, x: float, y: float, text: str, c: str, f) -> None:
        painter.setFont(f)
        painter.setPen(colour(c))
        painter.drawText(QRectF(x, y, 400, ROW), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _scale_bar(self, painter: QPainter, y: float) -> None:
        t = self._theme
        span = GRAD_LOG_MAX - GRAD_LOG_MIN
        grad = QLinearGradient(PAD, 0, PAD + BAR_W, 0)
        for level, c in t.grad_scale:
            grad.setColorAt((level - GRAD_LOG_MIN) / span, colour(c))
        # The bar widens left to right like the edges do, so width and colour read together.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(grad)
        thin, thick = grad_width(10**GRAD_LOG_MIN), grad_width(10**GRAD_LOG_MAX)
        mid = y + BAR_H / 2
        painter.drawPolygon(
            [
                QPointF(PAD, mid - thin / 2),
                QPointF(PAD + BAR_W, mid - thick / 2 - 1.5),
                QPointF(PAD + BAR_W, mid + thick / 2 + 1.5),
                QPointF(PAD, mid + thin / 2),
            ]
        )
        small = font(t, "small")
        fm = metrics(t, "small")
        for label, value in (("1e-6", 1e-6), ("1e-3", 1e-3), ("1", 1.0), ("100", 100.0)):
            x = PAD + (grad_level(value) - GRAD_LOG_MIN) / span * BAR_W
            w = fm.horizontalAdvance(label)
            x = min(max(x - w / 2, PAD - 2), PAD + BAR_W - w + 2)
            self._text(painter, x, y + BAR_H + 2, label, t.text_muted, small)
