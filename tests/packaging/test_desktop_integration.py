"""packaging/linux: the desktop file, the AppStream metainfo, the .bpviz mime type and the XDG
install. The validators come from Debian's desktop-file-utils and appstream packages (.ci/run
installs them); without them those two tests are skipped, the others need only `make`."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.bpviz.bpviz"
MIME = "application/x-bpviz-network"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME_XML = LINUX / f"{APP_ID}.xml"


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install desktop-file-utils appstream)")
    return path


def test_desktop_file_passes_desktop_file_validate(tmp_path):
    validate = tool("desktop-file-validate")
    result = subprocess.run([validate, str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    # The validator does catch mistakes: the same file with an unknown category fails.
    broken = tmp_path / DESKTOP.name
    broken.write_text(DESKTOP.read_text().replace("Categories=", "Categories=NoSuchCategory;"))
    assert subprocess.run([validate, str(broken)], capture_output=True).returncode != 0


def test_metainfo_passes_appstreamcli_validate(tmp_path):
    appstreamcli = tool("appstreamcli")
    result = subprocess.run([appstreamcli, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / METAINFO.name
    # ... and catches mistakes: without the licence of the metadata itself, it fails.
    broken.write_text(METAINFO.read_text().replace("<metadata_license>CC0-1.0</metadata_license>", ""))
    assert subprocess.run([appstreamcli, "validate", "--no-net", str(broken)], capture_output=True).returncode != 0


def test_the_files_agree_on_the_app_id_icon_and_mime_type():
    entry = desktop_entry(DESKTOP)
    assert entry["Icon"] == APP_ID
    assert entry["MimeType"] == f"{MIME};"
    assert entry["Exec"] == "bpviz %f"  # `make install` rewrites "bpviz " into an absolute path
    meta = ET.parse(METAINFO).getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.findtext("launchable") == DESKTOP.name
    assert meta.findtext("provides/mediatype") == MIME
    assert meta.findtext("icon") == APP_ID
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    mime = ET.parse(MIME_XML).getroot().find("m:mime-type", ns)
    assert mime.get("type") == MIME
    assert mime.find("m:glob", ns).get("pattern") == "*.bpviz"
    assert mime.find("m:icon", ns).get("name") == APP_ID
    spec = (ROOT / "packaging" / "pyinstaller" / "bpviz.spec").read_text()
    assert f'APP_ID = "{APP_ID}"' in spec
    assert re.search(rf"^APP_ID := {re.escape(APP_ID)}$", (LINUX / "Makefile").read_text(), re.M)


def make_linux(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(LINUX), *args], capture_output=True, text=True, env=env
    )


def installed_files(prefix: Path) -> set[str]:
    return {str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file()}


def test_install_puts_every_file_in_its_xdg_place_and_uninstall_removes_them(tmp_path):
    prefix = tmp_path / "prefix"
    result = make_linux("install", f"PREFIX={prefix}", "EXEC=/opt/my apps/bpviz/bpviz")
    assert result.returncode == 0, result.stdout + result.stderr
    files = installed_files(prefix)
    expected = {
        f"share/applications/{APP_ID}.desktop",
        f"share/metainfo/{APP_ID}.metainfo.xml",
        f"share/mime/packages/{APP_ID}.xml",
        f"share/icons/hicolor/scalable/apps/{APP_ID}.svg",
        *(f"share/icons/hicolor/{s}x{s}/apps/{APP_ID}.png" for s in (16, 24, 32, 48, 64, 128, 256, 512)),
    }
    assert expected <= files
    entry = desktop_entry(prefix / "share" / "applications" / DESKTOP.name)
    assert entry["Exec"] == '"/opt/my apps/bpviz/bpviz" %f'  # quoted: the path has a space
    if shutil.which("desktop-file-validate"):
        installed = prefix / "share" / "applications" / DESKTOP.name
        assert subprocess.run(["desktop-file-validate", str(installed)]).returncode == 0

    result = make_linux("uninstall", f"PREFIX={prefix}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not expected & installed_files(prefix)


def test_install_without_a_bpviz_program_says_what_to_do(tmp_path):
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # no bpviz there
    result = make_linux("install", f"PREFIX={tmp_path}", env=env)
    assert result.returncode != 0
    assert "pass EXEC=/path/to/bpviz" in result.stderr
    assert not installed_files(tmp_path)


MIME_PROBE = """
import sys
from PySide6.QtCore import QMimeDatabase
db = QMimeDatabase()
for path in sys.argv[1:]:
    print(db.mimeTypeForFile(path).name())
"""


def test_installed_mime_type_recognises_bpviz_documents(tmp_path):
    # Qt reads the same shared-mime-info database as file managers, from XDG_DATA_DIRS.
    prefix = tmp_path / "prefix"
    assert make_linux("install", f"PREFIX={prefix}", "EXEC=/usr/bin/bpviz").returncode == 0
    docs = tmp_path / "docs"
    docs.mkdir()
    network = '{"format": "bpviz-network", "version": 1, "blocks": [], "wires": []}\n'
    (docs / "xor.bpviz").write_text(network)
    (docs / "no-extension").write_text(network)  # found by its first bytes
    (docs / "plain").write_text('{"format": "something-else"}\n')
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "home"),
        "XDG_DATA_DIRS": f"{prefix / 'share'}:/usr/share",
        "QT_QPA_PLATFORM": "offscreen",
    }
    names = [str(docs / n) for n in ("xor.bpviz", "no-extension", "plain")]
    result = subprocess.run([sys.executable, "-c", MIME_PROBE, *names], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [MIME, MIME, "text/plain"]
