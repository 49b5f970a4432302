"""CanvasPanel: the central area; a placeholder until the first trace, then the graph view.

It creates the GraphScene and GraphView lazily, because their modules import torch and the
window must show before torch loads. It also holds the view options (hidden shape-only ops,
collapsed modules) and the camera policy: fit when readable, follow the step's node otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from bpviz.gui.theme import Theme

# Below this zoom node text is too small to read: a graph that would need it to fit whole opens
# at this zoom instead, at the current step's node or the top, and Ctrl+0 still fits it.
READABLE_ZOOM = 0.7


class CanvasPanel(QStackedWidget):
    """Placeholder text, then the graph. Re-emits the scene's selection signals, so the window
    can connect them before the scene exists."""

    nodeSelected = Signal(str)
    edgeSelected = Signal(str, str)
    selectionCleared = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None):
        super().__init__(parent)
        self.scene = None
        self.view = None
        self._theme = theme
        self._animate = True
        self._speed = 1.0
        self._legend = True
        self.hide_shape_ops = False
        self.collapse_depth: int | None = None
        self.placeholder = QLabel("Tracing…")
        self.placeholder.setObjectName("canvasPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("font-size: 16px; padding: 40px;")
        self.addWidget(self.placeholder)

    def ensure(self) -> None:
        """Create the scene and the view (imports the canvas modules, hence torch)."""
        if self.scene is not None:
            return
        from bpviz.gui.graph_scene import GraphScene
        from bpviz.gui.graph_view import GraphView

        self.scene = GraphScene(self._theme, self)
        self.view = GraphView(self.scene)
        self.view.setObjectName("graphView")
        self.addWidget(self.view)
        self.setCurrentWidget(self.view)
        self.scene.nodeSelected.connect(self.nodeSelected)
        self.scene.edgeSelected.connect(self.edgeSelected)
        self.scene.selectionCleared.connect(self.selectionCleared)
        self.scene.animator.set_enabled(self._animate)
        self.scene.animator.set_speed(self._speed)
        self.scene.legend.setVisible(self._legend)

    # ------------------------------------------------------------------------ content
    def view_graph(self, trace):
        """The graph to draw: the trace's, with shape-only ops hidden and modules collapsed as
        the View menu asks (the core's view functions do the work)."""
        graph = trace.graph
        if self.hide_shape_ops or self.collapse_depth is not None:
            from bpviz.core import views

            if self.hide_shape_ops:
                graph = views.hide_shape_ops(graph)
            if self.collapse_depth is not None:
                graph = views.collapse_modules(graph, self.collapse_depth)
        return graph

    def show_trace(self, trace, lr: float) -> None:
        """Build the items for ``trace`` (laid out once; states are applied afterwards)."""
        self.ensure()
        self.scene.title = trace.title
        self.scene.set_graph(self.view_graph(trace), trace.loss_node, trace.diagnostics, self._theme, lr)

    def apply(self, state, trace, lr: float, animate: bool) -> None:
        """Show ``state``; ``animate`` sends tokens along the step's edges (a single step)."""
        if self.scene is None:
            return
        self.scene.apply_state(state, trace, lr=lr)
        if animate:
            self.scene.animate_step(state)
        else:
            self.scene.stop_animations()
        self.follow(state.active_node)

    def node_attrs(self, node_id: str) -> dict:
        """The drawn graph's attributes of a node (groups exist only there)."""
        g = self.scene.graph
        return dict(g.nodes[node_id]) if node_id in g else {}

    def edge_attrs(self, u: str, v: str) -> dict:
        """The drawn graph's attributes of an edge (merged edges exist only there)."""
        g = self.scene.graph
        return dict(g.edges[u, v]) if g.has_edge(u, v) else {}

    # ------------------------------------------------------------------------ camera
    def fit(self) -> None:
        """Fit the whole graph into the view."""
        if self.view is not None:
            self.view.fit()

    def show_initial_view(self, active_node: str | None = None) -> None:
        """Fit if the graph stays readable; else a readable zoom at ``active_node`` (or the top
        of the graph, where the forward pass starts)."""
        if self.view is None:
            return
        self.view.fit()
        if self.view.zoom() >= READABLE_ZOOM:
            return
        self.view.set_zoom(READABLE_ZOOM)
        if active_node is not None and active_node in self.scene.node_ids():
            self.view.centerOn(self.scene.node_item(active_node))
            return
        rect = self.scene.content_rect()
        half = self.view.mapToScene(self.view.viewport().rect()).boundingRect().height() / 2
        self.view.centerOn(rect.center().x(), rect.top() + half)

    def follow(self, node: str | None) -> None:
        """Scroll just enough to keep ``node`` in view (matters when zoomed in on a big graph)."""
        if node is None or self.view is None or node not in self.scene.node_ids():
            return
        rect = self.scene.node_item(node).scene_rect()
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        if not visible.contains(rect):
            self.view.ensureVisible(rect, 60, 60)

    def select_node(self, node_id: str) -> bool:
        """Select and centre a node; False if the canvas does not draw it."""
        if self.scene is None or node_id not in self.scene.node_ids():
            return False
        self.scene.select_node(node_id)
        self.view.centerOn(self.scene.node_item(node_id))
        return True

    # ------------------------------------------------------------------------ looks
    def set_theme(self, theme: Theme) -> None:
        """Restyle the canvas."""
        self._theme = theme
        if self.scene is not None:
            self.scene.set_theme(theme)

    def set_animation_enabled(self, on: bool) -> None:
        """Tokens travel along the edges of single steps (or not)."""
        self._animate = bool(on)
        if self.scene is not None:
            self.scene.animator.set_enabled(self._animate)

    def set_animation_speed(self, factor: float) -> None:
        """Token speed factor, matched to the playback speed."""
        self._speed = float(factor)
        if self.scene is not None:
            self.scene.animator.set_speed(self._speed)

    def set_legend_visible(self, on: bool) -> None:
        """Show or hide the legend on the canvas (exports always include it)."""
        self._legend = bool(on)
        if self.scene is not None:
            self.scene.legend.setVisible(self._legend)

    def stop(self) -> None:
        """Stop running animations (window closing)."""
        if self.scene is not None:
            self.scene.stop_animations()
