"""`llm_rubric`: the suite's judge model grades the output through a real chat-completions
server on 127.0.0.1; its verdict's score counts, its reason is reported, a malformed reply
fails the assertion."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from registry.evals.rubric import SYSTEM, parse_verdict
from tests.fake_openai import FakeOpenAI, Reply, error_body
from tests.testing import LENIENT_SETTINGS, commit_all, run_cli, write

PID = "hr"
V1 = f"prompts/{PID}/1.0.0.yaml"
SUITE = f"evals/{PID}.yaml"
JUDGE_MODEL = "judge-model"
RUBRIC = "Cites section 4.2 and invents no number"
VERSION = (
    f'prompt_id: {PID}\nversion: "1.0.0"\ndescription: First\n'
    'author: Dana Reyes <dana@example.com>\ncreated_at: "2026-11-20T10:00:00Z"\n'
    "content: |\n  Context: {context}\n  Question: {query}\nmodel: {name: gpt-4o-mini}\n"
    "tested: false\n"
)
CASES = (
    "cases:\n  - name: cites\n    vars: {context: section 4.2, query: How many days?}\n"
    "    assert:\n      - {type: contains, value: 'echo:'}\n"
    f"      - {{type: llm_rubric, value: '{RUBRIC}'}}\n"
)


class Judge:
    """The fake server's answers: the judge's model gets ``verdict``, the target an echo."""

    def __init__(self) -> None:
        self.verdict: str = json.dumps({"pass": True, "score": 0.6, "reason": "cites it"})

    def __call__(self, body: Mapping[str, Any]) -> str:
        if body.get("model") == JUDGE_MODEL:
            return self.verdict
        return f"echo: {body['messages'][-1]['content']}"


@pytest.fixture
def judge() -> Judge:
    return Judge()


@pytest.fixture
def server(judge: Judge) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(answer=judge) as s:
        yield s


def _registry(repo: Path, server: FakeOpenAI, *, target: bool = True, key_env: str = "") -> None:
    top = f"target: {{provider: openai, base_url: '{server.url}'}}\n" if target else ""
    env = f", api_key_env: {key_env}" if key_env else ""
    top += f"judge: {{provider: openai, base_url: '{server.url}', model: {JUDGE_MODEL}{env}}}\n"
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, VERSION)
    write(repo, SUITE, f"prompt_id: {PID}\nthreshold: 0.7\n{top}{CASES}")
    commit_all(repo, "registry")


def _eval(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--json", "--no-record", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _rubric(out: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = out["cases"][0]["assertions"][1]
    return result


def _judge_requests(server: FakeOpenAI) -> list[Any]:
    return [r.body for r in server.requests if r.body["model"] == JUDGE_MODEL]


def test_the_judge_grades_the_models_answer_and_its_score_counts(
    repo: Path, server: FakeOpenAI
) -> None:
    _registry(repo, server)
    code, out = _eval(repo)
    assert code == 0
    assert out["score"] == 0.8  # contains 1.0 and the judge's 0.6
    assert _rubric(out) == {
        "type": "llm_rubric",
        "passed": True,
        "score": 0.6,
        "message": f"judge {JUDGE_MODEL}: cites it",
    }
    [body] = _judge_requests(server)
    answer = "echo: Context: section 4.2\nQuestion: How many days?\n"
    assert body == {
        "model": JUDGE_MODEL,
        "temperature": 0,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": f"<Output>\n{answer}\n</Output>\n<Rubric>\n{RUBRIC}\n</Rubric>",
            },
        ],
    }
    assert "response_format" not in body


def test_a_failing_verdict_fails_the_assertion_with_its_reason(
    repo: Path, server: FakeOpenAI, judge: Judge
) -> None:
    judge.verdict = json.dumps({"pass": False, "score": 0.2, "reason": "no section cited"})
    _registry(repo, server)
    code, out = _eval(repo)
    assert code == 1 and out["score"] == 0.6
    assert _rubric(out)["passed"] is False
    assert _rubric(out)["message"] == f"judge {JUDGE_MODEL}: no section cited"
    assert out["cases"][0]["passed"] is False


def test_the_reason_shows_in_the_table(repo: Path, server: FakeOpenAI, judge: Judge) -> None:
    judge.verdict = json.dumps({"pass": False, "score": 0, "reason": "no section cited"})
    _registry(repo, server)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--no-record")
    assert proc.returncode == 1
    assert f"judge {JUDGE_MODEL}: no section cited" in proc.stdout


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("I think it passes.", "the reply is not a JSON object: 'I think it passes.'"),
        ('["pass"]', """the reply is not a JSON object: '["pass"]'"""),
        ('{"pass": "yes", "score": 1, "reason": "ok"}', '"pass" must be true or false, got \'"yes"\''),
        ('{"pass": true, "reason": "ok"}', '"score" must be a number from 0 to 1, got nothing'),
        ('{"pass": true, "score": 7, "reason": "ok"}', '"score" must be a number from 0 to 1, got 7'),
        ('{"pass": true, "score": true, "reason": "ok"}', '"score" must be a number from 0 to 1, got \'true\''),
        ('{"pass": true, "score": 1}', '"reason" must be text, got nothing'),
    ],
    ids=["prose", "array", "pass-string", "no-score", "score-7", "score-bool", "no-reason"],
)  # fmt: skip
def test_a_malformed_verdict_fails_the_assertion_saying_why(
    repo: Path, server: FakeOpenAI, judge: Judge, reply: str, why: str
) -> None:
    judge.verdict = reply
    _registry(repo, server)
    code, out = _eval(repo)
    assert code == 1
    assert _rubric(out) == {
        "type": "llm_rubric",
        "passed": False,
        "score": 0.0,
        "message": f"the judge {JUDGE_MODEL} gave no usable verdict: {why}",
    }


@pytest.mark.parametrize(
    "reply",
    [
        '```json\n{"pass": true, "score": 1, "reason": "ok"}\n```',
        'Verdict: {"reason": "ok", "pass": true, "score": 1.0} -- done',
        ' {"pass": true, "score": 1, "reason": "ok", "extra": 1}\n',
    ],
    ids=["fenced", "prose-around", "extra-key"],
)
def test_a_verdict_in_a_fence_or_in_prose_is_read(reply: str) -> None:
    assert parse_verdict(reply) == (True, 1.0, "ok")


def test_a_judge_request_that_fails_fails_the_assertion(repo: Path, server: FakeOpenAI) -> None:
    _registry(repo, server, target=False)
    server.script(Reply(401, error_body("invalid key")))  # the judge's request, the only one
    code, out = _eval(repo)
    assert code == 1 and out["cases"][0]["error"] is None
    label = f"openai@127.0.0.1:{server.port}"
    assert _rubric(out)["message"] == (
        f"the judge's request failed: {label}: HTTP 401 Unauthorized: invalid key"
    )


def test_without_a_target_the_judge_grades_the_rendered_prompt(
    repo: Path, server: FakeOpenAI
) -> None:
    _registry(repo, server, target=False)
    _eval(repo)
    [body] = _judge_requests(server)
    assert (
        "<Output>\nContext: section 4.2\nQuestion: How many days?\n\n</Output>"
        in (body["messages"][1]["content"])
    )


def test_judge_answers_are_cached_and_no_cache_asks_again(repo: Path, server: FakeOpenAI) -> None:
    _registry(repo, server)
    _eval(repo)
    assert len(_judge_requests(server)) == 1
    assert _eval(repo)[0] == 0
    assert len(server.requests) == 2  # target and judge, once
    _eval(repo, "--no-cache")
    assert len(_judge_requests(server)) == 2


def test_an_unset_judge_key_stops_the_run_before_any_case(repo: Path) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, VERSION)
    top = "judge: {provider: openai, model: m, base_url: 'https://judge.example.invalid/v1', api_key_env: JUDGE_KEY}\n"
    write(repo, SUITE, f"prompt_id: {PID}\nthreshold: 0.7\n{top}{CASES}")
    commit_all(repo, "registry")
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{SUITE}:3: judge openai@judge.example.invalid: $JUDGE_KEY is not set" in proc.stderr
