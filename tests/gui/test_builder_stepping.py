"""Build ⇄ Step: the toggle traces the built network through the Document (the app's canvas and
stepper show it), an edit while stepping re-traces after a pause keeping the step, a network
that cannot be built is one sentence and leaves what is shown alone, and a click on a traced
node selects the block it came from."""

from __future__ import annotations

from bpviz.core.network.commands import AddBlock, SetProperty
from bpviz.gui.builder.controller import BUILD, STEP
from tests.gui.builder_helpers import block_id
from tests.gui.helpers import TRACE_TIMEOUT_MS


def step_mode(qtbot, window):
    """Press Step and wait for the built network's trace."""
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        window.builder.step_action.trigger()


def x_value(window) -> float:
    graph = window.trace.graph
    return float(graph.nodes[window.trace.find("x")]["value"])


def test_step_traces_the_built_network_and_build_goes_back_to_the_editor(builder, qtbot):
    window = builder("chain56")
    parts = window.builder.parts
    step_mode(qtbot, window)
    assert window.builder.mode == STEP and window.builder.step_action.isChecked()
    assert parts.stack.currentIndex() == 0 and window.canvas.isVisible() and not parts.panel.isVisible()
    assert window.document.source is parts.link.source
    assert window.document.sequence is not None and float(window.trace.loss) == 49.0
    assert not window.builder.arrange_action.isEnabled() and not window.builder.delete_action.isEnabled()
    window.builder.build_action.trigger()
    assert window.builder.mode == BUILD and parts.panel.isVisible() and not window.canvas.isVisible()
    assert window.builder.arrange_action.isEnabled()


def test_an_edit_while_stepping_retraces_and_keeps_the_step(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    window.document.steps.set_position(3)
    session = window.builder.session
    x = block_id(window, "x")
    with qtbot.waitSignal(window.document.opened, timeout=TRACE_TIMEOUT_MS):
        # Two quick edits: one trace, of the last one.
        session.push(SetProperty(session.network, x, "value", 5.0))
        session.push(SetProperty(session.network, x, "value", 3.0))
    assert x_value(window) == 3.0 and float(window.trace.loss) == 144.0  # (3² + 3)²
    assert window.document.steps.position == 3
    assert window.builder.mode == STEP


def test_a_network_that_cannot_be_built_says_why_and_changes_nothing(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    trace = window.trace
    window.builder.build_action.trigger()
    session = window.builder.session
    session.push(AddBlock(session.network, "exp", (0.0, 300.0)))  # an exp with no input
    window.builder.step_action.trigger()
    assert window.builder.mode == BUILD and window.builder.build_action.isChecked()
    banner = window.builder.parts.panel.banner
    assert banner.isVisible() and "exp1" in banner.text() and "2 ends" in banner.text()
    assert window.trace is trace
    session.stack.undo()
    assert not banner.isVisible()


def test_clicking_a_traced_node_selects_its_block_for_the_property_dock(builder, qtbot):
    window = builder("chain56")
    step_mode(qtbot, window)
    window.document.select(window.trace.find("x"))
    assert window.builder.session.selection == (block_id(window, "x"),)
    dock = window.builder.parts.properties
    assert dock.isVisible() and "value" in dock.editors


def test_building_sets_the_trace_docks_aside_and_gives_them_back(builder, qtbot):
    window = builder("chain56")
    assert not window.inspector.isVisible() and not window.diagnostics.isVisible()
    step_mode(qtbot, window)
    assert window.inspector.isVisible() and window.diagnostics.isVisible()
    assert not window.builder.parts.palette.isVisible() and window.builder.parts.properties.isVisible()
    window.builder.build_action.trigger()
    assert not window.inspector.isVisible()
    # Closing in Build mode: the layout the window saves has the inspector where the user had it.
    window.builder.session.mark_saved()
    assert window.close()
    assert not window.inspector.isHidden()


def test_closing_right_after_an_edit_starts_no_trace(builder, qtbot):
    """A re-trace still waiting for its pause when the window closes would start work (and the
    training thread) in a closed window."""
    from bpviz.gui.builder.stepping import RETRACE_DEBOUNCE_MS

    window = builder("chain56")
    step_mode(qtbot, window)
    session = window.builder.session
    session.push(SetProperty(session.network, block_id(window, "x"), "value", 3.0))
    session.mark_saved()
    opened = []
    window.document.opened.connect(lambda: opened.append(1))
    assert window.close()
    qtbot.wait(RETRACE_DEBOUNCE_MS * 2)
    assert not opened and not window.document.runner.busy
