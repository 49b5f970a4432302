"""Command line: the desktop app by default, and headless subcommands.

    bpviz [FILE|lesson:NAME]          open the app
    bpviz trace FILE|lesson:NAME      print the trace (--json PATH writes it)
    bpviz export FILE -o OUT.png      render the graph to PNG, SVG or PDF
    bpviz train FILE --steps N        run SGD/Adam and write per-step statistics
    bpviz lessons                     list the built-in lessons
    bpviz new --template NAME -o NET.bpviz   start a network from a template (--list them)
    bpviz code NET.bpviz -o NET.py    write a network as a Python scenario file

Bad input prints one line to stderr and exits with code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import os
import sys
import threading
import traceback
from collections.abc import Iterator

from bpviz.core.errors import BpvizError, unexpected_message

SUBCOMMANDS = {
    "trace": "bpviz.commands.trace",
    "lessons": "bpviz.commands.trace",
    "export": "bpviz.commands.export",
    "train": "bpviz.commands.train",
    "new": "bpviz.commands.network",
    "code": "bpviz.commands.network",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors also exit 2, in one line
        self.print_usage(sys.stderr)
        raise SystemExit(f"bpviz: error: {message}")


TIMEOUT_HELP = "end with exit code 2 if the command runs longer (a scenario stuck in a loop)"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand registered (or only ``only``'s, which imports less)."""
    parser = _Parser(prog="bpviz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    added = set()
    for name, module in SUBCOMMANDS.items():
        if module in added or (only and name != only):
            continue
        added.add(module)
        mod = importlib.import_module(module)
        (getattr(mod, "add_parsers", None) or mod.add_parser)(sub)
    for command in sub.choices.values():
        # Taken off the command line by main() before parsing; listed here so -h shows it.
        command.add_argument("--timeout", metavar="SECONDS", type=float, help=TIMEOUT_HELP)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    """The parser of the default command, which opens the app."""
    parser = _Parser(
        prog="bpviz",
        description=__doc__.split("\n\n")[0],
        epilog="Subcommands: "
        + ", ".join(SUBCOMMANDS)
        + " (bpviz SUBCOMMAND -h). Each takes --timeout SECONDS: "
        + TIMEOUT_HELP
        + ".",
    )
    parser.add_argument("scenario", nargs="?", metavar="FILE|lesson:NAME", help="scenario to open")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument(
        "--smoke-test", action="store_true", help="open the window, wait until it is drawn, and quit (for CI)"
    )
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window and quit")
    # Hidden: which step to show first (a number or start, forward, loss, backward, end); used
    # with --screenshot to picture the backward pass for the README.
    parser.add_argument("--step", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `bpviz` command; returns the exit code."""
    try:
        code = _main(argv)
    except BaseException:  # --debug: the traceback, then the same way out
        traceback.print_exc()
        _end_if_threads_left(1)
        raise
    _end_if_threads_left(code)
    return code


def _end_if_threads_left(code: int) -> None:
    """End the `bpviz` process now if a scenario left a daemon thread running (one running torch
    backward in a loop, say): the interpreter's teardown would stop it in the middle of torch's
    C++ code and abort the process ("terminate called without an active exception", exit 134).
    Only in the command's own process, never in a caller of :func:`main`. The files such a
    scenario keeps open at module level are not flushed (end_process is not told of them)."""
    from bpviz.commands.process_end import end_process, is_command_process

    others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    if others and is_command_process():
        for thread in others:
            if not thread.daemon:  # the interpreter waits for these too
                thread.join()
        end_process(code)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]  # accepted anywhere on the line
    try:
        argv, timeout = _take_timeout(argv)
        words = [a for a in argv if not a.startswith("-")]
        if words and words[0] in SUBCOMMANDS:
            args = build_parser(words[0]).parse_args(argv)
            args.debug = debug
            with _watchdog(timeout):
                return int(args.run(args) or 0)
        args = build_gui_parser().parse_args(argv)
        args.debug = debug
        if args.scenario is not None:
            _refuse_unknown_word(args.scenario)
        from bpviz.gui.app import run_app

        return run_app(args)
    except BpvizError as exc:
        if debug:
            raise
        print(f"bpviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `bpviz trace ... | head`: the reader left, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        return int(exc.code or 0)
    except Exception as exc:  # never a traceback without --debug
        if debug:
            raise
        print(f"bpviz: error: unexpected {unexpected_message(exc)} (rerun with --debug for details)", file=sys.stderr)
        return 2


def _refuse_unknown_word(spec: str) -> None:
    """Refuse ``bpviz WORD`` when WORD is neither a subcommand nor a file: a misspelled
    subcommand would otherwise open the app on a file that does not exist. Raises BpvizError."""
    from bpviz.core.scenario import LESSON_PREFIX

    looks_like_a_path = "." in spec or "/" in spec or os.sep in spec or spec.startswith(LESSON_PREFIX)
    if looks_like_a_path or os.path.exists(spec):
        return
    close = difflib.get_close_matches(spec, list(SUBCOMMANDS), n=1)
    guess = f"; did you mean '{close[0]}'?" if close else "; run `bpviz -h` for the subcommands."
    raise BpvizError(f"'{spec}' is neither a subcommand ({', '.join(SUBCOMMANDS)}) nor a scenario file{guess}")


def _take_timeout(argv: list[str]) -> tuple[list[str], float | None]:
    """Remove ``--timeout SECONDS`` (accepted anywhere on the line); raises BpvizError."""
    rest, timeout, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--timeout" or arg.startswith("--timeout="):
            text = arg.partition("=")[2] if "=" in arg else (argv[i + 1] if i + 1 < len(argv) else "")
            i += 1 if "=" in arg else 2
            try:
                timeout = float(text)
            except ValueError:
                raise BpvizError(f"--timeout needs a number of seconds, got '{text}'.") from None
            if not 0 < timeout < float("inf"):
                raise BpvizError(f"--timeout must be a positive number of seconds, got '{text}'.")
            continue
        rest.append(arg)
        i += 1
    return rest, timeout


@contextlib.contextmanager
def _watchdog(timeout: float | None) -> Iterator[None]:
    """End the `bpviz` process with exit code 2 if the command runs longer than ``timeout``
    seconds: a scenario stuck in an endless loop cannot be stopped from inside (Python cannot
    interrupt another thread's code). Only in the command's own process, never in a caller of
    :func:`main` (their process is theirs)."""
    from bpviz.commands.process_end import is_command_process

    if timeout is None or not is_command_process():
        yield
        return

    def give_up() -> None:
        sys.stderr.write(
            f"bpviz: error: the command did not finish within {timeout:g} s (an endless loop in the "
            "scenario?); fix the scenario or give a larger --timeout.\n"
        )
        sys.stderr.flush()
        os._exit(2)

    timer = threading.Timer(timeout, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()  # gone before main() looks for threads the scenario left
