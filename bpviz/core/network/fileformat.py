"""The ``.bpviz`` file: a network document as readable JSON (no pickle, nothing executed).

See docs/network-format.md for the format. :func:`dumps` is canonical: blocks in natural id
order, wires by destination, properties in catalogue order, so the same document always gives
the same bytes (the undo tests compare them). :func:`save` writes atomically; :func:`loads`
and :func:`load` refuse anything malformed with one sentence saying what is wrong and where.
"""

from __future__ import annotations

import json
import os
from typing import Any

from bpviz.core.atomic import write_text
from bpviz.core.errors import BpvizError
from bpviz.core.network.catalogue import get_kind
from bpviz.core.network.document import (
    ID_PATTERN,
    SETTINGS,
    Block,
    Network,
    Wire,
    check_name,
    check_position,
    validate_setting,
)
from bpviz.core.network.errors import FormatError
from bpviz.core.network.values import validate_values

FORMAT = "bpviz-network"
VERSION = 1
SUFFIX = ".bpviz"
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_BLOCKS = 5000
_TOP_KEYS = ("format", "version", *(p.name for p in SETTINGS), "blocks", "wires")
_BLOCK_KEYS = ("id", "kind", "name", "position", "properties", "values")
_WIRE_KEYS = ("from", "to", "port")


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def to_dict(doc: Network) -> dict[str, Any]:
    """The document as plain JSON data, in canonical order."""
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    data.update((p.name, doc.settings[p.name]) for p in SETTINGS)
    data["blocks"] = [_block_dict(doc.blocks[i]) for i in doc.block_ids()]
    data["wires"] = [{"from": w.src, "to": w.dst, "port": w.port} for w in doc.sorted_wires()]
    return data


def _block_dict(b: Block) -> dict[str, Any]:
    item = {
        "id": b.id,
        "kind": b.kind,
        "name": b.name,
        "position": list(b.position),
        "properties": {k: _plain(v) for k, v in b.props.items()},
    }
    if b.values:  # only blocks whose weights were kept carry them
        item["values"] = {k: _plain(v) for k, v in b.values.items()}
    return item


def dumps(doc: Network) -> str:
    """The document as ``.bpviz`` text: one line per block and per wire, so a diff reads well."""
    data = to_dict(doc)

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    lines = ["{"]
    lines += [f"  {one(key)}: {one(data[key])}," for key in _TOP_KEYS[:-2]]
    for key in ("blocks", "wires"):
        items = data[key]
        if not items:
            lines.append(f"  {one(key)}: []" + ("," if key == "blocks" else ""))
            continue
        lines.append(f"  {one(key)}: [")
        lines += [f"    {one(item)}" + ("," if i < len(items) - 1 else "") for i, item in enumerate(items)]
        lines.append("  ]" + ("," if key == "blocks" else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str, where: str = "the file") -> Network:
    """A document from ``.bpviz`` text; FormatError (one sentence) when anything is wrong."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated")
        ending = " (the file ends too early: is it truncated?)" if cut else ""
        raise FormatError(
            f"{where} is not valid JSON at line {exc.lineno} column {exc.colno}: "
            f"{exc.msg}{ending}; open a file bpviz saved."
        ) from None
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{where} is not a readable bpviz network ({exc}).") from None
    return from_dict(data, where)


def from_dict(data: Any, where: str = "the file") -> Network:
    """A document from parsed JSON data; FormatError naming the first problem and its place."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FormatError(
            f'{where} is not a bpviz network (its top level lacks "format": "{FORMAT}"); open a .bpviz file.'
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FormatError(f'{where}: "version" must be a whole number from 1, got {version!r}.')
    if version > VERSION:
        raise FormatError(
            f"{where} was written by a newer bpviz (format version {version}; this "
            f"one reads up to {VERSION}); update bpviz to open it."
        )
    _known_keys(data, _TOP_KEYS, f"{where} (top level)")
    try:
        doc = Network(**{p.name: validate_setting(p.name, data.get(p.name, p.default)) for p in SETTINGS})
    except BpvizError as exc:
        raise FormatError(f"{where}: {exc}") from None
    blocks, wires = data.get("blocks", []), data.get("wires", [])
    if not isinstance(blocks, list) or not isinstance(wires, list):
        raise FormatError(f'{where}: "blocks" and "wires" must be lists.')
    if len(blocks) > MAX_BLOCKS:
        raise FormatError(f"{where} holds {len(blocks)} blocks, more than bpviz opens ({MAX_BLOCKS}).")
    names: set[str] = set()
    for i, item in enumerate(blocks):
        block = _block(item, f"{where}, block {i + 1}")
        if block.id in doc.blocks:
            raise FormatError(f"{where}, block {i + 1}: the id '{block.id}' is used twice; ids must be unique.")
        if block.name in names:
            raise FormatError(f"{where}, block {i + 1}: the name '{block.name}' is used twice; names must be unique.")
        names.add(block.name)
        doc.blocks[block.id] = block
    for i, item in enumerate(wires):
        wire = _wire(item, doc, f"{where}, wire {i + 1}")
        if wire.key in doc.wires:
            raise FormatError(f"{where}, wire {i + 1}: input {wire.dst}.{wire.port} has two wires; an input takes one.")
        doc.wires[wire.key] = wire
    try:
        doc.topological_order()
    except BpvizError as exc:
        raise FormatError(f"{where}: {exc}") from None
    return doc


def _known_keys(item: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in item:
        if key not in keys:
            raise FormatError(f"{where} has an unknown key {str(key)[:40]!r}; remove it (known: {', '.join(keys)}).")


def _block(item: Any, where: str) -> Block:
    if not isinstance(item, dict):
        raise FormatError(f"{where} must be an object with {', '.join(_BLOCK_KEYS)}.")
    _known_keys(item, _BLOCK_KEYS, where)
    block_id = item.get("id")
    if not isinstance(block_id, str) or not ID_PATTERN.match(block_id):
        raise FormatError(
            f"{where}: the id must be a letter followed by letters, digits or _ "
            f"(at most 32), got {str(block_id)[:40]!r}."
        )
    try:
        spec = get_kind(item.get("kind"))
        name = check_name(item.get("name"))
        position = check_position(item.get("position", (0.0, 0.0)))
        props = item.get("properties", {})
        if not isinstance(props, dict):
            raise FormatError("properties must be an object")
        props = spec.validate(props, name)
        values = validate_values(spec, props, item.get("values", {}), name, strict=False)
        return Block(block_id, spec.name, name, position, props, values)
    except BpvizError as exc:
        raise FormatError(f"{where} ('{block_id}'): {str(exc).rstrip('.')}.") from None


def _wire(item: Any, doc: Network, where: str) -> Wire:
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in _WIRE_KEYS):
        raise FormatError(f'{where} must be an object with string "from", "to" and "port".')
    _known_keys(item, _WIRE_KEYS, where)
    src, dst, port = item["from"], item["to"], item["port"]
    for end in (src, dst):
        if end not in doc.blocks:
            raise FormatError(f"{where} names a block {end[:40]!r} the file does not have.")
    if port not in doc.blocks[dst].spec.inputs:
        raise FormatError(
            f"{where}: {doc.blocks[dst].name} has no input {port[:40]!r} "
            f"(its inputs: {', '.join(doc.blocks[dst].spec.inputs) or 'none'})."
        )
    if src == dst:
        raise FormatError(f"{where} runs from {doc.blocks[src].name} into itself; remove it.")
    return Wire(dst, port, src)


def load(path: str | os.PathLike[str]) -> Network:
    """Read a ``.bpviz`` file; FormatError (or BpvizError for an unreadable file) naming it."""
    path = os.fspath(path)
    short = os.path.basename(path) or path
    try:
        if os.path.isdir(path):
            raise BpvizError(f"'{path}' is a folder; give the path of a .bpviz file.")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise FormatError(
                f"{short} is {size // 2**20} MB, larger than a network file can be "
                f"({MAX_FILE_BYTES // 2**20} MB); is it a .bpviz file?"
            )
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise BpvizError(f"No network file at '{path}'; check the path.") from None
    except OSError as exc:
        raise BpvizError(f"Cannot read '{path}' ({exc.strerror}); check that it is readable.") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is no JSON error
    except UnicodeDecodeError as exc:
        raise FormatError(f"{short} is not UTF-8 text (byte {exc.start}); a .bpviz file is JSON text.") from None
    return loads(text, short)


def save(doc: Network, path: str | os.PathLike[str]) -> None:
    """Write the document atomically (:mod:`bpviz.core.atomic`): a failed write (full disk,
    killed process) leaves the old file as it was."""
    write_text(path, dumps(doc))
