"""A built network as a source of the app: a ``.bpviz`` file on disk, or a document in memory
(the builder's open document, which the app re-traces after each edit)."""

from __future__ import annotations

import os

from bpviz.core.network import fileformat
from bpviz.core.network.build import build_scenario
from bpviz.core.network.document import Network
from bpviz.core.scenario import Scenario
from bpviz.core.sources import Source


class NetworkSource(Source):
    """A network: ``path`` of a ``.bpviz`` file, or ``document`` (exactly one of them).

    ``load()`` reads the file each time (so a re-trace sees the saved state) or builds the
    document as it is now; nothing is executed from the file.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, document: Network | None = None):
        if (path is None) == (document is None):
            raise ValueError("NetworkSource takes a path or a document, not both or neither")
        self.path = os.fspath(path) if path is not None else None
        self.document = document

    @property
    def label(self) -> str:  # noqa: D102 - see Source
        if self.path is not None:
            return self.path
        assert self.document is not None  # __init__ takes exactly one of them
        return self.document.title or "network"

    @property
    def recent_path(self) -> str | None:  # noqa: D102 - see Source
        return self.path

    @property
    def folder(self) -> str:  # noqa: D102 - see Source
        return os.path.dirname(os.path.abspath(self.path)) if self.path else ""

    @property
    def stem(self) -> str:  # noqa: D102 - see Source
        if self.path:
            return os.path.splitext(os.path.basename(self.path))[0] or "network"
        return "network"

    def open_document(self) -> Network:
        """The document: read from the file (a new one each call), or the one held."""
        if self.document is not None:
            return self.document
        assert self.path is not None  # __init__ takes exactly one of them
        return fileformat.load(self.path)

    def load(self) -> Scenario:  # noqa: D102 - see Source
        return build_scenario(self.open_document(), self.label)


def load_network_scenario(path: str | os.PathLike[str]) -> Scenario:
    """The scenario of a ``.bpviz`` file (what ``load_scenario`` does for that suffix)."""
    return NetworkSource(path).load()
