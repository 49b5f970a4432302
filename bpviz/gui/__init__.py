"""The desktop app: PySide6 views over bpviz.core (the core never imports this package)."""
