"""CanvasPanel: the central area; a placeholder until the first trace, then the graph view.

It creates the GraphScene and GraphView lazily, because their modules import torch and the
window must show before torch loads. It draws what the document holds (the view graph, the step,
the selection, the theme), turns clicks into selection requests to the document, and owns the
camera policy: fit when readable, else readable size at the step's node with the minimap, and
follow the step's node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from bpviz.gui.document import Document

if TYPE_CHECKING:  # both import torch: the window shows before they load
    from bpviz.gui.graph_scene import GraphScene
    from bpviz.gui.graph_view import GraphView

# "auto" tries left to right (a layout more) only for graphs this small.
AUTO_MAX_NODES = 200


class CanvasPanel(QStackedWidget):
    """Placeholder text, then the graph of ``document``."""

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.scene: GraphScene | None = None
        self.view: GraphView | None = None
        self._animate = True
        self._speed = 1.0
        self._legend = True
        self._own_click = False
        self.placeholder = QLabel("Tracing…")
        self.placeholder.setObjectName("canvasPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("font-size: 16px; padding: 40px;")
        self.addWidget(self.placeholder)
        document.traceChanged.connect(self._on_trace)
        document.viewChanged.connect(self._on_view_changed)
        document.selectionChanged.connect(self._on_selection)
        document.themeChanged.connect(self._on_theme)
        document.policyChanged.connect(self._on_policy)
        document.openFailed.connect(self._on_open_failed)
        document.openCancelled.connect(self._on_open_cancelled)
        document.busyChanged.connect(self._on_busy)
        document.steps.stepped.connect(self._on_stepped)
        document.steps.speedChanged.connect(self.set_animation_speed)

    def ensure(self) -> GraphScene:
        """Create the scene and the view (imports the canvas modules, hence torch); returns the
        scene."""
        if self.scene is not None:
            return self.scene
        from bpviz.gui.graph_scene import GraphScene
        from bpviz.gui.graph_view import GraphView

        scene = self.scene = GraphScene(self.document.theme, self)
        scene.set_policy(self.document.policy)
        view = self.view = GraphView(scene)
        view.setObjectName("graphView")
        self.addWidget(view)
        self.setCurrentWidget(view)
        scene.nodeSelected.connect(lambda node: self._clicked(node))
        scene.edgeSelected.connect(lambda u, v: self._clicked((u, v)))
        scene.selectionCleared.connect(self.document.clear_selection)
        scene.nodeDoubleClicked.connect(self.document.toggle_layer)
        scene.animator.set_enabled(self._animate)
        scene.animator.set_speed(self._speed)
        scene.legend.setVisible(self._legend)
        self._colour_minimap(self.document.theme)
        return scene

    def _colour_minimap(self, theme) -> None:
        if self.view is not None:
            self.view.minimap.set_colours(theme.surface, theme.text_muted, theme.active)

    # ------------------------------------------------------------------------ content
    def _on_trace(self, keep_view: bool) -> None:
        """Build the items for the document's new trace (laid out once; steps apply states)."""
        self._draw_graph()
        if not keep_view:
            # After the layouts settle: the view has its final size then.
            QTimer.singleShot(0, self.show_initial_view)

    def _on_view_changed(self) -> None:
        self._draw_graph()
        self.show_initial_view()

    def _draw_graph(self) -> None:
        doc = self.document
        scene = self.ensure()
        scene.title = doc.trace.title
        direction = "TB" if doc.direction == "auto" else doc.direction
        args = (doc.view_graph, doc.trace.loss_node, doc.trace.diagnostics, doc.theme, doc.sequence.lr)
        placement = doc.placement
        if placement is not None:
            # A built network: its blocks where the user put them, flowing the way they do.
            scene.set_graph(*args, placement.direction, layout=placement.layout)
            return
        scene.set_graph(*args, direction)
        if doc.direction == "auto" and self._try_side_by_side(scene.content_rect()):
            scene.set_graph(*args, "LR")
            if not self._fits_readable(scene.content_rect()):
                scene.set_graph(*args, "TB")  # no better side by side: keep the usual way down

    def _try_side_by_side(self, drawn) -> bool:
        """Top to bottom does not fit at a readable zoom; a small graph in a wide window may."""
        graph = self.document.view_graph
        small = graph is not None and graph.number_of_nodes() <= AUTO_MAX_NODES
        return small and self.width() > self.height() and not self._fits_readable(drawn)

    def _fits_readable(self, drawn) -> bool:
        return self.view is not None and self.view.fits_readable(drawn)

    def _on_stepped(self, position: int, forward_one: bool) -> None:
        state = self.document.steps.state()
        if state is not None:
            self.apply(state, animate=forward_one)

    def apply(self, state, animate: bool) -> None:
        """Show ``state``; ``animate`` sends tokens along the step's edges (a single step)."""
        if self.scene is None:
            return
        self.scene.apply_state(state, self.document.trace, lr=self.document.lr)
        if animate:
            self.scene.animate_step(state)
        else:
            self.scene.stop_animations()
        self.follow(state.active_node)

    def _on_open_failed(self, message: str, _details: str) -> None:
        if self.document.trace is None:
            label = self.document.pending.label if self.document.pending is not None else "the scenario"
            self.placeholder.setText(f"Could not open {label}.\n\n{message}\n\nUse File ▸ Open or File ▸ Lessons.")

    def _on_busy(self, busy: bool) -> None:
        if busy and self.document.trace is None:
            self.placeholder.setText("Tracing…  (Esc cancels)")

    def _on_open_cancelled(self, message: str) -> None:
        if self.document.trace is None:
            self.placeholder.setText(f"{message}\n\nUse File ▸ Open or File ▸ Lessons.")

    # ------------------------------------------------------------------------ selection
    def _clicked(self, selection) -> None:
        self._own_click = True
        try:
            self.document.select(selection)
        finally:
            self._own_click = False

    def _on_selection(self) -> None:
        """Draw the document's selection; centre it when it was chosen elsewhere (the
        diagnostics list), not by a click on the canvas."""
        scene, view = self.scene, self.view
        if scene is None or view is None:
            return
        selection = self.document.selection
        if selection is None:
            scene.clear_selection()
        elif isinstance(selection, tuple):
            scene.select_edge(*selection)
        else:
            scene.select_node(selection)
            if not self._own_click and selection in scene.node_ids():
                view.centerOn(scene.node_item(selection))

    # ------------------------------------------------------------------------ camera
    def fit(self) -> None:
        """Fit the whole graph into the view."""
        if self.view is not None:
            self.view.fit()

    def show_initial_view(self) -> None:
        """Fit if the graph stays readable; else a readable zoom at the current step's node (or
        the top of the graph, where the forward pass starts)."""
        state = self.document.steps.state()
        self.frame(state.active_node if state is not None else None)

    def frame(self, active_node: str | None) -> None:
        """Fit if the graph stays readable; else a readable zoom at ``active_node`` (None: the
        start of the graph) with the minimap showing the whole."""
        scene, view = self.scene, self.view
        if scene is None or view is None:
            return
        shown = scene.shown_node(active_node)
        view.fit(scene.node_item(shown).scene_rect() if shown is not None else None)
        self.follow(active_node)

    def follow(self, node: str | None) -> None:
        """Scroll just enough to keep trace node ``node`` (or the layer showing it) in view,
        and mark it on the minimap."""
        scene, view = self.scene, self.view
        if scene is None or view is None:
            return
        shown = scene.shown_node(node)
        if shown is None:
            view.set_marker(None)
            return
        rect = scene.node_item(shown).scene_rect()
        view.set_marker(rect)
        view.show_spot(rect)

    # ------------------------------------------------------------------------ looks
    def _on_policy(self) -> None:
        if self.scene is not None:
            self.scene.set_policy(self.document.policy)

    def _on_theme(self, theme) -> None:
        if self.scene is not None:
            self.scene.set_theme(theme)
            self._colour_minimap(theme)

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
