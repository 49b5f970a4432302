"""The canvas and the inspector ask the visibility policy: swapping it hides gradients, their
edge labels, the update lines and the diagnostics, and swapping back restores the display."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from bpviz.core.stepper import StepSequence
from bpviz.gui.graph_scene import GraphScene
from bpviz.gui.theme import LIGHT
from bpviz.presentation.visibility import DEFAULT_POLICY
from tests.gui.synthetic import chain_trace
from tests.presentation.test_visibility import HideGradients


@pytest.fixture
def chain(qapp):
    """(scene, trace, sequence) for the synthetic 56 chain with a detached parameter, at the end."""
    trace = chain_trace(unused_param=True)
    seq = StepSequence(trace)
    scene = GraphScene(LIGHT)
    scene.set_graph(trace.graph, trace.loss_node, trace.diagnostics, LIGHT, seq.lr)
    scene.apply_state(seq.state_at(seq.last), trace, lr=seq.lr)
    yield scene, trace, seq
    scene.stop_animations()


def look(scene):
    nodes = tuple(
        (n, scene.node_item(n).visual_state(), scene.node_item(n).toolTip()) for n in sorted(scene.node_ids())
    )
    edges = tuple((e, scene.edge_item(*e).visual_state()) for e in sorted(scene.graph.edges))
    return nodes, edges


def test_the_canvas_draws_what_the_policy_shows(chain):
    scene, _, _ = chain
    before = look(scene)
    assert scene.policy() is DEFAULT_POLICY
    assert "grad = 56" in scene.node_item("x").display_texts()
    assert scene.edge_item("x", "sq").label.text
    scene.set_policy(HideGradients())
    texts = scene.node_item("x").display_texts()
    assert "2" in texts and not any(t.startswith("grad") or "←" in t for t in texts)
    assert not scene.edge_item("x", "sq").label.text
    w = scene.node_item("w")
    assert not any(b.isVisible() for b in w.childItems()) and "⚠" not in w.toolTip()
    scene.set_policy(DEFAULT_POLICY)
    assert look(scene) == before


def test_the_inspector_leaves_out_what_the_policy_hides(open_window):
    window = open_window()
    inspector, trace = window.inspector, window.trace
    x, y = trace.find("x"), trace.find("y")
    window.controller.to_end()
    window.scene.nodeSelected.emit(x)
    assert inspector.formula_text() == "dL/dx = 14 × 1 × 4 = 56"
    inspector.set_policy(HideGradients())
    assert inspector.formula_text() == ""
    assert inspector.findChildren(QLabel, "hiddenNote")
    assert not any("56" in label.text() for label in inspector.findChildren(QLabel))
    window.scene.edgeSelected.emit(x, y)
    assert inspector.formula_text() == "" and inspector.findChildren(QLabel, "hiddenNote")
    inspector.set_policy(DEFAULT_POLICY)
    window.scene.nodeSelected.emit(x)
    assert inspector.formula_text() == "dL/dx = 14 × 1 × 4 = 56"
    assert not inspector.findChildren(QLabel, "hiddenNote")


def test_the_documents_policy_reaches_canvas_inspector_and_step_bar(open_window):
    window = open_window()
    doc, x = window.document, window.trace.find("x")
    window.controller.to_end()
    window.controller.set_position(window.controller.position - 1)  # the last backward step
    doc.select_node(x)
    caption = window.step_bar.caption_label.text()
    assert "14" in caption and "56" in window.inspector.formula_text()
    doc.set_policy(HideGradients())
    assert window.scene.policy() is doc.policy
    assert "14" not in window.step_bar.caption_label.text()
    assert window.inspector.formula_text() == ""
    assert not any(t.startswith("grad") for t in window.scene.node_item(x).display_texts())
    doc.set_policy(DEFAULT_POLICY)
    assert window.step_bar.caption_label.text() == caption
    assert "56" in window.inspector.formula_text()
