"""Input files read as users write them: a byte-order mark, CSV files that are odd but valid or
wrong in ways that need a clear sentence (huge numbers, another delimiter, very many columns)."""

import csv
import json
import warnings

import pytest
import torch

from bpviz.core import csv_data
from bpviz.core.datasets import load_csv
from bpviz.core.errors import BpvizError
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


def test_a_number_too_large_for_float32_is_refused_at_load_with_row_and_column(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("x,y\n1e308,1\n2,3\n")
    with pytest.raises(BpvizError) as info:
        load_csv(path)
    message = str(info.value)
    assert "big.csv row 1 (line 2), column 'x' holds '1e308', which is too large for float32" in message
    assert "\n" not in message


def test_the_largest_float32_still_loads(tmp_path):
    path = tmp_path / "edge.csv"
    biggest = torch.finfo(torch.float32).max
    path.write_text(f"x,y\n{biggest!r},1\n{-biggest!r},0\n")
    data = load_csv(path)
    assert data.X.reshape(-1).tolist() == [biggest, -biggest]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_separated_by_semicolons_tabs_or_bars_is_read(tmp_path, sep):
    path = tmp_path / "semi.csv"
    rows = [["a", "b", "y"], ["1.5", "2", "3"], ["4", "5", "6"]]
    path.write_text("\n".join(sep.join(row) for row in rows) + "\n")
    data = load_csv(path)
    assert data.feature_names == ("a", "b") and data.target_name == "y"
    assert torch.equal(data.X, torch.tensor([[1.5, 2.0], [4.0, 5.0]]))
    assert csv_data.read_csv_header(str(path)) == ["a", "b", "y"]


def test_a_decimal_comma_gets_its_own_hint(tmp_path):
    path = tmp_path / "comma.csv"
    path.write_text("a;y\n1,5;2\n")
    with pytest.raises(BpvizError, match=r"'1,5', a number with a decimal comma; save the file with a dot"):
        load_csv(path)


class _CountingName(str):
    """A column name that counts how often it is compared with another."""

    comparisons = 0

    def __eq__(self, other):
        _CountingName.comparisons += 1
        return str.__eq__(self, other)

    def __ne__(self, other):
        _CountingName.comparisons += 1
        return str.__ne__(self, other)

    __hash__ = str.__hash__

    def strip(self, chars=None):
        return _CountingName(str.strip(self, chars))


@pytest.mark.parametrize("features", [None, "all but the last"])
def test_a_wide_header_is_checked_in_linear_time(tmp_path, monkeypatch, features):
    columns = 3000
    path = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(columns)]
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    real_reader = csv.reader

    def counting_reader(*args, **kwargs):
        for row in real_reader(*args, **kwargs):
            yield [_CountingName(cell) for cell in row]

    monkeypatch.setattr(csv_data.csv, "reader", counting_reader)
    _CountingName.comparisons = 0
    chosen = names[:-1] if features else None
    data = load_csv(path, features=chosen)
    assert data.n_features == columns - 1
    # A quadratic check compares about columns**2 / 2 = 4.5 million times.
    assert _CountingName.comparisons < 20 * columns


def test_a_huge_header_names_only_some_columns_in_a_message(tmp_path):
    path = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(1000)]
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(BpvizError) as info:
        load_csv(path, target="missing")
    assert "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 990 more" in str(info.value)
    assert len(str(info.value)) < 300


def test_a_dataset_that_holds_inf_is_named_once_quoted_when_training_stops():
    from bpviz.core.datasets import REGRESSION, Dataset
    from bpviz.core.scenario import load_scenario
    from bpviz.core.training import TrainConfig, Trainer, TrainingError

    X = torch.tensor([[1.0], [float("inf")]])
    data = Dataset("big.csv", X, torch.ones(2, 1), REGRESSION, feature_names=("x",))
    trainer = Trainer(load_scenario("lesson:linear_fit"), TrainConfig(dataset=data, steps=1))
    with pytest.raises(TrainingError) as info:
        list(trainer.run())
    assert "it first appeared in the dataset 'big.csv', which was already non-finite" in str(info.value)


def test_a_zero_width_layer_trains_with_norm_zero_for_its_empty_parameters():
    from torch import nn

    from bpviz.core.scenario import scenario_from_model
    from bpviz.core.training import TrainConfig, Trainer

    with warnings.catch_warnings():  # "Initializing zero-element tensors is a no-op"
        warnings.simplefilter("ignore")
        model = nn.Sequential(nn.Linear(3, 0), nn.Linear(0, 1))
    scenario = scenario_from_model(model, torch.ones(4, 3), target=torch.ones(4, 1))
    result = next(Trainer(scenario, TrainConfig(steps=1, clip_norm=1.0)).run())
    assert result.params["0.weight"].norm == 0.0 and result.params["1.weight"].max_abs == 0.0
    assert not [d for d in result.diagnostics if d.node in ("0.weight", "0.bias", "1.weight")]
    # Linear(0, 1) outputs its bias, which starts at 0: d/db mean((b - 1)^2) = -2.
    assert result.params["1.bias"].pre_clip_norm == 2.0
