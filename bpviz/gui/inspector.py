"""Inspector dock: everything about the selected node or edge, with the chain rule in numbers.

Choice about the stepper: the inspector shows every value and gradient the trace knows (a
reader who selects a node wants its numbers now), but marks the ones the step-through has not
reached yet, and offers a button that jumps to the step where they appear. The canvas is the
place where values appear one step at a time; the inspector is the reference card. What is
marked, or left out altogether, is the visibility policy's answer (:meth:`Inspector.set_policy`).
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDockWidget, QFrame, QLabel, QScrollArea, QWidget

from bpviz.gui.document import Document
from bpviz.gui.inspector_page import InspectorPage, reveal_position  # noqa: F401 - re-exported
from bpviz.gui.theme import Theme
from bpviz.presentation.roles import BLOCK, VARIABLE, role
from bpviz.presentation.visibility import HIDDEN, MARKED, SHOWN, VisibilityPolicy

if TYPE_CHECKING:
    import torch

    from bpviz.core.stepper import DisplayState, StepSequence
    from bpviz.core.trace_record import Trace

JACOBIAN_CAP = 65536
KIND_TITLES = {
    "input": "Input",
    "param": "Parameter",
    "constant": "Constant",
    "op": "Operation",
    "loss": "Loss",
    "group": "Module",
    "block": "Block",
    "variable": "Variable",
}
NOTHING_OPEN = "Nothing is open. Use File ▸ Open Scenario or File ▸ Lessons."
NO_GRAD = "None: no gradient flows here"


class Inspector(QDockWidget):
    """Dock showing the document's selection; its "show me" buttons move the step."""

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__("Inspector", parent)
        self.setObjectName("inspectorDock")
        self.document = document
        self._trace: Trace | None = None
        self._sequence: StepSequence | None = None
        self._state: DisplayState | None = None
        self._selection: str | tuple[str, str] | None = None
        self._view_attrs: dict = {}
        self._policy: VisibilityPolicy = document.policy
        self._theme = document.theme
        self._jacobians: dict[tuple[str, str], torch.Tensor | None] = {}
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(self._scroll)
        self.setMinimumWidth(300)
        self.formula_label: QLabel | None = None
        self._render()
        document.traceChanged.connect(lambda _keep: self.set_trace(document.trace, document.sequence))
        document.steps.stepped.connect(lambda *_: self.set_state(document.steps.state()))
        document.selectionChanged.connect(self._on_selection)
        document.themeChanged.connect(self.set_theme)
        document.policyChanged.connect(lambda: self.set_policy(document.policy))
        document.busyChanged.connect(self._on_busy)

    def _on_selection(self) -> None:
        doc = self.document
        selection = doc.selection
        if selection is None:
            self.clear()
        elif isinstance(selection, tuple):
            self.show_edge(*selection, view_attrs=doc.edge_attrs(*selection))
        else:
            self.show_node(selection, doc.node_attrs(selection))

    # ------------------------------------------------------------------------ inputs
    def set_trace(self, trace, sequence) -> None:
        """A new trace: drop the selection and cached Jacobians."""
        self._trace, self._sequence = trace, sequence
        self._state = None
        self._selection = None
        self._jacobians = {}
        self._render()

    def set_state(self, state) -> None:
        """The stepper moved: refresh the 'not reached yet' marks."""
        self._state = state
        if self._selection is not None:
            self._render()

    def set_policy(self, policy: VisibilityPolicy) -> None:
        """Mark and hide numbers as ``policy`` says from now on."""
        self._policy = policy
        self._render()

    def set_theme(self, theme: Theme) -> None:
        """Colours for heatmaps and muted text."""
        self._theme = theme
        self._render()

    def show_node(self, node_id: str, view_attrs: dict | None = None) -> None:
        """Inspect one node. ``view_attrs`` are the canvas graph's attributes, which describe
        nodes the trace does not have (collapsed module groups)."""
        self._selection = node_id
        self._view_attrs = view_attrs or {}
        self._render()

    def show_edge(self, u: str, v: str, view_attrs: dict | None = None) -> None:
        """Inspect one edge (computes its dense Jacobian on demand, once). ``view_attrs``
        describe canvas edges the trace does not have (merged by a collapse or a hidden op)."""
        self._selection = (u, v)
        self._view_attrs = view_attrs or {}
        self._render()

    def clear(self) -> None:
        """Nothing selected: the overview of the trace."""
        self._selection = None
        self._render()

    def selection(self) -> str | tuple[str, str] | None:
        """The node id or edge shown."""
        return self._selection

    def formula_text(self) -> str:
        """The chain-rule text shown now ('' when there is none)."""
        return self.formula_label.text() if self.formula_label is not None else ""

    def _on_busy(self, _busy: bool) -> None:
        if self._trace is None:  # "Tracing…" or "Nothing is open"
            self._render()

    # ------------------------------------------------------------------------ pages
    def _render(self) -> None:
        page = InspectorPage(self._theme, self._sequence, self._state, self.document.steps.set_position)
        sel, trace = self._selection, self._trace
        if trace is None:
            page.note("Tracing…" if self.document.busy else NOTHING_OPEN)
        elif sel is None:
            self._overview_page(page)
        elif isinstance(sel, tuple) and trace.graph.has_edge(*sel):
            self._edge_page(page, *sel)
        elif isinstance(sel, tuple):
            self._merged_edge_page(page)
        elif sel in trace.graph:
            self._node_page(page, sel)
        else:
            self._group_page(page, self._view_attrs)
        page.finish()
        self.formula_label = page.formula_label
        old = self._scroll.takeWidget()
        self._scroll.setWidget(page)
        if old is not None:
            old.deleteLater()

    def _overview_page(self, page: InspectorPage) -> None:
        """Nothing selected: what was traced, and how to read the canvas."""
        from bpviz.presentation.format import format_number

        t = self._trace
        assert t is not None  # _render shows this page only with a trace
        page.title(t.title, size=15)
        kinds = [a["kind"] for _, a in t.graph.nodes(data=True)]
        variables = sum(role(a) == VARIABLE for _, a in t.graph.nodes(data=True))
        # An overview has no room for marks: the loss and the findings show unless hidden.
        loss_hidden = self._state is not None and self._policy.value(self._state, t.loss_node) == HIDDEN
        findings = str(len(t.diagnostics)) if t.diagnostics else "none"
        page.form(
            [
                ("loss", "" if loss_hidden else format_number(t.loss)),
                ("graph", f"{t.graph.number_of_nodes()} nodes, {t.graph.number_of_edges()} edges"),
                ("operations", str(sum(k in ("op", "loss") for k in kinds))),
                ("parameters", str(sum(k == "param" for k in kinds))),
                *([("variables", str(variables))] if variables else []),
                ("learning rate", format_number(self._sequence.lr if self._sequence else t.lr)),
                ("diagnostics", findings if self._diagnostics() else ""),
            ]
        )
        page.section("How to read it")
        page.note(
            "Step with → (or the Step button): values flow down to the loss, then gradients "
            "flow back up. Each edge shows its local derivative ×d and upstream × local = "
            "the gradient it passes on.\n\nClick a node or an edge to see its numbers and "
            "the chain rule written out; click the background to come back here."
        )

    def _node_page(self, page: InspectorPage, node: str) -> None:
        from bpviz.gui.tensor_widgets import TensorView
        from bpviz.presentation.chain_rule import node_formula, sym
        from bpviz.presentation.format import format_number, shape_text

        assert self._trace is not None  # _render shows this page only with a trace
        t, a, policy = self._trace, self._trace.node(node), self._policy
        name = a["name"] or node
        page.title(name, KIND_TITLES.get(role(a), a["kind"]))
        page.form(
            [
                ("op", a["op"]),
                ("autograd", a["autograd"]),
                ("module", a["module"]),
                ("shape", shape_text(a["shape"])),
                ("dtype", a["dtype"]),
                ("requires grad", "yes" if a["requires_grad"] else "no"),
                ("id", node),
            ]
        )
        page.section("Value")
        if page.reveal(lambda s: policy.value(s, node), "value"):
            page.add(TensorView(a["value"], self._theme))
        page.section(f"Gradient  dL/d{sym(t, node)}")
        grad_shown = a["grad"] is None or page.reveal(lambda s: policy.grad(s, node), "gradient")
        if grad_shown:
            page.add(TensorView(a["grad"], self._theme, empty_text=NO_GRAD))
        updated = self._sequence.update_values.get(node) if self._sequence is not None else None
        if updated is not None and self._sequence is not None:  # only a sequence has updates
            page.section(f"After the update  {name} − {format_number(self._sequence.lr)} × grad")
            if page.reveal(lambda s: policy.update(s, node), "update"):
                page.add(TensorView(updated, self._theme))
        if grad_shown:
            page.section("Chain rule")
            page.formula(node_formula(t, node))
        if self._diagnostics():
            page.diagnostics(t.diagnostics_for(node))

    def _edge_page(self, page: InspectorPage, u: str, v: str) -> None:
        import torch

        from bpviz.gui.tensor_widgets import TensorView
        from bpviz.presentation.chain_rule import edge_formula, sym
        from bpviz.presentation.rules import edge_rule

        assert self._trace is not None  # _render shows this page only with a trace
        t, e, policy = self._trace, self._trace.edge(u, v), self._policy
        us, vs = sym(t, u), sym(t, v)
        page.title(f"{us} → {vs}", "Edge")
        index = e["index"]
        where = ", ".join(map(str, index))
        page.note(f"{us} feeds input {where or '—'} of {vs}" + (" through .detach()" if e["detached"] else ""))
        page.section(f"Local derivative  ∂{vs}/∂{us}")
        self._rule(page, edge_rule(t, u, v), [(u, v)], bool(index) and not e["detached"])
        if e["local"] is not None:
            page.add(TensorView(torch.tensor(float(e["local"]), dtype=torch.float64), self._theme))
        elif e["detached"] or not index:
            page.note("None: no gradient flows along this edge.")
        else:
            self._jacobian(page, u, v)
        page.section(f"Upstream gradient  dL/d{vs}")
        if not page.reveal(lambda s: policy.edge_grad(s, u, v), "gradient"):
            return
        page.add(TensorView(t.node(v)["grad"], self._theme, empty_text=NO_GRAD))
        page.section(f"Gradient along this edge  (share of dL/d{us})")
        page.add(TensorView(e["grad"], self._theme, empty_text="None"))
        page.section("Chain rule")
        page.formula(edge_formula(t, u, v))

    def _rule(self, page: InspectorPage, rule, edges: list[tuple[str, str]], flows: bool) -> None:
        """The local derivative rule: its numbers as the visibility policy shows the gradient
        along ``edges`` (hidden: the symbols only); an op without a rule says so."""
        if rule is None:
            if flows:
                page.note("No written rule for this operation: the local derivative below is torch's.")
            return
        status = SHOWN
        if self._state is not None:
            states = {self._policy.edge_grad(self._state, *e) for e in edges}
            status = HIDDEN if HIDDEN in states else MARKED if MARKED in states else SHOWN
        page.rule(rule.lines(numbers=status != HIDDEN), marked=status == MARKED)

    def _jacobian(self, page: InspectorPage, u: str, v: str) -> None:
        """The dense local Jacobian as a heatmap, computed once per edge, under the size cap."""
        from bpviz.gui.tensor_widgets import HeatmapWidget
        from bpviz.presentation.chain_rule import sym

        t = self._trace
        assert t is not None  # _render shows this page only with a trace
        if (u, v) not in self._jacobians:
            self._jacobians[u, v] = t.jacobian(u, v, max_elements=JACOBIAN_CAP)
        jac = self._jacobians[u, v]
        # The edge's own value: a node with several outputs sends each consumer a different one.
        u_val, v_val = t.edge_value(u, v), t.node(v)["value"]
        if jac is None:
            n = u_val.numel() * v_val.numel() if u_val is not None and v_val is not None else 0
            why = (
                f"it would have {n:,} entries (more than {JACOBIAN_CAP:,})"
                if n > JACOBIAN_CAP
                else "this operation cannot be called once per output element"
            )
            page.note(f"Dense Jacobian not computed: {why}.")
            return
        assert u_val is not None and v_val is not None  # the Jacobian was computed from both
        rows, cols = v_val.numel(), u_val.numel()
        page.note(
            f"Jacobian: {rows} outputs of {sym(t, v)} (rows) × {cols} entries of {sym(t, u)} "
            "(columns); blue < 0 < red, hover a cell for its value"
        )
        heat = HeatmapWidget(jac.reshape(rows, cols), self._theme, row_label=sym(t, v), col_label=sym(t, u))
        heat.setObjectName("jacobianHeatmap")
        page.add(heat)

    def _group_page(self, page: InspectorPage, attrs: dict) -> None:
        """A collapsed module: its size, and the value and gradient of its single output."""
        from bpviz.gui.tensor_widgets import TensorView

        word = "block" if role(attrs) == BLOCK else "module"
        page.title(str(attrs.get("name") or word), word.capitalize())
        page.note(
            f"{len(attrs.get('members') or ())} nodes folded into this {word}. Double-click it to "
            "see each operation, or choose View ▸ Level of Detail ▸ Every Operation."
        )
        out = attrs.get("output")
        assert self._trace is not None  # _render shows this page only with a trace
        if out is None or out not in self._trace.graph:
            return
        a, policy = self._trace.node(out), self._policy
        name = a["name"] or out
        page.section(f"Output value  ({name})")
        if page.reveal(lambda s: policy.value(s, out), "value"):
            page.add(TensorView(a["value"], self._theme))
        page.section(f"Output gradient  dL/d{name}")
        if page.reveal(lambda s: policy.grad(s, out), "gradient"):
            page.add(TensorView(a["grad"], self._theme, empty_text=NO_GRAD))

    def _merged_edge_page(self, page: InspectorPage) -> None:
        """A drawn edge standing for several trace edges (collapsed modules, hidden shape ops)."""
        from bpviz.gui.tensor_widgets import TensorView

        attrs = self._view_attrs
        page.title("Merged edge", "Edge")
        page.note(
            f"This edge stands for {max(1, len(attrs.get('members') or ()))} edge(s) of the "
            "traced graph, merged by a collapsed module or a hidden shape-only op. Expand "
            "modules and show shape-only ops (View menu) to see each local derivative."
        )
        page.section("Gradient along it")
        sel = self._selection
        assert isinstance(sel, tuple)  # _render shows this page for an edge
        u, v = sel
        hops = [u, *(attrs.get("bridged") or ()), v]
        members = attrs.get("members") or list(pairwise(hops))
        if self._state is not None and any(self._policy.edge_grad(self._state, *e) == HIDDEN for e in members):
            page.note("Hidden for now: the gradient is not shown at this step.")
            return
        page.add(TensorView(attrs.get("grad"), self._theme, empty_text="None"))
        if not attrs.get("members"):  # a bridge over hidden shape ops: W -> (t) -> linear
            from bpviz.presentation.rules import path_rule

            assert self._trace is not None  # _render shows this page only with a trace
            rule = path_rule(self._trace, hops)
            if rule is not None:
                page.section("Local derivative rule")
                self._rule(page, rule, members, True)

    def _diagnostics(self) -> bool:
        """Whether the policy shows diagnostics at the current step."""
        return self._policy.diagnostics(self._state)
