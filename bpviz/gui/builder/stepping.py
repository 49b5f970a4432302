"""Stepping a built network: the network is built and traced through the app's Document like any
lesson, so the canvas, the stepper, the inspector, diagnostics and training work unchanged.

While the built network is what the document shows, an edit that changes what it computes
re-traces it after a short pause (many quick edits make one trace) and the step position is
kept where the new sequence has it. A network that cannot be built is one sentence on the
status line and in the editor's banner; what the window shows stays as it was.

A click on a node of the stepped graph selects the block it came from, so its properties can be
changed (and re-traced) without going back to the editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from bpviz.core.errors import BpvizError
from bpviz.core.network.document import Network
from bpviz.core.network.source import NetworkSource
from bpviz.core.scenario import Scenario
from bpviz.gui.builder.session import NetworkSession

if TYPE_CHECKING:
    from bpviz.core.network.build import BuiltNetwork
    from bpviz.gui.document import Document

# Edits closer together than this make one re-trace (typing a value, a burst of undos).
RETRACE_DEBOUNCE_MS = 250


class BuiltSource(NetworkSource):
    """A snapshot of the builder's network as a source: built on the trace worker, it keeps what
    the build made so trace nodes can be mapped back to blocks."""

    def __init__(self, document: Network, expanded: frozenset[str] = frozenset()):
        super().__init__(document=document)
        self.built: BuiltNetwork | None = None
        self.expanded = expanded  # the blocks to show opened (those open before a re-trace)

    def load(self) -> Scenario:  # noqa: D102 - see Source
        from bpviz.core.network.build import build

        assert self.document is not None
        self.built = build(self.document, self.label)
        return self.built.scenario

    def arrangement(self, trace: Any) -> Any:
        """The blocks where the user put them (see :mod:`bpviz.core.network.block_view`)."""
        from bpviz.core.network.block_view import BlockArrangement

        if self.built is None or self.document is None:
            return None
        return BlockArrangement.of(self.built, self.document, trace, self.expanded)


class SteppingLink(QObject):
    """Builds ``session``'s network into ``document`` on request and keeps it traced.

    Signals: ``failed(message)`` the network cannot be built (one sentence); ``traced()`` the
    built network's trace is on screen.
    """

    failed = Signal(str)
    traced = Signal()

    def __init__(self, session: NetworkSession, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.document = document
        self.active = False
        self.source: BuiltSource | None = None
        self._keep_position: int | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RETRACE_DEBOUNCE_MS)
        self._timer.timeout.connect(self.retrace)
        session.edited.connect(self._on_edited)
        document.opened.connect(self._on_opened)
        document.openFailed.connect(self._on_open_failed)
        document.selectionChanged.connect(self._on_document_selection)

    @property
    def showing(self) -> bool:
        """Whether the document shows (or is loading) the built network."""
        return self.source is not None and (self.document.source is self.source or self.document.pending is self.source)

    def start(self) -> bool:
        """Build and trace the network now; False (and ``failed``) when it cannot be built."""
        self.active = True
        self._keep_position = None
        return self._trace()

    def stop(self) -> None:
        """Stop re-tracing on edits (the editor is shown again)."""
        self.active = False
        self._timer.stop()

    def retrace(self) -> None:
        """Trace the network as it is now, keeping the step position."""
        if not self.active:
            return
        showing = self.showing
        self._keep_position = self.document.steps.position if showing else None
        self._trace(self.document.expanded if showing else frozenset())

    def _trace(self, expanded: frozenset[str] = frozenset()) -> bool:
        from bpviz.core.network.plan import make_plan

        network = self.session.network.copy()  # the worker builds a snapshot, never the live one
        try:
            make_plan(network, self.session.shapes)
        except BpvizError as exc:
            self.failed.emit(str(exc))
            self.document.report(f"Cannot step the network: {exc}")
            return False
        self.source = BuiltSource(network, expanded)
        self.document.open(self.source, trusted=True)
        return True

    def _on_edited(self) -> None:
        if self.active:
            self._timer.start()

    def _on_opened(self) -> None:
        if self.source is None or self.document.source is not self.source:
            return
        if self._keep_position is not None and self.document.sequence is not None:
            self.document.steps.set_position(min(self._keep_position, self.document.sequence.last))
        self._keep_position = None
        self.traced.emit()

    def _on_open_failed(self, message: str, _details: str) -> None:
        if self.source is not None and self.document.pending is self.source:
            self.failed.emit(message)

    # ------------------------------------------------------------------------ selection
    def blocks_of_trace(self) -> dict[str, str]:
        """Trace node id -> block id for the trace on screen ({} when it is not the network's)."""
        from bpviz.core.network.mapping import trace_blocks

        source = self.source
        if source is None or source.built is None or self.document.source is not source:
            return {}
        return trace_blocks(source.built, self.document.trace)

    def wire_edges(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """Wire key -> the trace edges it stands for, for the trace on screen."""
        from bpviz.core.network.mapping import wire_edges

        source = self.source
        if source is None or source.document is None or self.document.source is not source:
            return {}
        return wire_edges(source.document, self.blocks_of_trace(), self.document.trace)

    def drawn_wires(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """Wire key -> the canvas edges that carry it: :meth:`wire_edges` seen through the boxes
        drawn for them (a folded block's box instead of the op inside it)."""
        graph, doc = self.document.view_graph, self.document
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for key, edges in self.wire_edges().items():
            drawn: list[tuple[str, str]] = []
            for u, v in edges:
                a, b = doc.drawn_as(u), doc.drawn_as(v)
                if a is not None and b is not None and graph.has_edge(a, b) and (a, b) not in drawn:
                    drawn.append((a, b))
            out[key] = drawn
        return out

    def _on_document_selection(self) -> None:
        selection: Any = self.document.selection
        if not isinstance(selection, str):
            return
        placement = self.document.placement
        if placement is not None and self.document.source is self.source:
            block = placement.block_of(self.document.view_graph, selection)
        else:
            block = self.blocks_of_trace().get(selection)
        if block is not None and block in self.session.network.blocks:
            self.session.select([block])
