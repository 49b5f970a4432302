"""Test setup: Qt runs offscreen (must be set before any QApplication exists)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BPVIZ_NO_SETTINGS", "1")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Single-threaded torch in every test: the tensors are tiny, and on a busy 2-core machine a
    second intra-op thread waits for a core (tests ran several times faster without it)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
