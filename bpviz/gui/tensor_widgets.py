"""Widgets that show one tensor in the inspector: a number, a table, a heatmap, or statistics.

The inspector has more room than a node box, so it shows more than the canvas does: tables up to
:data:`TABLE_MAX_CELLS` entries, heatmaps up to :data:`HEATMAP_MAX_SIDE_CELLS` cells a side (a
cell stays at least two pixels wide), and for anything larger only the statistics (shape, min,
max, mean, norm), which every tensor also gets above its table or heatmap.
"""

from __future__ import annotations

import math

import torch
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from bpviz.gui.theme import LIGHT, Theme, mix
from bpviz.presentation.format import format_compact, format_number, shape_text

TABLE_MAX_CELLS = 64
HEATMAP_MAX_SIDE_CELLS = 150
HEAT_MAX_SIDE = 300.0
ANNOTATE_MAX = 8


def as_matrix(t: torch.Tensor) -> torch.Tensor:
    """A 2-D float64 view for display: scalars 1×1, vectors one row, N-D tensors one row per
    entry of the first dimension (a conv weight: one row per output channel)."""
    t = t.detach().to(torch.float64)
    if t.dim() == 0:
        return t.reshape(1, 1)
    if t.dim() == 1:
        return t.reshape(1, -1)
    return t.reshape(t.shape[0], -1)


def stats_text(t: torch.Tensor) -> str:
    """``shape 3×4 · min -1 · max 2 · mean 0.25 · ‖·‖ 3.2`` (plus the count of NaN/Inf)."""
    flat = t.detach().to(torch.float64).reshape(-1)
    parts = [f"shape {shape_text(t.shape)}"]
    finite = flat[torch.isfinite(flat)]
    if finite.numel():
        parts += [
            f"min {format_compact(float(finite.min()))}",
            f"max {format_compact(float(finite.max()))}",
            f"mean {format_compact(float(finite.mean()))}",
        ]
    parts.append(f"‖·‖ {format_compact(float(torch.linalg.vector_norm(flat)))}")
    bad = flat.numel() - finite.numel()
    if bad:
        parts.append(f"{bad} NaN/Inf")
    return " · ".join(parts)


class HeatmapWidget(QWidget):
    """A diverging heatmap (negative blue, zero neutral, positive red) of a 2-D matrix.

    Small matrices (up to :data:`ANNOTATE_MAX` a side) print each value in its cell, which is
    what a learner wants from a 3×3 Jacobian; larger ones are plain colour. Hovering a cell shows
    its index and value. ``matrix`` keeps the values shown, for tests.
    """

    def __init__(
        self,
        matrix: torch.Tensor,
        theme: Theme = LIGHT,
        parent: QWidget | None = None,
        row_label: str = "row",
        col_label: str = "col",
    ):
        super().__init__(parent)
        self.matrix = matrix.detach().to(torch.float64)
        self._theme = theme
        self._labels = (row_label, col_label)
        rows, cols = self.matrix.shape
        finite = self.matrix[torch.isfinite(self.matrix)]
        self.scale = float(finite.abs().max()) if finite.numel() else 1.0
        self.scale = self.scale or 1.0
        self.annotated = max(rows, cols) <= ANNOTATE_MAX
        self._image: QImage | None = None
        if self.annotated:
            self._texts = [[format_compact(v) for v in row] for row in self.matrix.tolist()]
            fm = QFontMetricsF(self._cell_font())
            widest = max(fm.horizontalAdvance(t) for row in self._texts for t in row)
            self.cell_w, self.cell_h = max(34.0, widest + 12), max(22.0, fm.height() + 8)
        else:
            self._texts = []
            self.cell_w = self.cell_h = max(2.0, min(22.0, HEAT_MAX_SIDE / max(rows, cols)))
            # One pixel per cell, coloured in one vectorised pass and scaled up when painted:
            # a 150×150 heatmap would otherwise cost 22,500 drawRect calls on every repaint.
            self._image = self._colour_image()
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(self.sizeHint())
        self.setToolTip(f"{rows}×{cols}; hover a cell for its value")

    @staticmethod
    def _cell_font() -> QFont:
        f = QFont()
        f.setFamilies(["DejaVu Sans Mono", "Monospace"])
        f.setPixelSize(11)
        return f

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        rows, cols = self.matrix.shape
        return QSize(math.ceil(cols * self.cell_w) + 2, math.ceil(rows * self.cell_h) + 2)

    def cell_colour(self, value: float) -> str:
        """The colour of one value on this heatmap's symmetric scale."""
        t = self._theme
        if not math.isfinite(value):
            return t.nonfinite
        f = max(-1.0, min(1.0, value / self.scale))
        return mix(t.heat_zero, t.heat_positive if f > 0 else t.heat_negative, abs(f))

    def _colour_image(self) -> QImage:
        t = self._theme
        m = self.matrix
        f = (m / self.scale).clamp(-1.0, 1.0).nan_to_num(0.0).unsqueeze(-1)
        zero, pos, neg = (
            torch.tensor(_rgb(c), dtype=torch.float64) for c in (t.heat_zero, t.heat_positive, t.heat_negative)
        )
        rgb = zero + f.abs() * (torch.where(f > 0, pos, neg) - zero)
        rgb[~torch.isfinite(m)] = torch.tensor(_rgb(t.nonfinite), dtype=torch.float64)
        rgba = torch.cat([rgb.round(), torch.full((*m.shape, 1), 255.0, dtype=torch.float64)], -1)
        data = rgba.to(torch.uint8).contiguous().numpy().tobytes()
        rows, cols = m.shape
        return QImage(data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888).copy()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        rows, cols = self.matrix.shape
        if self._image is not None:
            painter.drawImage(QRectF(1, 1, cols * self.cell_w, rows * self.cell_h), self._image)
            painter.setPen(QColor(self._theme.grid))
            painter.drawRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1))
            painter.end()
            return
        gap = 1.0 if min(self.cell_w, self.cell_h) >= 6 else 0.0
        values = self.matrix.tolist()
        if self.annotated:
            painter.setFont(self._cell_font())
        for i in range(rows):
            for j in range(cols):
                fill = QColor(self.cell_colour(values[i][j]))
                rect = QRectF(1 + j * self.cell_w, 1 + i * self.cell_h, self.cell_w - gap, self.cell_h - gap)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(fill)
                painter.drawRect(rect)
                if self.annotated:
                    # Light text on strong colours, the theme's text on pale ones.
                    painter.setPen(QColor("#ffffff") if fill.lightnessF() < 0.55 else QColor("#1f2933"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._texts[i][j])
        painter.setPen(QColor(self._theme.grid))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1))
        painter.end()

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """The (row, col) under a widget position, or None outside the cells."""
        i, j = int((pos.y() - 1) // self.cell_h), int((pos.x() - 1) // self.cell_w)
        rows, cols = self.matrix.shape
        return (i, j) if 0 <= i < rows and 0 <= j < cols else None

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        cell = self.cell_at(event.position())
        if cell is not None:
            i, j = cell
            v = float(self.matrix[i, j])
            QToolTip.showText(
                event.globalPosition().toPoint(),
                f"[{self._labels[0]} {i}, {self._labels[1]} {j}] = {format_number(v)}",
                self,
            )
        super().mouseMoveEvent(event)


class TensorTable(QTableWidget):
    """A read-only table of a small tensor (rows of its last dimension)."""

    def __init__(self, t: torch.Tensor, parent: QWidget | None = None):
        m = as_matrix(t)
        super().__init__(m.shape[0], m.shape[1], parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        mono = self.font()
        mono.setFamilies(["DejaVu Sans Mono", "Monospace"])
        self.setFont(mono)
        for i, row in enumerate(m.tolist()):
            for j, v in enumerate(row):
                item = QTableWidgetItem(format_compact(v))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(format_number(v))
                self.setItem(i, j, item)
        # Python's indices, as in the heatmap tooltips and the code that made the tensor.
        self.setHorizontalHeaderLabels([str(j) for j in range(m.shape[1])])
        self.setVerticalHeaderLabels([str(i) for i in range(m.shape[0])])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setMinimumSectionSize(36)
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        # Tall enough for every row: the table sits in the inspector's own scroll area.
        height = self.horizontalHeader().height() + sum(self.rowHeight(i) for i in range(m.shape[0])) + 4
        self.setFixedHeight(height)
        # As wide as its columns (a 1×3 vector should not stretch across the dock), narrower with
        # a scroll bar when the dock is too small.
        width = self.verticalHeader().sizeHint().width() + sum(self.columnWidth(j) for j in range(m.shape[1])) + 4
        self.setMaximumWidth(width)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def cell_texts(self) -> list[list[str]]:
        """The texts of every cell, row by row (for tests)."""
        return [
            [cell.text() if (cell := self.item(i, j)) is not None else "" for j in range(self.columnCount())]
            for i in range(self.rowCount())
        ]


class TensorView(QWidget):
    """A tensor as a big number (scalars), a table (small), a heatmap (2-D) or statistics only.

    ``mode`` says which: ``none``, ``scalar``, ``table``, ``heatmap`` or ``stats``.
    """

    def __init__(
        self, t: torch.Tensor | None, theme: Theme = LIGHT, parent: QWidget | None = None, empty_text: str = "—"
    ):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.text = empty_text
        if t is None:
            self.mode = "none"
            layout.addWidget(_muted(empty_text, theme))
            return
        t = t.detach()
        if t.numel() == 1:
            self.mode = "scalar"
            self.text = format_number(float(t.reshape(())))
            big = QLabel(self.text)
            big.setObjectName("scalarValue")
            big.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            big.setStyleSheet("font-family: 'DejaVu Sans Mono'; font-size: 18px; font-weight: bold;")
            layout.addWidget(big)
            if t.dim():
                layout.addWidget(_muted(f"shape {shape_text(t.shape)}", theme))
            return
        self.text = stats_text(t)
        stats = _muted(self.text, theme)
        stats.setWordWrap(True)
        layout.addWidget(stats)
        if t.numel() <= TABLE_MAX_CELLS and t.dim() <= 2:
            self.mode = "table"
            layout.addWidget(TensorTable(t))
        elif max(as_matrix(t).shape) <= HEATMAP_MAX_SIDE_CELLS:
            self.mode = "heatmap"
            layout.addWidget(HeatmapWidget(as_matrix(t), theme))
        else:
            self.mode = "stats"


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _muted(text: str, theme: Theme) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(f"color: {theme.text_muted};")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
