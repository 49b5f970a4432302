"""Code export: a network as a readable Python scenario file that ``bpviz trace`` loads to the
same loss and gradients (File > Export as Python, and ``bpviz code``).

A model becomes ``model``, ``inputs``, ``target`` and ``loss_fn`` (an ``nn.Sequential`` for a
chain, else a small ``nn.Module`` whose ``forward`` names every value after its block); an
expression network becomes a ``loss()`` over module-level leaf tensors. The file creates its
modules and draws its random numbers in the plan's order (see :mod:`plan`), as the builder does.
"""

from __future__ import annotations

from bpviz.core.network.catalogue import LOSS, MODULE, SOURCE
from bpviz.core.network.document import Network
from bpviz.core.network.plan import MODEL, Plan, make_plan
from bpviz.core.network.pycode import number, tensor_literal

INDENT = "    "


def to_python(doc: Network) -> str:
    """The scenario file's text; BuildError when the network cannot run."""
    plan = make_plan(doc)
    blocks = doc.blocks
    uses_dataset = any(blocks[b].props.get("data") == "dataset" for b in plan.sources)
    random = bool(plan.modules) or any(blocks[b].props.get("data") == "randn" for b in plan.sources)
    title = doc.title or "A network built in bpviz"
    lines = [f'"""{_docstring(title)}', "", "Exported from a bpviz network; `bpviz trace THIS_FILE` traces it.", '"""']
    if plan.mode == MODEL and plan.chain:
        lines.append("from collections import OrderedDict")
        lines.append("")
    lines.append("import torch")
    if plan.modules:
        lines.append("from torch import nn")
    if uses_dataset:
        lines.append("")
        lines.append("from bpviz.core.datasets import make_dataset")
    lines += ["", f"title = {title!r}", f"lr = {number(doc.lr)}", ""]
    if plan.mode == MODEL:
        lines += _model(doc, plan, random)
    else:
        lines += _expression(doc, plan, random)
    return "\n".join(lines).rstrip() + "\n"


def _docstring(text: str) -> str:
    return text.replace("\\", "/").replace('"""', "'''")


def _args(doc: Network, block_id: str, var: dict[str, str] | None = None) -> list[str]:
    wires = doc.inputs_of(block_id)
    srcs = [wires[p].src for p in doc.blocks[block_id].spec.inputs]
    return [(var or {}).get(s) or doc.blocks[s].name for s in srcs]


def _sources(doc: Network, plan: Plan) -> list[str]:
    return [
        f"{doc.blocks[b].name} = {doc.blocks[b].spec.code(doc.blocks[b].props, [str(doc.seed)])}" for b in plan.sources
    ]


def _expression(doc: Network, plan: Plan, random: bool) -> list[str]:
    blocks = doc.blocks
    lines = [f"torch.manual_seed({doc.seed})"] if random else []
    lines += [f"{blocks[b].name} = {blocks[b].spec.code(blocks[b].props, [])}" for b in plan.modules]
    lines += _kept_values(doc, plan, "")
    lines += _sources(doc, plan)
    lines += ["", "", "def loss():"]
    # A module block's name is the module's (a global): its output is NAME_out inside loss().
    taken = {b.name for b in blocks.values()}
    var: dict[str, str] = {}
    for b in plan.modules:
        out = f"{blocks[b].name}_out"
        while out in taken:
            out += "_"
        taken.add(out)
        var[b] = out
    for b in plan.order:
        spec = blocks[b].spec
        if spec.role == SOURCE:
            continue
        args = _args(doc, b, var)
        if spec.role in (MODULE, LOSS):
            lines.append(f"{INDENT}{var[b]} = {blocks[b].name}({', '.join(args)})")
        else:
            lines.append(f"{INDENT}{blocks[b].name} = {spec.code(blocks[b].props, args)}")
    lines.append(f"{INDENT}return {var.get(plan.end) or blocks[plan.end].name}")
    return lines


def _model(doc: Network, plan: Plan, random: bool) -> list[str]:
    blocks = doc.blocks
    lines: list[str] = []
    if plan.chain:
        build = ["model = nn.Sequential(OrderedDict("]
        build += [f"{INDENT}{blocks[b].name}={blocks[b].spec.code(blocks[b].props, [])}," for b in plan.body]
        build.append("))")
    else:
        lines += ["", *_net_class(doc, plan)]  # two blank lines before a class
        build = ["model = Net()"]
    if random:
        lines.append(f"torch.manual_seed({doc.seed})")
    lines += build
    lines += _kept_values(doc, plan, "model.")
    lines += _sources(doc, plan)
    names = [blocks[b].name for b in plan.inputs]
    lines.append(f"inputs = {names[0]}" if len(names) == 1 else f"inputs = ({', '.join(names)})")
    if blocks[plan.target].name != "target":
        lines.append(f"target = {blocks[plan.target].name}")
    loss = blocks[plan.end]
    lines.append(f"loss_fn = {loss.spec.code(loss.props, [])}")
    return lines


def _kept_values(doc: Network, plan: Plan, owner: str) -> list[str]:
    """Weights kept in the document, copied over the seed's (which are drawn all the same)."""
    kept = [(doc.blocks[b].name, n, v) for b in plan.modules for n, v in doc.blocks[b].values.items()]
    if not kept:
        return []
    lines = ["with torch.no_grad():  # weights kept in the network replace the seed's"]
    lines += [
        f"{INDENT}{owner}{block}.{name}.copy_(torch.tensor({tensor_literal(value)}))" for block, name, value in kept
    ]
    return lines


def _net_class(doc: Network, plan: Plan) -> list[str]:
    blocks = doc.blocks
    lines = [
        "class Net(nn.Module):",
        f'{INDENT}"""The network\'s blocks, in wiring order."""',
        "",
        f"{INDENT}def __init__(self):",
        f"{INDENT * 2}super().__init__()",
    ]
    lines += [
        f"{INDENT * 2}self.{blocks[b].name} = {blocks[b].spec.code(blocks[b].props, [])}"
        for b in plan.body
        if blocks[b].spec.role == MODULE
    ]
    inputs = ", ".join(blocks[b].name for b in plan.inputs)
    lines += ["", f"{INDENT}def forward(self, {inputs}):"]
    for b in plan.body:
        spec, args = blocks[b].spec, _args(doc, b)
        expr = f"self.{blocks[b].name}({', '.join(args)})" if spec.role == MODULE else spec.code(blocks[b].props, args)
        lines.append(f"{INDENT * 2}{blocks[b].name} = {expr}")
    result = blocks[plan.output].name
    lines += [f"{INDENT * 2}return {result}", "", ""]
    return lines
