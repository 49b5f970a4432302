"""Test setup: Qt runs offscreen (must be set before any QApplication exists)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BPVIZ_NO_SETTINGS", "1")
