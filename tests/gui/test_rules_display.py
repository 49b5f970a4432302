"""The local derivative rules on screen: the inspector's edge page shows rule → numbers → value
above the chain rule, the canvas labels scalar edges with the short rule, and the numbers follow
the visibility policy like every other number."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from bpviz.presentation.visibility import DEFAULT_POLICY
from tests.gui.helpers import edge_text
from tests.presentation.test_visibility import HideGradients


def rule_text(window) -> str:
    label = window.inspector.findChild(QLabel, "localRule")
    return label.text() if label is not None else ""


def test_chain56_edge_page_reads_rule_numbers_value(open_window):
    window = open_window()
    t, inspector = window.trace, window.inspector
    x, y, z = t.find("x"), t.find("y"), t.find("z")
    window.controller.to_end()
    window.scene.edgeSelected.emit(x, y)
    assert rule_text(window) == "d(x²)/dx = 2x = 2 × 2 = 4"
    labels = inspector.findChildren(QLabel)
    # The rule comes before today's chain-rule line.
    order = [label.objectName() for label in labels if label.objectName() in ("localRule", "chainRule")]
    assert order == ["localRule", "chainRule"]
    window.scene.edgeSelected.emit(y, z)
    assert rule_text(window) == "d(y + 3)/dy = 1"
    window.scene.edgeSelected.emit(z, t.loss_node)
    assert rule_text(window) == "d(z²)/dz = 2z = 2 × 7 = 14"
    assert edge_text(window, "x", "y") == "×(2x = 4)   14 × 4 = 56"
    assert edge_text(window, "y", "z") == "×1   14 × 1 = 14"


def test_rule_numbers_are_marked_before_the_step_and_hidden_by_the_policy(open_window):
    window = open_window()
    t, inspector = window.trace, window.inspector
    x, y = t.find("x"), t.find("y")
    window.controller.set_position(0)
    window.scene.edgeSelected.emit(x, y)
    assert rule_text(window) == "d(x²)/dx = 2x = 2 × 2 = 4   (not reached yet)"
    window.controller.to_end()
    inspector.set_policy(HideGradients())
    window.scene.edgeSelected.emit(x, y)
    assert rule_text(window) == "d(x²)/dx = 2x"  # the symbols, none of the numbers
    inspector.set_policy(DEFAULT_POLICY)
    window.scene.edgeSelected.emit(x, y)
    assert rule_text(window) == "d(x²)/dx = 2x = 2 × 2 = 4"


def test_an_op_without_a_rule_says_so_and_keeps_todays_display(open_window):
    window = open_window("lesson:detached_branch")
    t, inspector = window.trace, window.inspector
    window.controller.to_end()
    from bpviz.presentation.rules import edge_rule

    edge = next(
        (
            (u, v)
            for u, v, e in t.graph.edges(data=True)
            if e["index"] and not e["detached"] and edge_rule(t, u, v) is None
        ),
        None,
    )
    if edge is None:  # every edge of this lesson has a rule: the fallback is covered in test_rules
        return
    window.scene.edgeSelected.emit(*edge)
    assert rule_text(window) == ""
    assert any("No written rule" in label.text() for label in inspector.findChildren(QLabel))
    assert inspector.formula_text()


def test_linear_weight_edge_reads_the_matrix_form(open_window):
    window = open_window("lesson:linear_batch")
    t = window.trace
    window.controller.to_end()
    w = t.find("weight")
    lin = next(v for v in window.scene.graph.successors(w))
    window.scene.edgeSelected.emit(w, lin)
    text = rule_text(window)
    assert text == "dL/dweight = (dL/dt)ᵀ = (dL/dlinear)ᵀ · inputs"
    shapes = [label.text() for label in window.inspector.findChildren(QLabel) if "→" in label.text()]
    assert "[1×32] · [32×10] → [1×10]" in shapes


def test_weight_bridged_over_a_hidden_transpose_reads_the_matrix_form(open_window):
    window = open_window("lesson:linear_batch")
    doc, t = window.document, window.trace
    doc.set_collapse(None)
    doc.set_hide_shape_ops(True)
    window.controller.to_end()
    w, lin = t.find("weight"), t.find("linear")
    assert window.scene.graph.has_edge(w, lin) and not t.graph.has_edge(w, lin)
    window.scene.edgeSelected.emit(w, lin)
    assert rule_text(window) == "dL/dweight = (dL/dlinear)ᵀ · inputs"
