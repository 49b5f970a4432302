"""Random edit sequences through the editor's Qt undo stack (drags that merge, compounds, refused
edits) undo back to a document that saves byte-identical to the start and redo to the end."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.errors import BpvizError
from bpviz.core.network.arrange import arrange
from bpviz.core.network.commands import (
    AddBlock,
    Connect,
    Disconnect,
    MoveBlocks,
    Rename,
    SetProperty,
    SetSetting,
    duplicate,
    insert_on_wire,
)
from bpviz.core.network.fileformat import dumps
from bpviz.core.network.templates import make_template
from bpviz.gui.builder.edits import add_after, delete
from bpviz.gui.builder.session import NetworkSession

KINDS = ("value", "constant", "add", "mul", "pow", "exp", "tanh", "sum", "Input", "Linear", "ReLU", "MSELoss")
EDITS = (
    "add",
    "delete",
    "connect",
    "disconnect",
    "drag",
    "prop",
    "rename",
    "lr",
    "duplicate",
    "arrange",
    "insert",
    "add_after",
)


def make_edit(session: NetworkSession, data, edit: str):
    """A command for ``edit`` on the session's network (None when this one cannot be made)."""
    net = session.network
    ids = net.block_ids()

    def pick(seq):
        return data.draw(st.sampled_from(seq))

    if edit == "add" or not ids:
        return AddBlock(net, pick(KINDS), (data.draw(st.integers(-500, 500)) * 1.0, 0.0))
    block = pick(ids)
    if edit == "delete":
        return delete(net, [block], [])
    if edit == "connect":
        dst = net.blocks[pick(ids)]
        return Connect(net, block, dst.id, pick(dst.spec.inputs)) if dst.spec.inputs else None
    if edit == "disconnect":
        return Disconnect(net, *pick(sorted(net.wires))) if net.wires else None
    if edit == "prop":
        spec = net.blocks[block].spec
        if not spec.props:
            return None
        prop = pick(spec.props)
        value = {
            "int": data.draw(st.integers(0, 9)),
            "float": data.draw(st.floats(-3, 3)),
            "bool": data.draw(st.booleans()),
        }.get(prop.type, prop.default)
        return SetProperty(net, block, prop.name, value)
    if edit == "rename":
        return Rename(net, block, f"n{data.draw(st.integers(0, 30))}")
    if edit == "lr":
        return SetSetting(net, "lr", data.draw(st.floats(0.001, 1.0)))
    if edit == "duplicate":
        return duplicate(net, [block])
    if edit == "arrange":
        return arrange(net)
    if edit == "insert":
        return insert_on_wire(net, *pick(sorted(net.wires)), pick(("exp", "tanh", "ReLU"))) if net.wires else None
    return add_after(net, block, pick(("exp", "tanh", "ReLU", "sum")), (0.0, 300.0))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_edits_undo_to_the_same_bytes_and_redo_to_the_end(qapp, data):
    session = NetworkSession()
    session.replace(
        make_template(data.draw(st.sampled_from(("empty", "chain56", "mlp_10_5_1")))),
        None,
        undoable=False,
        text="start",
    )
    start = dumps(session.network)
    pushed = 0
    for _ in range(60):
        edit = data.draw(st.sampled_from(("drag", *EDITS)))
        if edit == "drag" and session.network.blocks:
            # One drag: several moves of the same blocks, merged into one undo step.
            drag = session.new_drag()
            block = data.draw(st.sampled_from(session.network.block_ids()))
            before = session.stack.count()
            for step in range(data.draw(st.integers(1, 4))):
                pushed += session.push(MoveBlocks(session.network, {block: (10.0 * step, 20.0 * step)}), drag)
            assert session.stack.count() - before <= 1
            continue
        try:
            command = make_edit(session, data, edit)
        except BpvizError:
            continue  # refused when made: nothing reaches the stack
        if command is not None:
            pushed += session.push(command)
    end = dumps(session.network)
    while session.stack.canUndo():
        session.stack.undo()
    assert dumps(session.network) == start
    while session.stack.canRedo():
        session.stack.redo()
    assert dumps(session.network) == end
    assert pushed > 0 or start == end
    session.deleteLater()
