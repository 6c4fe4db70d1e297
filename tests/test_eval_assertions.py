"""The assertions named like promptfoo's (icontains, starts_with, contains_any, contains_all,
json_schema, latency_ms): each passes and fails on real outputs, through the real evaluation
child, and check refuses what would be ignored or cannot be applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.errors import EvaluationError
from registry.evals.suite import load_suite
from registry.models import PromptVersion
from tests.test_evaluate import JSON_PROMPT, one_case, run, write_module, write_suite


@pytest.mark.parametrize(
    ("assertion", "passed", "message"),
    [
        ('{type: icontains, value: "LEAVE POLICY"}', True, ""),
        ('{type: icontains, value: "sick leave"}', False, "does not contain 'sick leave' (ignoring case)"),
        ('{type: starts_with, value: "Context: Leave"}', True, ""),
        ('{type: starts_with, value: "Question"}', False, "starts with 'Context:', not 'Question'"),
        ('{type: contains_any, value: ["nope", "4.2"]}', True, ""),
        ('{type: contains_any, value: ["nope", "never"]}', False, "contains none of 'nope', 'never'"),
        ('{type: contains_all, value: ["4.2", "days"]}', True, ""),
        ('{type: contains_all, value: ["4.2", "weeks", "hours"]}', False, "does not contain 'weeks', 'hours'"),
    ],
)  # fmt: skip
def test_text_assertions(tmp_path: Path, assertion: str, passed: bool, message: str) -> None:
    res = run(tmp_path, one_case(assertion))
    [a] = res.cases[0].assertions
    assert (a.passed, a.score) == (passed, 1.0 if passed else 0.0)
    assert message in a.message and (passed or message)


SCHEMA = (
    "{type: json_schema, value: {type: object, required: [answer],"
    " properties: {answer: {type: string, minLength: 5}}}}"
)


@pytest.mark.parametrize(
    ("query", "passed", "message"),
    [
        ("How many days?", True, ""),
        ("Hi", False, "output does not match the json_schema at ['answer']: 'Hi' is too short"),
        ('x", "y', False, "output is not JSON"),
    ],
)
def test_json_schema(tmp_path: Path, query: str, passed: bool, message: str) -> None:
    res = run(tmp_path, one_case(SCHEMA, vars=f"{{query: '{query}'}}"), JSON_PROMPT)
    [a] = res.cases[0].assertions
    assert a.passed is passed and message in a.message


def test_json_schema_refs_resolve_inside_the_schema_only(tmp_path: Path) -> None:
    local = (
        "{type: json_schema, value: {definitions: {s: {type: string}},"
        " properties: {answer: {$ref: '#/definitions/s'}}}}"
    )
    remote = "{type: json_schema, value: {$ref: 'http://127.0.0.1:9/schema.json'}}"
    res = run(tmp_path, one_case(f"{local}\n{remote}", vars="{query: q}"), JSON_PROMPT)
    ok, refused = res.cases[0].assertions
    assert ok.passed
    assert not refused.passed and "cannot be applied" in refused.message


def test_an_invalid_inline_schema_is_refused_before_the_run(tmp_path: Path) -> None:
    path = write_suite(tmp_path, one_case("{type: json_schema, value: {type: 12}}"))
    with pytest.raises(EvaluationError, match=r"evals/hr.yaml:7: .*json_schema value\['type'\]"):
        load_suite(path, "evals/hr.yaml")


SLOW = """
import time

def answer(rendered, case):
    time.sleep(float(case["vars"]["sleep"]))
    return "done"
"""


def test_latency_ms_times_the_hook_target(tmp_path: Path) -> None:
    write_module(tmp_path, "slow", SLOW)
    body = (
        "prompt_id: hr\nthreshold: 0.5\ntarget: slow:answer\n"
        "default_assert: [{type: latency_ms, value: 150}]\ncases:\n"
        "  - {name: fast, vars: {sleep: '0'}}\n  - {name: slow, vars: {sleep: '0.3'}}\n"
    )
    res = run(tmp_path, body, PromptVersion("hr", "1.0.0", content="Wait {sleep} s"))
    fast, slow = (c.assertions[0] for c in res.cases)
    assert fast.passed and not slow.passed
    took = int(slow.message.split("took ")[1].split(" ms")[0])
    assert 300 <= took < 3000 and "more than 150 ms" in slow.message


def test_latency_ms_without_a_target_is_refused(tmp_path: Path) -> None:
    path = write_suite(tmp_path, one_case("{type: latency_ms, value: 100}"))
    with pytest.raises(EvaluationError, match="latency_ms needs a target"):
        load_suite(path, "evals/hr.yaml")
