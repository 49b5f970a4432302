"""bpviz.core.network never imports Qt: every module of the package is imported (and a network
built and traced) in a fresh interpreter where Qt is made unimportable. The core-wide test only
imports the package's __init__, which imports none of them."""

import pkgutil
import subprocess
import sys

import bpviz.core.network


def test_network_package_imports_without_qt():
    modules = [m.name for m in pkgutil.walk_packages(bpviz.core.network.__path__, "bpviz.core.network.")]
    assert len(modules) >= 14
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'):\n"
        "            raise ImportError('Qt is not allowed in bpviz.core: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "from bpviz.core.network.templates import make_template\n"
        "from bpviz.core.network.build import build\n"
        "from bpviz.core.trace import trace_scenario\n"
        "assert trace_scenario(build(make_template('xor')).scenario).loss > 0\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
