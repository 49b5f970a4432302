"""StepBar: the step-through controls under the canvas, and the window-wide step shortcuts.

The bar shows the controller's position; it never stores one. Buttons and the slider call the
controller, and ``positionChanged`` redraws the bar, so a key press, a button and the play timer
all end in the same display.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bpviz.gui.document import Document
from bpviz.gui.step_controller import SPEEDS
from bpviz.gui.theme import LIGHT, Theme
from bpviz.presentation.captions import in_box

# Phase colours come from the canvas theme so the bar and the graph tell the same story:
# forward tokens are blue, backward tokens orange, the loss has the loss colour, updates green.
PHASE_HELP = {
    "Start": "Leaves hold their values",
    "Forward": "Values flow from inputs to the loss",
    "Loss": "The loss is known; dL/dL = 1",
    "Backward": "Gradients flow back, edge by edge",
    "Update": "SGD: every parameter and variable ← itself − lr × grad",
}


def phase_colour(theme: Theme, phase: str) -> str:
    """The colour that stands for a phase (Start, Forward, Loss, Backward, Update)."""
    return {
        "Forward": theme.token_forward,
        "Loss": theme.loss.accent,
        "Backward": theme.token_backward,
        "Update": theme.update_text,
    }.get(phase, theme.text_muted)


class PhaseSlider(QSlider):
    """A horizontal slider whose groove is tinted by phase, so the reader sees where the backward
    pass starts before dragging there."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._phases: list[str] = []
        self._theme = LIGHT

    def set_phases(self, phases: list[str], theme: Theme) -> None:
        """One phase name per position."""
        self._phases, self._theme = list(phases), theme
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        if len(self._phases) > 1:
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            groove = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self
            )
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self
            )
            # Positions map to handle centres, which span the groove minus one handle width.
            left = groove.left() + handle.width() / 2
            span = max(1.0, groove.width() - handle.width())
            n = len(self._phases) - 1
            painter = QPainter(self)
            y = groove.center().y() + 5
            start = 0
            for i in range(1, n + 2):
                if i <= n and self._phases[i] == self._phases[start]:
                    continue
                x0 = left + span * max(0, start - 0.5) / n
                x1 = left + span * min(n, i - 0.5) / n
                c = QColor(phase_colour(self._theme, self._phases[start]))
                painter.fillRect(QRect(round(x0), round(y), max(1, round(x1 - x0)), 3), c)
                start = i
            painter.end()
        super().paintEvent(event)


class StepBar(QWidget):
    """Reset, back, play/pause, step, to end, speed, the position slider, phase and caption."""

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.controller = controller = document.steps
        self._theme = LIGHT
        self.setObjectName("stepBar")

        self.phase_label = QLabel("—")
        self.phase_label.setObjectName("phaseLabel")
        self.phase_label.setAccessibleName("phase")
        self.phase_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.phase_label.setMinimumWidth(104)
        self.caption_label = QLabel("")
        self.caption_label.setObjectName("stepCaption")
        self.caption_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.position_label = QLabel("")
        self.position_label.setObjectName("stepPosition")

        style = self.style()
        sp = QStyle.StandardPixmap
        self.reset_button = self._button(
            "resetSteps", "Reset", sp.SP_MediaSkipBackward, "Back to the start (Home)", controller.reset
        )
        self.back_button = self._button(
            "stepBack", "Back", sp.SP_MediaSeekBackward, "One step back (Left)", controller.back
        )
        self.play_button = self._button(
            "playPause", "Play", sp.SP_MediaPlay, "Play / pause (Space)", controller.toggle_play
        )
        self.step_button = self._button(
            "stepForward", "Step", sp.SP_MediaSeekForward, "One step forward (Right)", controller.step
        )
        self.end_button = self._button(
            "stepToEnd", "End", sp.SP_MediaSkipForward, "To the last step (End)", controller.to_end
        )
        self._play_icon = style.standardIcon(sp.SP_MediaPlay)
        self._pause_icon = style.standardIcon(sp.SP_MediaPause)

        self.slider = PhaseSlider()
        self.slider.setObjectName("stepSlider")
        self.slider.setAccessibleName("stepSlider")
        self.slider.setToolTip("Step position: drag to jump")
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(160)
        # Keys belong to the window's shortcuts, which do the same thing from anywhere.
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(controller.set_position)

        self.speed_box = QComboBox()
        self.speed_box.setObjectName("stepSpeed")
        self.speed_box.setAccessibleName("stepSpeed")
        self.speed_box.setToolTip("Playback speed")
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for factor in SPEEDS:
            self.speed_box.addItem(f"{factor:g}×", factor)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda i: controller.set_speed(self.speed_box.itemData(i)))

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(10)
        top.addWidget(self.phase_label)
        top.addWidget(self.caption_label, 1)
        top.addWidget(self.position_label)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.setSpacing(4)
        for b in (self.reset_button, self.back_button, self.play_button, self.step_button, self.end_button):
            bottom.addWidget(b)
        bottom.addSpacing(10)
        bottom.addWidget(self.slider, 1)
        bottom.addSpacing(10)
        speed_label = QLabel("Speed")
        speed_label.setBuddy(self.speed_box)
        bottom.addWidget(speed_label)
        bottom.addWidget(self.speed_box)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 10, 8)
        outer.setSpacing(6)
        outer.addLayout(top)
        outer.addLayout(bottom)

        self.actions_by_name = self._make_actions()
        controller.positionChanged.connect(self.refresh)
        controller.sequenceChanged.connect(self._on_sequence)
        controller.playingChanged.connect(self._on_playing)
        controller.speedChanged.connect(self._on_speed)
        document.policyChanged.connect(self.refresh)
        document.busyChanged.connect(self.refresh)
        self._on_sequence()
        self.refresh()

    # ----------------------------------------------------------------------- building
    def _button(self, name: str, text: str, icon, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setObjectName(name)
        b.setAccessibleName(name)
        b.setText(text)
        b.setIcon(self.style().standardIcon(icon))
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        b.setToolTip(tip)
        b.setAutoRaise(False)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.setMinimumWidth(68)
        b.clicked.connect(slot)
        return b

    def _make_actions(self) -> dict[str, QAction]:
        """Window-wide shortcuts. Text fields still get their own arrow keys and spaces, because
        Qt offers a key to the focused QLineEdit (ShortcutOverride) before any shortcut."""
        c = self.controller
        specs = (
            ("step", "Step forward", Qt.Key.Key_Right, c.step),
            ("back", "Step back", Qt.Key.Key_Left, c.back),
            ("play", "Play / pause", Qt.Key.Key_Space, c.toggle_play),
            ("reset", "Reset to start", Qt.Key.Key_Home, c.reset),
            ("end", "Go to end", Qt.Key.Key_End, c.to_end),
        )
        actions = {}
        for name, text, key, slot in specs:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            actions[name] = act
        return actions

    def set_theme(self, theme: Theme) -> None:
        """Recolour the phase pill and the slider's phase bands."""
        self._theme = theme
        self._on_sequence()
        self.refresh()

    # ----------------------------------------------------------------------- updates
    def _on_sequence(self) -> None:
        seq = self.controller.sequence
        enabled = seq is not None
        for w in (
            self.reset_button,
            self.back_button,
            self.play_button,
            self.step_button,
            self.end_button,
            self.slider,
            self.speed_box,
        ):
            w.setEnabled(enabled)
        for act in self.actions_by_name.values():
            act.setEnabled(enabled)
        self.slider.blockSignals(True)
        self.slider.setRange(0, self.controller.last)
        self.slider.blockSignals(False)
        self.slider.set_phases([s.phase for s in seq.steps] if seq else [], self._theme)

    def refresh(self, *_args) -> None:
        """Show the controller's current position, phase and caption."""
        c = self.controller
        seq = c.sequence
        pos = c.position
        self.slider.blockSignals(True)
        self.slider.setValue(pos)
        self.slider.blockSignals(False)
        if seq is None:
            self.phase_label.setText("—")
            self.caption_label.setText("Loading…" if self.document.busy else "Nothing is open.")
            self.position_label.setText("")
            return
        step = seq.steps[pos]
        self.phase_label.setText(step.phase)
        self.phase_label.setToolTip(PHASE_HELP.get(step.phase, ""))
        self.phase_label.setStyleSheet(
            f"QLabel {{ background: {phase_colour(self._theme, step.phase)}; color: white;"
            " font-weight: bold; font-size: 14px; border-radius: 11px; padding: 3px 14px; }"
        )
        box = self.document.drawn_as(step.node) if step.node is not None else None
        box_name = self.document.node_attrs(box)["name"] if box is not None and box != step.node else None
        caption = in_box(self.document.policy.caption(seq, pos), box_name)
        self.caption_label.setText(caption)
        self.caption_label.setToolTip(caption)
        self.position_label.setText(f"step {pos} / {seq.last}")
        at_start, at_end = pos <= 0, pos >= seq.last
        self.reset_button.setEnabled(not at_start)
        self.back_button.setEnabled(not at_start)
        self.step_button.setEnabled(not at_end)
        self.end_button.setEnabled(not at_end)

    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)

    def _on_speed(self, factor: float) -> None:
        i = self.speed_box.findData(factor)
        if i >= 0 and i != self.speed_box.currentIndex():
            self.speed_box.blockSignals(True)
            self.speed_box.setCurrentIndex(i)
            self.speed_box.blockSignals(False)
