"""Keep trained weights: after training a built network, the values its trace holds (each
module's parameters, each ``value`` leaf) go back into the blocks as one undo step, so the
network saves, exports and steps with what training found instead of the seed's draws."""

from __future__ import annotations

from typing import Any

from bpviz.core.network.catalogue import LOSS, MODULE
from bpviz.core.network.commands import Command, Compound, SetProperty
from bpviz.core.network.document import Network
from bpviz.core.network.pycode import float32_short
from bpviz.core.network.values import SetValues


def keep_trained(network: Network, blocks_of: dict[str, str], trace: Any) -> Command | None:
    """The edit that writes ``trace``'s parameter and leaf values into ``network``'s blocks
    (``blocks_of``: trace node -> block id); None when the trace holds none that differ."""
    trial = network.copy()
    params: dict[str, dict[str, Any]] = {}
    steps: list[Command] = []
    for node, attrs in sorted(trace.graph.nodes(data=True)):
        block_id = blocks_of.get(node)
        value = attrs.get("value")
        if block_id not in network.blocks or value is None:
            continue
        block = network.blocks[block_id]
        numbers = float32_short(value.detach().tolist())
        if attrs["kind"] == "param" and block.spec.role in (MODULE, LOSS):
            params.setdefault(block_id, {})[attrs["name"].rsplit(".", 1)[1]] = numbers
        elif attrs["kind"] == "input" and block.kind == "value" and block.props.get("requires_grad"):
            leaf = SetProperty(trial, block_id, "value", numbers)
            if leaf.value != block.props["value"]:
                steps.append(leaf)
    for block_id in sorted(params):
        kept = SetValues(trial, block_id, params[block_id])
        if kept.values != network.blocks[block_id].values:
            steps.append(kept)
    return Compound(steps, "Keep trained weights") if steps else None
