"""Network -> Scenario: the built network runs under torch like any scenario file.

A model plan becomes ``Scenario(model=..., inputs=..., target=..., loss_fn=...)`` with an
``nn.Sequential`` for a chain and a :class:`NetworkModule` otherwise; an expression plan becomes
``Scenario(closure=NetworkLoss(...))`` with every leaf tensor and module in the namespace under
its block name, so the trace names nodes as the user named the blocks. Modules are built and
random numbers drawn in the plan's order under the network's seed inside ``fork_rng``: the
caller's global random state is left as it was.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from bpviz.core.network.catalogue import LOSS, MODULE, SOURCE, get_kind
from bpviz.core.network.document import Network
from bpviz.core.network.plan import MODEL, Plan, make_plan
from bpviz.core.network.shapes import Shapes
from bpviz.core.network.values import load_values
from bpviz.core.scenario import Scenario

# One step of a run: (block id, block name, kind name, props, ids of the input blocks).
Step = tuple[str, str, str, dict[str, Any], tuple[str, ...]]


def _steps(doc: Network, plan: Plan, ids: tuple[str, ...]) -> list[Step]:
    out = []
    for b in ids:
        block = doc.blocks[b]
        wires = doc.inputs_of(b)
        out.append((b, block.name, block.kind, dict(block.props), tuple(wires[p].src for p in block.spec.inputs)))
    return out


def run_steps(
    steps: list[Step],
    values: dict[str, torch.Tensor],
    modules: Any,
    made: dict[int, str] | None = None,
    named: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Run ``steps`` in order on ``values`` (block id -> tensor, the sources filled in);
    ``modules`` finds a module block's module by block name. Returns the last step's output.
    ``made`` gets ``id(grad_fn) -> block id`` of each output (see :mod:`mapping`), ``named``
    block name -> the output the block made itself."""
    out: torch.Tensor | None = None
    for block_id, name, kind_name, props, args in steps:
        kind = get_kind(kind_name)
        tensors = [values[a] for a in args]
        out = getattr(modules, name)(*tensors) if kind.role in (MODULE, LOSS) else kind.run(props, *tensors)
        values[block_id] = out
        # An identity block (Dropout(p=0), a one-element Flatten) returns its input: the node
        # stays with the block that made it, and keeps its name.
        if made is None or out.grad_fn is None:
            continue
        if made.setdefault(id(out.grad_fn), block_id) == block_id and named is not None:
            named[name] = out
    assert out is not None
    return out


class NetworkModule(nn.Module):
    """A built network that is not a straight chain: its blocks are submodules named as the
    blocks are, and ``forward(*inputs)`` runs them in wiring order."""

    def __init__(self, inputs: tuple[str, ...], steps: list[Step], modules: dict[str, nn.Module]):
        super().__init__()
        self.input_ids = inputs
        self.steps = steps
        self.made: dict[int, str] = {}  # the last forward's id(grad_fn) -> block id
        for name, module in modules.items():
            self.add_module(name, module)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102 - nn.Module
        values = dict(zip(self.input_ids, inputs, strict=True))
        if not self.steps:
            return inputs[0]
        self.made = {}
        return run_steps(self.steps, values, self, self.made)


class NetworkLoss:
    """The ``loss()`` of an expression network: runs every step on the built sources and
    modules. A callable object, not a function (its local variables would name every op "out"):
    the leaves are named by the namespace, the ops by :meth:`outputs`, as the user named the
    blocks."""

    def __init__(self, sources: dict[str, torch.Tensor], steps: list[Step], modules: dict[str, nn.Module]):
        self.sources = sources
        self.steps = steps
        self.modules = _Modules(modules)
        self.made: dict[int, str] = {}  # the last call's id(grad_fn) -> block id
        self.named: dict[str, torch.Tensor] = {}  # the last call's block name -> its output

    def __call__(self) -> torch.Tensor:
        self.made, self.named = {}, {}
        return run_steps(self.steps, dict(self.sources), self.modules, self.made, self.named)

    def outputs(self) -> dict[str, torch.Tensor]:
        """Each block's output of the last call, by block name (``z1`` for ``z1 = x · w1``)."""
        return dict(self.named)


class _Modules:
    def __init__(self, modules: dict[str, nn.Module]):
        self.__dict__.update(modules)


@dataclass
class BuiltNetwork:
    """What :func:`build` made: the scenario, its plan, and the tensors and modules per block id
    (how a view maps trace nodes back to the blocks they came from)."""

    scenario: Scenario
    plan: Plan
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    modules: dict[str, nn.Module] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # block name -> block id


def build(doc: Network, source: str = "", shapes: Shapes | None = None) -> BuiltNetwork:
    """Build ``doc`` into a runnable scenario; BuildError (one sentence) when it cannot run.
    ``shapes``: the document's :func:`infer_shapes` result when the caller has it already."""
    plan = make_plan(doc, shapes)
    blocks = doc.blocks
    seed = doc.seed
    modules: dict[str, nn.Module] = {}
    tensors: dict[str, torch.Tensor] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for b in plan.modules:
            modules[b] = blocks[b].spec.make_module(blocks[b].props)
            if blocks[b].values:  # drawn all the same, so later blocks get the same draws
                load_values(blocks[b], modules[b])
        for b in plan.sources:
            spec = blocks[b].spec
            spec.make_meta(blocks[b].props, seed)  # its settings' checks (BuildError) before drawing
            tensors[b] = spec.make_source(blocks[b].props, seed)
    by_name = {blocks[b].name: m for b, m in modules.items()}
    title = doc.title or (source and source.rsplit("/", 1)[-1]) or "network"
    description = f"A network of {len(plan.order)} blocks built in bpviz."
    names = {blocks[b].name: b for b in plan.order}
    namespace: dict[str, Any]  # block name -> tensor or module, for the trace's labels
    if plan.mode == MODEL:
        body_modules = {blocks[b].name: modules[b] for b in plan.body if b in modules}
        if plan.chain:
            model: nn.Module = nn.Sequential(OrderedDict(body_modules))
        else:
            model = NetworkModule(plan.inputs, _steps(doc, plan, plan.body), body_modules)
        namespace = {blocks[b].name: tensors[b] for b in plan.inputs}
        scenario = Scenario(
            model=model,
            inputs=tuple(tensors[b] for b in plan.inputs),
            target=tensors[plan.target],
            loss_fn=modules[plan.end],
            namespace=namespace,
            title=title,
            source=source or "network",
            lr=doc.lr,
            description=description,
        )
    else:
        steps = _steps(doc, plan, tuple(b for b in plan.order if blocks[b].spec.role != SOURCE))
        namespace = {blocks[b].name: tensors[b] for b in plan.sources}
        namespace.update(by_name)
        network_loss = NetworkLoss(tensors, steps, by_name)
        scenario = Scenario(
            closure=network_loss,
            output_names=network_loss.outputs,
            namespace=namespace,
            title=title,
            source=source or "network",
            lr=doc.lr,
            description=description,
        )
    return BuiltNetwork(scenario, plan, tensors, modules, names)


def build_scenario(doc: Network, source: str = "") -> Scenario:
    """Only the scenario of :func:`build`."""
    return build(doc, source).scenario
