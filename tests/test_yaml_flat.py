"""The flat fast path (``yamlio/flat.py``) answers only what the hardened loader would answer,
and answers for the pointers promptreg writes."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from registry.errors import YamlError
from registry.yamlio.flat import load_flat
from registry.yamlio.load import load_yaml_bytes
from tests.testing import pointer_yaml

WRITTEN = (
    "# yaml-language-server: $schema=../../schemas/deployment.schema.json\n"
    "prompt_id: greet\nenvironment: development\nversion: null\n"
    'previous_version: "1.0.0"\naction: remove\ndeployed_by: T <t@e.x>\n'
    "deployed_at: \"2026-12-02T01:54:31Z\"\nreason: 'first: try it #1'\n"
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def _agrees(data: bytes) -> bool:
    """True when the fast path answered; fails the test when its answer is not the loader's."""
    fast = load_flat(data)
    if fast is None:
        return False
    try:
        full = load_yaml_bytes(data, "x.yaml").data
    except YamlError as exc:
        pytest.fail(f"the fast path read {data!r} as {fast!r}; the loader refuses it: {exc}")
    assert list(full) == list(fast) and all(_same(full[k], fast[k]) for k in full), data
    return True


@pytest.mark.parametrize(
    "text",
    [
        WRITTEN,
        pointer_yaml("greet", "production", "1.2.0", "1.1.0", reason="Deploy greet 1.2.0"),
        "version: 1.0.0\nreason:\n",
        "a: true\nb: False\nc: ~\nd: Null\ne: ''\nf: \"\"\n",
        "a: yes\nb: on\nc: <<\nd: =\n",  # text in YAML 1.2
        "a: x  y\nb: (x) [y] {z}\nc: x'y\"z\n",
    ],
)
def test_the_fast_path_answers_as_the_loader(text: str) -> None:
    assert _agrees(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",  # numbers are the loader's
        "a: 1.5\n",
        "a: x # comment\n",
        "a: x\na: y\n",  # duplicate key: the loader's message
        "true: x\n",
        "a: x\r\nb: y\n",
        "a:\tx\n",
        "a: x \n",
        "  a: x\n",
        "a:\n  b: c\n",
        "a:\n- b\n",
        "---\na: x\n",
        'a: "x\\"y"\n',
        "a: 'it''s'\n",
        "a: -x\n",
        "a: :x\n",
        "a: caf\u00e9\n",
        "# only a comment\n",
        "",
        "a:x\n",
        "a: http://x\n",
        "a: &x y\n",
        "a: !!str y\n",
        "a: *x\n",
        "a: |\n  x\n",
        "# ok\r\nb: x\n",
    ],
)
def test_anything_else_is_left_to_the_loader(text: str) -> None:
    assert load_flat(text.encode()) is None


def test_generated_documents_agree_with_the_loader() -> None:
    rnd = random.Random(14)
    pieces = [
        "null", "true", "False", "~", "1.0", "1.0.0", "1e3", ".inf", "yes", "<<", "a b",
        "a  b", "-1", "+x", ":x", "x:", "x: y", "#c", " #c", "'q'", '"q"', '"a\\"b"', "''",
        '""', "a'b", 'a"b', "Dana <d@x>", "(x)", "x,y", "[a]", "{a}", "%x", "@x", "`x", "!x",
        "&x", "*x", "|", ">", "?x", "x\ty", "x\ry",
    ]  # fmt: skip
    keys = ["version", "reason", "a", "on", "null", "x_y", "Key", "true", "reason", "b1"]
    answered = 0
    for _ in range(20_000):
        lines = []
        for _ in range(rnd.randint(0, 6)):
            roll = rnd.random()
            value = rnd.choice(pieces) if rnd.random() < 0.5 else "".join(
                rnd.choice("ab 1.0:#'\"-_~<>@!&*?|,[]{}%`\\/+=$^();yTN") for _ in range(6)
            )  # fmt: skip
            if roll < 0.1:
                lines.append("# " + value)
            elif roll < 0.15:
                lines.append("")
            else:
                lines.append(rnd.choice(keys) + rnd.choice([": ", ":", ":  "]) + value)
        answered += _agrees(("\n".join(lines) + rnd.choice(["\n", ""])).encode())
    assert answered > 300  # the corpus reaches the fast path, not only the fallback
