"""Reading a numeric CSV file with messages a user can act on.

Rows are counted from the first data row (row 1 is the line after the header), and the file line
is given too, so the user can find the cell in any editor.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable

from bpviz.core.errors import BpvizError

_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
# The largest float32: the data become a float32 tensor, where a larger number is Inf.
FLOAT32_MAX = 3.4028234663852886e38

Chooser = Callable[[list[str]], tuple[list[str], str]]


def read_numeric_csv(path: str, choose: Chooser) -> tuple[list[str], str, list[list[float]]]:
    """Parse ``path``; ``choose(header)`` picks ``(features, target)`` from the column names.

    Returns the feature names, the target name and one list of floats per data row (features
    first, target last). Raises BpvizError for a missing or unreadable file, a missing column, an
    empty, ragged or non-numeric cell, a non-finite number, or a file with no data rows.
    """
    short = os.path.basename(path)
    if not os.path.exists(path):
        raise BpvizError(f"No CSV file at '{path}'; check the path or choose a built-in dataset.")
    if os.path.isdir(path):
        raise BpvizError(f"'{path}' is a folder; give the path of a .csv file.")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except UnicodeDecodeError as exc:
        raise BpvizError(
            f"{short} is not a UTF-8 text file ({exc.reason} at byte {exc.start}); save it as a UTF-8 CSV file."
        ) from exc
    except (OSError, csv.Error) as exc:
        raise BpvizError(f"Cannot read {short} ({exc}); check that it is a readable CSV file.") from exc
    numbered = [(i + 1, row) for i, row in enumerate(lines) if any(cell.strip() for cell in row)]
    if not numbered:
        raise BpvizError(f"{short} is empty; it needs a header row of column names and at least one row of numbers.")
    header_line, header_row = numbered[0]
    header = [name.strip() for name in header_row]
    # Column positions by name, in one pass: a header of 100,000 columns was checked with
    # list.index per column, which took minutes.
    position: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            raise BpvizError(
                f"{short}: column {i + 1} of the header (line {header_line}) has no name; give every column a name."
            )
        if position.setdefault(name, i) != i:
            raise BpvizError(f"{short}: the header names column '{name}' twice; rename one of them.")
    features, target = choose(header)
    for name in [*features, target]:
        if name not in position:
            raise BpvizError(
                f"{short} has no column '{name}' (its columns are {_some(header)}); "
                "choose one of these or fix the header."
            )
    data = numbered[1:]
    if not data:
        raise BpvizError(f"{short} has a header but no data rows; add at least one row of numbers below it.")
    wanted = [(name, position[name]) for name in [*features, target]]
    rows: list[list[float]] = []
    for row_no, (line_no, row) in enumerate(data, start=1):
        if len(row) != len(header):
            raise BpvizError(
                f"{short} row {row_no} (line {line_no}) has {len(row)} cells but the header has "
                f"{len(header)} columns; give every row one value per column."
            )
        rows.append([_number(short, row[j], name, row_no, line_no) for name, j in wanted])
    return features, target, rows


def read_csv_header(path: str) -> list[str]:
    """The column names of a CSV file's first non-empty row, split as :func:`read_numeric_csv`
    splits them (OSError, csv.Error or UnicodeDecodeError for an unreadable file)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                row = next(csv.reader([line], delimiter=_delimiter(line)), [])
                return [cell.strip() for cell in row]
    return []


def _delimiter(text: str) -> str:
    """The character that separates the cells: a comma, unless the header line has none and a
    semicolon, tab or bar instead (spreadsheets in many locales save CSV with semicolons)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," in header:
        return ","
    counts = {sep: header.count(sep) for sep in (";", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _some(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` names, comma-separated, and how many more there are."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown:,} more"


def _number(short: str, cell: str, column: str, row_no: int, line_no: int) -> float:
    text = cell.strip()
    where = f"{short} row {row_no} (line {line_no}), column '{column}'"
    if not text:
        raise BpvizError(f"{where} is empty; fill in a number or delete the row.")
    try:
        value = float(text)
    except ValueError:
        if _DECIMAL_COMMA.fullmatch(text):
            raise BpvizError(
                f"{where} holds '{text}', a number with a decimal comma; save the file with a dot as "
                "the decimal separator (1.5, not 1,5)."
            ) from None
        raise BpvizError(
            f"{where} holds '{text}', which is not a number; put a number there or leave the column "
            "out of the features."
        ) from None
    if not math.isfinite(value):
        raise BpvizError(f"{where} holds '{text}', which is not a finite number; replace it with a number.")
    if abs(value) > FLOAT32_MAX:
        raise BpvizError(
            f"{where} holds '{text}', which is too large for float32, the type bpviz trains in (at most "
            f"about {FLOAT32_MAX:.3g} in size); scale the column down, e.g. to other units."
        )
    return value
