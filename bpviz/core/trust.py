"""Which scenario files the user has agreed to run.

A Python scenario is code that runs with the user's permissions. The app asks before it runs a
file for the first time; the answer is remembered for that exact file (its path and the SHA-256
of its content: an edited file is asked about again) or for a whole folder the user trusts.
Lessons are part of bpviz and need no answer. The store is plain data, so the app can keep it in
its settings and the tests in memory.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field


def file_digest(path: str) -> str:
    """The SHA-256 of a file's bytes ("" when it cannot be read: the load will say why)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return ""


@dataclass
class TrustStore:
    """Files (``path|sha256``) and folders the user trusts."""

    files: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)

    @staticmethod
    def _file_key(path: str) -> str:
        return f"{os.path.realpath(path)}|{file_digest(path)}"

    def allows(self, path: str) -> bool:
        """Whether ``path`` may run without asking: the same file was trusted before, unchanged,
        or it lies in a trusted folder (or below one)."""
        real = os.path.realpath(path)
        for folder in self.folders:
            if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
                return True
        return self._file_key(path) in self.files

    def allow_file(self, path: str) -> None:
        """Trust this file as it is now."""
        self.files.add(self._file_key(path))

    def allow_folder(self, folder: str) -> None:
        """Trust every file in ``folder`` and below it."""
        self.folders.add(os.path.realpath(folder))

    def entries(self) -> list[TrustEntry]:
        """What is trusted, folders first, each list sorted by path."""
        folders = [TrustEntry("folder", folder, folder) for folder in sorted(self.folders)]
        files = [TrustEntry("file", key.rpartition("|")[0], key) for key in sorted(self.files)]
        return folders + files

    def revoke(self, entry: TrustEntry) -> None:
        """Stop trusting ``entry``: its file or folder is asked about again before it runs."""
        (self.folders if entry.kind == "folder" else self.files).discard(entry.key)


@dataclass(frozen=True)
class TrustEntry:
    """One trusted item: ``kind`` is "folder" or "file", ``path`` what the user reads, ``key``
    what the store holds (for a file its path and the digest of the content trusted)."""

    kind: str
    path: str
    key: str
