"""Built-in toy datasets and CSV loading: determinism, shapes, labels, and the messages for bad CSVs."""

from __future__ import annotations

import math

import pytest
import torch

from bpviz.core.datasets import (
    CLASSIFICATION,
    REGRESSION,
    dataset_names,
    load_csv,
    load_dataset,
    make_dataset,
)
from bpviz.core.errors import BpvizError

TOY_2D = ("xor", "circles", "two_moons", "spirals")


def test_names_cover_the_issue():
    assert dataset_names() == ["line", "sine", "xor", "circles", "two_moons", "spirals"]


def test_line_is_the_seeds_example():
    d = make_dataset("line")
    assert d.X.tolist() == [[1.0], [2.0], [3.0], [4.0]]
    assert d.y.tolist() == [[2.0], [4.0], [6.0], [8.0]]
    assert d.kind == REGRESSION and d.X_val is None and d.n_features == 1


@pytest.mark.parametrize("name", ["sine", *TOY_2D])
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = make_dataset(name, seed=3), make_dataset(name, seed=3), make_dataset(name, seed=4)
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y) and torch.equal(a.X_val, b.X_val)
    assert not torch.equal(a.X, c.X)


def test_generators_leave_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_dataset("spirals", seed=9)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", TOY_2D)
def test_2d_classification_sets(name):
    d = make_dataset(name, seed=0, n=120)
    assert d.X.shape == (120, 2) and d.y.shape == (120, 1) and d.X.dtype == torch.float32
    assert d.kind == CLASSIFICATION and d.n_classes == 2
    assert set(d.y.flatten().tolist()) == {0.0, 1.0}
    assert d.labels().dtype == torch.long and d.labels().shape == (120,)
    assert torch.equal(d.labels().float(), d.y.flatten())
    assert d.X_val.shape == (30, 2) and d.y_val.shape == (30, 1)
    assert 0.25 < d.y.mean().item() < 0.75  # both classes well represented


def test_xor_labels_follow_the_signs():
    d = make_dataset("xor", seed=1)
    differ = (d.X[:, 0] * d.X[:, 1] < 0).float()
    assert torch.equal(d.y.flatten(), differ)


def test_circles_inner_class_is_closer_to_the_centre():
    d = make_dataset("circles", seed=2)
    r = d.X.norm(dim=1)
    inner, outer = r[d.y.flatten() == 1], r[d.y.flatten() == 0]
    assert inner.mean() < 0.7 < outer.mean()


def test_sine_is_a_noisy_sine():
    d = make_dataset("sine", seed=0, n=400)
    assert d.kind == REGRESSION and d.X.shape == (400, 1)
    assert (d.X.abs() <= math.pi).all()
    residual = d.y - torch.sin(d.X)
    assert residual.std().item() < 0.1


def test_unknown_dataset_names_the_choices():
    with pytest.raises(BpvizError, match=r"no built-in dataset named 'mnist'.*xor"):
        make_dataset("mnist")
    with pytest.raises(BpvizError, match="neither a built-in dataset"):
        load_dataset("mnist")


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_defaults_last_column_is_target(tmp_path):
    d = load_csv(write(tmp_path, "a,b,y\n1,2,0.5\n3,4,1.5\n"))
    assert d.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert d.y.tolist() == [[0.5], [1.5]]
    assert d.feature_names == ("a", "b") and d.target_name == "y"
    assert d.kind == REGRESSION and d.name == "data.csv"


def test_csv_chosen_columns_and_class_guess(tmp_path):
    path = write(tmp_path, "label,x1,note,x2\n1,0.5,9,2\n0,1.5,9,3\n2,2.5,9,4\n")
    d = load_csv(path, features=["x2", "x1"], target="label")
    assert d.X.tolist() == [[2.0, 0.5], [3.0, 1.5], [4.0, 2.5]]
    assert d.kind == CLASSIFICATION and d.n_classes == 3
    only_target = load_csv(path, target="x2")
    assert only_target.feature_names == ("label", "x1", "note")
    assert load_dataset(str(path)).target_name == "x2"


def test_csv_text_in_an_unused_column_is_fine(tmp_path):
    d = load_csv(write(tmp_path, "x,name,y\n1,alice,2\n2,bob,4\n"), features=["x"], target="y")
    assert d.X.tolist() == [[1.0], [2.0]]


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")


@pytest.mark.parametrize(
    "text, features, target, needles",
    [
        (
            "a,b,y\n1,2,3\n4,oops,6\n",
            None,
            None,
            ["data.csv", "row 2", "line 3", "column 'b'", "'oops'", "not a number"],
        ),
        ("a,y\n1,2\n", ["a", "c"], "y", ["data.csv", "no column 'c'", "a, y", "choose one of these"]),
        ("a,y\n1,2\n", ["a"], "target", ["no column 'target'"]),
        ("a,b,y\n", None, None, ["header but no data rows", "add at least one row"]),
        ("", None, None, ["is empty", "header row"]),
        ("a,b,y\n1,2,3\n4,5\n", None, None, ["row 2", "2 cells", "3 columns"]),
        ("a,b,y\n1,,3\n", None, None, ["row 1", "column 'b'", "is empty"]),
        ("a,b,y\n1,nan,3\n", None, None, ["column 'b'", "not a finite number"]),
        ("a,a,y\n1,2,3\n", None, None, ["names column 'a' twice"]),
        ("a,y\n1,2\n", ["a", "y"], "y", ["both a feature and the target"]),
    ],
)
def test_bad_csv_messages(tmp_path, text, features, target, needles):
    path = write(tmp_path, text)
    with pytest.raises(BpvizError) as info:
        load_csv(path, features=features, target=target)
    message = str(info.value)
    one_sentence(message)
    for needle in needles:
        assert needle in message


def test_missing_csv_file(tmp_path):
    with pytest.raises(BpvizError, match=r"No CSV file at .*nope.csv.*check the path"):
        load_csv(tmp_path / "nope.csv")


def test_binary_csv(tmp_path):
    path = tmp_path / "blob.csv"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(BpvizError, match="not a UTF-8 text file"):
        load_csv(path)


def test_csv_skips_blank_lines_and_strips_spaces(tmp_path):
    d = load_csv(write(tmp_path, "\n x , y \n\n 1 , 2 \n3,4\n"))
    assert d.feature_names == ("x",) and d.X.tolist() == [[1.0], [3.0]]
