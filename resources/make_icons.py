"""Render every bpviz icon file from the one SVG source, resources/bpviz.svg.

    python resources/make_icons.py            # rewrite the icons in the repo
    python resources/make_icons.py --out DIR  # write them under DIR instead (the tests compare)

Writes:
  bpviz/resources/bpviz-{16,24,32,48,64,128,256,512}.png   the app's window icon at run time
      (inside the package, so the wheel and the PyInstaller bundle carry them) and the hicolor
      icons packaging/linux installs;
  resources/bpviz.ico    Windows: the PyInstaller .exe icon (16-256 px, PNG-compressed entries);
  resources/bpviz.icns   macOS: the PyInstaller .app icon (16-1024 px, PNG chunks).

Qt's own SVG renderer draws the PNGs (PySide6 is already a dependency, so no Inkscape, no
ImageMagick); the .ico and .icns containers are written here byte by byte, because both are
simple lists of PNGs and Qt's writers for them cannot hold several sizes in one file.
Rerunning it on the same Qt gives the same files.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "bpviz.svg"
# The hicolor theme's usual sizes; 512 is the largest AppStream and GNOME Software show.
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# ICO entries store width/height in one byte each (0 means 256), so 256 is the ceiling.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# (chunk type, pixel size) as Apple's iconutil writes them: the @2x chunks reuse the larger PNG.
ICNS_CHUNKS = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"icp6", 64),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def png_name(size: int) -> str:
    """The file name of the PNG icon of ``size`` pixels."""
    return f"bpviz-{size}.png"


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent ``size`` x ``size`` canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot read {svg} as SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding one PNG-compressed entry per size in ICO_SIZES (Vista and later
    read PNG entries at every size)."""
    header = struct.pack("<HHH", 0, 1, len(ICO_SIZES))  # reserved, type 1 = icon, count
    offset = 6 + 16 * len(ICO_SIZES)
    entries, blobs = [], []
    for size in ICO_SIZES:
        blob = pngs[size]
        side = 0 if size == 256 else size
        # width, height, palette colours, reserved, colour planes, bits per pixel, size, offset
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset))
        blobs.append(blob)
        offset += len(blob)
    return header + b"".join(entries) + b"".join(blobs)


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns: the 'icns' magic, the total length, then one (type, length, PNG) chunk
    per entry of ICNS_CHUNKS; lengths are big-endian and include their 8-byte headers."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_CHUNKS)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_icons(svg: Path, package_dir: Path, resources_dir: Path) -> list[Path]:
    """Render the PNGs into ``package_dir`` and the .ico/.icns into ``resources_dir``; returns
    the files written."""
    from PySide6.QtGui import QGuiApplication

    # QPainter on a QImage needs a QGuiApplication for its font and colour machinery.
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | {s for _, s in ICNS_CHUNKS})
    pngs = {size: render_png(svg, size) for size in sizes}
    package_dir.mkdir(parents=True, exist_ok=True)
    resources_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in PNG_SIZES:
        written.append(package_dir / png_name(size))
        written[-1].write_bytes(pngs[size])
    written.append(resources_dir / "bpviz.ico")
    written[-1].write_bytes(ico_bytes(pngs))
    written.append(resources_dir / "bpviz.icns")
    written[-1].write_bytes(icns_bytes(pngs))
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the icons into the repo, or under --out for a comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--svg", type=Path, default=SVG, help="the source SVG")
    parser.add_argument("--out", type=Path, help="write DIR/bpviz/resources/*.png and DIR/resources/*.ico|icns instead")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed to render
    base = args.out or ROOT
    for path in write_icons(args.svg, base / "bpviz" / "resources", base / "resources"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
