"""Random small programs, as learners write them, run once under bpviz and once in plain torch.

A program draws a few leaves and applies random ops: element-wise and binary arithmetic,
``.detach()`` of any tensor made so far (mixed back in with its own source: ``a.detach() * a``),
gradient hooks on leaves and on intermediate tensors, in-place ops on fresh results and
multi-output ops (chunk, unbind, var_mean, max with indices). :func:`run` replays the same
program (same seed) as a closure; every tensor it makes is recorded with its value and the
autograd node that made it, so the oracle can compare node by node.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Program:
    """One random program: ``leaves`` by name, and what :func:`run` recorded when it ran."""

    seed: int
    leaves: dict[str, torch.Tensor]
    made: list[tuple[Any, torch.Tensor]] = field(default_factory=list)  # (grad_fn, value at creation)
    # (grad_fn, output_nr, value) of each output of a multi-output op
    outputs: list[tuple[Any, int, torch.Tensor]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def make(seed: int) -> Program:
    """The leaves of program ``seed`` (fresh tensors, so hooks of earlier runs are gone)."""
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    shape = (rng.randint(1, 3), rng.randint(2, 4))
    leaves = {}
    for i in range(rng.randint(1, 4)):
        t = torch.randn(shape, generator=gen)
        leaves[f"a{i}"] = t.requires_grad_(rng.random() < 0.85)
    return Program(seed, leaves)


def run(p: Program) -> torch.Tensor:
    """Run program ``p`` and return its scalar loss; records every tensor made in ``p.made``."""
    rng = random.Random(p.seed * 7919 + 1)
    p.made.clear()
    p.outputs.clear()
    p.text.clear()
    pool: list[tuple[str, torch.Tensor]] = list(p.leaves.items())

    def keep(name: str, t: torch.Tensor, text: str) -> None:
        p.made.append((t.grad_fn, t.detach().clone()))
        pool.append((name, t))
        p.text.append(f"{name} = {text}")

    for k in range(rng.randint(2, 9)):
        name = f"t{k}"
        (na, a), (nb, b) = rng.choice(pool), rng.choice(pool)
        kind = rng.choice(["unary", "binary", "binary", "detach", "selfdetach", "hook", "inplace", "multi"])
        if kind == "unary":
            f = rng.choice(["tanh", "sigmoid", "exp", "sin"])
            keep(name, getattr(torch, f)(a), f"{f}({na})")
        elif kind == "binary":
            op = rng.choice(["+", "*", "-"])
            out = a + b if op == "+" else a * b if op == "*" else a - b
            keep(name, out, f"{na} {op} {nb}")
        elif kind == "detach":
            keep(name, a.detach() * b, f"{na}.detach() * {nb}")
        elif kind == "selfdetach":
            keep(name, a.detach() * a + b, f"{na}.detach() * {na} + {nb}")
        elif kind == "hook":
            factor = rng.choice([2.0, -0.5, 3.0])
            # Out of place: a hook that changes its gradient in place (g.mul_) changes every
            # tensor autograd passed the same gradient to (add sends one tensor to both
            # inputs), in an order torch's backward() and autograd.grad do not share; the
            # in-place case has its own test.
            if a.requires_grad:
                a.register_hook(lambda g, f=factor: g * f)
                p.text.append(f"{na}.register_hook(lambda g: g * {factor})")
        elif kind == "inplace":
            out = a * 1.5 + b
            p.made.append((out.grad_fn, out.detach().clone()))
            f = rng.choice(["relu_", "mul_", "sigmoid_", "add_"])
            if f == "mul_":
                out.mul_(b)
            elif f == "add_":
                out.add_(b)
            else:
                getattr(out, f)()
            keep(name, out, f"({na} * 1.5 + {nb}).{f}(...)")
        else:
            m = rng.choice(["chunk", "unbind", "var_mean", "max", "split"])
            if m == "chunk" and a.shape[-1] >= 2:
                parts = a.chunk(2, dim=-1)
                x, y = parts[0].sum(-1), parts[-1].sum(-1)
            elif m == "split":
                parts = a.split([1, a.shape[-1] - 1], dim=-1)
                x, y = parts[0].sum(-1), parts[1].sum(-1)
            elif m == "unbind":
                parts = a.unbind(-1)
                x, y = parts[0], parts[-1]
            elif m == "var_mean":
                parts = ()
                x, y = torch.var_mean(a, dim=-1, correction=0)
            else:
                parts = ()
                x, y = a.max(dim=-1)
            for part in parts if m in ("chunk", "split", "unbind") else (x, y):
                if part.grad_fn is not None:
                    p.outputs.append((part.grad_fn, part.output_nr, part.detach().clone()))
            y = y.float() if m == "max" else y
            use = rng.choice(["first", "second", "both"])
            if use == "first":
                out = x
            elif use == "second":
                out = y * 2 if y.requires_grad else y + 0 * x
            else:
                out = x * y
            keep(name, out.unsqueeze(-1).expand_as(b) * b if out.dim() == 1 else out * b, f"{m}({na}) [{use}] * {nb}")
    total = sum((t * (i + 1) * 0.25).sum() for i, (_, t) in enumerate(pool[-3:]))
    assert isinstance(total, torch.Tensor)
    return total
