"""`bpviz new` and `bpviz code`: start a network from a template, and export one as Python.

bpviz new --list                          list the templates
bpviz new --template xor -o xor.bpviz     write a template as a .bpviz network
bpviz new --from model.py -o model.bpviz  import a model scenario (torch.fx)
bpviz code xor.bpviz -o xor.py            write the network as a Python scenario file
"""

from __future__ import annotations

import argparse
import os
import sys

from bpviz.core.errors import BpvizError


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `new` and `code` subcommands."""
    p = subparsers.add_parser(
        "new",
        help="write a new .bpviz network from a template",
        description="Write a new network document (.bpviz) from a template, or list the templates.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="list the templates")
    what.add_argument("--template", metavar="NAME", help="the template to start from")
    what.add_argument(
        "--from",
        dest="source",
        metavar="FILE|lesson:NAME",
        help="import a model scenario through torch.fx (runs the file's Python)",
    )
    p.add_argument("-o", "--output", metavar="NET.bpviz", help="the file to write")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.set_defaults(run=run_new)
    c = subparsers.add_parser(
        "code",
        help="write a .bpviz network as a Python scenario file",
        description="Write the Python scenario file of a network: `bpviz trace` loads it to the same numbers.",
    )
    c.add_argument("network", metavar="NET.bpviz", help="the network to export")
    c.add_argument("-o", "--output", metavar="OUT.py", help="the file to write (default: stdout)")
    c.set_defaults(run=run_code)


def run_new(args: argparse.Namespace) -> int:
    """List the templates, or write one to ``--output``."""
    from bpviz.core.network.fileformat import SUFFIX, save
    from bpviz.core.network.templates import make_template, template_names, template_summary

    if args.list:
        names = template_names()
        width = max(len(n) for n in names)
        for name in names:
            print(f"{name.ljust(width)}  {template_summary(name)}")
        return 0
    if not args.output:
        raise BpvizError("bpviz new needs -o NET.bpviz, the file to write.")
    if not args.output.lower().endswith(SUFFIX):
        raise BpvizError(f"The output '{args.output}' must end in {SUFFIX}.")
    if os.path.exists(args.output) and not args.force:
        raise BpvizError(f"'{args.output}' exists; pass --force to overwrite it or choose another name.")
    if args.source:
        from bpviz.core.network.importer import import_scenario
        from bpviz.core.scenario import load_scenario

        doc, origin = import_scenario(load_scenario(args.source)), f"imported from {args.source}"
    else:
        doc, origin = make_template(args.template), f"template {args.template}"
    save(doc, args.output)
    print(f"wrote {args.output} ({origin}, {len(doc.blocks)} blocks)")
    return 0


def run_code(args: argparse.Namespace) -> int:
    """Write the network's Python scenario file to ``--output`` or stdout."""
    from bpviz.core.network.codegen import to_python
    from bpviz.core.network.fileformat import load

    code = to_python(load(args.network))
    if not args.output or args.output == "-":
        sys.stdout.write(code)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(code)
    except OSError as exc:
        raise BpvizError(f"Cannot write '{args.output}' ({exc.strerror}); choose a writable path.") from None
    print(f"wrote {args.output}")
    return 0
