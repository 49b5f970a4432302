"""The icon files: rendered from resources/bpviz.svg, complete, readable, and what the app loads."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ICONS = ROOT / "bpviz" / "resources"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (the first chunk, right after the signature)."""
    assert data.startswith(PNG_MAGIC), "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def ico_entries(data: bytes) -> list[tuple[int, bytes]]:
    """(declared size, image bytes) of each entry of a .ico file."""
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1), "not an icon file"
    entries = []
    for i in range(count):
        width, height, _, _, _, _, size, offset = struct.unpack("<BBBBHHII", data[6 + 16 * i : 22 + 16 * i])
        assert width == height
        entries.append((width or 256, data[offset : offset + size]))
    return entries


def icns_chunks(data: bytes) -> dict[bytes, bytes]:
    """Chunk type -> payload of a .icns file; checks the lengths add up."""
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    chunks, pos = {}, 8
    while pos < len(data):
        kind, length = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        assert length > 8 and pos + length <= len(data), f"bad length of chunk {kind!r}"
        chunks[kind] = data[pos + 8 : pos + length]
        pos += length
    return chunks


def test_every_png_size_is_in_the_package():
    for size in PNG_SIZES:
        assert png_size((PACKAGE_ICONS / f"bpviz-{size}.png").read_bytes()) == (size, size)


def test_ico_holds_each_size_up_to_256_as_png():
    entries = ico_entries((ROOT / "resources" / "bpviz.ico").read_bytes())
    assert [size for size, _ in entries] == [16, 24, 32, 48, 64, 128, 256]
    for size, blob in entries:
        assert png_size(blob) == (size, size)


def test_icns_holds_the_retina_sizes_as_png():
    chunks = icns_chunks((ROOT / "resources" / "bpviz.icns").read_bytes())
    expected = {
        b"icp4": 16,
        b"icp5": 32,
        b"ic11": 32,
        b"icp6": 64,
        b"ic12": 64,
        b"ic07": 128,
        b"ic13": 256,
        b"ic08": 256,
        b"ic14": 512,
        b"ic09": 512,
        b"ic10": 1024,
    }
    assert {kind: png_size(blob)[0] for kind, blob in chunks.items()} == expected


def test_qt_reads_the_ico_and_icns_files():
    # Qt's own readers (the plugins a Windows or macOS build uses) accept what the script wrote.
    from PySide6.QtGui import QImageReader

    expected = {
        "bpviz.ico": [16, 24, 32, 48, 64, 128, 256],
        "bpviz.icns": [16, 32, 32, 64, 64, 128, 256, 256, 512, 512, 1024],
    }
    for name, sizes in expected.items():
        reader = QImageReader(str(ROOT / "resources" / name))
        assert reader.canRead(), reader.errorString()
        read = []
        for i in range(reader.imageCount()):
            reader.jumpToImage(i)
            image = reader.read()
            assert not image.isNull(), f"{name} image {i}: {reader.errorString()}"
            read.append(image.width())
        assert read == sizes, name


@pytest.mark.slow
def test_committed_icons_are_the_svg_rendered(tmp_path):
    # Editing the SVG without rerunning the script (or the reverse) fails here. Compared by
    # pixels, not bytes: another zlib may compress the same image differently.
    from PySide6.QtGui import QImage

    subprocess.run(
        [sys.executable, str(ROOT / "resources" / "make_icons.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for size in PNG_SIZES:
        name = f"bpviz-{size}.png"
        fresh = QImage(str(tmp_path / "bpviz" / "resources" / name))
        committed = QImage(str(PACKAGE_ICONS / name))
        assert fresh == committed, f"{name} differs from the SVG: run python resources/make_icons.py"
    for name in ("bpviz.ico", "bpviz.icns"):
        fresh, committed = (tmp_path / "resources" / name).read_bytes(), (ROOT / "resources" / name).read_bytes()
        assert [png_size(b) for b in _pngs(fresh, name)] == [png_size(b) for b in _pngs(committed, name)]


def _pngs(data: bytes, name: str) -> list[bytes]:
    return [blob for _, blob in ico_entries(data)] if name.endswith(".ico") else list(icns_chunks(data).values())


def test_app_icon_loads_every_size_from_the_files(qapp):
    from bpviz.gui.window_support import app_icon

    icon = app_icon()
    assert sorted(s.width() for s in icon.availableSizes()) == list(PNG_SIZES)
    pixmap = icon.pixmap(64, 64)
    assert not pixmap.isNull()
    # The node in the middle of the glyph is teal (#3cc4b4), not the transparent or dark
    # background an empty or wrong file would give.
    colour = pixmap.toImage().pixelColor(32, 32)
    assert (colour.red(), colour.green(), colour.blue()) == (0x3C, 0xC4, 0xB4)
