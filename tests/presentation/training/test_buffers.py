"""Bounded plot buffers: real rows only, multiples of the stride, memory fixed."""

import numpy as np
import pytest

from bpviz.presentation.training.buffers import DecimatingTable, TrainingHistory


def test_a_full_table_keeps_the_rows_on_the_doubled_stride():
    table = DecimatingTable(2, capacity=8)
    rows = np.stack([np.arange(21.0), np.arange(21.0) * 10], 1)
    table.extend(rows[:5])
    table.extend(rows[5:])
    assert table.offered == 21 and table.stride == 4
    assert table.column(0).tolist() == [0, 4, 8, 12, 16, 20]
    assert table.column(1).tolist() == [0, 40, 80, 120, 160, 200]  # real rows, not averages
    table.clear()
    assert len(table) == 0 and table.stride == 1
    with pytest.raises(ValueError):
        DecimatingTable(1, capacity=3)


def test_history_starts_over_for_another_parameter_list():
    history = TrainingHistory(capacity=4)
    history.add(("w",), np.array([[0.0, 1.0, 0.5], [1.0, 0.8, 0.4]]), np.array([[1.0, 0.9]]), "latest")
    assert history.steps().tolist() == [0, 1] and history.loss().tolist() == [1.0, 0.8]
    assert history.norms().tolist() == [[0.5], [0.4]] and history.latest == "latest"
    history.add(("w", "b"), np.array([[5.0, 0.1, 0.2, 0.3]]), np.empty((0, 2)), None)
    assert history.names == ("w", "b") and history.steps().tolist() == [5]
    assert len(history.val) == 0 and history.latest is None
