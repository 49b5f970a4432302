"""GraphScene: the traced graph as Qt items, rendered from one DisplayState at a time.

The scene never keeps display history: :meth:`GraphScene.apply_state` sets every item from the
state alone, so applying an earlier state restores exactly the earlier display. What of a state
is drawn, the scene asks its :class:`~bpviz.presentation.visibility.VisibilityPolicy`. Layout runs once
per graph (node sizes are known up front), never per step. Signals carry node ids, never items.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Set

import networkx as nx
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsScene

from bpviz.core.layout import Layout, layered_layout
from bpviz.core.stepper import DisplayState
from bpviz.gui.edge_ports import edge_ports
from bpviz.gui.items.edge_item import EdgeItem
from bpviz.gui.items.legend_item import LegendItem
from bpviz.gui.items.node_item import NodeItem
from bpviz.gui.items.picking import item_at
from bpviz.gui.items.style import colour
from bpviz.gui.items.zorder import CACHE_NODE, node_cache_for
from bpviz.gui.labels import LabelPlacer
from bpviz.gui.theme import LIGHT, GradScale, Theme, grad_width
from bpviz.presentation.format import StatsCache, edge_label, magnitude
from bpviz.presentation.roles import role
from bpviz.presentation.rules import short_rule
from bpviz.presentation.view_mapping import ViewMap, on_paths_to_loss
from bpviz.presentation.visibility import DEFAULT_POLICY, VisibilityPolicy

LAYER_GAP = 78.0  # room between layers for one row of edge labels
LAYER_GAP_LR = 190.0  # left to right: room for an edge label's width between layers
NODE_GAP = 34.0
LEGEND_GAP = 60.0
SCENE_MARGIN = 40.0
GRAD_PHASES = ("Backward", "Update")


class GraphScene(QGraphicsScene):
    """The canvas model: items for one graph, a legend, step tokens and selection.

    Signals: ``nodeSelected(str)`` and ``edgeSelected(str, str)`` when the user clicks a node or
    an edge (or its label); ``selectionCleared()`` when the selection is dropped;
    ``nodeDoubleClicked(str)`` for a double-click on a box; ``animationFinished()`` when the
    tokens of :meth:`animate_step` have arrived. ``animator`` (a TokenAnimator) switches the
    tokens on and off and sets their speed.
    """

    nodeSelected = Signal(str)
    edgeSelected = Signal(str, str)
    selectionCleared = Signal()
    nodeDoubleClicked = Signal(str)
    animationFinished = Signal()

    def __init__(self, theme: Theme = LIGHT, parent=None):
        super().__init__(parent)
        # A BSP index makes hit tests and exposed-area queries logarithmic (2,000 nodes).
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._theme = theme
        self.direction = "TB"
        self.graph: nx.DiGraph[str] = nx.DiGraph()
        self.loss_node: str | None = None
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[tuple[str, str], EdgeItem] = {}
        self._to_loss: set[str] = set()
        self._map = ViewMap(self.graph)
        self._labels = LabelPlacer(())
        self._static_rect = QRectF()
        self._state: DisplayState | None = None
        self._shown: DisplayState | None = None  # what the policy let through of _state
        self._policy: VisibilityPolicy = DEFAULT_POLICY
        self._diagnostics_shown = True
        self._legend_content: tuple[set, set] = (set(), set())
        self._lr = 0.1
        self._applied_lr = 0.1
        self._edge_content: dict[tuple[str, str], tuple[str, str | None, float]] = {}
        self._edge_text_cache: dict[tuple[str, str], tuple[str, str | None, float]] = {}
        self._stats = StatsCache()
        self.grad_scale = GradScale()
        self._trace = None  # the trace of the last apply_state: the edge labels' rules
        self._selected: str | tuple[str, str] | None = None
        self._focus: str | tuple[str, str] | None = None
        self._node_cache = CACHE_NODE
        self._stale = True  # the next apply_state sets every item (not only changes)
        self._styled: tuple = ((None, None), None, set())  # (selection, focus), active, its edges
        self._animator = None  # see the animator property
        self._placer: Callable[[nx.DiGraph, dict[str, tuple[float, float]]], Layout] | None = None
        self.title = ""
        self.legend = LegendItem(theme)
        self.addItem(self.legend)
        self.setBackgroundBrush(colour(theme.background))

    # ------------------------------------------------------------------------ building
    def set_graph(
        self,
        graph: nx.DiGraph,
        loss_node: str | None,
        diagnostics=(),
        theme: Theme | None = None,
        lr: float = 0.1,
        direction: str = "TB",
        layout: Callable[[nx.DiGraph, dict[str, tuple[float, float]]], Layout] | None = None,
    ) -> None:
        """Show ``graph`` (a Trace graph or a collapsed view of it): build items, lay out once.

        ``diagnostics`` are :class:`bpviz.core.trace_record.Diagnostic` objects; ``lr`` sizes the
        update line the parameter boxes reserve; ``direction`` is ``"TB"`` (top to bottom) or
        ``"LR"`` (left to right). ``layout(graph, sizes)`` places the boxes instead of the layered
        layout (a built network's blocks where the user put them). Nothing shows values until
        :meth:`apply_state`.
        """
        self.direction = direction
        self._placer = layout
        # Everything made here lives as long as the graph: the cyclic collector's passes while
        # building would only walk it (and all of torch and Qt) again and again, 150-270 ms of a
        # 2,000-node build. Paused, not disabled: it resumes afterwards with nothing lost.
        paused = gc.isenabled()
        gc.disable()
        try:
            self._build(graph, loss_node, diagnostics, theme, lr)
        finally:
            if paused:
                gc.enable()

    def _build(self, graph, loss_node, diagnostics, theme, lr) -> None:
        self.stop_animations()
        for item in [*self._nodes.values(), *self._edges.values(), *(e.label for e in self._edges.values())]:
            self.removeItem(item)
        if theme is not None:
            self._theme = theme
        self.graph, self.loss_node, self._lr = graph, loss_node, lr
        self._state, self._shown, self._selected, self._focus = None, None, None, None
        self._stale = True
        self._styled = ((None, None), None, set())
        self._edge_content, self._edge_text_cache = {}, {}
        self._map = ViewMap(graph)
        by_node: dict[str, list] = {}
        for d in diagnostics:
            # A finding about a node inside a collapsed module badges the module's group.
            shown = self._map.view_of(d.node) if d.node is not None else None
            if shown is not None:
                by_node.setdefault(shown, []).append(d)
        self._stats = StatsCache()
        # Edge colours span this graph's own gradients, smallest nonzero to largest.
        self.grad_scale = GradScale.spanning(magnitude(a["grad"], self._stats) for _, _, a in graph.edges(data=True))
        self.legend.set_grad_scale(self.grad_scale)
        self._nodes = {
            n: NodeItem(n, a, self._theme, by_node.get(n, ()), lr, self._stats) for n, a in graph.nodes(data=True)
        }
        self._edges = {(u, v): EdgeItem(u, v, a, self._theme) for u, v, a in graph.edges(data=True)}
        for item in self._nodes.values():
            self.addItem(item)
            item.set_cache(self._node_cache)
        for edge in self._edges.values():
            self.addItem(edge)
            self.addItem(edge.label)
        self._to_loss = (nx.ancestors(graph, loss_node) | {loss_node}) if loss_node in graph else set()
        self._legend_content = ({role(a) for _, a in graph.nodes(data=True)}, {d.kind for d in diagnostics})
        self._diagnostics_shown = True
        self.legend.set_content(*self._legend_content)
        self._layout()
        self._restyle()

    def _layout(self) -> None:
        sizes = {n: item.size_hint() for n, item in self._nodes.items()}
        horizontal = self.direction == "LR"
        if self._placer is not None:
            layout = self._placer(self.graph, sizes)
        else:
            layout = layered_layout(
                self.graph,
                sizes=sizes,
                direction=self.direction,
                # Side by side, a layer gap must hold a whole edge label, not just its height.
                layer_gap=LAYER_GAP_LR if horizontal else LAYER_GAP,
                node_gap=NODE_GAP,
            )
        for n, (x, y) in layout.positions.items():
            self._nodes[n].setPos(x, y)
        routes = getattr(layout, "routes", {}) or {}
        self._route_edges(routes)
        self.legend.setPos(layout.width + LEGEND_GAP, 0.0)
        boxes = [n.scene_rect() for n in self._nodes.values()] + [self.legend.sceneBoundingRect()]
        self._labels = LabelPlacer(boxes, self._edges.values())
        # Boxes and curves stay put until the next layout: their extent is computed once.
        self._static_rect = QRectF()
        for item in [*self._nodes.values(), *self._edges.values()]:
            self._static_rect = self._static_rect.united(item.sceneBoundingRect())
        self.setSceneRect(self.content_rect())

    def _route_edges(self, routes: dict) -> None:
        """Each edge from its port on its source's bottom to its port on its target's top (right
        to left side, left to right; see :mod:`bpviz.gui.edge_ports` for edges drawn across)."""
        horizontal = self.direction == "LR"
        out_port, in_port, turned = edge_ports(
            self.graph, {n: item.scene_rect() for n, item in self._nodes.items()}, routes, horizontal=horizontal
        )
        for e, edge in self._edges.items():
            route = routes.get(e) or []
            edge.set_geometry(
                out_port[e], in_port[e], [QPointF(x, y) for x, y in route[1:-1]], horizontal=horizontal != (e in turned)
            )

    def content_rect(self) -> QRectF:
        """Everything worth exporting (graph, labels, legend) plus a margin; tokens excluded."""
        rect = self.legend.sceneBoundingRect().united(self._static_rect)
        for edge in self._edges.values():
            if edge.label.isVisible():
                rect = rect.united(edge.label.sceneBoundingRect())
        return rect.adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)

    # ------------------------------------------------------------------------ state
    def apply_state(self, state: DisplayState, trace=None, lr: float | None = None) -> None:
        """Render ``state``: values, gradients, edge labels, the step's highlight and the update
        line, as far as the visibility policy shows them. ``lr`` defaults to ``trace.lr`` (pass
        the StepSequence's lr if it overrides it)."""
        self._state = state
        self._show_diagnostics(self._policy.diagnostics(state))
        # The step (phase, active node and edges) is drawn as is; its numbers as the policy says.
        prev, state = self._shown, self._policy.shown(state)
        self._shown = state
        if lr is None:
            lr = getattr(trace, "lr", self._lr)
        if trace is not None and trace is not self._trace:
            self._trace, self._edge_text_cache = trace, {}  # labels show this trace's rules
        trace_graph = getattr(trace, "graph", None)
        if trace_graph is not None and trace_graph is not self._map.trace_graph:
            self._map = ViewMap(self.graph, trace_graph)
            prev = None
        m = self._map
        grad_phase = state.phase in GRAD_PHASES
        nodes: Set[str]
        edges: Set[tuple[str, str]]
        if prev is None or self._stale or lr != self._applied_lr:
            nodes, edges = self._nodes.keys(), self._edges.keys()
        else:
            # Only what differs from the state shown: what each item shows is still decided
            # by `state` alone (the others already show exactly what `state` says).
            changed = (state.values ^ prev.values) | (state.grads ^ prev.grads)
            if state.updated is not prev.updated:
                changed |= state.updated.keys() | prev.updated.keys()
            nodes = m.nodes_using(changed)
            edges = (
                self._edges.keys()
                if grad_phase != (prev.phase in GRAD_PHASES)
                else m.edges_using(state.edge_grads ^ prev.edge_grads)
            )
        for n in nodes:
            self._nodes[n].set_display(m.shows_value(n, state), m.shows_grad(n, state), m.updated(n, state), lr)
        graph_edges = self.graph.edges
        restyle = set()
        for e in edges:
            a = graph_edges[e]
            label, colour_hex, width = "", None, 1.4
            if (a["grad"] is not None or a["detached"]) and m.edge_has_grad(*e, state):
                label, grad_colour, grad_w = self._edge_text(*e, a)
                if grad_phase and grad_colour is not None:
                    colour_hex, width = grad_colour, grad_w
            content = (label, colour_hex, width)
            if self._edge_content.get(e) != content:
                self._edge_content[e] = content
                restyle.add(e)
        full = prev is None or self._stale or lr != self._applied_lr
        self._applied_lr = lr
        self._stale = False
        self._restyle(None if full else restyle)
        labelled = [e for e in self._edges.values() if e.label.text]
        for edge in self._edges.values():
            if not edge.label.text:
                edge.place_label(0.5)  # hidden labels go home, so a state never depends on history
        self._labels.place(labelled)
        # Labels near the border may reach past the laid-out area; never clip them in the view.
        pad = SCENE_MARGIN
        rect = self.sceneRect().united(self.legend.sceneBoundingRect().adjusted(-pad, -pad, pad, pad))
        rect = self._labels.extent(rect, self._static_rect, pad)
        if rect != self.sceneRect():
            self.setSceneRect(rect)

    def _show_diagnostics(self, shown: bool) -> None:
        """Show or hide every diagnostic badge, the legend's diagnostic entries and the numbers
        at the ends of its gradient scale: all three tell of the whole pass's gradients."""
        if shown == self._diagnostics_shown:
            return
        self._diagnostics_shown = shown
        for item in self._nodes.values():
            item.set_diagnostics_shown(shown)
        kinds, diagnostic_kinds = self._legend_content
        self.legend.set_content(kinds, diagnostic_kinds if shown else set())
        self.legend.set_scale_numbers_shown(shown)

    def _edge_text(self, u: str, v: str, a: dict) -> tuple[str, str | None, float]:
        """The chain-rule label, gradient colour and width of an edge (fixed per graph and
        theme: cached, as apply_state asks for every edge on every step)."""
        cached = self._edge_text_cache.get((u, v))
        if cached is None:
            mag = magnitude(a["grad"], self._stats)
            rule = short_rule(self._trace, u, v) if self._trace is not None and a["local"] is not None else ""
            label = edge_label(a["local"], self.graph.nodes[v]["grad"], a["grad"], a["detached"], norm=mag, rule=rule)
            scale = self.grad_scale
            look = (self._theme.grad_colour(mag, scale), grad_width(mag, scale)) if mag is not None else (None, 1.4)
            cached = self._edge_text_cache[u, v] = (label, *look)
        return cached

    def _restyle(self, changed_edges: set | None = None) -> None:
        """Apply highlight, selection and dimming on top of the state's content.

        ``changed_edges``: the edges whose content changed in a step (then only they, and the
        nodes and edges the step's highlight leaves or reaches, are looked at); None: all.
        """
        state = self._state
        active = self._map.active_node(state) if state else None
        active_edges = self._moving_edges(state)
        on_path = on_paths_to_loss(self.graph, self._to_loss, self._focus)
        styled = (self._selected, self._focus)
        nodes: Set[str]
        edges: Set[tuple[str, str]]
        nodes, edges = self._nodes.keys(), self._edges.keys()
        if changed_edges is not None and styled == self._styled[0]:
            was_active, was_moving = self._styled[1:]
            nodes = {n for n in (active, was_active) if n in self._nodes}
            edges = changed_edges | active_edges | was_moving
        self._styled = (styled, active, active_edges)
        for n in nodes:
            self._nodes[n].set_flags(
                active=n == active, selected=n == self._selected, dimmed=on_path is not None and n not in on_path
            )
        for e in edges:
            label, colour_hex, width = self._edge_content.get(e, ("", None, 1.4))
            dimmed = on_path is not None and not (e[0] in on_path and e[1] in on_path)
            self._edges[e].set_display(
                label,
                colour_hex,
                width,
                label_is_grad=bool(label) and label != "detached",
                active=e in active_edges,
                selected=e == self._selected,
                dimmed=dimmed,
            )

    def _moving_edges(self, state: DisplayState | None) -> set[tuple[str, str]]:
        """The step's edges that carry something: in the backward phase only those a gradient
        flows along (not the edges from constants)."""
        if state is None:
            return set()
        edges = self._map.active_edges(state)
        if state.phase == "Backward":
            edges = {e for e in edges if self.graph.edges[e]["grad"] is not None}
        return edges

    def state(self) -> DisplayState | None:
        """The state shown now (None before the first :meth:`apply_state`)."""
        return self._state

    def policy(self) -> VisibilityPolicy:
        """The visibility policy deciding what of a state is drawn."""
        return self._policy

    def set_policy(self, policy: VisibilityPolicy) -> None:
        """Draw with ``policy`` from now on (the current state is drawn again at once)."""
        self._policy = policy
        self._stale = True
        if self._state is not None:
            self.apply_state(self._state, lr=self._applied_lr)

    # ------------------------------------------------------------------------ selection
    def highlight_paths_to_loss(self, node_id: str | None) -> None:
        """Dim everything not on a path from ``node_id`` to the loss (None: undim all)."""
        self._focus = node_id
        self._restyle()

    def select_node(self, node_id: str | None) -> None:
        """Select a node (highlight it and its paths to the loss); emits nothing."""
        self._selected = node_id if node_id in self._nodes else None
        self.highlight_paths_to_loss(self._selected)

    def select_edge(self, u: str, v: str) -> None:
        """Select an edge (highlight it and the path through it to the loss); emits nothing."""
        self._selected = (u, v) if (u, v) in self._edges else None
        self._focus = self._selected
        self._restyle()

    def clear_selection(self) -> None:
        """Drop the selection and the path highlight, and emit ``selectionCleared``."""
        had = self._selected is not None or self._focus is not None
        self._selected, self._focus = None, None
        self._restyle()
        if had:
            self.selectionCleared.emit()

    def selected(self) -> str | tuple[str, str] | None:
        """The selected node id, edge (u, v), or None."""
        return self._selected

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        """A click on a node, edge or edge label selects it; elsewhere the event is left to the
        view (which pans, and clears the selection on a click without a drag)."""
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        item = item_at(self, event.scenePos())
        if isinstance(item, NodeItem):
            self.select_node(item.node_id)
            self.nodeSelected.emit(item.node_id)
        elif isinstance(item, EdgeItem):
            self.select_edge(item.u, item.v)
            self.edgeSelected.emit(item.u, item.v)
        else:
            return event.ignore()
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt API
        """A double-click on a box asks to open it (a layer) or close the layer it is in."""
        item = item_at(self, event.scenePos()) if event.button() == Qt.MouseButton.LeftButton else None
        if isinstance(item, NodeItem):
            self.nodeDoubleClicked.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # ------------------------------------------------------------------------ animation
    def animate_step(self, state: DisplayState) -> None:
        """Send a token along each active edge of ``state``: producer -> consumer in the forward
        phase, consumer -> producer (the gradient) in the backward phase."""
        if state.phase not in ("Forward", "Backward"):
            self.stop_animations()
            return
        reverse = state.phase == "Backward"
        paths = [(e, self._edges[e].path()) for e in sorted(self._moving_edges(state))]
        t = self._theme
        self.animator.start(paths, t.token_backward if reverse else t.token_forward, reverse)

    def stop_animations(self) -> None:
        """Stop the running animation and remove its tokens."""
        if self._animator is not None:
            self._animator.stop()

    @property
    def animator(self):
        """The scene's TokenAnimator, made (and its module imported) on first use: exports
        never animate."""
        if self._animator is None:
            from bpviz.gui.token_animator import TokenAnimator

            self._animator = TokenAnimator(self)
            self._animator.finished.connect(self.animationFinished)
        return self._animator

    # ------------------------------------------------------------------------ zoom
    def set_view_zoom(self, zoom: float) -> None:
        """The view's zoom changed (GraphView calls this): nodes cache their painting as device
        pixmaps only where they draw text (zoom >= LOD_TEXT). Below, a box is cheaper to draw
        than a pixmap is to render again at every new zoom level."""
        mode = node_cache_for(zoom)
        if mode != self._node_cache:
            self._node_cache = mode
            for item in self._nodes.values():
                item.set_cache(mode)

    # ------------------------------------------------------------------------ access
    def set_theme(self, theme: Theme) -> None:
        """Restyle every item; lay out again only if node sizes changed."""
        self._theme = theme
        self._edge_text_cache = {}
        self.setBackgroundBrush(colour(theme.background))
        before = {n: item.size_hint() for n, item in self._nodes.items()}
        for item in self._nodes.values():
            item.set_theme(theme)
        for edge in self._edges.values():
            edge.set_theme(theme)
        self.legend.set_theme(theme)
        if self._nodes and before != {n: item.size_hint() for n, item in self._nodes.items()}:
            self._layout()
        self._stale = True
        if self._state is not None:
            self.apply_state(self._state, lr=self._applied_lr)
        else:
            self._restyle()

    def set_caption(self, title: str = "", subtitle: str = "") -> None:
        """Title and subtitle at the top of the legend (exports carry them; e.g. the lesson and
        "Backward · step 6 of 9: ...")."""
        self.title = title
        self.legend.set_caption(title, subtitle)
        self.setSceneRect(self.sceneRect().united(self.content_rect()))

    def theme(self) -> Theme:
        """The current theme."""
        return self._theme

    def node_item(self, node_id: str) -> NodeItem:
        """The item of one node (KeyError if the graph has none)."""
        return self._nodes[node_id]

    def edge_item(self, u: str, v: str) -> EdgeItem:
        """The item of one edge (KeyError if the graph has none)."""
        return self._edges[u, v]

    def shown_node(self, trace_node: str | None) -> str | None:
        """The box standing for a trace node: itself, the collapsed layer holding it, or None
        where it is hidden."""
        return self._map.view_of(trace_node) if trace_node is not None else None

    def node_ids(self) -> list[str]:
        """The ids of the nodes shown."""
        return list(self._nodes)
