"""The .bpviz format: lossless round trips, atomic writes, and a clear one-sentence error (never
another exception) for malformed, truncated, future-version or hostile files."""

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.core.errors import BpvizError
from bpviz.core.network import fileformat
from bpviz.core.network.build import build
from bpviz.core.network.errors import FormatError
from bpviz.core.network.fileformat import dumps, load, loads, save, to_dict
from bpviz.core.network.templates import make_template, template_names
from bpviz.core.trace import trace_scenario
from tests.network.helpers import assert_same, leaf_grads


@pytest.mark.parametrize("name", template_names())
def test_save_and_open_round_trip_is_lossless(name, tmp_path):
    doc = make_template(name)
    path = tmp_path / f"{name}.bpviz"
    save(doc, path)
    again = load(path)
    assert to_dict(again) == to_dict(doc)
    assert path.read_text(encoding="utf-8") == dumps(again)
    assert again.blocks == doc.blocks and again.wires == doc.wires and again.settings == doc.settings
    if name != "empty":
        a, b = trace_scenario(build(doc).scenario), trace_scenario(build(again).scenario)
        assert a.loss == b.loss
        assert_same(leaf_grads(a), leaf_grads(b))


def test_the_format_is_readable_json_with_format_and_version():
    data = json.loads(dumps(make_template("chain56")))
    assert data["format"] == "bpviz-network" and data["version"] == 1
    assert [b["name"] for b in data["blocks"]] == ["x", "y", "c", "z", "L"]
    assert data["blocks"][0]["properties"] == {"value": [2.0], "requires_grad": True}
    assert data["wires"][0] == {"from": "b1", "to": "b2", "port": "x"}


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "net.bpviz"
    save(make_template("chain56"), path)
    before = path.read_bytes()

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileformat.os, "replace", broken)
    with pytest.raises(BpvizError, match="No space left on device"):
        save(make_template("xor"), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["net.bpviz"]  # no temporary file left behind


def test_writing_into_a_missing_folder_is_one_sentence(tmp_path):
    with pytest.raises(BpvizError, match="Cannot write"):
        save(make_template("chain56"), tmp_path / "no" / "such.bpviz")


GOOD = dumps(make_template("relu_two_weights"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "not valid JSON at line 1 column 1"),
        (GOOD[: len(GOOD) // 2], "is it truncated?"),
        ("[1, 2]", 'lacks "format": "bpviz-network"'),
        ('{"format": "bpviz-network", "version": 2}', "written by a newer bpviz (format version 2"),
        ('{"format": "bpviz-network", "version": "1"}', '"version" must be a whole number'),
        ('{"format": "bpviz-network", "version": 1, "lr": NaN}', "NaN is not a number JSON allows"),
        ('{"format": "bpviz-network", "version": 1, "lr": 1e999}', "lr must be a finite number"),
        ('{"format": "bpviz-network", "version": 1, "extra": 1}', "unknown key 'extra'"),
        (
            '{"format": "bpviz-network", "version": 1, "blocks": [{"id": "b1", "kind": "os.system", "name": "a"}]}',
            "block 1 ('b1'): There is no block kind 'os.system'",
        ),
        (
            '{"format": "bpviz-network", "version": 1, '
            '"blocks": [{"id": "b1", "kind": "value", "name": "__import__"}]}',
            "cannot name a block",
        ),
        (
            '{"format": "bpviz-network", "version": 1, "blocks": [{"id": "b1", "kind": "value", "name": "a", '
            '"properties": {"value": [[1.0], [1.0, 2.0]]}}]}',
            "not rectangular",
        ),
        (
            '{"format": "bpviz-network", "version": 1, "blocks": [{"id": "b1", "kind": "Input", "name": "a", '
            '"properties": {"shape": [100000, 100000]}}, {"id": "b2", "kind": "sum", "name": "s"}], '
            '"wires": [{"from": "b1", "to": "b2", "port": "x"}]}',
            None,
        ),
        (
            '{"format": "bpviz-network", "version": 1, "wires": [{"from": "b1", "to": "b2", "port": "x"}]}',
            "wire 1 names a block 'b1' the file does not have",
        ),
        ("[" * 100000, "not a readable bpviz network"),
        ('{"format": "bpviz-network", "version": 1, "seed": ' + "9" * 5000 + "}", "not a readable bpviz network"),
    ],
)
def test_bad_files_give_one_sentence(text, message):
    if message is None:  # loads, but the network refuses to build it
        doc = loads(text)
        with pytest.raises(BpvizError, match="holds more than 10,000,000 numbers"):
            build(doc)
        return
    with pytest.raises(FormatError) as info:
        loads(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value) and str(info.value).endswith(".")


@pytest.mark.parametrize(
    "position",
    [
        [1.0, 2.0, 3.0] * 200,  # found by the fuzz test below: the whole value was echoed
        {"x" * 500: 1.0},
        [1.0, "y" * 500],
        "12",  # a string of two digits was read as (1.0, 2.0),
        {"1": 0.0, "2": 0.0},  # an object's two keys likewise,
        ["1", "2"],  # text as numbers,
        [True, False],  # and booleans as 1.0 and 0.0
    ],
)
def test_a_bad_position_is_refused_in_one_short_sentence(position):
    data = json.loads(GOOD)
    data["blocks"][0]["position"] = position
    with pytest.raises(FormatError, match=r"[Pp]osition") as info:
        loads(json.dumps(data))
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_a_cycle_in_a_file_is_refused():
    data = json.loads(GOOD)
    data["wires"].append({"from": "b9", "to": "b5", "port": "b"})  # L feeds z1: closes the loop
    data["wires"] = [w for w in data["wires"] if (w["to"], w["port"]) != ("b5", "b")] + data["wires"][-1:]
    with pytest.raises(FormatError, match="cycle"):
        loads(json.dumps(data))


def test_every_truncation_of_a_file_is_refused_clearly():
    for cut in range(0, len(GOOD) - 2, 7):
        with pytest.raises(FormatError):
            loads(GOOD[:cut])


def test_unreadable_files(tmp_path):
    with pytest.raises(BpvizError, match="No network file at"):
        load(tmp_path / "missing.bpviz")
    binary = tmp_path / "b.bpviz"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError, match="not UTF-8"):
        load(binary)
    with pytest.raises(BpvizError, match="is a folder"):
        load(tmp_path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(template_names()[1:]), data=st.data())
def test_fuzzed_documents_give_a_clear_error_never_another_exception(name, data):
    doc = json.loads(dumps(make_template(name)))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = data.draw(st.sampled_from(paths[1:]))
        target = doc
        for key in path[:-1]:
            target = target[key]
        action = data.draw(st.sampled_from(["replace", "delete", "copy"]))
        if action == "delete":
            del target[path[-1]]
        elif action == "copy" and isinstance(target, list):
            target.append(copy.deepcopy(target[path[-1]]))
        else:
            target[path[-1]] = data.draw(JSON)
    text = json.dumps(doc)
    try:
        net = loads(text)
    except FormatError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400
        return
    assert dumps(loads(dumps(net))) == dumps(net)
    try:
        build(net)
    except BpvizError as exc:
        assert "\n" not in str(exc)
