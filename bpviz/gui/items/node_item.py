"""NodeItem: one graph node as a rounded box with its name, op, shape, value and gradient.

The box is sized once, from everything it can ever show (value, gradient, update line), so the
layout is computed once per graph and stepping never moves a node. The step state only toggles
what is visible inside the reserved space.
"""

from __future__ import annotations


import torch
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.format import NO_VALUE, TensorDisplay, describe, shape_text, update_text
from bpviz.gui.items.badge_item import BADGE_R, BadgeItem
from bpviz.gui.items.heatmap import heat_image
from bpviz.gui.items.style import colour, font, metrics
from bpviz.gui.items.zorder import CACHE_NODE, LOD_TEXT, Z_NODE, Z_NODE_ACTIVE
from bpviz.gui.theme import Theme, mix

PAD_X = 10.0
PAD_Y = 5.0
GAP = 3.0
RADIUS = 7.0
MIN_W = 96.0
MAX_W = 300.0
MARGIN = 8.0            # room around the box for the active glow
HEAT_CELL = 12.0
HEAT_MAX_W = 168.0
HEAT_MAX_H = 96.0
LEAF_TAGS = {"input": "input", "param": "param", "constant": "const", "group": "module"}


class NodeItem(QGraphicsItem):
    """A node box. ``pos()`` is its centre; :meth:`size_hint` is known before layout."""

    def __init__(self, node_id: str, attrs: dict, theme: Theme, diagnostics=(), lr: float = 0.1):
        super().__init__()
        self.node_id = node_id
        self.kind = str(attrs.get("kind", "op"))
        self.name = str(attrs.get("name") or node_id)
        self.op = str(attrs.get("op") or "")
        # Not "shape": that name is the QGraphicsItem virtual Qt calls for hit tests.
        self.tensor_shape = tuple(attrs.get("shape") or ())
        module = str(attrs.get("module") or "")
        meta = [shape_text(self.tensor_shape), str(attrs.get("dtype") or ""), f"module {module}" if module else ""]
        self.meta = " · ".join(m for m in meta if m)
        self.diagnostics = tuple(diagnostics)
        self._diag_kinds = [d.kind for d in self.diagnostics]
        value, grad = attrs.get("value"), attrs.get("grad")
        self._raw = (value, grad)
        self._value = describe(value) if self.kind != "group" or value is not None else NO_VALUE
        # A constant named by its own value ("3") needs no value line.
        self._has_value_slot = not (self.kind == "constant" and self._value.text == self.name) \
            and (self.kind != "group" or value is not None)
        self._grad = describe(grad)
        # Parameters that will be updated reserve room for the update line from the start.
        self._reserve_update: tuple[str, str] | None = None
        if self.kind in ("input", "param", "constant") and attrs.get("requires_grad") and grad is not None \
                and value is not None:
            self._reserve_update = self._update_lines(value - lr * grad, lr)
        self._update_cache: tuple = (None, None, None)
        self._show_value = False
        self._show_grad = False
        self._update: tuple[str, str] | None = None
        self._active = self._selected = self._dimmed = False
        self._theme = theme
        self._size = (MIN_W, 40.0)
        self.setZValue(Z_NODE)
        self.setCacheMode(CACHE_NODE)
        self.setToolTip(self._tooltip())
        self._badges = [BadgeItem(d.kind, d.message, theme, self) for d in self.diagnostics]
        self.set_theme(theme)

    # ----------------------------------------------------------------- sizing and geometry
    def size_hint(self) -> tuple[float, float]:
        """(width, height) of the box, from all the content it can show."""
        return self._size

    def rect(self) -> QRectF:
        """The box in item coordinates (centred on the origin)."""
        w, h = self._size
        return QRectF(-w / 2, -h / 2, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self.rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)

    def shape(self) -> QPainterPath:  # noqa: D102 - clicks hit the box, not the glow margin
        path = QPainterPath()
        path.addRoundedRect(self.rect(), RADIUS, RADIUS)
        return path

    def scene_rect(self) -> QRectF:
        """The box in scene coordinates."""
        return self.rect().translated(self.pos())

    def set_theme(self, theme: Theme) -> None:
        """Restyle (and re-measure: a theme may change font sizes)."""
        self._theme = theme
        self._fonts = {r: font(theme, r) for r in ("title", "small", "value", "table")}
        self._fm = {r: metrics(theme, r) for r in self._fonts}
        self._measure()
        for badge in self._badges:
            badge.set_theme(theme)
        self.update()

    def _tag(self) -> str:
        if self.kind == "loss":
            return f"loss · {self.op}" if self.op and self.op != self.name else "loss"
        if self.kind == "op":
            return self.op if self.op and self.op != self.name else "op"
        return LEAF_TAGS.get(self.kind, self.kind)

    def _block_size(self, disp: TensorDisplay, prefix: str) -> tuple[float, float]:
        """Width and height of a value or gradient block."""
        fm_v, fm_t, fm_s = self._fm["value"], self._fm["table"], self._fm["small"]
        if disp.mode in ("scalar", "none"):
            return fm_v.horizontalAdvance(prefix + disp.text), fm_v.height()
        head = fm_s.horizontalAdvance(prefix + disp.text) if disp.mode != "table" else 0.0
        if disp.mode == "table":
            cols = max(len(r) for r in disp.rows)
            width = sum(self._col_widths(disp)) + 8.0 * (cols - 1)
            caption = fm_s.height() if prefix else 0.0
            return max(width, fm_s.horizontalAdvance(prefix)), caption + len(disp.rows) * fm_t.height()
        if disp.mode == "heatmap":
            cell = self._heat_cell(disp)
            return max(head, cell * len(disp.matrix[0])), fm_s.height() + 2 + cell * len(disp.matrix)
        return head, fm_s.height()

    def _col_widths(self, disp: TensorDisplay) -> list[float]:
        fm = self._fm["table"]
        cols = max(len(r) for r in disp.rows)
        return [max(fm.horizontalAdvance(r[c]) for r in disp.rows if c < len(r)) for c in range(cols)]

    @staticmethod
    def _heat_cell(disp: TensorDisplay) -> float:
        return min(HEAT_CELL, HEAT_MAX_W / max(1, len(disp.matrix[0])), HEAT_MAX_H / max(1, len(disp.matrix)))

    def _measure(self) -> None:
        fm_title, fm_s = self._fm["title"], self._fm["small"]
        blocks: list[tuple[str, float, float]] = []
        head_w = fm_title.horizontalAdvance(self.name) + 14 + fm_s.horizontalAdvance(self._tag())
        blocks.append(("header", head_w, fm_title.height() + 2 * PAD_Y))
        blocks.append(("meta", fm_s.horizontalAdvance(self.meta), fm_s.height()))
        if self._has_value_slot:
            blocks.append(("value", *self._block_size(self._value, "")))
        if self._grad is not NO_VALUE:
            blocks.append(("grad", *self._block_size(self._grad, self._grad_prefix())))
        if self._reserve_update or self._update:
            lines = self._update or self._reserve_update
            w = max(fm_s.horizontalAdvance(t) for t in lines)
            blocks.append(("update", w, fm_s.height() * (2 if lines[1] else 1)))
        width = min(MAX_W, max(MIN_W, max(w for _, w, _ in blocks) + 2 * PAD_X))
        y = 0.0
        self._slots: dict[str, QRectF] = {}
        for key, _, h in blocks:
            top = y if key == "header" else y + GAP
            self._slots[key] = QRectF(PAD_X, top, width - 2 * PAD_X, h)
            y = top + h
        height = y + PAD_Y + 2
        if (width, height) != self._size:
            self.prepareGeometryChange()
            self._size = (width, height)
        ox, oy = -width / 2, -height / 2
        self._slots = {k: r.translated(ox, oy) for k, r in self._slots.items()}
        header = QRectF(ox, oy, width, self._slots["header"].height())
        self._header_path = QPainterPath()
        self._header_path.addRoundedRect(self.rect(), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(header)
        self._header_path = self._header_path.intersected(clip)
        for i, badge in enumerate(self._badges):
            badge.setPos(width / 2 - 4 - i * (2 * BADGE_R + 3), -height / 2)

    def _grad_prefix(self) -> str:
        return "grad = " if self._grad.mode == "scalar" else "grad "

    # --------------------------------------------------------------------------- state
    def set_display(self, show_value: bool, show_grad: bool, updated: torch.Tensor | None = None,
                    lr: float = 0.1) -> None:
        """What the current step shows on this node (see GraphScene.apply_state)."""
        update = None
        if updated is not None:
            # The sequence hands the same tensor on every Update state: format it once.
            if self._update_cache[0] is not updated or self._update_cache[1] != lr:
                self._update_cache = (updated, lr, self._update_lines(updated, lr))
            update = self._update_cache[2]
        if (show_value, show_grad, update) == (self._show_value, self._show_grad, self._update):
            return
        self._show_value, self._show_grad, self._update = show_value, show_grad, update
        if update is not None and update != self._reserve_update:
            self._measure()     # a different lr than reserved: grow the box if needed
        self.update()

    def _update_lines(self, new: torch.Tensor, lr: float) -> tuple[str, str]:
        line = update_text(self.name, lr, new, *self._raw)
        return (line, "" if new.numel() == 1 else "new " + describe(new).text)

    def set_flags(self, active: bool = False, selected: bool = False, dimmed: bool = False) -> None:
        """Highlight (the step's node, the selection) and dimming (off the highlighted paths)."""
        if (active, selected, dimmed) == (self._active, self._selected, self._dimmed):
            return
        self._active, self._selected, self._dimmed = active, selected, dimmed
        self.setZValue(Z_NODE_ACTIVE if active or selected else Z_NODE)
        self.setOpacity(0.22 if dimmed else 1.0)
        self.update()

    def display_texts(self) -> list[str]:
        """Every text the node shows right now, top to bottom (used by tests and the export)."""
        out = [self.name, self._tag(), self.meta]
        if self._show_value and self._has_value_slot:
            out.append(_plain(self._value, ""))
        if self._show_grad and self._grad is not NO_VALUE:
            out.append(_plain(self._grad, self._grad_prefix()))
        if self._update:
            out.extend(t for t in self._update if t)
        return out

    def visual_state(self) -> tuple:
        """Everything that decides this node's look (texts, colours, flags): equal tuples mean
        identical pixels, which lets tests check that stepping back restores the display."""
        fill, border, width = self._colours()
        return (tuple(self.display_texts()), fill, border, width, self._active, self._selected,
                self._dimmed, self.opacity(), tuple(self._size))

    def _tooltip(self) -> str:
        lines = [f"{self.name} ({self._tag()})", self.meta]
        lines += [f"⚠ {d.message}" for d in self.diagnostics]
        return "\n".join(line for line in lines if line)

    # --------------------------------------------------------------------------- paint
    def _colours(self) -> tuple[str, str, float]:
        t = self._theme
        style = t.kind_style(self.kind)
        fill, border, width = t.surface, style.accent, 1.2
        if "none_grad" in self._diag_kinds:
            fill, border = mix(t.surface, t.none_grad, 0.18), t.none_grad
        for kind in ("vanishing", "exploding", "nonfinite"):
            if kind in self._diag_kinds:
                border, width = t.diagnostic_colour(kind), 2.4
        if self._active:
            border, width = t.active, 2.6
        if self._selected:
            border, width = t.selection, 2.6
        return fill, border, width

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        t = self._theme
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect()
        fill, border, width = self._colours()
        if self._active or self._selected:
            glow = t.active if self._active else t.selection
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour(glow, 60))
            painter.drawRoundedRect(rect.adjusted(-5, -5, 5, 5), RADIUS + 5, RADIUS + 5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour(fill))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        tint = t.kind_style(self.kind).tint
        if "none_grad" in self._diag_kinds:
            tint = mix(tint, t.none_grad, 0.35)
        painter.setBrush(colour(tint))
        painter.drawPath(self._header_path)
        pen = QPen(colour(border), width)
        if self.kind == "group":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < LOD_TEXT:
            return
        self._paint_text(painter)

    def _paint_text(self, painter: QPainter) -> None:
        t = self._theme
        muted = "none_grad" in self._diag_kinds
        text_c = t.text_muted if muted else t.text
        head = self._slots["header"]
        tag = self._tag()
        tag_w = self._fm["small"].horizontalAdvance(tag)
        painter.setFont(self._fonts["small"])
        painter.setPen(colour(t.kind_style(self.kind).accent if not muted else t.text_muted))
        painter.drawText(head, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, tag)
        painter.setFont(self._fonts["title"])
        painter.setPen(colour(text_c))
        title_rect = head.adjusted(0, 0, -(tag_w + 8), 0)
        name = self._fm["title"].elidedText(self.name, Qt.TextElideMode.ElideMiddle, title_rect.width())
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        self._draw_line(painter, "meta", self.meta, "small", t.text_muted)
        # Slots not reached yet show a faint "?": the box is visibly waiting for its number.
        if "value" in self._slots:
            if self._show_value:
                self._draw_tensor(painter, self._slots["value"], self._value, "", t.value_text if not muted else text_c)
            else:
                self._placeholder(painter, "value", "?", self._value, t.text_muted, 0.55)
        if "grad" in self._slots:
            if self._show_grad:
                self._draw_tensor(painter, self._slots["grad"], self._grad, self._grad_prefix(), t.grad_text)
            else:
                self._placeholder(painter, "grad", "grad ?", self._grad, t.grad_text, 0.4)
        if self._update and "update" in self._slots:
            r = self._slots["update"]
            line_h = self._fm["small"].height()
            for i, text in enumerate(self._update):
                self._draw_text(painter, QRectF(r.x(), r.y() + i * line_h, r.width(), line_h),
                                text, "small", t.update_text)

    def _placeholder(self, painter: QPainter, slot: str, text: str, disp: TensorDisplay, c: str,
                     strength: float) -> None:
        role = "value" if disp.mode in ("scalar", "none") else "small"
        r = self._slots[slot]
        line = QRectF(r.x(), r.y(), r.width(), self._fm[role].height())
        self._draw_text(painter, line, text, role, mix(self._theme.surface, c, strength))

    def _draw_line(self, painter: QPainter, slot: str, text: str, role: str, c: str) -> None:
        if slot in self._slots:
            self._draw_text(painter, self._slots[slot], text, role, c)

    def _draw_text(self, painter: QPainter, rect: QRectF, text: str, role: str, c: str) -> None:
        painter.setFont(self._fonts[role])
        painter.setPen(colour(c))
        shown = self._fm[role].elidedText(text, Qt.TextElideMode.ElideRight, rect.width() + 0.5)
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)

    def _draw_tensor(self, painter: QPainter, r: QRectF, disp: TensorDisplay, prefix: str, c: str) -> None:
        fm_s, fm_t = self._fm["small"], self._fm["table"]
        if disp.mode in ("scalar", "none"):
            self._draw_text(painter, r, prefix + disp.text, "value", c)
            return
        if disp.mode == "summary":
            self._draw_text(painter, r, prefix + disp.text, "small", c)
            return
        y = r.y()
        if disp.mode == "table":
            if prefix:
                self._draw_text(painter, QRectF(r.x(), y, r.width(), fm_s.height()), prefix.strip(), "small", c)
                y += fm_s.height()
            painter.setFont(self._fonts["table"])
            painter.setPen(colour(c))
            widths = self._col_widths(disp)
            for row in disp.rows:
                x = r.x()
                for cell, w in zip(row, widths):
                    # Right-aligned cells line the digits up like a printed matrix.
                    painter.drawText(QRectF(x, y, w, fm_t.height()),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, cell)
                    x += w + 8.0
                y += fm_t.height()
            return
        self._draw_text(painter, QRectF(r.x(), y, r.width(), fm_s.height()), prefix + disp.text, "small", c)
        y += fm_s.height() + 2
        cell = self._heat_cell(disp)
        rows, cols = len(disp.matrix), len(disp.matrix[0])
        target = QRectF(r.x(), y, cols * cell, rows * cell)
        # One image pixel per cell, scaled up without smoothing: one draw call per heatmap, and
        # an SVG/PDF export embeds a tiny image instead of thousands of rectangles.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, heat_image(self._theme, disp))
        painter.setPen(QPen(colour(self._theme.grid), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target)


def _plain(disp: TensorDisplay, prefix: str) -> str:
    if disp.mode == "table":
        return (prefix + " ".join(" ".join(r) for r in disp.rows)).strip()
    return prefix + disp.text
