"""Display formatting (pure): numbers, tables, heatmaps, summaries, chain-rule labels."""

from __future__ import annotations

import math

import torch

from bpviz.presentation.format import (
    StatsCache,
    describe,
    edge_label,
    format_compact,
    magnitude,
    shape_text,
    update_text,
)


def test_scalars_tables_heatmaps_and_summaries():
    assert describe(torch.tensor([56.0])).text == "56"
    assert describe(torch.tensor(0.25)).mode == "scalar"
    table = describe(torch.tensor([[1.0, -2.0], [0.5, 3.0]]))
    assert table.mode == "table" and table.rows == (("1", "-2"), ("0.5", "3"))
    # Vectors wrap into rows of even length: five values as 3 + 2, eight in a [1×8] as 4 + 4.
    assert [len(r) for r in describe(torch.arange(5.0)).rows] == [3, 2]
    assert [len(r) for r in describe(torch.arange(8.0).reshape(1, 8)).rows] == [4, 4]
    assert [len(r) for r in describe(torch.arange(12.0)).rows] == [4, 4, 4]
    heat = describe(torch.arange(40.0).reshape(5, 8))
    assert heat.mode == "heatmap" and len(heat.matrix) == 5 and (heat.lo, heat.hi) == (0, 39)
    column = describe(torch.zeros(32, 1))
    assert column.mode == "heatmap" and len(column.matrix) == 1  # a row, not a tall strip
    big = describe(torch.ones(100, 100))
    assert big.mode == "summary" and big.text == "‖·‖ 100 · min 1 · max 1"
    assert "1 non-finite" in describe(torch.tensor([1.0, math.nan, 2.0])).text
    assert describe(None).text == "—"


def test_compact_numbers_and_shapes():
    assert [format_compact(x) for x in (56.0, -0.25, 1.23456, 3.1e-05, 2.5e7, math.inf)] == [
        "56",
        "-0.25",
        "1.235",
        "3.1e-5",
        "2.5e7",
        "inf",
    ]
    assert shape_text(()) == "scalar" and shape_text((3, 4)) == "[3×4]"


def test_chain_rule_labels():
    assert edge_label(4.0, torch.tensor([14.0]), torch.tensor([56.0])) == "×4   14 × 4 = 56"
    assert edge_label(None, None, torch.ones(2, 2)) == "grad ‖g‖=2"
    assert edge_label(None, None, None, detached=True) == "detached"


def test_update_line_with_numbers():
    new = torch.tensor(1.44)
    assert update_text("x", 0.01, new, torch.tensor(2.0), torch.tensor(56.0)) == "x ← 2 − 0.01 × 56 = 1.44"
    assert (
        update_text("w", 0.1, torch.tensor(0.6), torch.tensor(0.5), torch.tensor(-1.0)) == "w ← 0.5 − 0.1 × (-1) = 0.6"
    )
    assert update_text("layers.0.weight", 0.1, torch.ones(3)) == "θ ← θ − 0.1·g"


def test_a_summarised_tensor_is_reduced_once_for_its_node_and_its_edge(monkeypatch):
    """A node's gradient is usually the very tensor on its edge: the edge label's norm comes
    from the statistics the node's summary computed."""
    t = torch.randn(8, 20)
    calls = []
    real = torch.linalg.vector_norm
    monkeypatch.setattr(torch.linalg, "vector_norm", lambda *a, **k: calls.append(1) or real(*a, **k))
    cache = StatsCache()
    assert describe(t, cache).mode == "summary"
    assert magnitude(t, cache) == float(real(t.reshape(-1), dtype=torch.float64))
    assert len(calls) == 1
