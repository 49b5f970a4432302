"""The desktop app: PySide6 views over bpviz.core (the core never imports this package)."""

from bpviz.gui.qtcompat import pin_singletons

# Before any Qt call: PySide6 6.12 on Python 3.11 leaks references to None (see qtcompat).
pin_singletons()
