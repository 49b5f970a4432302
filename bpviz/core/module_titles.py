"""Short titles for nn.Module layers as a learner reads them: Linear(10→5), ReLU, Conv2d(3→16, 3×3).

The layer view titles each box with its module's title, so the graph reads like the model's code.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def _size(value: object) -> str:
    """A kernel, stride or pool size: 3 for (3, 3) squares is written 3×3, others as given."""
    if isinstance(value, tuple):
        return "×".join(str(v) for v in value)
    return f"{value}×{value}"


def _shape(shape: object) -> str:
    return ", ".join(map(str, shape)) if isinstance(shape, tuple) else str(shape)


def _conv(m: nn.Module) -> str:
    assert isinstance(m, nn.modules.conv._ConvNd)
    return f"{type(m).__name__}({m.in_channels}→{m.out_channels}, {_size(m.kernel_size)})"


TITLES: dict[type[nn.Module], Callable[[nn.Module], str]] = {
    nn.Linear: lambda m: f"Linear({m.in_features}→{m.out_features})",
    nn.Bilinear: lambda m: f"Bilinear({m.in1_features}, {m.in2_features}→{m.out_features})",
    nn.Conv1d: _conv,
    nn.Conv2d: _conv,
    nn.Conv3d: _conv,
    nn.Embedding: lambda m: f"Embedding({m.num_embeddings}→{m.embedding_dim})",
    nn.BatchNorm1d: lambda m: f"BatchNorm1d({m.num_features})",
    nn.BatchNorm2d: lambda m: f"BatchNorm2d({m.num_features})",
    nn.LayerNorm: lambda m: f"LayerNorm({_shape(m.normalized_shape)})",
    nn.LeakyReLU: lambda m: f"LeakyReLU({m.negative_slope:g})",
    nn.Dropout: lambda m: f"Dropout({m.p:g})",
    nn.MaxPool2d: lambda m: f"MaxPool2d({_size(m.kernel_size)})",
    nn.AvgPool2d: lambda m: f"AvgPool2d({_size(m.kernel_size)})",
    nn.Softmax: lambda m: f"Softmax(dim={m.dim})",
    nn.LogSoftmax: lambda m: f"LogSoftmax(dim={m.dim})",
}


def module_title(module: nn.Module) -> str:
    """The title of one module: its class and the arguments that shape it, else its class name."""
    title = TITLES.get(type(module))
    return title(module) if title is not None else type(module).__name__


def module_titles(names: dict[int, str], modules: list[nn.Module]) -> dict[str, str]:
    """Qualified module name -> title, for the modules a scenario uses (``names`` keyed by id,
    as :class:`bpviz.core.scenario.ModuleIndex` holds them)."""
    return {names[id(m)]: module_title(m) for m in modules if id(m) in names}
