"""`bpviz trace` and `bpviz lessons`: the trace as a readable table or JSON, and the lesson list."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from bpviz.core.atomic import write_text
from bpviz.core.trace_record import Trace
from bpviz.presentation.format import format_number


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the `trace` and `lessons` subcommands."""
    p = subparsers.add_parser("trace", help="trace one forward and backward pass and print it")
    p.add_argument("scenario", metavar="FILE|lesson:NAME", help="scenario file or built-in lesson")
    p.add_argument("--json", metavar="PATH", help="write the trace as JSON to PATH ('-' for stdout)")
    p.add_argument("--full", action="store_true", help="write every tensor to JSON, however large")
    p.add_argument(
        "--gradcheck", action="store_true", help="also check the gradients against float64 finite differences"
    )
    p.set_defaults(run=run_trace)
    lp = subparsers.add_parser("lessons", help="list the built-in lessons")
    lp.set_defaults(run=run_lessons)


def short(t) -> str:
    """A tensor in a table cell: the number, a short list, or shape and norm."""
    if t is None:
        return "-"
    if t.numel() == 1:
        return format_number(float(t.reshape(())))
    if t.numel() <= 4:
        return "[" + ", ".join(format_number(float(x)) for x in t.flatten()) + "]"
    return f"{tuple(t.shape)} |{format_number(float(t.double().norm()))}|"


def format_table(trace: Trace) -> str:
    """The trace as a fixed-width table: node, kind, op, shape, value, gradient."""
    g = trace.graph
    leaves = sorted(n for n, a in g.nodes(data=True) if a["kind"] not in ("op", "loss"))
    rows = [("node", "kind", "op", "shape", "value", "grad")]
    for n in leaves + list(trace.forward_order):
        a = g.nodes[n]
        label = a["name"] + (f" ({a['module']})" if a["module"] and a["kind"] in ("op", "loss") else "")
        rows.append(
            (
                label,
                a["kind"],
                a["op"] or "-",
                "x".join(map(str, a["shape"])) or "scalar",
                short(a["value"]),
                short(a["grad"]),
            )
        )
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    lines = [f"{trace.title}", f"loss = {format_number(trace.loss)}", ""]
    for k, r in enumerate(rows):
        lines.append("  ".join(c[:40].ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    rank = {n: i for i, n in enumerate(trace.backward_order)}
    chain = sorted(
        (e for e in g.edges(data=True) if e[2]["local"] is not None), key=lambda e: (rank.get(e[1], len(rank)), e[0])
    )
    if chain:
        lines += ["", "local derivatives (scalar edges): upstream x local = edge gradient"]
        for u, v, e in chain:
            up = g.nodes[v]["grad"]
            lines.append(
                f"  {g.nodes[u]['name']} -> {g.nodes[v]['name']}: "
                f"{short(up)} x {format_number(e['local'])} = {short(e['grad'])}"
            )
    lines += _rule_lines(trace, rank)
    if trace.diagnostics:
        lines += ["", "diagnostics:"]
        lines += [f"  [{d.kind}] {d.message}" for d in trace.diagnostics]
    return "\n".join(lines)


def _rule_lines(trace: Trace, rank: dict[str, int]) -> list[str]:
    """The local derivative rule of every edge that has one, in backward order: written out
    with the numbers for scalars (d(x²)/dx = 2x = 2 × 2 = 4), with the shapes for tensors."""
    from bpviz.presentation.rules import edge_rule, fan_in_rule

    g = trace.graph
    found = []
    for u, v in sorted(g.edges, key=lambda e: (rank.get(e[1], len(rank)), e[0])):
        rule = edge_rule(trace, u, v)
        if rule is None:
            continue
        text = (
            rule.line()
            if rule.scalar
            else f"{rule.lhs} = {rule.formula}" + (f"   {rule.shapes}" if rule.shapes else "")
        )
        found.append(f"  {g.nodes[u]['name']} -> {g.nodes[v]['name']}: {_printable(text, rule.symbolic)}")
    for n in sorted(g.nodes):
        fan_in = fan_in_rule(trace, n)
        if fan_in is not None:
            found.append(f"  {g.nodes[n]['name']} (fan-in): {_printable(fan_in.line(), fan_in.symbolic)}")
    return ["", "local derivative rules:", *found] if found else []


def _printable(text: str, fallback: str) -> str:
    """``text`` where the terminal can print its symbols (², ×, ᵀ), else the ASCII ``fallback``."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return fallback
    return text


def run_trace(args: argparse.Namespace) -> int:
    """Trace a scenario; print the table, and write JSON if asked."""
    from bpviz.core.scenario import load_scenario
    from bpviz.core.serialize import MAX_ELEMENTS, trace_to_json
    from bpviz.core.trace import trace_scenario
    from bpviz.presentation.rules import rule_symbol

    # With the JSON on stdout, whatever the scenario prints goes to stderr: the JSON stays valid.
    user_output = contextlib.redirect_stdout(sys.stderr) if args.json == "-" else contextlib.nullcontext()
    with user_output:
        scenario = load_scenario(args.scenario)
        trace = trace_scenario(scenario)
        gradcheck = _gradcheck(scenario) if args.gradcheck else None
    if args.json:
        data = trace_to_json(
            trace, max_elements=10**12 if args.full else MAX_ELEMENTS, edge_rule=lambda u, v: rule_symbol(trace, u, v)
        )
        if gradcheck is not None:
            data["gradcheck"] = gradcheck
        text = json.dumps(data, indent=1)
        if args.json == "-":
            sys.stdout.write(text + "\n")
            return 0
        write_text(args.json, text + "\n")
    print(format_table(trace))
    if gradcheck is not None and not args.json:
        print("\nfinite-difference check (float64), max abs error per parameter:")
        for name, err in gradcheck.items():
            print(f"  {name}: {err:.3g}")
    return 0


def _gradcheck(scenario) -> dict[str, float]:
    from bpviz.core.gradcheck import finite_difference_check

    return finite_difference_check(scenario)


def run_lessons(args: argparse.Namespace) -> int:
    """Print the built-in lessons, one per line."""
    from bpviz.core.scenario import DEFAULT_LESSON, lesson_names, lesson_summary

    names = lesson_names()
    width = max(len(n) for n in names)
    for name in names:
        mark = " (default)" if name == DEFAULT_LESSON else ""
        print(f"lesson:{name.ljust(width)}  {lesson_summary(name)}{mark}")
    return 0
