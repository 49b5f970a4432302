"""Training data shaped for display, without Qt: snapshots packed on the worker thread and the
bounded buffers the live plots read."""
