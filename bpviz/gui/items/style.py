"""Qt forms of theme data shared by the items: fonts by role and cached QColors."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QColor, QFont, QFontMetricsF

from bpviz.gui.theme import Theme

# Fallbacks after the theme's own family, so a machine without DejaVu still gets real glyphs.
_SANS_FALLBACKS = ("Inter", "Segoe UI", "Helvetica Neue", "Arial", "Sans Serif")
_MONO_FALLBACKS = ("JetBrains Mono", "Consolas", "Menlo", "Monospace")


@lru_cache(maxsize=64)
def _font(family: str, pixel_size: int, bold: bool, mono: bool) -> QFont:
    f = QFont()
    f.setFamilies([family, *(_MONO_FALLBACKS if mono else _SANS_FALLBACKS)])
    f.setPixelSize(max(1, int(pixel_size)))
    f.setBold(bold)
    f.setStyleHint(QFont.StyleHint.TypeWriter if mono else QFont.StyleHint.SansSerif)
    # Full hinting would snap glyph widths to device pixels, which differ between the screen, a
    # 2x PNG and a PDF; without it, text measured once fits everywhere.
    f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return f


def font(theme: Theme, role: str) -> QFont:
    """The font for a role: title, body, small, value (mono), table (mono), edge, legend."""
    sizes = {
        "title": (theme.title_size, True, False),
        "body": (theme.body_size, False, False),
        "small": (theme.small_size, False, False),
        "value": (theme.value_size, False, True),
        "table": (theme.small_size, False, True),
        "edge": (theme.edge_label_size, False, True),
        "legend": (theme.body_size, False, False),
        "legend_title": (theme.body_size, True, False),
        "badge": (theme.small_size, True, False),
    }
    size, bold, mono = sizes[role]
    return QFont(_font(theme.mono_family if mono else theme.font_family, size, bold, mono))


@lru_cache(maxsize=64)
def metrics(theme: Theme, role: str) -> QFontMetricsF:
    """Font metrics of a role, shared by every item (building them per item is slow at 2,000)."""
    return QFontMetricsF(font(theme, role))


@lru_cache(maxsize=512)
def _colour(hex_colour: str, alpha: int) -> QColor:
    c = QColor(hex_colour)
    c.setAlpha(alpha)
    return c


def colour(hex_colour: str, alpha: int = 255) -> QColor:
    """A QColor for ``#rrggbb`` with an alpha (0..255); a copy, safe to modify."""
    return QColor(_colour(hex_colour, alpha))


def shared_colour(hex_colour: str, alpha: int = 255) -> QColor:
    """The cached QColor for ``#rrggbb`` and an alpha, for setPen, setBrush and QPen (which copy
    it): never modify it. Painting asks thousands of times per frame or export, and the copy
    :func:`colour` makes costs more than the lookup."""
    return _colour(hex_colour, alpha)
