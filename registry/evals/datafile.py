"""Cases from data: the ``cases_file`` of a suite, JSON Lines or CSV, parsed and checked.

A ``.jsonl`` file holds one case per line, an object ``{name?, vars, assert?}`` (blank lines
are skipped). A ``.csv`` file has a header row; each column is a variable, except an optional
``name`` column; its cases take their assertions from the suite's ``default_assert``. A case
without a name is named ``<file name>:<line>``. Every problem names the file and the line.
Reading is the caller's (a working tree, the index or a commit); this module parses bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Data files may be bigger than the YAML files (256 KiB), but not without bound.
MAX_DATA_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Row:
    """One case of a data file, schema-checked: its line, name, vars and own assertions."""

    line: int
    name: str
    vars: dict[str, Any]
    assertions: list[dict[str, Any]]


def parse_rows(data: bytes, display: str) -> tuple[list[Row], list[tuple[int, str]]]:
    """The rows of a cases file and its problems as (line, message); rows only when none."""
    if len(data) > MAX_DATA_BYTES:
        return [], [(1, f"the file is {len(data)} bytes, over the limit of {MAX_DATA_BYTES}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [(line, "is not UTF-8 text; save the file as UTF-8")]
    raw = _csv_rows(text) if display.endswith(".csv") else _jsonl_rows(text)
    rows: list[Row] = []
    problems: list[tuple[int, str]] = []
    base = display.rsplit("/", 1)[-1]
    for line, item, why in raw:
        if why is not None:
            problems.append((line, why))
            continue
        found = row_problems(item)
        problems += [(line, m) for m in found]
        if not found:
            name = item.get("name", f"{base}:{line}")
            rows.append(Row(line, name, dict(item.get("vars") or {}), list(item.get("assert", []))))
    return ([] if problems else rows), problems


def row_problems(item: Any) -> list[str]:
    """What is wrong with one row (as a case of the suite schema whose name is optional)."""
    from registry.evals.suite import assertion_problems
    from registry.schema.validate import case_row_errors, format_path

    errors = case_row_errors(item)
    if errors:
        return [m for _, m in errors]
    out = []
    for j, a in enumerate(item.get("assert", [])):
        where = format_path(("assert", j, "value"))
        out += [f"{where}: {why}" for why in assertion_problems(a)]
    return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _jsonl_rows(text: str) -> Iterator[tuple[int, Any, str | None]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except RecursionError:
            yield n, None, "the line nests too deeply to read"
            continue
        except ValueError as exc:
            yield n, None, f"the line is not JSON: {exc}"
            continue
        if not isinstance(item, dict):
            yield n, None, "the line is not a JSON object {name?, vars, assert?}"
            continue
        yield n, item, None


def _csv_rows(text: str) -> Iterator[tuple[int, Any, str | None]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = fields
                dupes = sorted({f for f in fields if fields.count(f) > 1})
                if dupes:
                    yield line, None, f"the header repeats the column {', '.join(dupes)}"
                    return
                continue
            if len(fields) != len(header):
                yield line, None, f"the row has {len(fields)} fields, the header {len(header)}"
                continue
            item: dict[str, Any] = {"vars": {}}
            for key, value in zip(header, fields, strict=True):
                if key == "name":
                    if value.strip():  # an empty name cell: named file:line like a JSONL row
                        item["name"] = value
                else:
                    item["vars"][key] = value
            yield line, item, None
    except csv.Error as exc:
        yield start, None, f"the CSV cannot be read: {exc}"
