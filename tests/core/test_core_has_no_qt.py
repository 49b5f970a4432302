"""bpviz/core and bpviz/presentation never import Qt, and core never imports presentation:
checked by importing every module of both packages in a fresh interpreter where Qt and pyqtgraph
are made unimportable."""

import pkgutil
import subprocess
import sys

import bpviz.core
import bpviz.presentation

BLOCK = (
    "import sys\n"
    "class Block:\n"
    "    def __init__(self, names, why):\n"
    "        self.names, self.why = names, why\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.startswith(self.names):\n"
    "            raise ImportError(self.why + name)\n"
)


def modules(package) -> list[str]:
    """Every module of ``package``, subpackages included."""
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True)


def test_core_imports_without_qt_and_without_presentation():
    core = modules(bpviz.core)
    assert len(core) >= 8
    proc = run(
        "sys.meta_path.insert(0, Block(('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'),"
        " 'Qt is not allowed in bpviz.core: '))\n"
        "sys.meta_path.insert(0, Block(('bpviz.presentation', 'bpviz.gui'), 'bpviz.core imported '))\n"
        f"for m in {core!r}:\n"
        "    __import__(m)\n"
        "from bpviz.core.scenario import load_scenario\n"
        "from bpviz.core.stepper import StepSequence\n"
        "from bpviz.core.trace import trace_scenario\n"
        "StepSequence(trace_scenario(load_scenario('lesson:chain56'))).state_at(5)\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'bpviz.presentation'))]\n"
    )
    assert proc.returncode == 0, proc.stderr


def test_presentation_imports_without_qt():
    presentation = modules(bpviz.presentation)
    assert {"bpviz.presentation.format", "bpviz.presentation.training.snapshot"} <= set(presentation)
    proc = run(
        "sys.meta_path.insert(0, Block(('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6', 'bpviz.gui'),"
        " 'Qt (or bpviz.gui) is not allowed in bpviz.presentation: '))\n"
        f"for m in {presentation!r}:\n"
        "    __import__(m)\n"
        "from bpviz.core.scenario import load_scenario\n"
        "from bpviz.core.stepper import StepSequence\n"
        "from bpviz.core.trace import trace_scenario\n"
        "from bpviz.presentation.captions import step_caption\n"
        "from bpviz.presentation.chain_rule import node_formula\n"
        "sequence = StepSequence(trace_scenario(load_scenario('lesson:chain56')))\n"
        "step_caption(sequence, 5)\n"
        "node_formula(sequence.trace, sequence.trace.find('x'))\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]\n"
    )
    assert proc.returncode == 0, proc.stderr
