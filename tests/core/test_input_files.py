"""Input files read as users write them: a byte-order mark, CSV files that are odd but valid or
wrong in ways that need a clear sentence (huge numbers, another delimiter, very many columns)."""

import json

import torch

from bpviz.core.lesson_pack import load_pack
from bpviz.core.network import fileformat
from bpviz.core.network.templates import make_template, template_names
from bpviz.core.scenario import load_scenario
from bpviz.core.trace import trace_scenario

BOM = b"\xef\xbb\xbf"


def test_a_scenario_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes(
        BOM + b"import torch\nx = torch.tensor([3.0], requires_grad=True)\ndef loss():\n    return (x * x).sum()\n"
    )
    trace = trace_scenario(load_scenario(str(path)))
    x = torch.tensor([3.0], requires_grad=True)
    (x * x).sum().backward()
    assert trace.loss == 9.0
    assert torch.equal(
        trace.graph.nodes[next(n for n, d in trace.graph.nodes(data=True) if d["name"] == "x")]["grad"], x.grad
    )


def test_a_network_file_with_a_byte_order_mark_loads(tmp_path):
    network = make_template(template_names()[0])
    path = tmp_path / "net.bpviz"
    path.write_bytes(BOM + fileformat.dumps(network).encode("utf-8"))
    assert fileformat.to_dict(fileformat.load(str(path))) == fileformat.to_dict(network)


def test_a_lesson_pack_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "pack.json"
    data = {
        "format": "bpviz-lesson-pack",
        "version": 1,
        "title": "W",
        "lessons": [{"title": "a", "scenario": "lesson:square"}],
    }
    path.write_bytes(BOM + json.dumps(data).encode("utf-8"))
    assert load_pack(str(path)).title == "W"
