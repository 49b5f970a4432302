"""What the user sees, without Qt: number and tensor formatting, chain-rule text, step captions,
the mapping of a step's state onto a collapsed view, the visibility policy, and the training
snapshots and plot buffers.

Depends on :mod:`bpviz.core` and never on Qt (a test proves it); :mod:`bpviz.gui` and the
headless commands draw what this package decides, and core never imports it.
"""
