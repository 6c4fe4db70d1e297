"""Whether a suite got weaker between two states: what a change could do to make a failing
version pass without improving it. Pure: it compares two decoded suite mappings.

Structural only, and on the strict side: anything that can raise a score for the same output
counts (a lower threshold, a higher tolerance, a removed case or assertion, a looser length
limit, an edited assertion value or weight, a case's inputs changed, another target or judge).
Added cases and assertions do not count: a suite grows by them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# Top-level fields compared one by one below; any other field that changes (``target``,
# ``judge``, ``cases_file``...) counts as weakening, since its effect cannot be read off the file.
_COMPARED = frozenset({"prompt_id", "threshold", "tolerance", "cases", "default_assert"})
_NOT_CRITERIA = frozenset({"description"})


def weakenings(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Each way ``after`` is weaker than ``before``, in words (empty: not weaker)."""
    found: list[str] = []
    found += _number_went(before, after, "threshold", 0.0, lower=True)
    found += _number_went(before, after, "tolerance", 0.0, lower=False)
    for key in sorted((set(before) | set(after)) - _COMPARED - _NOT_CRITERIA):
        if _canon(before.get(key)) != _canon(after.get(key)):  # added, removed or edited
            found.append(
                f"{key} changed from {_shown(before.get(key))} to {_shown(after.get(key))}"
            )
    found += [
        f"default_assert: {w}"
        for w in _assertions_weakened(
            _list(before, "default_assert"), _list(after, "default_assert")
        )
    ]
    found += _cases_weakened(_list(before, "cases"), _list(after, "cases"))
    return found


def _number_went(
    before: Mapping[str, Any], after: Mapping[str, Any], key: str, default: float, *, lower: bool
) -> list[str]:
    old, new = _number(before.get(key, default)), _number(after.get(key, default))
    if old is not None and new is not None and (new < old if lower else new > old):
        way = "lowered" if lower else "raised"
        return [
            f"{key} {way} from {_shown(before.get(key, default))} to {_shown(after.get(key, default))}"
        ]
    return []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return list(value) if isinstance(value, list) else []


def _cases_weakened(before: Sequence[Any], after: Sequence[Any]) -> list[str]:
    by_name = {c.get("name"): c for c in after if isinstance(c, Mapping)}
    found: list[str] = []
    for case in before:
        if not isinstance(case, Mapping):
            continue
        name = case.get("name")
        now = by_name.get(name)
        if now is None:
            found.append(f"case {_shown(name)} removed")
            continue
        old_vars, new_vars = _mapping(case.get("vars")), _mapping(now.get("vars"))
        for var in sorted(old_vars, key=str):
            if var not in new_vars or _canon(old_vars[var]) != _canon(new_vars[var]):
                found.append(f"case {_shown(name)}: input {var} changed or removed")
        found += [
            f"case {_shown(name)}: {w}"
            for w in _assertions_weakened(_list(case, "assert"), _list(now, "assert"))
        ]
    return found


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _assertions_weakened(before: Sequence[Any], after: Sequence[Any]) -> list[str]:
    """Each assertion of ``before`` without an at-least-as-strict one in ``after`` (each
    assertion of ``after`` stands for one of ``before`` at most)."""
    unused = [a for a in after if isinstance(a, Mapping)]
    found: list[str] = []
    for old in before:
        if not isinstance(old, Mapping):
            continue
        match = next((a for a in unused if _as_strict(old, a)), None)
        if match is None:
            found.append(f"assertion {_describe(old)} removed or loosened")
        else:
            unused.remove(match)
    return found


def _as_strict(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if old.get("type") != new.get("type"):
        return False
    if _number(old.get("weight", 1)) != _number(new.get("weight", 1)):
        return False  # either way can raise the score: the weights are relative
    kind, a, b = old.get("type"), _number(old.get("value")), _number(new.get("value"))
    if kind in ("min_length", "max_length", "latency_ms") and a is not None and b is not None:
        return b >= a if kind == "min_length" else b <= a
    if kind in ("contains_any", "contains_all"):
        return _texts_as_strict(kind, old.get("value"), new.get("value"))
    return _canon(old.get("value")) == _canon(new.get("value"))


def _texts_as_strict(kind: str, old: Any, new: Any) -> bool:
    """contains_all with more texts, or contains_any with fewer, asks at least as much."""
    if not (isinstance(old, list) and isinstance(new, list)):
        return _canon(old) == _canon(new)
    before, after = {_canon(v) for v in old}, {_canon(v) for v in new}
    return after >= before if kind == "contains_all" else bool(after) and after <= before


def _describe(assertion: Mapping[str, Any]) -> str:
    value = assertion.get("value")
    kind = str(assertion.get("type"))
    return kind if value is None else f"{kind} {_shown(value)}"


def _canon(value: Any) -> str:
    """One spelling per value, so ``1`` and ``true`` (equal in Python) stay different."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def _shown(value: Any, limit: int = 40) -> str:
    text = _canon(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
