"""PredictBar: Step ▸ Predict Mode. At each backward step the learner types the gradient before
bpviz shows it; the answer is checked against torch's, and the score is kept per lesson.

The bar owns the mode's state (the questions answered, the score) and tells the document which
policy to draw with; the canvas, captions and inspector follow the document's policy.

Scoring: every question of the pass counts. One answered right scores a point; one given up
(Show Me) or stepped past unanswered does not, since either way its answer is then on screen.
So a pass of five questions always ends "n of 5", on the bar and in the lesson's best score
(QSettings ``predict/<lesson>`` = ``"n/5"``), however the learner moved through it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from bpviz.gui.document import Document
from bpviz.gui.window_support import Settings
from bpviz.presentation.visibility import DEFAULT_POLICY


class PredictBar(QWidget):
    """The question line under the canvas while predict mode is on (hidden otherwise)."""

    def __init__(self, document: Document, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("predictBar")
        self.document = document
        self.settings = settings
        self.answered: frozenset[int] = frozenset()
        self.ask: frozenset[int] | None = None  # a lesson pack's steps (None: every one)
        self.right = 0  # questions of this pass answered right
        self.asked = 0  # questions of this pass closed: right, shown, or stepped past
        self._reached = 0  # the furthest position of this pass (questions before it are closed)
        self._at: int | None = None  # the position the feedback speaks of
        self._finished = False  # this pass reached its end (and its score was kept)
        self.toggle_action = QAction("&Predict Mode", self)
        self.toggle_action.setCheckable(True)
        self.toggle_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.toggle_action.setToolTip("Work out each gradient before bpviz shows it")
        self.toggle_action.toggled.connect(self.set_enabled)

        self.prompt = QLabel("")
        self.prompt.setObjectName("predictPrompt")
        self.prompt.setWordWrap(True)
        self.entry = QLineEdit()
        self.entry.setObjectName("predictEntry")
        self.entry.setPlaceholderText("your answer, e.g. 4 or -0.5")
        self.entry.setMaximumWidth(180)
        self.entry.returnPressed.connect(self.check)
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.check)
        self.hint_button = QPushButton("Hint")
        self.hint_button.clicked.connect(self.hint)
        self.reveal_button = QPushButton("Show Me")
        self.reveal_button.setToolTip("Give up on this one: show the answer (no point)")
        self.reveal_button.clicked.connect(self.reveal)
        self.feedback = QLabel("")
        self.feedback.setObjectName("predictFeedback")
        self.feedback.setWordWrap(True)
        self.score = QLabel("")
        self.score.setObjectName("predictScore")
        self.score.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(self.prompt, 3)
        for widget in (self.entry, self.check_button, self.hint_button, self.reveal_button):
            layout.addWidget(widget)
        layout.addWidget(self.feedback, 2)
        layout.addWidget(self.score)
        self.setVisible(False)
        document.traceChanged.connect(self._on_trace)
        document.steps.stepped.connect(lambda *_: self.refresh())

    # ------------------------------------------------------------------------ mode
    @property
    def enabled(self) -> bool:
        """Whether predict mode is on."""
        return self.toggle_action.isChecked()

    def set_enabled(self, on: bool) -> None:
        """Turn predict mode on (from the start of the pass, score at zero) or off."""
        if self.toggle_action.isChecked() != on:
            self.toggle_action.setChecked(on)  # comes back here through toggled
            return
        self._new_pass()
        self.setVisible(on)
        self._apply_policy()
        if on:
            self.document.steps.reset()
        self.refresh()

    def _on_trace(self, keep_view: bool) -> None:
        if not self.enabled:
            return
        if not keep_view:  # another network: its own questions and score
            self._new_pass()
        self.feedback.setText("")  # its numbers were this trace's
        self._apply_policy()

    def _new_pass(self) -> None:
        """Every question open again, the score at zero (the lesson's best stays)."""
        self.answered, self.right, self.asked = frozenset(), 0, 0
        self._reached, self._at, self._finished = 0, None, False
        self.feedback.setText("")

    def _apply_policy(self) -> None:
        from bpviz.presentation.predict import PredictPolicy

        sequence = self.document.sequence
        if self.enabled and sequence is not None:
            self.document.set_policy(PredictPolicy(sequence, self.answered, self.ask))
        else:
            self.document.set_policy(DEFAULT_POLICY)

    def set_ask(self, steps: frozenset[int] | None) -> None:
        """Ask only about these step positions (a lesson pack's choice; None: every backward
        step that sends a gradient)."""
        self.ask = steps
        if self.enabled:
            self._apply_policy()
            self.refresh()

    # ------------------------------------------------------------------------ the question
    def question(self):
        """The open question at the current step (None when there is none)."""
        policy = self.document.policy
        pending = getattr(policy, "pending", None)
        return pending(self.document.steps.position) if self.enabled and pending is not None else None

    def refresh(self) -> None:
        """Show the current step's question, or what to do next; close the questions stepped
        past; at the end of the pass, keep its score."""
        if not self.enabled:
            return
        position, last = self.document.steps.position, self.document.steps.last
        if position == 0 and self._finished:  # Reset (or Play) after a whole pass: go again
            self._new_pass()
            self._apply_policy()
        self._pass_questions_before(position)
        if position != self._at:  # a verdict belongs to its step's question
            self.feedback.setText("")
            self._at = position
        question = self.question()
        asking = question is not None
        for widget in (self.entry, self.check_button, self.hint_button, self.reveal_button):
            widget.setVisible(asking)
        if asking:
            self.prompt.setText(question.prompt)
            self.entry.clear()
            self.entry.setFocus()
        elif position == last:
            if not self._finished:
                self._finished = True
                if self.asked:  # a whole pass: its score may be the lesson's best
                    self._remember_score()
            done = f"{self.right} of {self.asked} right" if self.asked else "this pass asked nothing"
            self.prompt.setText(f"Done: {done}. Reset (Home) to try again.")
        else:
            self.prompt.setText("Step on (→): at each backward step you work out the gradient first.")
        self.score.setText(f"Score {self.right} of {self.asked}" + self._best())

    def _pass_questions_before(self, position: int) -> None:
        """Close the open questions the learner stepped (or jumped) past: the steps after them
        show their answers, so each counts as asked and missed, as Show Me does."""
        pending = getattr(self.document.policy, "pending", None)
        if pending is None or position <= self._reached:
            return
        passed = [p for p in range(self._reached, position) if pending(p) is not None]
        self._reached = position
        if passed:
            self.asked += len(passed)
            self.answered = self.answered | frozenset(passed)
            self._apply_policy()

    def check(self) -> None:
        """Check the typed answer: right reveals the step and scores; wrong says so, reveals
        nothing."""
        question = self.question()
        if question is None:
            return
        text = self.entry.text().strip().replace("−", "-")
        try:
            guess = float(text)
        except ValueError:
            self.feedback.setText(f"'{text}' is not a number; type one, like 4 or -0.5.")
            return
        if not question.check(guess):
            self.feedback.setText(f"Not {text}. Try again, ask for a hint, or Show Me.")
            return
        self.right += 1
        self._close(question, f"Right: {self._explain(question)}")

    def hint(self) -> None:
        """The rule, without the numbers."""
        question = self.question()
        if question is not None:
            self.feedback.setText(f"Hint: {question.hint}")

    def reveal(self) -> None:
        """Give up on this question: show the answer, no point."""
        question = self.question()
        if question is not None:
            self._close(question, f"It is {self._explain(question)}")

    def _explain(self, question) -> str:
        trace = self.document.trace
        u, v = question.edge
        upstream = trace.node(v)["grad"]
        local = trace.edge(u, v)["local"]
        scalar = upstream is not None and upstream.numel() == 1 and local is not None
        return question.explanation(float(upstream) if scalar else None, local if scalar else None)

    def _close(self, question, message: str) -> None:
        self.asked += 1
        self.answered = self.answered | {question.position}
        self.feedback.setText(message)
        self._apply_policy()
        self.refresh()

    # ------------------------------------------------------------------------ score
    def _key(self) -> str:
        source = self.document.source
        return f"predict/{source.label if source is not None else 'model'}"

    def _remember_score(self) -> None:
        """Keep the pass's score if it is the lesson's best (most right; then fewest asked)."""
        best = str(self.settings.value(self._key(), "") or "")
        right, _, asked = best.partition("/")
        if not best or (self.right, -self.asked) > (int(right or 0), -int(asked or 0)):
            self.settings.set_value(self._key(), f"{self.right}/{self.asked}")

    def _best(self) -> str:
        best = str(self.settings.value(self._key(), "") or "")
        return f" · best {best.replace('/', ' of ')}" if best else ""
