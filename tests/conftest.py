"""Test setup: Qt runs offscreen (must be set before any QApplication exists)."""

import os
import threading
import time

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


# A test stuck this long ends the run: pytest's faulthandler_timeout (pyproject) has printed every
# thread's stack by then, and a hang costs minutes instead of CI's whole time limit.
HUNG_TEST_EXIT_S = 360
_deadline = [float("inf")]
_real_stderr = [2]


def pytest_configure(config):
    """Keep the terminal's stderr (pytest captures fd 2 during tests) for the watchdog's line."""
    _real_stderr[0] = os.dup(2)


def _watchdog() -> None:
    while True:
        time.sleep(5)
        if time.monotonic() > _deadline[0]:
            os.write(_real_stderr[0], f"\nA test ran for more than {HUNG_TEST_EXIT_S} s: ending the run.\n".encode())
            os._exit(3)


@pytest.fixture(scope="session", autouse=True)
def hung_test_watchdog():
    """Start the watchdog thread once (a daemon: it never keeps the interpreter alive)."""
    threading.Thread(target=_watchdog, name="hung-test-watchdog", daemon=True).start()


@pytest.fixture(autouse=True)
def hung_test_deadline(hung_test_watchdog):
    """Each test gets HUNG_TEST_EXIT_S seconds before the watchdog ends the run."""
    _deadline[0] = time.monotonic() + HUNG_TEST_EXIT_S
    yield
    _deadline[0] = float("inf")
