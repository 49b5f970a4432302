"""Digests of the exports a refactor must leave byte-identical.

Every lesson at five positions (start, forward, loss, backward, end) and six views of the
ResNet-18-like benchmark net are exported to SVG with ``bpviz export`` (in this process) and
hashed. Run it before a change and after it, and compare:

    python -m tests.export_digests -o before.txt     # on the old tree
    python -m tests.export_digests --check before.txt

``--check`` exits 1 and lists the exports whose bytes changed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("start", "forward", "loss", "backward", "end")


# (name, extra export arguments) for the ResNet-18-like net.
RESNET_VARIANTS = (
    ("start", ["--step", "start"]),
    ("backward", ["--step", "backward"]),
    ("end", ["--step", "end"]),
    ("collapse1", ["--step", "backward", "--collapse", "1"]),
    ("hide-shape-ops", ["--step", "backward", "--hide-shape-ops"]),
    ("dark", ["--step", "end", "--theme", "dark"]),
)


def resnet_scenario() -> str:
    """The benchmarks' ResNet-18-like scenario file (benchmarks/models.py), ready to write."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from models import RESNET_SCENARIO

    return str(RESNET_SCENARIO.format(benchmarks=str(ROOT / "benchmarks")))


def cases(resnet_path: str, lessons: list[str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """(label, ``bpviz export`` arguments without ``-o``) for every export that is hashed."""
    from bpviz.core.scenario import lesson_names

    for lesson in lessons if lessons is not None else lesson_names():
        for step in STEPS:
            yield f"lesson:{lesson}@{step}", [f"lesson:{lesson}", "--step", step]
    if lessons is None:
        for name, extra in RESNET_VARIANTS:
            yield f"resnet18-like@{name}", [resnet_path, *extra]


def digests(lessons: list[str] | None = None) -> dict[str, str]:
    """``{label: sha256 of the SVG}`` for every case (``lessons``: only these, no ResNet)."""
    from bpviz.cli import main

    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        resnet = os.path.join(tmp, "resnet18_like.py")
        Path(resnet).write_text(resnet_scenario())
        svg = os.path.join(tmp, "out.svg")
        for label, args in cases(resnet, lessons):
            with contextlib.redirect_stdout(io.StringIO()):
                code = main(["export", *args, "-o", svg])
            if code != 0:
                raise RuntimeError(f"bpviz export {' '.join(args)} exited {code}")
            out[label] = hashlib.sha256(Path(svg).read_bytes()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the digests, or compare them with a file written before."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", help="write 'label digest' lines here (default: stdout)")
    parser.add_argument("--check", metavar="FILE", help="compare with digests written before")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    now = digests()
    text = "".join(f"{label} {digest}\n" for label, digest in now.items())
    if args.check:
        before = dict(line.split() for line in Path(args.check).read_text().splitlines() if line.strip())
        changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        for label in changed:
            print(f"changed: {label}")
        print(f"{len(now) - len(changed)} of {len(now)} exports byte-identical")
        return 1 if changed else 0
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
