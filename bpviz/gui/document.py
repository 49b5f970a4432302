"""Document: the one owner of what the window shows.

A document holds the source (a file, a lesson, a model handed to ``bpviz.show``), the scenario it
loaded, the trace and its step sequence (the position lives in its :class:`StepController`), the
view options (hidden shape-only ops, collapsed modules, theme), and the selection. Widgets take
the document, listen to its signals and ask it for changes; none of them reaches into the window
or into another widget.

Order of a new trace, fixed here rather than by the order slots were connected in:
``traceChanged`` (widgets rebuild for the new graph), then the step controller's ``stepped``
(widgets show the position), then ``opened`` (only for a newly opened source, not for a trace
that training replaced) and ``selectionChanged`` when a kept selection is restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from bpviz.core.trust import TrustStore
from bpviz.core.views import BLOCKS, default_level
from bpviz.gui.step_controller import StepController
from bpviz.gui.theme import THEMES, Theme
from bpviz.gui.trace_worker import TraceResult, TraceRunner
from bpviz.presentation.visibility import DEFAULT_POLICY, VisibilityPolicy

if TYPE_CHECKING:
    import networkx as nx

    from bpviz.core.scenario import Scenario
    from bpviz.core.sources import Source
    from bpviz.presentation.view_mapping import ViewMap

Selection = str | tuple[str, str] | None


class Document(QObject):
    """What is on screen, and the requests that change it.

    Signals: ``traceChanged(bool keep_view)`` a trace is shown (``keep_view``: a live update of the
    same network, keep the camera); ``viewChanged()`` a view option changed the drawn graph;
    ``opened()`` a newly opened source is on screen; ``openFailed(message, details)``;
    ``openCancelled(message)`` the user stopped an open (:meth:`cancel`), what is shown stays;
    ``selectionChanged()``; ``themeChanged(Theme)``; ``busyChanged(bool)`` a trace is running;
    ``status(text, msecs)`` a line for the status bar; ``problem(title, message)`` something the
    user must read (a dialog); ``trustRequested(Source)`` a scenario file the user has not agreed
    to run yet was asked for (the window asks, then opens it with ``trusted=True``);
    ``policyChanged()`` the visibility policy (what the stepper has not reached: marked or
    hidden) changed.
    """

    traceChanged = Signal(bool)
    viewChanged = Signal()
    opened = Signal()
    openFailed = Signal(str, str)
    openCancelled = Signal(str)
    selectionChanged = Signal()
    themeChanged = Signal(object)
    busyChanged = Signal(bool)
    status = Signal(str, int)
    problem = Signal(str, str)
    trustRequested = Signal(object)
    policyChanged = Signal()

    def __init__(self, theme: Theme | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.steps = StepController(self)
        self.runner = TraceRunner(self)
        self.runner.finished.connect(self._on_traced)
        self.runner.failed.connect(self._on_failed)
        self.runner.busyChanged.connect(self.busyChanged)
        self.runner.stuck.connect(self._on_stuck)
        self.source: Source | None = None
        self.scenario: Scenario | None = None
        self.trace: Any = None
        self.title_override = ""
        self.pending: Source | None = None
        self.last_error = ""
        self.hide_shape_ops = False
        # None: every op; an int: modules folded at that depth; "layers": one box per layer;
        # "blocks": one box per block where the user placed it (a built network's arrangement).
        self.collapse: int | str | None = None
        self.arrangement: Any = None  # the source's own placement of the trace, if it has one
        # "auto" (from the window's shape), "TB" (top to bottom) or "LR" (left to right).
        self.direction = "auto"
        self.expanded: frozenset[str] = frozenset()  # layers the user opened (double-click)
        self.theme: Theme = theme or THEMES["light"]
        self.selection: Selection = None
        self.trust = TrustStore()
        self.policy: VisibilityPolicy = DEFAULT_POLICY
        self._view_graph: nx.DiGraph | None = None
        self._view_map: ViewMap | None = None

    # ------------------------------------------------------------------------ what is shown
    @property
    def sequence(self):
        """The step sequence of the trace (None before the first trace)."""
        return self.steps.sequence

    @property
    def lr(self) -> float | None:
        """The learning rate of the Update step (None before the first trace)."""
        sequence = self.steps.sequence
        return sequence.lr if sequence is not None else None

    @property
    def title(self) -> str:
        """The title to show: one given by ``bpviz.show``, else the trace's."""
        return self.title_override or (self.trace.title if self.trace is not None else "")

    @property
    def view_graph(self):
        """The graph the canvas draws: the trace's, with shape-only ops hidden and modules
        collapsed as the view options ask (None before the first trace)."""
        if self._view_graph is None and self.trace is not None:
            self._view_graph = _view_of(self.trace, self.hide_shape_ops, self.collapse, self.expanded, self.placement)
        return self._view_graph

    @property
    def placement(self) -> Any:
        """The arrangement the canvas draws from (a built network's blocks, where the user put
        them) while the level of detail is "blocks"; None: the layered layout."""
        return self.arrangement if self.collapse == BLOCKS else None

    def node_attrs(self, node_id: str) -> dict:
        """The drawn graph's attributes of a node (groups exist only there); {} if not drawn."""
        graph = self.view_graph
        return dict(graph.nodes[node_id]) if graph is not None and node_id in graph else {}

    def edge_attrs(self, u: str, v: str) -> dict:
        """The drawn graph's attributes of an edge (merged edges exist only there)."""
        graph = self.view_graph
        return dict(graph.edges[u, v]) if graph is not None and graph.has_edge(u, v) else {}

    # ------------------------------------------------------------------------ opening
    def open(self, source: Source, trusted: bool = False) -> None:
        """Load and trace ``source`` on the worker; what is shown stays until the new trace is
        ready, and stays for good if loading fails (``openFailed``).

        A scenario file runs only when the user agreed: ``trusted`` (they just said so), or the
        trust store allows the file; otherwise ``trustRequested`` asks and nothing runs."""
        path = source.code_path
        if path is not None and not trusted and not self.trust.allows(path):
            self.trustRequested.emit(source)
            return
        self.pending = source
        self.status.emit(f"Opening {source.display_name}…", 0)
        self.runner.start(source)

    def open_spec(self, spec: str) -> None:
        """Open ``lesson:NAME`` or a scenario file path that the user named themselves (on the
        command line, or in code): no question is asked."""
        from bpviz.core.sources import source_from_spec

        self.open(source_from_spec(spec), trusted=True)

    def reload(self) -> None:
        """Load the current source again (fresh weights; a changed file is asked about again)."""
        if self.source is not None:
            self.open(self.source)

    @property
    def busy(self) -> bool:
        """Whether a source is being opened (loaded and traced) now."""
        return self.runner.busy

    def cancel(self) -> bool:
        """Stop opening the pending source (Cancel, Esc): what is shown stays, and the next open
        works. Code stuck inside a call Python cannot interrupt is left running unseen (a status
        line says so). False when nothing is being opened."""
        if not self.runner.busy:
            return False
        name = self.pending.display_name if self.pending is not None else "the scenario"
        self.runner.cancel()
        self.pending = None
        shown = self.source.display_name if self.source is not None else self.title
        message = f"Cancelled opening {name}" + (f"; {shown} stays open." if self.trace is not None else ".")
        self.status.emit(message, 10000)
        self.openCancelled.emit(message)
        return True

    def _on_stuck(self, name: str) -> None:
        self.status.emit(
            f"{name} did not stop: its code is stuck in a call Python cannot interrupt (a long sleep or a "
            "huge torch op), so it runs on unseen until bpviz quits; its result is ignored.",
            20000,
        )

    def _on_traced(self, result: TraceResult) -> None:
        # Checked before anything changes: a graph too big to draw leaves the document as it was.
        refusal = self.drawing_refusal(result.trace, result.source)
        if refusal is not None:
            self._on_failed(refusal, "")
            self.pending = None
            return
        self.pending = None
        self.show_loaded(result.source, result.scenario, result.trace, result.sequence)
        drawn = self.view_graph
        assert drawn is not None
        self.status.emit(
            f"Opened {result.source.display_name} ({drawn.number_of_nodes()} boxes, {drawn.number_of_edges()} arrows)",
            8000,
        )

    def _on_failed(self, message: str, details: str) -> None:
        name = self.pending.display_name if self.pending is not None else "the scenario"
        self.last_error = message
        self.status.emit(f"Could not open {name}", 8000)
        self.openFailed.emit(message, details)

    def drawing_refusal(self, trace, source: Source | None = None) -> str | None:
        """The sentence refusing to draw ``trace`` as :meth:`show_loaded` would first show it
        (when that has too many boxes: see bpviz.core.draw_limit); else None."""
        from bpviz.core.draw_limit import drawing_refusal

        spec = source.recent_path if source is not None else None
        # Views only fold and hide: a trace within the limit is drawn within it, whatever the view.
        if drawing_refusal(trace.graph.number_of_nodes(), spec) is None:
            return None
        arrangement = source.arrangement(trace) if source is not None else None
        if arrangement is not None:
            drawn = _view_of(trace, self.hide_shape_ops, BLOCKS, frozenset(arrangement.expanded), arrangement)
        else:
            drawn = _view_of(trace, self.hide_shape_ops, default_level(trace.graph), frozenset(), None)
        return drawing_refusal(drawn.number_of_nodes(), spec)

    def show_loaded(self, source: Source | None, scenario: Scenario | None, trace, sequence) -> None:
        """Show a trace of a newly loaded source (``scenario``: what the source loaded, which
        training starts from; None where it cannot be trained)."""
        self.source, self.scenario = source, scenario
        # Each network opens at its natural level: its blocks where the user put them (a built
        # network), else layers for modules, ops for scalar lessons.
        self.arrangement = source.arrangement(trace) if source is not None else None
        self.collapse = BLOCKS if self.arrangement is not None else default_level(trace.graph)
        self.expanded = frozenset(self.arrangement.expanded) if self.arrangement is not None else frozenset()
        self._set_trace(trace, sequence, 0, keep_view=False)
        self.opened.emit()

    def show_trace(self, trace, sequence, position: int = 0) -> None:
        """Show a new trace of the same network (training's latest weights): the camera, the
        view options and the selection stay."""
        self._set_trace(trace, sequence, position, keep_view=True)

    def _set_trace(self, trace, sequence, position: int, keep_view: bool) -> None:
        kept = self.selection if keep_view else None
        self.trace = trace
        self._view_graph = None
        self.selection = None
        self.steps.load(sequence, position)
        self.traceChanged.emit(keep_view)
        self.steps.announce()
        if kept is not None and self._drawn(kept):
            self.select(kept)

    def training_loader(self):
        """A function the training worker calls to get the scenario it may change (made from
        the load the trace used), or None when what is shown cannot be trained."""
        source, scenario = self.source, self.scenario
        if source is None or scenario is None:
            return None
        return lambda: source.training_scenario(scenario)

    # ------------------------------------------------------------------------ view options
    def set_hide_shape_ops(self, hide: bool) -> None:
        """Hide (True) or show the ops that only reshape, view or transpose."""
        if bool(hide) != self.hide_shape_ops:
            previous = self._view_options()
            self.hide_shape_ops = bool(hide)
            self._view_changed(previous)

    def set_collapse(self, collapse: int | str | None) -> None:
        """Fold nn.Module groups: at a depth (an int), one box per layer (``"layers"``), or not at
        all (None: every autograd op), or one box per block where the user put it (``"blocks"``,
        for a source with an arrangement only). Layers opened by a double-click close again."""
        if collapse == BLOCKS and self.arrangement is None:
            return
        if collapse != self.collapse or self.expanded:
            previous = self._view_options()
            self.collapse = collapse
            self.expanded = frozenset()
            self._view_changed(previous)

    def set_direction(self, direction: str) -> None:
        """Lay the graph out top to bottom (``"TB"``), left to right (``"LR"``) or as the
        window's shape suits it (``"auto"``)."""
        if direction not in ("auto", "TB", "LR"):
            raise ValueError(f"direction must be auto, TB or LR, not {direction!r}")
        if direction != self.direction:
            previous = self._view_options()
            self.direction = direction
            self._view_changed(previous)

    def toggle_layer(self, node_id: str) -> bool:
        """Open a layer's (or a block's) box to its ops, or close the layer an op belongs to
        again (a double-click); False when ``node_id`` is neither, or when the opened layer
        would make the graph too big to draw."""
        graph, trace = self.view_graph, self.trace
        if graph is None or trace is None or node_id not in graph:
            return False
        attrs = graph.nodes[node_id]
        previous = self._view_options()
        if attrs["kind"] == "group":
            self.expanded = self.expanded | {attrs["module"]}
        else:
            placement = self.placement
            if placement is not None:
                module = placement.opened_block(node_id, self.expanded)
            else:
                module = _layer_of(attrs, self.expanded)
            if module is None:
                return False
            self.expanded = self.expanded - {module}
        return self._view_changed(previous)

    def _view_options(self) -> tuple[bool, int | str | None, frozenset[str], str, Any]:
        """What :meth:`_view_changed` restores when a new view is refused: the options and the
        drawn graph they gave."""
        return self.hide_shape_ops, self.collapse, self.expanded, self.direction, self._view_graph

    def _view_changed(self, previous: tuple[bool, int | str | None, frozenset[str], str, Any]) -> bool:
        """Redraw for the view options just set; when the new view has too many boxes to draw,
        put ``previous`` back and say so instead. True when the view changed."""
        from bpviz.core.draw_limit import view_refusal

        self._view_graph = None
        if self.trace is None:
            self.selection = None
            return True
        refusal = view_refusal(self.view_graph.number_of_nodes())
        if refusal is not None:
            self.hide_shape_ops, self.collapse, self.expanded, self.direction, self._view_graph = previous
            self.warn("Too many boxes to draw", refusal)
            return False
        self.selection = None
        self.viewChanged.emit()
        self.selectionChanged.emit()
        self.steps.announce()
        return True

    def set_policy(self, policy: VisibilityPolicy) -> None:
        """Decide with ``policy`` which numbers the canvas, the inspector and the step bar show."""
        if policy is not self.policy:
            self.policy = policy
            self.policyChanged.emit()

    def set_theme(self, theme: Theme | str) -> None:
        """Switch the colour theme (canvas and widgets)."""
        theme = THEMES[theme] if isinstance(theme, str) else theme
        if theme is not self.theme:
            self.theme = theme
            self.themeChanged.emit(theme)

    # ------------------------------------------------------------------------ selection, steps
    def select(self, selection: Selection) -> None:
        """Select a node id, an edge ``(u, v)``, or nothing. A node inside a folded layer selects
        the layer's box; anything else not drawn is ignored."""
        if isinstance(selection, str):
            selection = self.drawn_as(selection)
            if selection is None:
                return
        if selection is not None and not self._drawn(selection):
            return
        self.selection = selection
        self.selectionChanged.emit()

    def select_node(self, node_id: str) -> None:
        """Select a node (as a click on it does)."""
        self.select(node_id)

    def clear_selection(self) -> None:
        """Select nothing."""
        if self.selection is not None:
            self.select(None)

    def drawn_as(self, node_id: str) -> str | None:
        """The drawn box standing for a trace node: itself, the layer folded around it, or None
        where it is hidden."""
        graph = self.view_graph
        if graph is None or node_id in graph:
            return node_id if graph is not None else None
        if self._view_map is None or self._view_map.view is not graph:
            from bpviz.presentation.view_mapping import ViewMap

            self._view_map = ViewMap(graph)
        return self._view_map.view_of(node_id)

    def _drawn(self, selection: Selection) -> bool:
        graph = self.view_graph
        if graph is None:
            return False
        if isinstance(selection, tuple):
            return graph.has_edge(*selection)
        return selection in graph

    def go_to(self, step: str | int) -> None:
        """Jump to a step number or a phase name (see :func:`bpviz.core.step_names.step_position`);
        raises BpvizError for an unknown name."""
        from bpviz.core.step_names import step_position

        if self.sequence is not None:
            self.steps.set_position(step_position(self.sequence, step))

    # ------------------------------------------------------------------------ messages
    def report(self, text: str, msecs: int = 8000) -> None:
        """A line for the status bar."""
        self.status.emit(text, msecs)

    def warn(self, title: str, message: str) -> None:
        """Something the user must read (shown as a dialog unless dialogs are off)."""
        self.last_error = message
        self.problem.emit(title, message)


def _view_of(trace, hide_shape_ops: bool, collapse: int | str | None, expanded: frozenset[str], placement: Any):
    """The graph the canvas draws of ``trace`` with these view options: shape-only ops hidden or
    not, then the blocks of ``placement`` (a source's arrangement) or modules collapsed at a level
    (None: every op). The trace's own graph when no option changes it."""
    from bpviz.core import views

    if placement is not None:
        return placement.view(views.hide_shape_ops(trace.graph) if hide_shape_ops else trace.graph, expanded)
    return views.drawn_graph(trace, hide_shape_ops, None if collapse == BLOCKS else collapse, expanded)


def _layer_of(attrs: dict[str, Any], expanded: frozenset[str]) -> str | None:
    """The opened layer a node belongs to (its module or, for a parameter, its owner's)."""
    module = attrs["module"]
    if not module and attrs["kind"] == "param":
        module = attrs["name"].rpartition(".")[0]
    return module if module in expanded else None
