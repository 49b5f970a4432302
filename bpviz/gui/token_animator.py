"""TokenAnimator: sends tokens along edges for one step, driven by one QVariantAnimation.

Kept apart from the scene so the scene stays a pure function of the DisplayState: tokens are
decoration that comes and goes, never part of what a state shows.
"""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QObject, QVariantAnimation, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsScene

from bpviz.gui.items.token_item import TokenItem

ANIMATION_MS = 400


class TokenAnimator(QObject):
    """Tokens of the current step. Signal ``finished()`` when they have arrived."""

    finished = Signal()

    def __init__(self, scene: QGraphicsScene):
        super().__init__(scene)
        self._scene = scene
        self._enabled = True
        self._speed = 1.0
        self._animation: QVariantAnimation | None = None
        self._tokens: list[TokenItem] = []

    def set_enabled(self, enabled: bool) -> None:
        """Turn tokens on or off (off also stops running ones)."""
        self._enabled = bool(enabled)
        if not enabled:
            self.stop()

    def enabled(self) -> bool:
        """Whether :meth:`start` creates tokens."""
        return self._enabled

    def set_speed(self, factor: float) -> None:
        """Speed factor: 2 makes tokens travel twice as fast."""
        self._speed = max(0.05, float(factor))

    def duration(self) -> int:
        """Milliseconds a token takes to travel its edge at the current speed."""
        return max(1, round(ANIMATION_MS / self._speed))

    def tokens(self) -> list[TokenItem]:
        """The tokens travelling now."""
        return list(self._tokens)

    def start(self, paths: list[tuple[tuple[str, str], QPainterPath]], colour_hex: str, reverse: bool) -> None:
        """Send one token along each ``(edge, path)``; ``reverse`` runs them end to start."""
        self.stop()
        if not self._enabled or not paths:
            return
        for edge, path in paths:
            token = TokenItem(path, colour_hex, reverse=reverse, edge=edge)
            self._scene.addItem(token)
            self._tokens.append(token)
        anim = QVariantAnimation(self)
        anim.setStartValue(0.0)
        anim.setEndValue(1.0)
        anim.setDuration(self.duration())
        anim.setEasingCurve(QEasingCurve.Type.InOutCubic)
        anim.valueChanged.connect(self._on_progress)
        anim.finished.connect(self._on_finished)
        self._animation = anim
        anim.start()

    def seek(self, progress: float) -> None:
        """Stop the clock and place the tokens at ``progress`` (0..1, eased as when they run):
        an animated export draws its frames at chosen moments, not in real time."""
        if self._animation is not None:
            self._animation.stop()
        eased = QEasingCurve(QEasingCurve.Type.InOutCubic).valueForProgress(max(0.0, min(1.0, progress)))
        self._on_progress(eased)

    def _on_progress(self, value) -> None:
        for token in self._tokens:
            token.set_progress(float(value))

    def _on_finished(self) -> None:
        self.stop()
        self.finished.emit()

    def stop(self) -> None:
        """Stop the running animation and remove its tokens."""
        if self._animation is not None:
            anim, self._animation = self._animation, None
            anim.stop()
            anim.deleteLater()
        for token in self._tokens:
            self._scene.removeItem(token)
        self._tokens = []
