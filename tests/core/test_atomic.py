"""write_bytes: a failed write leaves the old file as it was; links, devices and modes are kept."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from bpviz.core import atomic
from bpviz.core.atomic import write_bytes
from bpviz.core.errors import BpvizError


def no_space(*_args):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.json"
    path.write_bytes(b"old")
    monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(BpvizError, match="No space left on device") as info:
        write_bytes(path, b"new" * 1000)
    assert "unchanged" in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


def test_a_users_own_tmp_file_is_left_alone(tmp_path):
    (tmp_path / "out.json.tmp").write_text("mine")
    write_bytes(tmp_path / "out.json", b"{}")
    assert (tmp_path / "out.json.tmp").read_text() == "mine"
    assert (tmp_path / "out.json").read_bytes() == b"{}"


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "real.svg"
    target.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    write_bytes(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_device_is_written_directly(tmp_path):
    write_bytes("/dev/null", b"nothing")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_the_mode_of_the_old_file_is_kept(tmp_path):
    path = tmp_path / "shared.csv"
    path.write_text("a")
    path.chmod(0o640)
    write_bytes(path, b"b")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.csv"
    write_bytes(fresh, b"c")
    assert stat.S_IMODE(fresh.stat().st_mode) == atomic.NEW_FILE_MODE


def test_a_missing_folder_or_a_folder_as_target_is_one_sentence(tmp_path):
    with pytest.raises(BpvizError, match="does not exist"):
        write_bytes(tmp_path / "nope" / "x.png", b"")
    with pytest.raises(BpvizError, match="is a folder"):
        write_bytes(tmp_path, b"")
