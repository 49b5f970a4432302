"""Work around a reference-counting bug of PySide6 6.12's abi3 wheels on Python 3.11.

Measured on these machines: every call of a PySide6 method that returns nothing (``setPen``,
``setPos``, ``fill``...) drops one reference to ``None`` without taking it, and the interpreter
aborts with "none_dealloc: deallocating None" once the count reaches zero, which a few thousand
paint calls do. ``True``/``False`` suffer the same at exit. Python 3.12 made these singletons
immortal (PEP 683), so the bug is invisible there.

:func:`pin_singletons` gives the singletons a reference count so large that no session can drain
it; on Python 3.12+ it does nothing. It is called when ``bpviz.gui`` is imported.
"""

from __future__ import annotations

import ctypes
import sys

# 2**40 lost references would take a frame-painting loop many thousand years.
_PIN = 1 << 40
_pinned = False


def pin_singletons() -> bool:
    """Make None, True and False effectively immortal on Python < 3.12; True if it did."""
    global _pinned
    if _pinned or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object (a Py_ssize_t).
        ctypes.c_ssize_t.from_address(id(obj)).value += _PIN
    _pinned = True
    return True
