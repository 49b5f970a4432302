"""How a network runs: the blocks that lead to the loss, in order, and whether it is a model
(``model(inputs)`` then ``loss_fn(output, target)``, as the lessons write it) or a loss
expression (``loss()``). The builder and the code export both follow one plan, so they create
modules and draw random numbers in the same order and get the same numbers.

Random numbers are drawn in one order from the network's seed: first every module's initial
weights (in wiring order), then every randn source (in wiring order). The seeds' lessons do the
same (``torch.manual_seed(0); model = ...; inputs = torch.randn(...)``), so a template built
like a lesson gets the lesson's exact weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpviz.core.network.catalogue import LAYER, LOSS, MODULE, SOURCE
from bpviz.core.network.document import Network
from bpviz.core.network.errors import BuildError
from bpviz.core.network.shapes import Shapes, infer_shapes

MODEL = "model"
EXPRESSION_MODE = "loss"


@dataclass(frozen=True)
class Plan:
    """The run of a network.

    ``order``: the blocks the loss depends on, in wiring order; ``end``: the block whose output
    is the loss (model mode: the loss block); ``mode``: :data:`MODEL` or :data:`EXPRESSION_MODE`.
    In model mode ``inputs`` are the Input blocks (the model's arguments), ``target`` the
    Target block, ``body`` the blocks inside the model, ``output`` the block whose output the
    loss takes, and ``chain`` is True when the body is a straight line of modules
    (an ``nn.Sequential``).
    """

    order: tuple[str, ...]
    end: str
    mode: str
    modules: tuple[str, ...]
    sources: tuple[str, ...]
    inputs: tuple[str, ...] = ()
    target: str = ""
    body: tuple[str, ...] = ()
    output: str = ""
    chain: bool = False


def first_issue(doc: Network, shapes: Shapes) -> BuildError | None:
    """The first shape issue in wiring order as a BuildError with its first fix, or None."""
    for b in doc.topological_order():
        issue = shapes.issues.get(b)
        if issue is not None:
            fix = f" Fix: {issue.fixes[0].text}." if issue.fixes else ""
            return BuildError(issue.message + fix)
    return None


def make_plan(doc: Network, shapes: Shapes | None = None) -> Plan:
    """The plan of ``doc``, or BuildError saying what stops it from running."""
    if not doc.blocks:
        raise BuildError("The network is empty; add blocks or start from a template (bpviz new --list).")
    shapes = shapes or infer_shapes(doc)
    order_all = doc.topological_order()
    fed = {w.src for w in doc.wires.values()}
    ends = [b for b in order_all if b not in fed and doc.blocks[b].spec.role != SOURCE]
    if not ends:
        raise BuildError("The network has no operation yet; wire its values or inputs into blocks that compute a loss.")
    if len(ends) > 1:
        names = ", ".join(doc.blocks[b].name for b in ends)
        raise BuildError(
            f"The network has {len(ends)} ends ({names}); the loss must be the one "
            "block at the end: connect the others onward or delete them."
        )
    end = ends[0]
    used = _ancestors(doc, end)
    problem = first_issue(doc, _only(shapes, used))
    if problem is not None:
        raise problem
    if shapes.outputs.get(end) not in ((), (1,)) and doc.blocks[end].spec.role != LOSS:
        raise BuildError(
            f"The end block {doc.blocks[end].name} gives {shapes.outputs.get(end)}, not "
            "a single number; add a sum or mean (or a loss block) after it."
        )
    order = tuple(b for b in order_all if b in used)
    modules = tuple(b for b in order if doc.blocks[b].spec.role in (MODULE, LOSS))
    sources = tuple(b for b in order if doc.blocks[b].spec.role == SOURCE)
    model = _model_parts(doc, order, end)
    if model is None:
        return Plan(order=order, end=end, mode=EXPRESSION_MODE, modules=modules, sources=sources)
    inputs, target, body, output = model
    return Plan(
        order=order,
        end=end,
        mode=MODEL,
        modules=modules,
        sources=sources,
        inputs=inputs,
        target=target,
        body=body,
        output=output,
        chain=_is_chain(doc, inputs, body, output),
    )


def _only(shapes: Shapes, used: set[str]) -> Shapes:
    return Shapes(shapes.outputs, shapes.dtypes, {b: i for b, i in shapes.issues.items() if b in used})


def _ancestors(doc: Network, end: str) -> set[str]:
    into: dict[str, list[str]] = {}
    for w in doc.wires.values():
        into.setdefault(w.dst, []).append(w.src)
    seen, stack = {end}, [end]
    while stack:
        for src in into.get(stack.pop(), ()):
            if src not in seen:
                seen.add(src)
                stack.append(src)
    return seen


def _model_parts(
    doc: Network, order: tuple[str, ...], end: str
) -> tuple[tuple[str, ...], str, tuple[str, ...], str] | None:
    """(inputs, target, body, output) when the network is a model with a loss, else None: every
    block is a layer block, the end is a loss block whose target is one Target block that
    feeds nothing else, and at least one Input feeds the model."""
    blocks = doc.blocks
    if any(blocks[b].spec.level != LAYER for b in order) or blocks[end].spec.role != LOSS:
        return None
    wires = doc.inputs_of(end)
    target = wires["target"].src
    if blocks[target].kind != "Target" or len(doc.consumers(target)) != 1:
        return None
    if any(blocks[b].kind == "Target" and b != target for b in order):
        return None
    inputs = tuple(b for b in order if blocks[b].kind == "Input")
    output = wires["input"].src
    if not inputs or output == target:
        return None
    body = tuple(b for b in order if b not in inputs and b not in (target, end))
    return inputs, target, body, output


def _is_chain(doc: Network, inputs: tuple[str, ...], body: tuple[str, ...], output: str) -> bool:
    """True when one Input feeds a straight line of one-input modules ending at ``output``."""
    if len(inputs) != 1 or not body:
        return False
    fan_out: dict[str, int] = {}
    for w in doc.wires.values():
        fan_out[w.src] = fan_out.get(w.src, 0) + 1
    previous = inputs[0]
    for b in body:
        block = doc.blocks[b]
        if block.spec.role != MODULE or len(block.spec.inputs) != 1:
            return False
        if doc.inputs_of(b)[block.spec.inputs[0]].src != previous or fan_out[previous] != 1:
            return False
        previous = b
    return previous == output
