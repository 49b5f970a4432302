"""Typed block properties: a default, validation, and one sentence when a value is refused.

Values are stored normalised and immutable (tuples, never lists), so a document can hand them
out without copying and an undo can restore the very object it replaced: the JSON writer turns
tuples into lists, and reading a file normalises them back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bpviz.core.network.errors import PropertyError

# A tensor typed into a property (or read from a file) may hold at most this many numbers:
# bigger data belongs in a dataset, and a hostile file must not make bpviz allocate gigabytes.
MAX_TENSOR_ELEMENTS = 100_000
MAX_DIMS = 6
FLOAT32_MAX = 3.4028234663852886e38

INT = "int"
FLOAT = "float"
BOOL = "bool"
CHOICE = "choice"
INTS = "ints"  # a tuple of ints (a shape, a kernel size)
OPTIONAL_INT = "optional int"  # an int or None (a reduction dim; None reduces everything)
TENSOR = "tensor"  # a number or a rectangular nested tuple of numbers

# A TENSOR property's normalised value: a float, or tuples of floats nested as deep as its shape.
TensorValue = float | tuple["TensorValue", ...]


@dataclass(frozen=True)
class Prop:
    """One property of a block kind: its type, default, limits and a short help text."""

    name: str
    type: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int = 0
    max_len: int = MAX_DIMS

    def validate(self, value: Any, where: str) -> Any:
        """``value`` normalised (ints as int, tuples for sequences), or PropertyError naming
        ``where`` (the block), the property and the accepted values."""
        check = _CHECKS[self.type]
        return check(self, value, f"{where}: {self.name}")


def _int(prop: Prop, value: Any, where: str) -> int:
    number = _as_int(value)
    if number is None:
        raise PropertyError(f"{where} must be a whole number, got {_show(value)}; {_int_range(prop)}.")
    if (prop.minimum is not None and number < prop.minimum) or (prop.maximum is not None and number > prop.maximum):
        raise PropertyError(f"{where} is {_show(number)}, out of range; {_int_range(prop)}.")
    return number


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _int_range(prop: Prop) -> str:
    return _range(prop, "whole number")


def _float(prop: Prop, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PropertyError(f"{where} must be a finite number, got {_show(value)}; {_float_range(prop)}.")
    number = float(value)
    if (prop.minimum is not None and number < prop.minimum) or (prop.maximum is not None and number > prop.maximum):
        raise PropertyError(f"{where} is {number:g}, out of range; {_float_range(prop)}.")
    return number


def _float_range(prop: Prop) -> str:
    return _range(prop, "number")


def _range(prop: Prop, noun: str) -> str:
    """What to enter: ``noun`` within the property's limits."""
    if prop.minimum is not None and prop.maximum is not None:
        return f"enter a {noun} from {prop.minimum:g} to {prop.maximum:g}"
    if prop.minimum is not None:
        return f"enter a {noun} of at least {prop.minimum:g}"
    return f"enter a {noun}"


def _bool(prop: Prop, value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PropertyError(f"{where} must be true or false, got {_show(value)}.")
    return value


def _choice(prop: Prop, value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in prop.choices:
        raise PropertyError(f"{where} cannot be {_show(value)}; choose one of {', '.join(prop.choices)}.")
    return value


def _ints(prop: Prop, value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and prop.min_len <= 1:
        value = (value,)
    if not isinstance(value, (list, tuple)):
        raise PropertyError(
            f"{where} must be a list of whole numbers, got {_show(value)}; enter e.g. {list(prop.default) or [2, 3]}."
        )
    if not prop.min_len <= len(value) <= prop.max_len:
        raise PropertyError(f"{where} has {len(value)} numbers; give {prop.min_len} to {prop.max_len}.")
    out = []
    for item in value:
        number = _as_int(item)
        if (
            number is None
            or (prop.minimum is not None and number < prop.minimum)
            or (prop.maximum is not None and number > prop.maximum)
        ):
            raise PropertyError(f"{where} cannot hold {_show(item)}; {_int_range(prop)} in each place.")
        out.append(number)
    return tuple(out)


def _optional_int(prop: Prop, value: Any, where: str) -> int | None:
    if value is None:
        return None
    return _int(prop, value, where)


def _tensor(prop: Prop, value: Any, where: str) -> TensorValue:
    """A number or a rectangular nested sequence of finite numbers, as floats in tuples."""
    if not isinstance(value, (int, float, list, tuple)) or isinstance(value, bool):
        raise PropertyError(f"{where} must be a number or a nested list of numbers, got {_show(value)}.")
    # Iterative, level by level: a hostile file may nest thousands deep.
    level: list[Any] = [value]
    shape: list[int] = []
    while level and isinstance(level[0], (list, tuple)):
        width = len(level[0])
        if len(shape) >= MAX_DIMS:
            raise PropertyError(f"{where} is nested more than {MAX_DIMS} deep; give at most {MAX_DIMS} dimensions.")
        nxt: list[Any] = []
        for item in level:
            if not isinstance(item, (list, tuple)) or len(item) != width:
                raise PropertyError(
                    f"{where} is not rectangular (rows of different lengths); "
                    "give every row the same number of entries."
                )
            nxt.extend(item)
        shape.append(width)
        level = nxt
        if len(level) > MAX_TENSOR_ELEMENTS:
            break
    count = len(level)
    if count == 0:
        raise PropertyError(f"{where} holds no numbers; give at least one.")
    if count > MAX_TENSOR_ELEMENTS:
        raise PropertyError(
            f"{where} holds more than {MAX_TENSOR_ELEMENTS} numbers; bind a dataset for data that large."
        )
    for item in level:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise PropertyError(f"{where} holds {_show(item)}, which is not a finite number; give finite numbers only.")
        if abs(item) > FLOAT32_MAX:
            raise PropertyError(
                f"{where} holds {_show(item)}, beyond what a float32 tensor holds "
                f"(±{FLOAT32_MAX:.4g}); give smaller numbers."
            )
    return _rebuild([float(x) for x in level], shape)


def _rebuild(flat: list[float], shape: list[int]) -> TensorValue:
    if not shape:
        return flat[0]
    rows: Any = flat
    for width in reversed(shape[1:]):
        rows = [tuple(rows[i : i + width]) for i in range(0, len(rows), width)]
    return tuple(rows)


def tensor_shape(value: TensorValue) -> tuple[int, ...]:
    """The shape of a normalised tensor property (``()`` for a single number)."""
    shape = []
    while isinstance(value, tuple):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_CHECKS = {
    INT: _int,
    FLOAT: _float,
    BOOL: _bool,
    CHOICE: _choice,
    INTS: _ints,
    OPTIONAL_INT: _optional_int,
    TENSOR: _tensor,
}
