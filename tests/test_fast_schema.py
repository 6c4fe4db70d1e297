"""check's compiled fast path (fastjsonschema) never accepts what jsonschema refuses.

``schema_errors`` trusts ``surely_valid`` when it says "valid" and returns no problem, so a
document the fast path accepts and jsonschema (with promptreg's validator class) refuses would
be a file check lets through. Every YAML file of the example corpus, under every schema, and
thousands of deterministic mutations of the valid ones (keys dropped and renamed, values
swapped for other types, bools for ints, NaN and infinities, duplicates, unicode, broken
patterns, the schemas' own enum values) must get the same verdict from both; the one
intended difference is the guard: a document holding a non-finite number or a value that is
not plain JSON is never accepted by the fast path, whatever jsonschema says.
"""

from __future__ import annotations

import copy
import json
import math
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry.errors import LoadError
from registry.schema.fast import _plain, surely_valid
from registry.schema.files import KINDS
from registry.schema.validate import _validator, load_schema, schema_errors
from registry.yamlio.load import load_yaml_bytes
from tests.testing import ROOT, pointer_yaml, version_yaml

EXAMPLES = Path(__file__).resolve().parent / "example-files"
CORPUS = sorted(EXAMPLES.rglob("*.yaml"))
MUTANTS_PER_DOC = 120


def _docs() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for path in CORPUS:
        try:
            loaded = load_yaml_bytes(path.read_bytes(), str(path))
        except LoadError:
            continue
        if loaded is not None:
            out.append((str(path.relative_to(EXAMPLES)), loaded.data))
    # The files the tests' registries are built from (tests/testing.py).
    for text in (
        version_yaml("hr", "1.0.0"),
        version_yaml("hr", "2.0.0-rc.1", "Hi {name}\n"),
        pointer_yaml("hr", "production", "1.0.0"),
    ):
        out.append(("testing.py", load_yaml_bytes(text.encode(), "t.yaml").data))
    return out


DOCS = _docs()


def _agree(kind: str, data: Any, where: str) -> bool:
    """Assert one verdict; return jsonschema's."""
    strict = _validator(kind).is_valid(data)
    fast = surely_valid(kind, data)
    if _plain(data):
        assert fast == strict, f"{where} under {kind}: fast {fast}, jsonschema {strict}"
    else:
        assert not fast, f"{where} under {kind}: the fast path took a non-plain document"
    return strict


def test_the_corpus_is_big_enough() -> None:
    assert len(DOCS) > 300


@pytest.mark.parametrize("kind", KINDS)
def test_every_corpus_file_gets_one_verdict_under_every_schema(kind: str) -> None:
    verdicts = {_agree(kind, data, where) for where, data in DOCS}
    assert verdicts == {True, False}  # the corpus holds valid and invalid files of each kind


def _schema_values(node: Any, out: list[Any]) -> list[Any]:
    """Every enum and const value of a schema: the values a mutation should try."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum" and isinstance(value, list):
                out.extend(value)
            elif key == "const":
                out.append(value)
            else:
                _schema_values(value, out)
    elif isinstance(node, list):
        for item in node:
            _schema_values(item, out)
    return out


SUBSTITUTES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 0.5, 1.5, -0.0, 2**64, 1e308,
    math.nan, math.inf, -math.inf, "", " ", "x", "X", "1", "true", "1.0.0", "1.0.0\n",
    "1.0", "v1.0.0", "01.0.0", "1.0.0-rc.1", "prod", "Production", "a b", "a\n", "\n",
    "é", "\u2170", "\u0000", "x" * 300, [], [1], [True, 1], [1, 1.0], ["a", "a"], [None],
    [[1], [1]], [{"a": 1}, {"a": 1.0}], {}, {"a": 1}, {"1": True}, ["x"] * 2000, (1, 2),
]  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _mutants(data: Any, kind: str, rng: random.Random) -> Iterator[tuple[str, Any]]:
    subs = SUBSTITUTES + _schema_values(load_schema(kind), [])
    paths = list(_paths(data))
    for _ in range(MUTANTS_PER_DOC):
        path = rng.choice(paths)
        doc = copy.deepcopy(data)
        parent: Any = _get(doc, path[:-1]) if path else None
        node = _get(doc, path)
        move = rng.randrange(8)
        if move == 0 and isinstance(parent, dict):
            del parent[path[-1]]
            label = "drop"
        elif move == 1 and isinstance(parent, dict):
            parent[str(path[-1]) + rng.choice(["_", "X", "s", ""])] = parent.pop(path[-1])
            label = "rename"
        elif move == 2 and isinstance(node, list) and node:
            node.append(copy.deepcopy(rng.choice(node)))
            label = "duplicate an item"
        elif move == 3 and isinstance(node, str):
            parent_or_doc = parent if parent is not None else doc
            changed = rng.choice([node + "\n", " " + node, node.upper(), node + "é", node[:-1]])
            if path:
                parent_or_doc[path[-1]] = changed
            label = "edit text"
        elif move == 4 and isinstance(node, dict):
            node[rng.choice(["extra", "patternErrorMessage", "x-note", "$ref"])] = rng.choice(subs)
            label = "add a key"
        elif move == 5 and isinstance(node, bool | int) and path:
            parent[path[-1]] = rng.choice([int(node), float(node), bool(node), str(node)])
            label = "retype a number"
        elif path:
            parent[path[-1]] = copy.deepcopy(rng.choice(subs))
            label = "substitute"
        else:
            continue
        yield f"{label} at {list(path)}", doc


def _valid_docs(kind: str) -> list[tuple[str, Any]]:
    return [(w, d) for w, d in DOCS if _validator(kind).is_valid(d)]


@pytest.mark.parametrize("kind", KINDS)
def test_mutations_of_valid_files_get_one_verdict(kind: str) -> None:
    rng = random.Random(f"fast-schema-{kind}")
    seeds = _valid_docs(kind)
    assert seeds, f"no valid {kind} file in the corpus"
    verdicts: list[bool] = []
    for where, data in seeds:
        for what, doc in _mutants(data, kind, rng):
            verdicts.append(_agree(kind, doc, f"{where}: {what}"))
    # The mutations reach both sides: many stay valid, many are refused.
    assert verdicts.count(True) > 50 and verdicts.count(False) > 50


@pytest.mark.parametrize(
    ("field", "value"),
    [("score", math.nan), ("score", math.inf), ("score", -math.inf), ("score", 1e999)],
)
def test_a_non_finite_number_is_left_to_jsonschema(field: str, value: float) -> None:
    data = load_yaml_bytes(version_yaml("hr", "1.0.0").encode(), "t.yaml").data
    data["evaluation"] = {"suite": "hr", field: value}
    assert not surely_valid("prompt-version", data)
    assert schema_errors("prompt-version", data)  # and jsonschema words the refusal


def test_a_tuple_is_not_taken_for_a_list() -> None:
    data = load_yaml_bytes(version_yaml("hr", "1.0.0").encode(), "t.yaml").data
    data["variables"] = ("name",)
    assert not surely_valid("prompt-version", data)


def test_the_fast_path_leaves_the_document_alone() -> None:
    # fastjsonschema writes schema defaults into the data unless told not to.
    data = load_yaml_bytes(version_yaml("hr", "1.0.0").encode(), "t.yaml").data
    before = json.dumps(data, sort_keys=True)
    assert surely_valid("prompt-version", data)
    assert json.dumps(data, sort_keys=True) == before


def test_the_runtime_imports_neither_validator_library() -> None:
    code = (
        "import sys, registry\n"
        "from registry.schema.validate import runtime_schema_errors\n"
        "runtime_schema_errors('deployment', {})\n"
        "print(sorted(m for m in ('fastjsonschema', 'jsonschema') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
