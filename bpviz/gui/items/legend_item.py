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
from bpviz.gui.theme import GradScale, Theme, grad_width
from bpviz.presentation.format import format_compact
from bpviz.presentation.roles import VARIABLE

KIND_LABELS = {
    "input": "input",
    "variable": "variable (the update changes it)",
    "param": "parameter",
    "constant": "constant",
    "op": "operation",
    "loss": "loss",
    "group": "module (collapsed)",
    "block": "block (double-click: its ops)",
}
DIAG_LABELS = {
    "none_grad": "no gradient",
    "nonfinite": "NaN / Inf",
    "exploding": "exploding gradient",
    "vanishing": "vanishing gradient",
    "dead_relu": "dead ReLU units",
    "several_outputs": "several outputs (each edge its own)",
}
# The colour language, one row each: (label, theme field of its colour).
COLOUR_ROWS = (
    ("value · forward pass", "forward"),
    ("gradient · backward pass", "backward"),
    ("current step", "active"),
    ("update (SGD step)", "update_text"),
    ("warning", "warning"),
)
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
        self._scale = GradScale()
        self._scale_numbers_shown = True
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

    def set_grad_scale(self, scale: GradScale) -> None:
        """Label the gradient colour bar with the ends of ``scale`` (the graph's range)."""
        self._scale = scale
        self._measure()
        self.update()

    def set_scale_numbers_shown(self, shown: bool) -> None:
        """Write the gradient scale's end values, or "?" (predict mode: they would give answers
        away before the pass is done)."""
        if shown != self._scale_numbers_shown:
            self._scale_numbers_shown = shown
            self._measure()
            self.update()

    def scale_labels(self) -> tuple[str, str]:
        """The magnitudes written under the two ends of the gradient colour bar (the low end
        left blank when the graph has one magnitude only)."""
        if not self._scale_numbers_shown:
            return "?", "?"
        low, high = format_compact(self._scale.low), format_compact(self._scale.high)
        return ("" if low == high else low), high

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
            + ["Nodes", *(KIND_LABELS[k] for k in self._kinds)]
            + ["Colours", *(label for label, _ in COLOUR_ROWS)]
            + (["Diagnostics", *(DIAG_LABELS[d] for d in self._diags)] if self._diags else [])
            + ["Edge gradient |g|, log scale", *filter(None, self.scale_labels()), "zero"]
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
        rows = 1 + len(self._kinds) + 1 + len(COLOUR_ROWS) + (1 + len(self._diags) if self._diags else 0)
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
            # Variables look like inputs, blocks like collapsed modules.
            style = t.kind_style({VARIABLE: "input", "block": "group"}.get(kind, kind))
            painter.setPen(QPen(colour(style.accent), 1.2))
            painter.setBrush(colour(style.tint))
            painter.drawRoundedRect(QRectF(PAD, y + 4, 18, 11), 3, 3)
            self._text(painter, PAD + 26, y, KIND_LABELS[kind], t.text, body)
            y += ROW
        y = self._heading(painter, "Colours", y)
        for label, field in COLOUR_ROWS:
            painter.setPen(QPen(colour(getattr(t, field)), 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(QPointF(PAD + 2, y + ROW / 2), QPointF(PAD + 16, y + ROW / 2))
            self._text(painter, PAD + 26, y, label, t.text, body)
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
        y = self._heading(painter, "Edge gradient |g|, log scale", y + 6)
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
        """The graph's gradient range as a bar, colour and width as the edges have them, with
        its two end magnitudes under it and the colour of a zero gradient beside it."""
        t = self._theme
        scale = self._scale
        grad = QLinearGradient(PAD, 0, PAD + BAR_W, 0)
        for fraction, c in t.grad_scale:
            grad.setColorAt(fraction, colour(c))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(grad)
        thin, thick = grad_width(scale.low, scale), grad_width(scale.high, scale)
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
        low, high = self.scale_labels()
        self._text(painter, PAD - 2, y + BAR_H + 2, low, t.text_muted, small)
        self._text(painter, PAD + BAR_W - fm.horizontalAdvance(high) + 2, y + BAR_H + 2, high, t.text_muted, small)
        # Zero has no place on a log scale: its own swatch, right of the bar.
        x = PAD + BAR_W + 10
        painter.setPen(QPen(colour(t.grad_zero), thin))
        painter.drawLine(QPointF(x, mid), QPointF(x + 12, mid))
        self._text(painter, x - 2, y + BAR_H + 2, "zero", t.text_muted, small)
