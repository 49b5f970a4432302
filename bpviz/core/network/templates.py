"""Templates: the seeds' worked examples as ready-made networks (File > New Network, and
``bpviz new --template NAME``). Each is built with the same commands a user's edits make, then
auto-arranged, so a template is always a valid document.

Built like the lessons they mirror, they reproduce them exactly: chain56 gives dL/dx = 56,
relu_two_weights w1.grad = -9 and w2.grad = -3, and mlp_10_5_1 and residual_mlp draw the
lessons' weights and data from seed 0 (the tests compare them with the lessons).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bpviz.core.network.arrange import arrange
from bpviz.core.network.commands import AddBlock, Connect
from bpviz.core.network.document import Network
from bpviz.core.network.errors import NetworkError


class _Builder:
    """Adds blocks and wires to a fresh document through commands."""

    def __init__(self, **settings: Any):
        self.doc = Network(**settings)

    def add(self, kind: str, name: str, *inputs: str, **props: Any) -> str:
        command = AddBlock(self.doc, kind, name=name, props=props)
        command.check(self.doc)
        command.do(self.doc)
        block_id = command.block.id
        ports = self.doc.blocks[block_id].spec.inputs
        for port, src in zip(ports, inputs, strict=False):  # wire the first len(inputs) ports
            connect = Connect(self.doc, self.doc.by_name(src).id, block_id, port)
            connect.do(self.doc)
        return name

    def done(self) -> Network:
        arrange(self.doc).do(self.doc)
        return self.doc


def empty() -> Network:
    """An empty network."""
    return Network(title="untitled")


def chain56() -> Network:
    """x -> x^2 -> +3 -> ^2 at x = 2 from scalar ops: dL/dx = 14 x 1 x 4 = 56."""
    b = _Builder(title="chain56: x → x² → +3 → ²", lr=0.01)
    b.add("value", "x", value=(2.0,))
    b.add("pow", "y", "x", exponent=2.0)
    b.add("constant", "c", value=3.0)
    b.add("add", "z", "y", "c")
    b.add("pow", "L", "z", exponent=2.0)
    return b.done()


def relu_two_weights() -> Network:
    """x -> *w1 -> ReLU -> *w2 against target 3: w1.grad = -9, w2.grad = -3."""
    b = _Builder(title="relu_two_weights: x → ×w1 → ReLU → ×w2", lr=0.1)
    b.add("value", "x", value=(2.0,))
    b.add("value", "w1", value=(0.5,))
    b.add("value", "w2", value=(1.5,))
    b.add("constant", "target", value=(3.0,))
    b.add("mul", "z1", "w1", "x")
    b.add("relu", "a1", "z1")
    b.add("mul", "y", "w2", "a1")
    b.add("sub", "err", "y", "target")  # not "d": d(d²)/dd would read badly
    b.add("pow", "L", "err", exponent=2.0)
    return b.done()


def mlp_10_5_1() -> Network:
    """Linear(10,5) - ReLU - Linear(5,1), MSE on a random batch of 32 (the lesson's numbers)."""
    b = _Builder(title="mlp_10_5_1: Linear(10→5) → ReLU → Linear(5→1)", lr=0.01)
    b.add("Input", "x", data="randn", shape=(32, 10))
    b.add("Linear", "fc1", "x", in_features=10, out_features=5)
    b.add("ReLU", "relu1", "fc1")
    b.add("Linear", "fc2", "relu1", in_features=5, out_features=1)
    b.add("Target", "y", data="randn", shape=(32, 1))
    b.add("MSELoss", "mse", "fc2", "y")
    return b.done()


def xor() -> Network:
    """A 2-8-8-1 MLP bound to the xor dataset, logistic loss (BCE with logits)."""
    b = _Builder(title="xor: a 2-8-8-1 MLP on the xor dataset", lr=0.1)
    b.add("Input", "x", data="dataset", dataset="xor", n=200)
    b.add("Linear", "fc1", "x", in_features=2, out_features=8)
    b.add("ReLU", "relu1", "fc1")
    b.add("Linear", "fc2", "relu1", in_features=8, out_features=8)
    b.add("ReLU", "relu2", "fc2")
    b.add("Linear", "fc3", "relu2", in_features=8, out_features=1)
    b.add("Target", "y", data="dataset", dataset="xor", n=200)
    b.add("BCEWithLogitsLoss", "bce", "fc3", "y")
    return b.done()


def residual_mlp(width: int = 8, depth: int = 4) -> Network:
    """Linear(2,8), four blocks x + tanh(fc(x)), Linear(8,1); MSE on a random batch of 16."""
    b = _Builder(title="residual_mlp: x + tanh(fc(x)), four times", lr=0.1)
    b.add("Input", "x", data="randn", shape=(16, 2))
    h = b.add("Linear", "inp", "x", in_features=2, out_features=width)
    for i in range(1, depth + 1):
        b.add("Linear", f"fc{i}", h, in_features=width, out_features=width)
        b.add("Tanh", f"act{i}", f"fc{i}")
        h = b.add("Add", f"res{i}", h, f"act{i}")
    b.add("Linear", "out", h, in_features=width, out_features=1)
    b.add("Target", "y", data="randn", shape=(16, 1))
    b.add("MSELoss", "mse", "out", "y")
    return b.done()


TEMPLATES: dict[str, Callable[[], Network]] = {
    "empty": empty,
    "chain56": chain56,
    "relu_two_weights": relu_two_weights,
    "mlp_10_5_1": mlp_10_5_1,
    "xor": xor,
    "residual_mlp": residual_mlp,
}


def template_names() -> list[str]:
    """The templates' names, in menu order."""
    return list(TEMPLATES)


def template_summary(name: str) -> str:
    """The first line of a template's docstring."""
    return (TEMPLATES[name].__doc__ or name).strip().splitlines()[0]


def make_template(name: str) -> Network:
    """A new document from the template ``name``, or NetworkError listing the templates."""
    if name not in TEMPLATES:
        raise NetworkError(f"There is no template '{name}'; choose one of {', '.join(TEMPLATES)} (bpviz new --list).")
    return TEMPLATES[name]()
