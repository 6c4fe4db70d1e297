"""Record an evaluation in a human-written version file, leaving every other byte as it was.

The edit is targeted, not a re-dump: the file is parsed for positions only, the values of
``tested``, ``evaluation_score`` and ``evaluation`` are replaced where they stand (missing
ones are appended after the last field), and every other character is copied through, so
comments, key order, quoting, block scalars, blank lines and line endings survive. A
round-trip dumper would re-indent sequences and re-space flow mappings; this cannot.

The result is read back with the hardened loader and compared with the original before it is
returned, so a file promptreg cannot read back identically is never written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import yaml

from registry.errors import LoadError
from registry.errors import YamlEditError as YamlEditError  # re-exported
from registry.yamlio.edit_plan import Edit, Planner, same

EVALUATION_FIELDS = ("tested", "evaluation_score", "evaluation")


def set_evaluation_fields(
    text: str,
    tested: bool,
    evaluation_score: float | None,
    evaluation: Mapping[str, Any] | None,
    path: str,
) -> str:
    """The file ``text`` with ``tested``, ``evaluation_score`` and ``evaluation`` set.

    Existing fields are updated in place; missing ones are appended after the last field
    (a None value that is absent stays absent). Strings are written double-quoted so they
    stay strings. Raises YamlError when ``text`` is refused by the hardened loader and
    YamlEditError when the edit cannot be made or would change any other field.
    """
    from registry.yamlio.load import load_yaml_bytes

    desired: dict[str, Any] = {
        "tested": tested,
        "evaluation_score": evaluation_score,
        "evaluation": None if evaluation is None else dict(evaluation),
    }
    _check_values(desired, path)
    before = load_yaml_bytes(_encode(text, path), path)
    # The pure-Python parser, for positions: its marks are character offsets into ``text``.
    # The hardened load above already bounded the size and nesting it will see.
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise YamlEditError(f"cannot locate the fields to edit: {exc}", path) from None
    finally:
        loader.dispose()
    new_text = _apply(text, Planner(text, path).plan(root, desired, before.data), path)
    try:
        after = load_yaml_bytes(_encode(new_text, path), path)
    except LoadError as exc:
        raise YamlEditError(
            f"setting the evaluation fields produced YAML that does not load ({exc});"
            " the file was left unchanged (please report this)",
            path,
        ) from None
    _verify(before.data, after.data, desired, path)
    return new_text


def _encode(text: str, path: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise YamlEditError(f"the text cannot be encoded as UTF-8 ({exc.reason})", path) from None


# --- scalars ------------------------------------------------------------------------------


def _check_values(desired: dict[str, Any], path: str) -> None:
    if not isinstance(desired["tested"], bool):
        raise YamlEditError("'tested' must be true or false", path)
    score = desired["evaluation_score"]
    if score is not None and not _is_number(score):
        raise YamlEditError(f"'evaluation_score' must be a finite number, got {score!r}", path)
    for key, value in (desired["evaluation"] or {}).items():
        if not (isinstance(key, str) and key.isidentifier()):
            raise YamlEditError(f"evaluation field name {key!r} is not a plain name", path)
        if not (value is None or isinstance(value, str | bool) or _is_number(value)):
            raise YamlEditError(f"evaluation field {key!r} has unsupported value {value!r}", path)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _apply(text: str, edits: list[Edit], path: str) -> str:
    """Apply non-overlapping edits; at one offset, earlier edits come first."""
    out: list[str] = []
    done = 0
    for _, (start, end, new) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[0])):
        if start < done:
            raise YamlEditError("overlapping edits (please report this)", path)
        out.append(text[done:start])
        out.append(new)
        done = end
    out.append(text[done:])
    return "".join(out)


# --- verification -------------------------------------------------------------------------


def _verify(
    before: dict[str, Any], after: dict[str, Any], desired: dict[str, Any], path: str
) -> None:
    others_before = [k for k in before if k not in EVALUATION_FIELDS]
    others_after = [k for k in after if k not in EVALUATION_FIELDS]
    changed = [k for k in others_before if k not in after or not same(before[k], after[k])]
    if others_before != others_after or changed:
        what = ", ".join(changed) or "the order of the fields"
        raise YamlEditError(
            f"setting the evaluation fields would also change {what};"
            " the file was left unchanged (please report this)",
            path,
        )
    for key, value in desired.items():
        if not same(after.get(key), value):
            raise YamlEditError(
                f"{key} reads back as {after.get(key)!r}, not {value!r};"
                " the file was left unchanged (please report this)",
                path,
            )
