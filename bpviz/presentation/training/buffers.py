"""Bounded plot buffers: a series of rows that never grows past a fixed capacity.

A training run may take 100,000 steps or more, but a plot a few hundred pixels wide cannot show
more than a couple of thousand points. :class:`DecimatingTable` keeps every ``stride``-th row;
when it is full it drops every other row it holds and doubles the stride. The rows kept are
real rows (a real step with its real values, never an average), so what a curve shows can be
checked against the engine's results, and memory stays constant however long the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bpviz.core.training import StepResult

DEFAULT_CAPACITY = 2048


class DecimatingTable:
    """Rows of ``columns`` floats (column 0 is usually the step), at most ``capacity`` kept.

    Rows offered are numbered 0, 1, 2, ...; a row is kept when its number is a multiple of the
    current stride. Full: keep rows 0, 2, 4, ... of what is held and double the stride, which
    leaves exactly the rows whose numbers are multiples of the new stride.
    """

    def __init__(self, columns: int, capacity: int = DEFAULT_CAPACITY):
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number of at least 2")
        self.capacity = capacity
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self._size = 0
        self._offered = 0
        self.stride = 1

    def __len__(self) -> int:
        return self._size

    @property
    def columns(self) -> int:
        """Number of columns per row."""
        return self._data.shape[1]

    @property
    def offered(self) -> int:
        """How many rows were appended in total (kept or not)."""
        return self._offered

    def clear(self) -> None:
        """Forget every row and start again with stride 1."""
        self._size = 0
        self._offered = 0
        self.stride = 1

    def extend(self, rows: np.ndarray) -> None:
        """Append a block of rows (shape ``(n, columns)``), keeping one in every ``stride``."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, self.columns)
        while len(rows):
            # Index of the first row of the block that falls on the stride grid.
            first = (-self._offered) % self.stride
            room = self.capacity - self._size
            wanted = rows[first :: self.stride]
            take = wanted[:room]
            self._data[self._size : self._size + len(take)] = take
            self._size += len(take)
            if len(take) < len(wanted):
                consumed = first + len(take) * self.stride
                self._offered += consumed
                rows = rows[consumed:]
                self._halve()
            else:
                self._offered += len(rows)
                rows = rows[:0]

    def _halve(self) -> None:
        kept = self._data[: self._size : 2].copy()
        self._size = len(kept)
        self._data[: self._size] = kept
        self.stride *= 2

    def column(self, index: int) -> np.ndarray:
        """One column of the rows held (a copy: the plot may keep it)."""
        return self._data[: self._size, index].copy()

    def rows(self) -> np.ndarray:
        """The rows held (a copy)."""
        return self._data[: self._size].copy()


class TrainingHistory:
    """What the plots show of a run, in bounded memory.

    ``table`` rows are ``(step, loss, gradient norm per parameter...)`` for :attr:`names`;
    ``val`` rows ``(step, validation loss)`` (sparse: the engine validates every few steps, so
    it has its own buffer and is not thinned by the training rows' stride); ``latest`` is the
    newest StepResult (the gradient-flow bars show it).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self.names: tuple[str, ...] = ()
        self.table = DecimatingTable(2, capacity)
        self.val = DecimatingTable(2, capacity)
        self.latest: StepResult | None = None

    def clear(self, names: tuple[str, ...] | None = None) -> None:
        """Start over (with another parameter list if ``names`` is given)."""
        if names is not None and tuple(names) != self.names:
            self.names = tuple(names)
            self.table = DecimatingTable(2 + len(self.names), self.capacity)
        else:
            self.table.clear()
        self.val.clear()
        self.latest = None

    def add(self, names: tuple[str, ...], table: np.ndarray, val: np.ndarray, latest: StepResult | None) -> None:
        """Append one chunk of the worker's rows (a new parameter list starts over)."""
        if tuple(names) != self.names:
            self.clear(names)
        if len(table):
            self.table.extend(table)
        if len(val):
            self.val.extend(val)
        if latest is not None:
            self.latest = latest

    def steps(self) -> np.ndarray:
        """The step of every row held."""
        return self.table.column(0)

    def loss(self) -> np.ndarray:
        """The training loss of every row held."""
        return self.table.column(1)

    def norms(self) -> np.ndarray:
        """Gradient norms, one column per parameter of :attr:`names`."""
        return self.table.rows()[:, 2:]
