"""Built-in toy datasets for training, and user CSV files.

Every generator is deterministic given ``seed`` (it draws from its own ``torch.Generator`` and never
touches the global RNG, which the rest of the app shares). Tensors are float32:

* ``X``: shape ``(N, features)``;
* ``y``: shape ``(N, 1)``: the regression target, or the class label as a float (0.0, 1.0, ...),
  ready for BCE; :meth:`Dataset.labels` gives the same labels as a long vector for cross-entropy.

The toy sets come with a validation split (``X_val``/``y_val``) drawn from the same distribution;
``line`` (the seeds' four points) and CSV files have none.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

from bpviz.core.csv_data import read_numeric_csv
from bpviz.core.errors import BpvizError

REGRESSION = "regression"
CLASSIFICATION = "classification"
DEFAULT_SIZE = 200
VAL_FRACTION = 0.25
# Most class labels a CSV target may have before it is treated as a regression target.
MAX_CSV_CLASSES = 10


@dataclass
class Dataset:
    """A training set: features ``X``, targets ``y`` and an optional validation split."""

    name: str
    X: torch.Tensor
    y: torch.Tensor
    kind: str
    n_classes: int = 0
    X_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    feature_names: tuple[str, ...] = ()
    target_name: str = "y"

    @property
    def n_features(self) -> int:
        """Number of input features per sample."""
        return int(self.X.shape[1])

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def labels(self, val: bool = False) -> torch.Tensor:
        """Class labels as a long vector of shape ``(N,)`` (for cross-entropy)."""
        y = self.y_val if val else self.y
        if y is None:
            raise ValueError("this dataset has no validation split")
        return y.reshape(-1).long()


def dataset_names() -> list[str]:
    """Names of the built-in datasets, in the order the app lists them."""
    return list(_GENERATORS)


def make_dataset(name: str, seed: int = 0, n: int = DEFAULT_SIZE, noise: float | None = None) -> Dataset:
    """Build the built-in dataset ``name`` with ``n`` training samples (``line`` ignores ``n``)."""
    if name not in _GENERATORS:
        raise BpvizError(
            f"There is no built-in dataset named '{name}'; choose one of "
            f"{', '.join(dataset_names())}, or give the path of a CSV file."
        )
    if n < 1:
        raise BpvizError(f"The dataset '{name}' needs at least 1 sample, got n={n}.")
    gen = torch.Generator().manual_seed(int(seed))
    return _GENERATORS[name](gen, n, noise)


def load_dataset(spec: str, seed: int = 0) -> Dataset:
    """A built-in dataset by name, or a CSV file by path (last column is the target)."""
    if spec in _GENERATORS:
        return make_dataset(spec, seed)
    if spec.lower().endswith(".csv") or os.path.sep in spec or os.path.exists(spec):
        return load_csv(spec)
    raise BpvizError(
        f"'{spec}' is neither a built-in dataset ({', '.join(dataset_names())}) nor a CSV file; "
        "give one of those names or the path of a .csv file."
    )


def line(gen: torch.Generator | None = None, n: int = 4, noise: float | None = None) -> Dataset:
    """The seeds' example: X = [[1], [2], [3], [4]], y = 2x (weight 2, bias 0 fit it exactly)."""
    X = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    return Dataset("line", X, 2.0 * X, REGRESSION, feature_names=("x",))


def sine(gen: torch.Generator, n: int, noise: float | None) -> Dataset:
    """y = sin(x) + noise for x uniform in [-pi, pi]."""
    sigma = 0.05 if noise is None else noise

    def draw(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = (torch.rand(k, 1, generator=gen) * 2 - 1) * math.pi
        return x, torch.sin(x) + sigma * torch.randn(k, 1, generator=gen)

    return _with_split("sine", draw, n, REGRESSION, 0)


def xor(gen: torch.Generator, n: int, noise: float | None) -> Dataset:
    """Points in [-1, 1]^2; label 1 where the two coordinates have different signs."""
    sigma = 0.0 if noise is None else noise

    def draw(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.rand(k, 2, generator=gen) * 2 - 1
        label = (x[:, 0] * x[:, 1] < 0).float()
        return x + sigma * torch.randn(k, 2, generator=gen), label

    return _with_split("xor", draw, n, CLASSIFICATION, 2)


def circles(gen: torch.Generator, n: int, noise: float | None) -> Dataset:
    """A disc of radius 0.5 (label 1) inside a ring of radius 1 (label 0)."""
    sigma = 0.08 if noise is None else noise

    def draw(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        label = (torch.rand(k, generator=gen) < 0.5).float()
        angle = torch.rand(k, generator=gen) * 2 * math.pi
        radius = torch.where(label > 0, 0.5, 1.0)
        x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
        return x + sigma * torch.randn(k, 2, generator=gen), label

    return _with_split("circles", draw, n, CLASSIFICATION, 2)


def two_moons(gen: torch.Generator, n: int, noise: float | None) -> Dataset:
    """Two interleaving half circles (scikit-learn's make_moons shape)."""
    sigma = 0.1 if noise is None else noise

    def draw(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        label = (torch.rand(k, generator=gen) < 0.5).float()
        t = torch.rand(k, generator=gen) * math.pi
        upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
        lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
        x = torch.where(label[:, None] > 0, lower, upper)
        return x + sigma * torch.randn(k, 2, generator=gen), label

    return _with_split("two_moons", draw, n, CLASSIFICATION, 2)


def spirals(gen: torch.Generator, n: int, noise: float | None) -> Dataset:
    """Two interleaved spiral arms, one turn and a half each."""
    sigma = 0.03 if noise is None else noise

    def draw(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        label = (torch.rand(k, generator=gen) < 0.5).float()
        r = torch.rand(k, generator=gen)
        angle = 3 * math.pi * r + math.pi * label
        x = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
        return x + sigma * torch.randn(k, 2, generator=gen), label

    return _with_split("spirals", draw, n, CLASSIFICATION, 2)


def _with_split(
    name: str, draw: Callable[[int], tuple[torch.Tensor, torch.Tensor]], n: int, kind: str, n_classes: int
) -> Dataset:
    # Train and validation come from one draw so a seed fixes both.
    n_val = max(1, round(n * VAL_FRACTION))
    x, y = draw(n + n_val)
    y = y.reshape(-1, 1).float()
    features = ("x",) if x.shape[1] == 1 else ("x1", "x2")
    return Dataset(name, x[:n], y[:n], kind, n_classes, x[n:], y[n:], feature_names=features)


_GENERATORS = {
    "line": line,
    "sine": sine,
    "xor": xor,
    "circles": circles,
    "two_moons": two_moons,
    "spirals": spirals,
}


def load_csv(
    path: str | os.PathLike[str],
    features: list[str] | None = None,
    target: str | None = None,
    kind: str | None = None,
) -> Dataset:
    """A dataset from a CSV file with a header row.

    ``features`` and ``target`` name columns; by default every column but the last is a feature and
    the last is the target (with only ``target`` given, every other column is a feature; with only
    ``features`` given, the last other column is the target). ``kind`` is guessed when None: a
    target holding only whole numbers 0..k-1 with k <= 10 is a class label, anything else a
    regression target. Raises BpvizError naming the file, row and column of the first problem.
    """
    path = os.fspath(path)
    short = os.path.basename(path)

    def choose(header: list[str]) -> tuple[list[str], str]:
        feat = list(features) if features is not None else None
        tgt = target
        if feat is None:
            tgt = header[-1] if tgt is None else tgt
            feat = [c for c in header if c != tgt]
        elif tgt is None:
            chosen = set(feat)  # a set: a header may have 100,000 columns
            rest = [c for c in header if c not in chosen]
            if not rest:
                raise BpvizError(
                    f"{short}: every column is a feature, so none is left for the target; name the target column too."
                )
            tgt = rest[-1]
        if tgt in feat:
            raise BpvizError(f"{short}: column '{tgt}' is both a feature and the target; choose it for one of them.")
        if not feat:
            raise BpvizError(f"{short} has only the target column '{tgt}'; add at least one feature column.")
        return feat, tgt

    feat, tgt, rows = read_numeric_csv(path, choose)
    table = torch.tensor(rows, dtype=torch.float32)
    X, y = table[:, :-1].contiguous(), table[:, -1:].contiguous()
    if kind is None:
        kind = _guess_kind(y)
    if kind not in (REGRESSION, CLASSIFICATION):
        raise BpvizError(f"kind must be '{REGRESSION}' or '{CLASSIFICATION}', got {kind!r}.")
    n_classes = int(y.max().item()) + 1 if kind == CLASSIFICATION else 0
    return Dataset(short, X, y, kind, n_classes, feature_names=tuple(feat), target_name=tgt)


def _guess_kind(y: torch.Tensor) -> str:
    values = torch.unique(y)
    whole = bool(torch.all(values == values.round())) and bool(values.min() >= 0)
    if whole and int(values.max()) < MAX_CSV_CLASSES:
        return CLASSIFICATION
    return REGRESSION
