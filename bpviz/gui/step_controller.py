"""StepController: the one owner of the step position; everything else follows its signal.

The core's :class:`~bpviz.core.stepper.StepSequence` derives the whole display from an int, so
the controller only has to hold that int, clamp it, and say when it changes. Views (canvas, step
bar, inspector) never keep their own copy: they read :attr:`StepController.position` and redraw
from ``sequence.state_at(position)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:  # the stepper imports torch; the window must open before torch is loaded
    from bpviz.core.stepper import DisplayState, StepSequence

# Time between two steps while playing at 1x. Long enough for the canvas animation of one step
# (token along the edges) to finish and for a reader to take in the caption.
BASE_INTERVAL_MS = 900
SPEEDS = (0.5, 1.0, 2.0, 4.0)


class StepController(QObject):
    """Holds the StepSequence and the current position; plays with a timer.

    ``positionChanged(int)`` fires after every change of position, ``sequenceChanged()`` when a
    new trace is loaded (before the first ``positionChanged`` for it), and
    ``playingChanged(bool)`` when playback starts or stops. ``stepped(int, bool)`` says how the
    position was reached: ``True`` for a single step forward (worth animating), ``False`` for any
    jump (back, reset, slider), which views show at once.
    """

    positionChanged = Signal(int)
    sequenceChanged = Signal()
    playingChanged = Signal(bool)
    speedChanged = Signal(float)
    stepped = Signal(int, bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._sequence: StepSequence | None = None
        self._position = 0
        self._speed = 1.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._update_interval()

    # ------------------------------------------------------------------------ state
    @property
    def sequence(self) -> StepSequence | None:
        """The loaded StepSequence (None before the first trace)."""
        return self._sequence

    @property
    def position(self) -> int:
        """The current position (0 .. last)."""
        return self._position

    @property
    def last(self) -> int:
        """The last valid position (0 when nothing is loaded)."""
        return self._sequence.last if self._sequence is not None else 0

    @property
    def speed(self) -> float:
        """The playback speed factor (1.0 = one step every BASE_INTERVAL_MS)."""
        return self._speed

    @property
    def is_playing(self) -> bool:
        """Whether the play timer runs."""
        return self._timer.isActive()

    def state(self) -> DisplayState | None:
        """The display state at the current position (None before the first trace)."""
        if self._sequence is None:
            return None
        return self._sequence.state_at(self._position)

    def set_sequence(self, sequence: StepSequence, position: int = 0) -> None:
        """Load a new sequence and go to ``position`` (clamped); stops playback."""
        self.load(sequence, position)
        self.announce()

    def load(self, sequence: StepSequence, position: int = 0) -> None:
        """Hold a new sequence at ``position`` (clamped) without telling anyone yet; stops
        playback. The document calls :meth:`announce` once the views have the new graph."""
        self.pause()
        self._sequence = sequence
        self._position = max(0, min(int(position), sequence.last))

    def announce(self) -> None:
        """Tell the views the sequence and the position (shown at once, not animated)."""
        if self._sequence is None:
            return
        self.sequenceChanged.emit()
        self.positionChanged.emit(self._position)
        self.stepped.emit(self._position, False)

    # ------------------------------------------------------------------------ moves
    def set_position(self, position: int) -> None:
        """Jump to ``position`` (clamped); does nothing when it is already there."""
        if self._sequence is None:
            return
        position = max(0, min(int(position), self._sequence.last))
        forward_one = position == self._position + 1
        if position == self._position:
            return
        self._position = position
        self.positionChanged.emit(position)
        self.stepped.emit(position, forward_one)

    def step(self) -> None:
        """One step forward (no-op at the end)."""
        self.set_position(self._position + 1)

    def back(self) -> None:
        """One step back (no-op at the start); stops playback, since the user took over."""
        self.pause()
        self.set_position(self._position - 1)

    def reset(self) -> None:
        """Back to position 0."""
        self.pause()
        self.set_position(0)

    def to_end(self) -> None:
        """To the last step (the update)."""
        self.pause()
        self.set_position(self.last)

    # ------------------------------------------------------------------------ playback
    def play(self) -> None:
        """Step forward on a timer until the end; from the end, start over from the beginning."""
        if self._sequence is None or self.is_playing:
            return
        if self._position >= self._sequence.last:
            self.set_position(0)
        self._timer.start()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        """Stop playback (no-op when not playing)."""
        if self._timer.isActive():
            self._timer.stop()
            self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        """Play when paused, pause when playing."""
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, factor: float) -> None:
        """Playback speed factor (0.5 = half speed, 4 = four times faster)."""
        factor = float(factor)
        if factor <= 0 or factor == self._speed:
            return
        self._speed = factor
        self._update_interval()
        self.speedChanged.emit(factor)

    def interval_ms(self) -> int:
        """Milliseconds between two steps at the current speed."""
        return self._timer.interval()

    def _update_interval(self) -> None:
        self._timer.setInterval(max(1, round(BASE_INTERVAL_MS / self._speed)))

    def _tick(self) -> None:
        if self._sequence is None or self._position >= self._sequence.last:
            self.pause()
            return
        self.step()
        if self._position >= self._sequence.last:
            self.pause()
