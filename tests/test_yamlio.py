"""The hardened YAML loader (registry/yamlio/load.py) and the writer (registry/yamlio/dump.py)."""

from __future__ import annotations

import itertools
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.errors import LoadError, RegistryError
from registry.yamlio import dump as yamldump
from registry.yamlio import load as yamlio
from registry.yamlio import scalars
from registry.yamlio.dump import dump_yaml
from registry.yamlio.files import load_yaml_file
from registry.yamlio.load import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    Loaded,
    YamlError,
    load_yaml_bytes,
)

ROOT = Path(__file__).resolve().parent.parent

PROMPT = """\
# yaml-language-server: $schema=https://example.com/prompt-version.json
prompt_id: hr_query_system_prompt
version: "1.1.0"
description: Cite the policy section in every answer
created_at: 2026-11-20T10:00:00Z
messages:
  - role: system
    content: |
      You are an HR assistant.
      {context}
  - role: user
    content: "Question: {query}"
variables: [context, query]
model:
  name: gpt-4o-mini
  temperature: 0.2
tested: false
evaluation_score: null
"""

LOADERS: dict[str, type[Any]] = {"python": yaml.SafeLoader}
if yaml.__with_libyaml__:
    LOADERS["c"] = yaml.CSafeLoader


@pytest.fixture(params=sorted(LOADERS))
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test once with libyaml's parser and once with the pure-Python one."""
    monkeypatch.setattr(yamlio, "_LOADER", LOADERS[request.param])
    yield request.param


def write(tmp_path: Path, content: str | bytes, name: str = "file.yaml") -> Path:
    p = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    p.write_bytes(content)
    return p


def refused(tmp_path: Path, content: str | bytes) -> YamlError:
    """Load ``content`` from a real file shown as prompts/p/1.0.0.yaml; return the error."""
    with pytest.raises(YamlError) as info:
        load_yaml_file(write(tmp_path, content), display_path="prompts/p/1.0.0.yaml")
    return info.value


def check(exc: YamlError, code: str, line: int | None, path: str = "prompts/p/1.0.0.yaml") -> None:
    assert exc.code == code, str(exc)
    assert exc.path == path
    assert exc.line == line, str(exc)
    where = path if line is None else f"{path}:{line}"
    assert str(exc).startswith(f"{where}: "), str(exc)


# --- what loads --------------------------------------------------------------------------


def test_loads_a_prompt_file_with_the_line_of_every_node(tmp_path: Path, parser: str) -> None:
    loaded = load_yaml_file(write(tmp_path, PROMPT))
    assert isinstance(loaded, Loaded)
    assert loaded.data == {
        "prompt_id": "hr_query_system_prompt",
        "version": "1.1.0",
        "description": "Cite the policy section in every answer",
        "created_at": "2026-11-20T10:00:00Z",
        "messages": [
            {"role": "system", "content": "You are an HR assistant.\n{context}\n"},
            {"role": "user", "content": "Question: {query}"},
        ],
        "variables": ["context", "query"],
        "model": {"name": "gpt-4o-mini", "temperature": 0.2},
        "tested": False,
        "evaluation_score": None,
    }
    assert loaded.lines == {
        (): 2,
        ("prompt_id",): 2,
        ("version",): 3,
        ("description",): 4,
        ("created_at",): 5,
        ("messages",): 6,
        ("messages", 0): 7,
        ("messages", 0, "role"): 7,
        ("messages", 0, "content"): 8,
        ("messages", 1): 11,
        ("messages", 1, "role"): 11,
        ("messages", 1, "content"): 12,
        ("variables",): 13,
        ("variables", 0): 13,
        ("variables", 1): 13,
        ("model",): 14,
        ("model", "name"): 15,
        ("model", "temperature"): 16,
        ("tested",): 17,
        ("evaluation_score",): 18,
    }
    assert loaded.data == yaml.safe_load(PROMPT) | {"created_at": "2026-11-20T10:00:00Z"}


def test_line_of_falls_back_to_the_longest_known_prefix() -> None:
    loaded = load_yaml_bytes(PROMPT.encode(), "p.yaml")
    assert loaded.line_of(("messages", 1, "content")) == 12
    assert loaded.line_of(["messages", 1, "content", "deeper", 3]) == 12
    assert loaded.line_of(("messages", 7)) == 6
    assert loaded.line_of(("nope", "x")) == 2
    assert loaded.line_of(()) == 2


def test_display_path_defaults_to_the_path(tmp_path: Path) -> None:
    p = write(tmp_path, "a: 1\na: 2\n")
    with pytest.raises(YamlError) as info:
        load_yaml_file(p)
    check(info.value, "yaml-duplicate-key", 2, path=str(p))


def test_timestamps_stay_strings(parser: str) -> None:
    text = "a: 2026-11-20T10:00:00Z\nb: 2026-11-20\nc: 2001-12-14 21:59:43.10 -5\nd: '2026-11-20'\n"
    assert load_yaml_bytes(text.encode(), "t.yaml").data == {
        "a": "2026-11-20T10:00:00Z",
        "b": "2026-11-20",
        "c": "2001-12-14 21:59:43.10 -5",
        "d": "2026-11-20",
    }


def test_special_floats_and_unquoted_versions(parser: str) -> None:
    data = load_yaml_bytes(b"n: .nan\ni: .inf\nm: -.Inf\nv: 1.10\n", "f.yaml").data
    assert isinstance(data["n"], float)
    assert math.isnan(data["n"])
    assert data["i"] == math.inf
    assert data["m"] == -math.inf
    assert data["v"] == 1.1  # the schema check reports it; the loader resolves like YAML


# Plain scalars and what the YAML 1.2 core schema makes of them (a str: text as written).
CORE_SCHEMA: list[tuple[str, object]] = [
    ("", None), ("~", None), ("null", None), ("Null", None), ("NULL", None),
    ("nULL", "nULL"), ("None", "None"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False),
    ("FALSE", False), ("tRUE", "tRUE"),
    ("yes", "yes"), ("Yes", "Yes"), ("YES", "YES"), ("no", "no"), ("No", "No"), ("NO", "NO"),
    ("on", "on"), ("On", "On"), ("ON", "ON"), ("off", "off"), ("Off", "Off"), ("OFF", "OFF"),
    ("y", "y"), ("Y", "Y"), ("n", "n"), ("N", "N"),
    ("0", 0), ("12", 12), ("-7", -7), ("+3", 3), ("012", 12), ("-0", 0),
    ("0o17", 15), ("0o0", 0), ("0x1F", 31), ("0xff", 255), ("0x", "0x"), ("0o", "0o"),
    ("0o8", "0o8"), ("-0o17", "-0o17"), ("+0x1", "+0x1"), ("0X1F", "0X1F"),
    ("0b101", "0b101"), ("1_000", "1_000"), ("1_000.5", "1_000.5"), ("685.230_15e+03", "685.230_15e+03"),
    ("190:20:30", "190:20:30"), ("190:20:30.15", "190:20:30.15"), ("1:2", "1:2"),
    ("1.5", 1.5), ("-1.5e+3", -1500.0), ("1e3", 1000.0), ("1E3", 1000.0), ("1e-3", 0.001),
    ("6.8523015e+5", 685230.15), (".5", 0.5), ("-.5", -0.5), ("+.5", 0.5), ("0.", 0.0),
    ("1.10", 1.1), ("+1e5", 100000.0), ("1e", "1e"), ("1.5e", "1.5e"), ("e3", "e3"),
    (".inf", math.inf), (".Inf", math.inf), (".INF", math.inf), ("+.inf", math.inf),
    ("-.inf", -math.inf), ("-.Inf", -math.inf), ("-.INF", -math.inf), (".iNF", ".iNF"),
    ("inf", "inf"), ("infinity", "infinity"),
    (".nan", math.nan), (".NaN", math.nan), (".NAN", math.nan), ("nan", "nan"), ("-.nan", "-.nan"),
    ("1.2.3", "1.2.3"), ("=", "="), ("<<", "<<"), ("abc", "abc"), ("hello world", "hello world"),
    ("a:b", "a:b"), ("-x", "-x"), ("+", "+"), (".", "."), ("1 2", "1 2"),
    ("2026-11-20", "2026-11-20"), ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z"),
    ("\u0661\u0662", "\u0661\u0662"), ("\uff11\uff12", "\uff11\uff12"),  # non-ASCII digits
]  # fmt: skip


@pytest.mark.parametrize(("scalar", "expected"), CORE_SCHEMA, ids=[s for s, _ in CORE_SCHEMA])
def test_plain_scalars_resolve_by_the_yaml_1_2_core_schema(
    parser: str, scalar: str, expected: object
) -> None:
    text = f"k: {scalar}\nblock:\n  - {scalar}\nflow: {{f: {scalar}}}\n"
    got = load_yaml_bytes(text.encode(), "s.yaml").data
    assert same(got, {"k": expected, "block": [expected], "flow": {"f": expected}}), got
    quoted = load_yaml_bytes(f'k: "{scalar}"\n'.encode(), "q.yaml").data
    assert quoted == {"k": scalar}


def test_plain_kind_agrees_with_the_loader() -> None:
    kinds = {type(None): "null", bool: "bool", int: "int", float: "float", str: None}
    for scalar, expected in CORE_SCHEMA:
        if scalar:
            assert scalars.plain_kind(scalar) == kinds[type(expected)], scalar


def same(a: object, b: object) -> bool:
    """Equal values of equal types, with nan equal to nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def test_quoted_and_block_scalars_are_text(parser: str) -> None:
    text = "a: 'yes'\nb: \"1.10\"\nc: |\n  null\nd: >-\n  12\n'1': x\n\"true\": y\n"
    assert load_yaml_bytes(text.encode(), "q.yaml").data == {
        "a": "yes",
        "b": "1.10",
        "c": "null\n",
        "d": "12",
        "1": "x",
        "true": "y",
    }


def test_utf8_bom_is_tolerated_and_unicode_kept(parser: str) -> None:
    data = load_yaml_bytes("\ufeffname: héllo 日本 🙂\n".encode(), "u.yaml").data
    assert data == {"name": "héllo 日本 🙂"}


def test_nesting_up_to_the_limit_loads(parser: str) -> None:
    flow = "a: " + "[" * (MAX_DEPTH - 1) + "x" + "]" * (MAX_DEPTH - 1) + "\n"
    data: object = load_yaml_bytes(flow.encode(), "d.yaml").data["a"]
    for _ in range(MAX_DEPTH - 2):
        assert isinstance(data, list)
        data = data[0]
    assert data == ["x"]


# --- what is refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "yaml-duplicate-key", 3),
        ("messages:\n  - role: user\n    role: system\n", "yaml-duplicate-key", 3),
        ("a: {x: 1, x: 2}\n", "yaml-duplicate-key", 1),
        ('cmd: !!python/object/apply:os.system ["echo hi"]\n', "yaml-tag", 1),
        ("a: 1\nb: !!str 2\n", "yaml-tag", 2),
        ("a: !custom x\n", "yaml-tag", 1),
        ("a: ! x\n", "yaml-tag", 1),
        ("a: !!binary aGk=\n", "yaml-tag", 1),
        ("a: !!set {x}\n", "yaml-tag", 1),
        ("a:\n  - !!omap [x: 1]\n", "yaml-tag", 2),
        ("!!map\na: 1\n", "yaml-tag", 1),
        ("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", "yaml-tag", 3),
        ("a: &x 1\n", "yaml-alias", 1),
        ("a: 1\nb: &x [1]\n", "yaml-alias", 2),
        ("a: 1\nb: 2\nc: *x\n", "yaml-alias", 3),
        ("base: {a: 1}\nitem:\n  <<: {b: 2}\n", "yaml-merge-key", 3),
        ("a: 1\n---\nb: 2\n", "yaml-multi-doc", 2),
        ("a: 1\n...\n---\nb: 2\n", "yaml-multi-doc", 3),
        ("---\n", "yaml-empty", 1),
        ("# comment\n\n---\n", "yaml-empty", 3),
        ("", "yaml-empty", 1),
        ("# only a comment\n", "yaml-empty", 1),
        ("   \n\n", "yaml-empty", 1),
        ("- a\n- b\n", "yaml-not-mapping", 1),
        ("# c\nhello\n", "yaml-not-mapping", 2),
        ("42\n", "yaml-not-mapping", 1),
        ("null\n", "yaml-not-mapping", 1),
        ("a: 1\ntrue: 2\n", "yaml-key-type", 2),
        ("1: x\n", "yaml-key-type", 1),
        ("1.5: x\n", "yaml-key-type", 1),
        ("~: x\n", "yaml-key-type", 1),
        ("null: x\n", "yaml-key-type", 1),
        ("a:\n  0x1F: x\n", "yaml-key-type", 2),
        ("a:\n  .inf: x\n", "yaml-key-type", 2),
        ("a: 1\n? \n: x\n", "yaml-key-type", 2),
        ("? [a, b]\n: 1\n", "yaml-key-type", 1),
        ("a: 1\n{b: 1}: 2\n", "yaml-key-type", 2),
        ("a: [1, 2\nb: 3\n", "yaml-syntax", 2),
        ("a: 'open\n", "yaml-syntax", 2),
        ("a: 1\n  b: 2\n", "yaml-syntax", 2),
        ("a: 1\n\tb: 2\n", "yaml-syntax", 2),
        ("a: 1\nb: x\x00y\n", "yaml-encoding", 2),
        ("a: 1\n\nb: \x07\n", "yaml-encoding", 3),
        ("a: \ufffe\n", "yaml-encoding", 1),
        ("a:\n  - " + "9" * 5000 + "\n", "yaml-number", 2),
        ("a: 0x" + "f" * 5000 + "\n", "yaml-number", 1),
        ("a: 1." + "5" * 5000 + "\n", "yaml-number", 1),
    ],
)
def test_refused(tmp_path: Path, parser: str, content: str, code: str, line: int) -> None:
    check(refused(tmp_path, content), code, line)


def test_rejection_messages_say_what_and_what_to_do(tmp_path: Path) -> None:
    dup = refused(tmp_path, "a: 1\nb: 2\na: 3\n")
    assert "'a'" in str(dup)
    assert "line 1" in str(dup)
    key = refused(tmp_path, "true: 2\n")
    assert "boolean" in str(key)
    assert 'quote it ("true": ...)' in str(key)
    tag = refused(tmp_path, 'cmd: !!python/object/apply:os.system ["echo hi"]\n')
    assert "!!python/object/apply:os.system" in str(tag)
    assert "not allowed" in str(tag)
    assert "top level is a list" in str(refused(tmp_path, "- a\n"))


def test_python_tag_is_never_constructed(tmp_path: Path, parser: str) -> None:
    marker = tmp_path / "marker"
    content = f'cmd: !!python/object/apply:os.system ["touch {marker}"]\n'
    check(refused(tmp_path, content), "yaml-tag", 1)
    assert not marker.exists()


def test_refused_errors_are_load_errors(tmp_path: Path) -> None:
    exc = refused(tmp_path, "a: &x 1\n")
    assert isinstance(exc, LoadError)
    assert isinstance(exc, RegistryError)
    assert exc.exit_code == 1


def test_too_deep_is_refused_one_level_past_the_limit(tmp_path: Path, parser: str) -> None:
    flow = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    check(refused(tmp_path, flow), "yaml-too-deep", 1)
    block = "".join("  " * i + "k:\n" for i in range(MAX_DEPTH)) + "  " * MAX_DEPTH + "k: v\n"
    check(refused(tmp_path, block), "yaml-too-deep", MAX_DEPTH + 1)


def test_invalid_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path, parser: str) -> None:
    exc = refused(tmp_path, b"a: 1\nb: 2\nc: caf\xe9\nd: \xff\n")
    check(exc, "yaml-encoding", 3)
    assert "UTF-8" in str(exc)


def test_utf16_is_refused(tmp_path: Path, parser: str) -> None:
    check(refused(tmp_path, "a: 1\n".encode("utf-16")), "yaml-encoding", 1)


def test_billion_laughs_is_refused_fast(tmp_path: Path, parser: str) -> None:
    bomb = (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    )
    assert len(bomb) < 400
    start = time.perf_counter()
    exc = refused(tmp_path, bomb)
    assert time.perf_counter() - start < 1.0
    check(exc, "yaml-alias", 1)


def test_alias_bomb_without_anchors_first_is_refused_fast(tmp_path: Path, parser: str) -> None:
    start = time.perf_counter()
    exc = refused(tmp_path, "a: [" + ",".join(["*x"] * 5000) + "]\n")
    assert time.perf_counter() - start < 1.0
    check(exc, "yaml-alias", 1)


def test_oversized_file_is_refused_before_it_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, "a: 1\n" + "#" * (300 * 1024) + "\n")
    size = p.stat().st_size

    def no_reading(*args: object) -> None:
        raise AssertionError("the file was opened or read")

    monkeypatch.setattr(os, "open", no_reading)
    monkeypatch.setattr(os, "read", no_reading)
    with pytest.raises(YamlError) as info:
        load_yaml_file(p, display_path="prompts/p/1.0.0.yaml")
    monkeypatch.undo()
    check(info.value, "yaml-too-large", None)
    assert str(size) in str(info.value)
    assert str(MAX_FILE_BYTES) in str(info.value)


def test_oversized_bytes_are_refused() -> None:
    with pytest.raises(YamlError) as info:
        load_yaml_bytes(b"a: 1\n" + b" " * MAX_FILE_BYTES, "big.yaml")
    check(info.value, "yaml-too-large", None, path="big.yaml")


def test_file_at_the_limit_loads(tmp_path: Path) -> None:
    body = "a: 1\n"
    p = write(tmp_path, body + "#" * (MAX_FILE_BYTES - len(body) - 1) + "\n")
    assert p.stat().st_size == MAX_FILE_BYTES
    assert load_yaml_file(p).data == {"a": 1}


def test_symlink_is_refused(tmp_path: Path) -> None:
    target = write(tmp_path, "a: 1\n", "target.yaml")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    with pytest.raises(YamlError) as info:
        load_yaml_file(link, display_path="prompts/p/link.yaml")
    check(info.value, "yaml-not-regular", None, path="prompts/p/link.yaml")
    assert "symbolic link" in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YamlError) as info:
        load_yaml_file(fifo, display_path="prompts/p/fifo.yaml")
    check(info.value, "yaml-not-regular", None, path="prompts/p/fifo.yaml")
    assert "FIFO" in str(info.value)


def test_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(YamlError) as info:
        load_yaml_file(tmp_path / "dir.yaml", display_path="prompts/p/dir.yaml")
    check(info.value, "yaml-not-regular", None, path="prompts/p/dir.yaml")
    assert "directory" in str(info.value)


def test_missing_file_is_a_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml_file(tmp_path / "missing.yaml", display_path="prompts/p/missing.yaml")
    check(info.value, "yaml-io", None, path="prompts/p/missing.yaml")


DEEP_SCRIPT = """\
import sys, time
import yaml
from registry.yamlio import load as yamlio
from registry.yamlio.files import load_yaml_file
yamlio._LOADER = getattr(yaml, sys.argv[2])
if sys.argv[3] == "unlimited-size":
    yamlio.MAX_FILE_BYTES = 10**8
start = time.perf_counter()
try:
    load_yaml_file(sys.argv[1], display_path="deep.yaml")
except yamlio.YamlError as exc:
    print(exc.code, exc)
    print(f"seconds {time.perf_counter() - start:.3f}")
else:
    print("loaded")
"""


@pytest.mark.parametrize("loader", [name.__name__ for name in LOADERS.values()])
@pytest.mark.parametrize(
    ("content", "size", "code"),
    [
        # libyaml's own nesting limit trips before the first event arrives
        (b"[" * 100_000, "normal", "yaml-not-mapping|yaml-too-deep"),
        (b"a: " + b"[" * 100_000, "normal", "yaml-too-deep"),
        (b"{a: " * 100_000, "normal", "yaml-too-large"),
        (b"{a: " * 100_000, "unlimited-size", "yaml-too-deep"),
        (b"a: " + b"{a: " * 60_000, "normal", "yaml-too-deep"),
    ],
    ids=["brackets-top", "brackets", "mappings", "mappings-no-size-limit", "mappings-in-limit"],
)
def test_deep_nesting_does_not_crash_the_process(
    tmp_path: Path, loader: str, content: bytes, size: str, code: str
) -> None:
    p = write(tmp_path, content, "deep.yaml")
    proc = subprocess.run(
        [sys.executable, "-c", DEEP_SCRIPT, str(p), loader, size],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    first, seconds = proc.stdout.splitlines()
    assert first.split()[0] in code.split("|"), proc.stdout
    assert first.split()[1].startswith("deep.yaml"), proc.stdout
    assert float(seconds.split()[1]) < 2.0


def test_every_parser_exception_becomes_a_yaml_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for error in (RecursionError("deep"), ValueError("bad"), MemoryError(), yaml.YAMLError("x")):

        class Exploding:
            def __init__(self, stream: object, error: BaseException = error) -> None:
                self.error = error

            def get_event(self) -> None:
                raise self.error

            def dispose(self) -> None:
                pass

        monkeypatch.setattr(yamlio, "_LOADER", Exploding)
        with pytest.raises(YamlError) as info:
            load_yaml_bytes(b"a: 1\n", "x.yaml")
        check(info.value, "yaml-syntax", None, path="x.yaml")


FUZZ_PIECES = [
    *"ab01:-_.+eE xXinfINF\n\t[]{},#&*!|>'\"?%@`~=<\\",
    *["yes", "null", "- ", ": ", "\n  ", "\n- ", ".nan", "0x", "1:2", "<<", "&a ", "*a"],
    *["!!str ", "---\n", "...\n", "é", "\x00", "\ufeff", "\udcff"],
]  # fmt: skip


def test_random_input_never_escapes_as_another_exception(parser: str) -> None:
    rng = random.Random(20261120)
    codes = set()
    for _ in range(3000):
        text = "".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, 30)))
        data = ("k: " + text).encode("utf-8", "surrogateescape")
        try:
            loaded = load_yaml_bytes(data, "fuzz.yaml")
        except YamlError as exc:
            assert str(exc).startswith("fuzz.yaml"), str(exc)
            codes.add(exc.code)
        else:
            assert isinstance(loaded.data, dict)
    assert {"yaml-syntax", "yaml-encoding", "yaml-tag", "yaml-alias"} <= codes


# --- writing -----------------------------------------------------------------------------


def test_dump_keeps_order_and_quotes_text_that_looks_like_other_types(emitter: str) -> None:
    data = {
        "prompt_id": "hr_query",
        "version": "1.10.0",
        "short": "1.10",
        "flag": "yes",
        "nothing": "null",
        "created_at": "2026-11-20T10:00:00Z",
        "content": "You are an HR assistant.\n{context}\nQuestion: {query}\n",
        "variables": ["context", "query"],
        "model": {"name": "gpt-4o-mini", "temperature": 0.2},
        "tested": False,
        "evaluation_score": None,
        "author": "Dana Reyes <dana@example.com>",
        "note": "héllo 日本",
    }
    text = dump_yaml(data, "https://example.com/schemas/prompt-version.json")
    assert text == (
        "# yaml-language-server: $schema=https://example.com/schemas/prompt-version.json\n"
        "prompt_id: hr_query\n"
        'version: "1.10.0"\n'
        'short: "1.10"\n'
        'flag: "yes"\n'
        'nothing: "null"\n'
        'created_at: "2026-11-20T10:00:00Z"\n'
        "content: |\n"
        "  You are an HR assistant.\n"
        "  {context}\n"
        "  Question: {query}\n"
        "variables:\n"
        "- context\n"
        "- query\n"
        "model:\n"
        "  name: gpt-4o-mini\n"
        "  temperature: 0.2\n"
        "tested: false\n"
        "evaluation_score: null\n"
        "author: Dana Reyes <dana@example.com>\n"
        "note: héllo 日本\n"
    )
    assert load_yaml_bytes(text.encode(), "w.yaml").data == data
    assert dump_yaml(data, "https://example.com/schemas/prompt-version.json") == text


YAML11_WORDS = ["yes", "Yes", "NO", "on", "Off", "y", "N", "1_000", "190:20:30", "2026-11-20"]


def test_dump_round_trips_every_scalar_under_yaml_1_2_and_1_1(emitter: str) -> None:
    """Text is written so that promptreg (YAML 1.2) reads it back as the same text, and so that
    a YAML 1.1 reader (PyYAML's safe_load) does too: "yes" stays a string for both."""
    texts = [scalar for scalar, _ in CORE_SCHEMA] + YAML11_WORDS
    for value in texts:
        data = {"v": value, "l": [value], value or "e": "key"}
        text = dump_yaml(data)
        assert load_yaml_bytes(text.encode(), "r.yaml").data == data, text
        assert yaml.safe_load(text) == data, text
    for _scalar, expected in CORE_SCHEMA:
        if not isinstance(expected, str):  # a non-text value round-trips as itself
            text = dump_yaml({"v": expected})
            assert same(load_yaml_bytes(text.encode(), "r.yaml").data, {"v": expected}), text


@pytest.mark.parametrize("value", ["yes", "No", "on", "OFF", "y", "n", "-.5", "+1e5", "0o17"])
def test_dump_quotes_text_that_either_yaml_reads_as_another_type(emitter: str, value: str) -> None:
    assert dump_yaml({"reason": value}) == f'reason: "{value}"\n'


def test_dump_without_schema_and_of_shared_objects_has_no_aliases(emitter: str) -> None:
    shared = ["a", "b"]
    text = dump_yaml({"x": shared, "y": shared, "z": {"k": shared}})
    assert not text.startswith("#")
    assert "&" not in text
    assert "*" not in text
    assert load_yaml_bytes(text.encode(), "s.yaml").data == {
        "x": ["a", "b"],
        "y": ["a", "b"],
        "z": {"k": ["a", "b"]},
    }


def test_dump_falls_back_to_quotes_when_a_block_cannot_hold_the_text(emitter: str) -> None:
    for value in ("trailing  \nspaces", "tab\there\nx", "cr\r\nlf", "nel\x85x"):
        text = dump_yaml({"v": value})
        assert text.startswith('v: "'), text
        assert load_yaml_bytes(text.encode(), "b.yaml").data == {"v": value}
    # A control character is written as an escape, which no reader of promptreg's accepts
    # (a file may not hold it raw): writers check what they wrote and refuse it.
    text = dump_yaml({"v": "bell\x07\nx"})
    assert text == 'v: "bell\\a\\nx"\n'
    with pytest.raises(LoadError, match=r"U\+0007"):
        load_yaml_bytes(text.encode(), "b.yaml")


def test_dump_refuses_what_it_cannot_round_trip() -> None:
    not_text_keys: dict[Any, Any] = {1: "a"}
    with pytest.raises(TypeError):
        dump_yaml({"a": object()})
    with pytest.raises(TypeError):
        dump_yaml(not_text_keys)
    with pytest.raises(ValueError):
        dump_yaml({"a": 1}, "https://x\ninjected: true")


def test_dump_accepts_tuples_and_other_mappings() -> None:
    from types import MappingProxyType

    text = dump_yaml(MappingProxyType({"a": ("x", 1), "b": MappingProxyType({"c": True})}))
    assert load_yaml_bytes(text.encode(), "t.yaml").data == {"a": ["x", 1], "b": {"c": True}}


ATOMS = [
    "", " ", "  ", "a", "\n", "\n\n", "\t", "#", " # x", ": ", ":", "- ", "'", '"', "\\", "é",
    "日本", "🙂", "{x}", "{{", "}}", "yes", "null", "1.10", "2026-11-20T10:00:00Z", "<<", "=",
    "~", "---", "...", "%", "@", "`", "!", "&a", "*a", "|", ">", "?", "[", "]", ",", "0x1f",
    ".nan", "x" * 500, "No", "-.5", "+1e5", "0o17", "y",
]  # fmt: skip


DUMPERS: dict[str, type[Any]] = {"python": yaml.SafeDumper}
if yaml.__with_libyaml__:
    DUMPERS["c"] = yaml.CSafeDumper


@pytest.fixture(params=sorted(DUMPERS))
def emitter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test once with libyaml's emitter and once with the pure-Python one."""
    monkeypatch.setattr(yamldump, "_DUMPER", yamldump._dumper_class(DUMPERS[request.param]))
    yield request.param


def test_dump_round_trips_tricky_strings(emitter: str) -> None:
    count = 0
    for a, b in itertools.product(ATOMS, repeat=2):
        for candidate in (a + b, a + "\n" + b, a + b + "\n"):
            data = {"v": candidate, "l": [candidate], "m": {"n": candidate}, candidate or "e": 1}
            text = dump_yaml(data, "https://example.com/s.json")
            assert load_yaml_bytes(text.encode(), "r.yaml").data == data, repr(text)
            count += 1
    assert count == len(ATOMS) ** 2 * 3


def test_dump_round_trips_other_values(emitter: str) -> None:
    data = {
        "ints": [0, -1, 10**30],
        "floats": [0.1, -2.5, 1e300, math.inf, -math.inf],
        "bools": [True, False],
        "none": None,
        "empty_list": [],
        "empty_map": {},
        "nested": [{"a": [{"b": {"c": "deep"}}]}],
        "yes": "key that looks like a bool",
        "1.0.0": "key that looks like a version",
        "k" * 200: "a long key",
    }
    text = dump_yaml(data)
    assert load_yaml_bytes(text.encode(), "o.yaml").data == data
    nan = load_yaml_bytes(dump_yaml({"n": math.nan}).encode(), "n.yaml").data["n"]
    assert math.isnan(nan)
