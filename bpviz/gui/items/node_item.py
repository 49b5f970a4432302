"""NodeItem: one graph node as a rounded box with its name, op, shape, value and gradient.

The box is sized once, from everything it can ever show (value, gradient, update line), so the
layout is computed once per graph and stepping never moves a node. The step state only toggles
what is visible inside the reserved space.
"""

from __future__ import annotations

import torch
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from bpviz.gui.items.badge_item import BADGE_R, BadgeItem
from bpviz.gui.items.style import colour, shared_colour
from bpviz.gui.items.tensor_block import PAIR_GAP, PAIR_MAX_W, heat_size, painter_for
from bpviz.gui.items.zorder import CACHE_NODE, LOD_SHAPE, LOD_TEXT, Z_NODE, Z_NODE_ACTIVE
from bpviz.gui.theme import Theme, mix
from bpviz.presentation.format import NO_VALUE, StatsCache, TensorDisplay, describe, shape_text, update_text
from bpviz.presentation.roles import BLOCK, VARIABLE, role

PAD_X = 10.0
PAD_Y = 5.0
GAP = 3.0
RADIUS = 7.0
MIN_W = 96.0
MAX_W = 300.0
MARGIN = 8.0  # room around the box for the active glow
LEAF_TAGS = {"input": "input", "param": "param", "constant": "const"}


class NodeItem(QGraphicsItem):
    """A node box. ``pos()`` is its centre; :meth:`size_hint` is known before layout."""

    def __init__(
        self, node_id: str, attrs: dict, theme: Theme, diagnostics=(), lr: float = 0.1, stats: StatsCache | None = None
    ):
        super().__init__()
        self.node_id = node_id
        self.kind = attrs["kind"]
        self._role = role(attrs)
        self._variable = self._role == VARIABLE  # a leaf of the scenario's own that the update changes
        self.name = attrs["name"] or node_id
        self.op = attrs["op"]
        # Not "shape": that name is the QGraphicsItem virtual Qt calls for hit tests.
        self.tensor_shape = tuple(attrs["shape"])
        module = attrs["module"]
        # A built network's block says so ("block fc1"), a collapsed layer names its module.
        meta = [shape_text(self.tensor_shape), attrs["dtype"], f"{self._group_word()} {module}" if module else ""]
        self.meta = " · ".join(m for m in meta if m)
        self.diagnostics = tuple(diagnostics)
        # The kinds that colour the box: emptied while the visibility policy hides diagnostics.
        self._diag_kinds = [d.kind for d in self.diagnostics]
        self._diagnostics_shown = True
        value, grad = attrs["value"], attrs["grad"]
        self._raw = (value, grad)
        self._value = describe(value, stats) if self.kind != "group" or value is not None else NO_VALUE
        # A constant named by its own value ("3") needs no value line.
        self._has_value_slot = not (self.kind == "constant" and self._value.text == self.name) and (
            self.kind != "group" or value is not None
        )
        self._grad = describe(grad, stats)
        self._pair = self._has_value_slot and self._value.mode == self._grad.mode == "heatmap"
        self._pair_x = 0.0
        # Parameters that will be updated reserve room for the update line from the start.
        self._reserve_update: tuple[str, str] | None = None
        self._update_cache: tuple = (None, None, None)
        if (
            self.kind in ("input", "param", "constant")
            and attrs["requires_grad"]
            and grad is not None
            and value is not None
        ):
            new = value - lr * grad
            self._reserve_update = self._update_lines(new, lr)
            # The Update step hands over the sequence's own value - lr * grad: set_display
            # recognises equal values and reuses these lines instead of computing them again.
            self._update_cache = (new, lr, self._reserve_update)
        self._show_value = False
        self._show_grad = False
        self._update: tuple[str, str] | None = None
        self._active = self._selected = self._dimmed = False
        self._theme = theme
        self._size = (MIN_W, 40.0)
        self._bounds = self.rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        self.setZValue(Z_NODE)
        self.setCacheMode(CACHE_NODE)
        self.setToolTip(self._tooltip())
        # One badge per kind of finding; several findings of a kind share it and its tooltip.
        messages: dict[str, list[str]] = {}
        for d in self.diagnostics:
            messages.setdefault(d.kind, []).append(d.message)
        self._badges = [BadgeItem(k, "\n".join(m), theme, self) for k, m in messages.items()]
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
        # Asked for every item at every paint: kept, not rebuilt (Qt copies it).
        return self._bounds

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
        self._tp = painter_for(theme)
        self._plain: tuple | None = None  # colours and rects of the far zoomed-out box
        self._measure()
        for badge in self._badges:
            badge.set_theme(theme)
        self.update()

    def _tag(self) -> str:
        if self.kind == "loss":
            return f"loss · {self.op}" if self.op and self.op != self.name else "loss"
        if self.kind == "op":
            return self.op if self.op and self.op != self.name else "op"
        if self.kind == "group":
            return self._group_word()
        return VARIABLE if self._variable else LEAF_TAGS.get(self.kind, self.kind)

    def _group_word(self) -> str:
        return BLOCK if self._role == BLOCK else "module"

    def _measure(self) -> None:
        tp = self._tp
        blocks: list[tuple[str, float, float]] = []
        head_w = tp.width(self.name, "title") + 14 + tp.width(self._tag(), "small") + self._badge_room()
        blocks.append(("header", head_w, tp.line_height("title") + 2 * PAD_Y))
        blocks.append(("meta", tp.width(self.meta, "small"), tp.line_height("small")))
        small = tp.line_height("small")
        if self._pair:
            # Value and gradient heatmaps side by side (one row, captions above), their
            # summaries below: a weight matrix and its gradient read as a pair.
            (wv, hv), (wg, hg) = heat_size(self._value, PAIR_MAX_W), heat_size(self._grad, PAIR_MAX_W)
            self._pair_x = wv + PAIR_GAP
            blocks.append(("pair", self._pair_x + max(wg, tp.width("grad", "small")), small + 2 + max(hv, hg)))
            blocks.append(("value", tp.width(self._value.text, "small"), small))
            blocks.append(("grad", tp.width("grad " + self._grad.text, "small"), small))
        else:
            if self._has_value_slot:
                blocks.append(("value", *tp.size(self._value, "")))
            if self._grad is not NO_VALUE:
                blocks.append(("grad", *tp.size(self._grad, self._grad_prefix())))
        lines = self._update or self._reserve_update
        if lines:
            w = max(tp.width(t, "small") for t in lines)
            blocks.append(("update", w, small * (2 if lines[1] else 1)))
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
            self._bounds = self.rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
            self._plain = None
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

    def _badge_room(self) -> float:
        return len(self._badges) * (2 * BADGE_R + 3) if self._badges else 0.0

    def _grad_prefix(self) -> str:
        return "grad = " if self._grad.mode == "scalar" else "grad "

    # --------------------------------------------------------------------------- state
    def set_display(
        self, show_value: bool, show_grad: bool, updated: torch.Tensor | None = None, lr: float = 0.1
    ) -> None:
        """What the current step shows on this node (see GraphScene.apply_state)."""
        update = None
        if updated is not None:
            # The sequence hands the same tensor on every Update state: format it once. The
            # first time, it is usually equal to the value reserved at construction (one
            # comparison instead of new statistics).
            known, known_lr, lines = self._update_cache
            if known is not updated or known_lr != lr:
                if not (known_lr == lr and _same_values(known, updated)):
                    lines = self._update_lines(updated, lr)
                self._update_cache = (updated, lr, lines)
            update = self._update_cache[2]
        if (show_value, show_grad, update) == (self._show_value, self._show_grad, self._update):
            return
        self._show_value, self._show_grad, self._update = show_value, show_grad, update
        if update is not None and update != self._reserve_update:
            self._measure()  # a different lr than reserved: grow the box if needed
        self.update()

    def _update_lines(self, new: torch.Tensor, lr: float) -> tuple[str, str]:
        line = update_text(self.name, lr, new, *self._raw)
        return (line, "" if new.numel() == 1 else "new " + describe(new).text)

    def set_diagnostics_shown(self, shown: bool) -> None:
        """Show or hide what the diagnostics add (badges, box colours, tooltip lines); the box
        keeps its size, so hiding them never moves anything."""
        if shown == self._diagnostics_shown:
            return
        self._diagnostics_shown = shown
        self._diag_kinds = [d.kind for d in self.diagnostics] if shown else []
        for badge in self._badges:
            badge.setVisible(shown)
        self._plain = None
        self.setToolTip(self._tooltip())
        self.update()

    def set_cache(self, mode: QGraphicsItem.CacheMode) -> None:
        """Cache this box's painting (and its badges') in ``mode``."""
        self.setCacheMode(mode)
        for badge in self.childItems():
            badge.setCacheMode(mode)

    def set_flags(self, active: bool = False, selected: bool = False, dimmed: bool = False) -> None:
        """Highlight (the step's node, the selection) and dimming (off the highlighted paths)."""
        if (active, selected, dimmed) == (self._active, self._selected, self._dimmed):
            return
        self._active, self._selected, self._dimmed = active, selected, dimmed
        self._plain = None
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
        return (
            tuple(self.display_texts()),
            fill,
            border,
            width,
            self._active,
            self._selected,
            self._dimmed,
            self.opacity(),
            tuple(self._size),
        )

    def _tooltip(self) -> str:
        lines = [f"{self.name} ({self._tag()})", self.meta]
        lines += [f"⚠ {d.message}" for d in self.diagnostics if self._diagnostics_shown]
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
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_SHAPE:
            self._paint_plain(painter, lod)
            return
        t = self._theme
        rect = self.rect()
        fill, border, width = self._colours()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._active or self._selected:
            glow = t.active if self._active else t.selection
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(shared_colour(glow, 60))
            painter.drawRoundedRect(rect.adjusted(-5, -5, 5, 5), RADIUS + 5, RADIUS + 5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(shared_colour(fill))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        tint = t.kind_style(self.kind).tint
        if "none_grad" in self._diag_kinds:
            tint = mix(tint, t.none_grad, 0.35)
        painter.setBrush(shared_colour(tint))
        painter.drawPath(self._header_path)
        pen = QPen(shared_colour(border), width)
        if self.kind == "group":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        if lod < LOD_TEXT:
            return
        self._paint_text(painter)

    def _paint_plain(self, painter: QPainter, lod: float) -> None:
        """Far zoomed out: the box, its header tint and its border as plain rectangles without
        antialiasing (corners and text would be under a pixel). The border is a one-pixel line
        as opaque as the real stroke covers that pixel, so the box looks as it did antialiased."""
        plain = self._plain
        if plain is None:
            fill, border, width = self._colours()
            t = self._theme
            glow = None
            if self._active or self._selected:
                glow = colour(t.active if self._active else t.selection, 60)
            tint = t.kind_style(self.kind).tint
            if "none_grad" in self._diag_kinds:
                tint = mix(tint, t.none_grad, 0.35)
            rect = self.rect()
            header = QRectF(rect.x(), rect.y(), rect.width(), self._slots["header"].height())
            plain = self._plain = (colour(fill), colour(tint), colour(border), width, glow, rect, header)
        fill, tint, border, width, glow, rect, header = plain
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if glow is not None:
            painter.fillRect(rect.adjusted(-5, -5, 5, 5), glow)
        painter.fillRect(rect, fill)
        painter.fillRect(header, tint)
        line = QColor(border)
        line.setAlphaF(min(1.0, width * lod))
        painter.setPen(QPen(line, 0))  # cosmetic: one device pixel
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)

    def _paint_text(self, painter: QPainter) -> None:
        t, tp = self._theme, self._tp
        muted = "none_grad" in self._diag_kinds
        text_c = t.text_muted if muted else t.text
        head = self._slots["header"]
        tag = self._tag()
        painter.setFont(tp.fonts["small"])
        painter.setPen(shared_colour(t.kind_style(self.kind).accent if not muted else t.text_muted))
        # Badges sit on the top-right corner: the kind tag moves left to stay readable.
        head = head.adjusted(0, 0, -self._badge_room(), 0)
        painter.drawText(head, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, tag)
        painter.setFont(tp.fonts["title"])
        painter.setPen(shared_colour(text_c))
        title_rect = head.adjusted(0, 0, -(tp.width(tag, "small") + 8), 0)
        name = tp.elided(self.name, "title", title_rect.width(), Qt.TextElideMode.ElideMiddle)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        tp.text(painter, self._slots["meta"], self.meta, "small", t.text_muted)
        value_c = t.value_text if not muted else text_c
        if self._pair:
            self._paint_pair(painter, value_c)
        else:
            # Slots not reached yet show a faint "?": the box is visibly waiting for its number.
            if "value" in self._slots:
                if self._show_value:
                    tp.draw(painter, self._slots["value"], self._value, "", value_c)
                else:
                    self._placeholder(painter, self._slots["value"], "?", self._value, t.text_muted, 0.55)
            if "grad" in self._slots:
                if self._show_grad:
                    tp.draw(painter, self._slots["grad"], self._grad, self._grad_prefix(), t.grad_text)
                else:
                    self._placeholder(painter, self._slots["grad"], "grad ?", self._grad, t.grad_text, 0.4)
        if self._update and "update" in self._slots:
            for i, text in enumerate(self._update):
                tp.text(painter, tp.line(self._slots["update"], "small", i), text, "small", t.update_text)

    def _paint_pair(self, painter: QPainter, value_c: str) -> None:
        t, tp = self._theme, self._tp
        r = self._slots["pair"]
        top = r.y() + tp.line_height("small") + 2
        for show, disp, x, caption, c, strength in (
            (self._show_value, self._value, r.x(), "value", value_c, 0.55),
            (self._show_grad, self._grad, r.x() + self._pair_x, "grad", t.grad_text, 0.4),
        ):
            line = QRectF(x, r.y(), r.right() - x, tp.line_height("small"))
            if show:
                tp.text(painter, line, caption, "small", t.text_muted if caption == "value" else c)
                tp.heatmap(painter, x, top, disp, PAIR_MAX_W)
            else:
                tp.text(painter, line, caption + " ?", "small", mix(t.surface, c, strength))
        if self._show_value:
            tp.text(painter, self._slots["value"], self._value.text, "small", value_c)
        if self._show_grad:
            tp.text(painter, self._slots["grad"], "grad " + self._grad.text, "small", t.grad_text)

    def _placeholder(
        self, painter: QPainter, r: QRectF, text: str, disp: TensorDisplay, c: str, strength: float
    ) -> None:
        role = "value" if disp.mode in ("scalar", "none") else "small"
        self._tp.text(painter, self._tp.line(r, role), text, role, mix(self._theme.surface, c, strength))


def _same_values(a: torch.Tensor | None, b: torch.Tensor) -> bool:
    """Whether ``a`` holds exactly the values of ``b`` (same shape and dtype)."""
    return a is not None and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)


def _plain(disp: TensorDisplay, prefix: str) -> str:
    if disp.mode == "table":
        return (prefix + " ".join(" ".join(r) for r in disp.rows)).strip()
    return prefix + disp.text
