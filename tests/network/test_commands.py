"""Edits as commands: the wiring rules, and random edit sequences that undo back to a document
serialising byte-identical to the start and redo forward to the end state."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bpviz.core.network.catalogue import kind_names
from bpviz.core.network.commands import (
    AddBlock,
    Connect,
    DeleteBlocks,
    Disconnect,
    History,
    MoveBlocks,
    Rename,
    ReplaceContent,
    SetProperty,
    SetSetting,
    duplicate,
    insert_on_wire,
)
from bpviz.core.network.document import Change, Network
from bpviz.core.network.errors import NetworkError, PropertyError
from bpviz.core.network.fileformat import dumps, loads
from bpviz.core.network.properties import BOOL, CHOICE, FLOAT, INT, INTS, OPTIONAL_INT, TENSOR
from bpviz.core.network.templates import make_template, template_names
from bpviz.core.network.values import SetValues, parameter_shapes


def _chain():
    doc = Network()
    h = History(doc)
    ids = []
    for kind in ("value", "exp", "tanh"):
        add = AddBlock(doc, kind)
        h.push(add)
        ids.append(add.block.id)
    h.push(Connect(doc, ids[0], ids[1]))
    h.push(Connect(doc, ids[1], ids[2]))
    return doc, h, ids


def test_cycles_are_refused():
    doc, _h, (_a, b, c) = _chain()
    with pytest.raises(NetworkError, match="would close a cycle"):
        Connect(doc, c, b, "x")
    with pytest.raises(NetworkError, match="back into itself"):
        Connect(doc, b, b, "x")


def test_a_wire_into_an_occupied_input_replaces_it_and_undo_restores_it():
    doc, h, (a, b, _c) = _chain()
    other = AddBlock(doc, "constant")
    h.push(other)
    h.push(Connect(doc, other.block.id, b, "x"))
    assert doc.wires[(b, "x")].src == other.block.id and len(doc.wires) == 2
    h.undo()
    assert doc.wires[(b, "x")].src == a


def test_delete_takes_its_wires_and_undo_brings_them_back():
    doc, h, (a, b, c) = _chain()
    before = dumps(doc)
    h.push(DeleteBlocks(doc, [b]))
    assert list(doc.blocks) == [a, c] and not doc.wires
    h.undo()
    assert dumps(doc) == before


def test_moves_of_one_drag_merge_into_one_undo_step():
    doc, h, (a, _b, _c) = _chain()
    before = dumps(doc)
    for x in range(5):
        h.push(MoveBlocks(doc, {a: (x * 10.0, 1.0)}))
    assert doc.blocks[a].position == (40.0, 1.0)
    assert len(h.done) == 6  # 3 adds, 2 connects... and one move
    h.undo()
    assert dumps(doc) == before


def test_bad_property_values_are_refused_with_a_sentence():
    doc, h, (a, _b, _c) = _chain()
    fc = AddBlock(doc, "Linear")
    h.push(fc)
    with pytest.raises(
        PropertyError, match=r"fc1: in_features is 0, out of range; enter a whole number from 1 to 65536\."
    ):
        SetProperty(doc, fc.block.id, "in_features", 0)
    with pytest.raises(PropertyError, match="must be a whole number"):
        SetProperty(doc, fc.block.id, "in_features", "8")
    with pytest.raises(PropertyError, match="true or false"):
        SetProperty(doc, fc.block.id, "bias", 1)
    with pytest.raises(PropertyError, match="not rectangular"):
        SetProperty(doc, a, "value", [[1.0], [2.0, 3.0]])
    with pytest.raises(NetworkError, match="has no property 'units'"):
        SetProperty(doc, fc.block.id, "units", 3)


def test_names_are_identifiers_and_unique():
    doc, h, (a, b, _c) = _chain()
    with pytest.raises(NetworkError, match="cannot name a block"):
        Rename(doc, a, "2x")
    with pytest.raises(NetworkError, match="reserved"):
        Rename(doc, a, "forward")
    rename = Rename(doc, a, doc.blocks[b].name)
    with pytest.raises(NetworkError, match="already called"):
        h.push(rename)


def test_subscribers_see_every_primitive_change():
    doc = Network()
    seen: list[Change] = []
    doc.subscribe(seen.append)
    h = History(doc)
    h.push(AddBlock(doc, "value"))
    h.undo()
    assert [(c.what, c.old is None, c.new is None) for c in seen] == [("block", True, False), ("block", False, True)]


# -- random edits ------------------------------------------------------------------------


def _value(prop, draw):
    """A random value for ``prop``: mostly valid, sometimes not (then the command refuses it)."""
    if prop.type == INT:
        return draw(st.integers(-2, 12))
    if prop.type == OPTIONAL_INT:
        return draw(st.none() | st.integers(-2, 3))
    if prop.type == FLOAT:
        return draw(st.floats(-1, 3, allow_nan=False))
    if prop.type == BOOL:
        return draw(st.booleans())
    if prop.type == CHOICE:
        return draw(st.sampled_from((*prop.choices, "nope")))
    if prop.type == INTS:
        return draw(st.lists(st.integers(0, 5), max_size=3))
    if prop.type == TENSOR:
        number = st.floats(-3, 3, allow_nan=False)
        return draw(number | st.lists(number, min_size=1, max_size=3))
    raise AssertionError(prop.type)


MOST_EDITS = [0]


class Edits(RuleBasedStateMachine):
    """Random edits through a History; at the end, undo all and redo all."""

    @initialize(start=st.sampled_from(template_names()))
    def start(self, start):
        self.doc = make_template(start)
        self.history = History(self.doc)
        self.start_text = dumps(self.doc)
        self.edits = 0

    def _push(self, make):
        try:
            command = make()
            self.history.push(command)
        except NetworkError:
            return
        self.edits += 1

    def _pick(self, data):
        ids = self.doc.block_ids()
        return data.draw(st.sampled_from(ids)) if ids else None

    @rule(kind=st.sampled_from(kind_names()), x=st.floats(-500, 500), y=st.floats(-500, 500))
    def add(self, kind, x, y):
        self._push(lambda: AddBlock(self.doc, kind, (x, y)))

    @rule(data=st.data())
    def delete(self, data):
        b = self._pick(data)
        if b:
            self._push(lambda: DeleteBlocks(self.doc, [b]))

    @rule(data=st.data())
    def connect(self, data):
        src, dst = self._pick(data), self._pick(data)
        if src and dst and self.doc.blocks[dst].spec.inputs:
            port = data.draw(st.sampled_from(self.doc.blocks[dst].spec.inputs))
            self._push(lambda: Connect(self.doc, src, dst, port))

    @rule(data=st.data())
    def disconnect(self, data):
        if self.doc.wires:
            w = data.draw(st.sampled_from(self.doc.sorted_wires()))
            self._push(lambda: Disconnect(self.doc, w.dst, w.port))

    @rule(data=st.data(), dx=st.floats(-50, 50))
    def move(self, data, dx):
        b = self._pick(data)
        if b:
            x, y = self.doc.blocks[b].position
            self._push(lambda: MoveBlocks(self.doc, {b: (x + dx, y)}))

    @rule(data=st.data())
    def set_property(self, data):
        b = self._pick(data)
        if b and self.doc.blocks[b].spec.props:
            prop = data.draw(st.sampled_from(self.doc.blocks[b].spec.props))
            self._push(lambda: SetProperty(self.doc, b, prop.name, _value(prop, data.draw)))

    @rule(data=st.data(), name=st.sampled_from(["a", "b", "fc1", "x", "w1", "forward", "L"]))
    def rename(self, data, name):
        b = self._pick(data)
        if b:
            self._push(lambda: Rename(self.doc, b, name))

    @rule(seed=st.integers(-1, 5), lr=st.floats(0, 1))
    def settings(self, seed, lr):
        self._push(lambda: SetSetting(self.doc, "seed", seed))
        self._push(lambda: SetSetting(self.doc, "lr", lr))

    @rule(name=st.sampled_from(template_names()))
    def template(self, name):
        self._push(lambda: ReplaceContent(self.doc, make_template(name)))

    @rule(data=st.data(), kind=st.sampled_from(["Flatten", "exp", "ReLU", "add"]))
    def insert(self, data, kind):
        if self.doc.wires:
            w = data.draw(st.sampled_from(self.doc.sorted_wires()))
            self._push(lambda: insert_on_wire(self.doc, w.dst, w.port, kind))

    @rule(data=st.data())
    def duplicate(self, data):
        ids = self.doc.block_ids()
        if ids:
            chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
            self._push(lambda: duplicate(self.doc, chosen))

    @rule(data=st.data(), keep=st.booleans())
    def values(self, data, keep):
        with_params = [b for b in self.doc.block_ids() if self.doc.blocks[b].kind in ("Linear", "Conv2d")]
        if with_params:
            b = data.draw(st.sampled_from(with_params))
            try:
                shapes = parameter_shapes(self.doc.blocks[b].spec, self.doc.blocks[b].props)
            except NetworkError:
                return
            values = {n: torch.full(s, 0.5).tolist() for n, s in shapes.items()} if keep else None
            self._push(lambda: SetValues(self.doc, b, values))

    @invariant()
    def saves_and_reads_back(self):
        if hasattr(self, "doc"):
            text = dumps(self.doc)
            assert dumps(loads(text)) == text

    def teardown(self):
        if not hasattr(self, "doc"):
            return
        MOST_EDITS[0] = max(MOST_EDITS[0], self.edits)
        end_text = dumps(self.doc)
        while self.history.undo():
            pass
        assert dumps(self.doc) == self.start_text
        while self.history.redo():
            pass
        assert dumps(self.doc) == end_text


Edits.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=90,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEdits = Edits.TestCase


def test_the_random_runs_made_fifty_edits_or_more():
    """Runs after TestEdits (file order): some run pushed at least 50 real edits."""
    if MOST_EDITS[0] == 0:
        pytest.skip("TestEdits did not run in this session")
    assert MOST_EDITS[0] >= 50
