"""Test setup: Qt runs offscreen (must be set before any QApplication exists)."""

import faulthandler
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BPVIZ_NO_SETTINGS", "1")


import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Single-threaded torch in every test: the tensors are tiny, and on a busy 2-core machine a
    second intra-op thread waits for a core (tests ran several times faster without it)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# A test stuck this long prints every thread's stack and ends the run, so a hang costs minutes
# and explains itself instead of using up CI's time limit. faulthandler's timer is a C thread:
# it fires even when a deadlock holds the interpreter lock, which a Python thread could not.
HUNG_TEST_EXIT_S = 300
_terminal: list = []


def pytest_configure(config):
    """Keep the terminal's stderr: pytest captures fd 2 while a test runs."""
    _terminal.append(os.fdopen(os.dup(2), "w"))


def pytest_unconfigure(config):
    """Close the copy of stderr (the timer is disarmed by then)."""
    faulthandler.cancel_dump_traceback_later()
    while _terminal:
        _terminal.pop().close()


@pytest.fixture(autouse=True)
def hung_test_ends_the_run():
    """Arm the timer for this test; disarm it when the test is done."""
    faulthandler.dump_traceback_later(HUNG_TEST_EXIT_S, exit=True, file=_terminal[0])
    yield
    faulthandler.cancel_dump_traceback_later()
