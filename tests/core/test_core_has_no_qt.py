"""bpviz/core never imports Qt: checked by importing every core module in a fresh interpreter
where Qt and pyqtgraph are made unimportable."""

import pkgutil
import subprocess
import sys

import bpviz.core


def test_core_imports_without_qt():
    modules = [f"bpviz.core.{m.name}" for m in pkgutil.iter_modules(bpviz.core.__path__)]
    assert len(modules) >= 8
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'):\n"
        "            raise ImportError('Qt is not allowed in bpviz.core: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "from bpviz.core.scenario import load_scenario\n"
        "from bpviz.core.trace import trace_scenario\n"
        "trace_scenario(load_scenario('lesson:chain56'))\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
