"""``weakenings(before, after)``: what makes a suite weaker, from literal suites."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from registry.check.weakened import weakenings

BASE: dict[str, Any] = {
    "prompt_id": "greet",
    "threshold": 0.85,
    "cases": [
        {
            "name": "cites",
            "vars": {"context": "section 4.2", "query": "How many days?"},
            "assert": [
                {"type": "contains", "value": "section 4.2"},
                {"type": "min_length", "value": 10},
                {"type": "max_length", "value": 4000},
                {"type": "python", "value": "checks:cites", "weight": 2},
            ],
        },
        {"name": "polite", "assert": [{"type": "not_contains", "value": "As an AI"}]},
    ],
}


def _edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    suite = copy.deepcopy(BASE)
    change(suite)
    return suite


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(suite: dict[str, Any]) -> None:
        here: Any = suite
        for key in path[:-1]:
            here = here[key]
        if value is _DELETE:
            del here[path[-1]]
        elif isinstance(here, list) and path[-1] == len(here):
            here.append(value)
        else:
            here[path[-1]] = value

    return change


_DELETE = object()
A = ("cases", 0, "assert")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(("threshold",), 0.5), "threshold lowered from 0.85 to 0.5"),
        (_set(("tolerance",), 0.1), "tolerance raised from 0.0 to 0.1"),
        (_set(("cases", 1), _DELETE), 'case "polite" removed'),
        (_set(("cases", 1, "name"), "kind"), 'case "polite" removed'),
        (_set((*A, 0), _DELETE), 'case "cites": assertion contains "section 4.2" removed'),
        (_set((*A, 0, "value"), "section"), 'assertion contains "section 4.2" removed or loosened'),
        (_set((*A, 1, "value"), 5), "assertion min_length 10 removed or loosened"),
        (_set((*A, 2, "value"), 5000), "assertion max_length 4000 removed or loosened"),
        (_set((*A, 3, "weight"), 1), 'assertion python "checks:cites" removed or loosened'),
        (_set((*A, 3, "value"), "checks:yes"), 'python "checks:cites" removed or loosened'),
        (_set((*A, 0, "type"), "not_contains"), "contains"),
        (_set(("cases", 0, "vars", "context"), "x"), 'case "cites": input context changed'),
        (_set(("cases", 0, "vars"), _DELETE), "input context changed or removed"),
        (_set(("target",), "stub:answer"), 'target changed from null to "stub:answer"'),
        (_set(("judge",), {"model": "x"}), "judge changed"),
    ],
)
def test_weaker(change: Callable[[dict[str, Any]], None], expected: str) -> None:
    found = weakenings(BASE, _edit(change))
    assert any(expected in w for w in found), found


@pytest.mark.parametrize(
    "change",
    [
        _set(("threshold",), 0.9),
        _set(("tolerance",), 0.0),
        _set(("description",), "what this covers"),
        _set((*A, 1, "value"), 20),
        _set((*A, 2, "value"), 100),
        _set((*A, 3, "weight"), 2.0),  # the same number
        _set((*A, 0, "description"), "a note"),
        _set(("cases", 0, "vars", "extra"), "a new placeholder's value"),
        _set(("cases", 2), {"name": "more", "assert": [{"type": "is_json"}]}),
        _set((*A, 4), {"type": "regex", "value": "x"}),
        lambda s: s["cases"].reverse(),
        lambda s: s["cases"][0]["assert"].reverse(),
    ],
)
def test_not_weaker(change: Callable[[dict[str, Any]], None]) -> None:
    assert weakenings(BASE, _edit(change)) == []


def test_default_assert_removed_or_loosened() -> None:
    before = {**BASE, "default_assert": [{"type": "max_length", "value": 100}]}
    assert weakenings(before, BASE) == [
        "default_assert: assertion max_length 100 removed or loosened"
    ]
    looser = {**BASE, "default_assert": [{"type": "max_length", "value": 200}]}
    assert weakenings(before, looser) == [
        "default_assert: assertion max_length 100 removed or loosened"
    ]
    assert weakenings(looser, before) == []


@pytest.mark.parametrize(
    ("old", "new", "weaker"),
    [
        ({"type": "latency_ms", "value": 500}, {"type": "latency_ms", "value": 800}, True),
        ({"type": "latency_ms", "value": 500}, {"type": "latency_ms", "value": 300}, False),
        ({"type": "contains_all", "value": ["a", "b"]}, {"type": "contains_all", "value": ["a"]}, True),
        ({"type": "contains_all", "value": ["a"]}, {"type": "contains_all", "value": ["b", "a"]}, False),
        ({"type": "contains_any", "value": ["a"]}, {"type": "contains_any", "value": ["a", "b"]}, True),
        ({"type": "contains_any", "value": ["a", "b"]}, {"type": "contains_any", "value": ["b"]}, False),
        ({"type": "json_schema", "value": {"type": "object"}}, {"type": "json_schema", "value": True}, True),
    ],
)  # fmt: skip
def test_new_assertion_types_loosened_or_tightened(
    old: dict[str, Any], new: dict[str, Any], weaker: bool
) -> None:
    before, after = {**BASE, "default_assert": [old]}, {**BASE, "default_assert": [new]}
    assert bool(weakenings(before, after)) is weaker


def test_values_equal_in_python_are_still_different() -> None:
    before = _edit(_set((*A, 0), {"type": "equals", "value": "1"}))
    assert weakenings(before, _edit(_set((*A, 0), {"type": "equals", "value": "1"}))) == []
    target = _edit(_set(("target",), 1))
    assert weakenings(target, _edit(_set(("target",), True))) == ["target changed from 1 to true"]


def test_a_duplicated_assertion_stands_for_one() -> None:
    twice = _edit(
        lambda s: s["cases"][1]["assert"].append({"type": "not_contains", "value": "As an AI"})
    )
    assert weakenings(twice, BASE) == [
        'case "polite": assertion not_contains "As an AI" removed or loosened'
    ]
