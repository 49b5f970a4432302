"""The trust store: what runs without asking, and revoking it."""

from __future__ import annotations

from bpviz.core.trust import TrustEntry, TrustStore


def test_a_trusted_file_is_trusted_only_as_it_was(tmp_path):
    script = tmp_path / "a.py"
    script.write_text("x = 1\n")
    store = TrustStore()
    assert not store.allows(str(script))
    store.allow_file(str(script))
    assert store.allows(str(script))
    script.write_text("x = 2\n")
    assert not store.allows(str(script))


def test_entries_list_folders_then_files_and_revoke_removes_one(tmp_path):
    inner, script = tmp_path / "lab", tmp_path / "b.py"
    inner.mkdir()
    script.write_text("y = 1\n")
    store = TrustStore()
    store.allow_file(str(script))
    store.allow_folder(str(inner))
    entries = store.entries()
    assert [(e.kind, e.path) for e in entries] == [("folder", str(inner.resolve())), ("file", str(script.resolve()))]
    assert store.allows(str(inner / "deep" / "c.py"))
    store.revoke(entries[0])
    assert not store.allows(str(inner / "deep" / "c.py")) and store.allows(str(script))
    store.revoke(entries[1])
    assert store.entries() == [] and not store.allows(str(script))
    store.revoke(TrustEntry("file", "gone", "gone|0"))  # revoking twice is harmless
