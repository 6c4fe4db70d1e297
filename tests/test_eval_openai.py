"""`target: {provider: openai}` through the whole evaluation: the real CLI and library, the
evaluation child, and a real chat-completions server on 127.0.0.1 (tests/fake_openai.py).
What is sent, what is judged, the cache and its bypasses, failures as results, the record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry import PromptRegistry
from registry.errors import EvaluationError
from registry.evals.outputs import case_limit
from registry.evals.record import evaluate
from registry.evals.suite import load_suite
from tests.fake_openai import FakeOpenAI, Reply, error_body
from tests.testing import LENIENT_SETTINGS, commit_all, run_cli, write

PID = "hr"
V1 = f"prompts/{PID}/1.0.0.yaml"
SUITE = f"evals/{PID}.yaml"
KEY = "sk-test-eval-0123"
MODEL = (
    "model:\n  name: gpt-4o-mini\n  temperature: 0.2\n  max_tokens: 64\n"
    "  response_format: {type: text}\n"
)
CONTENT = "content: |\n  Context: {context}\n  Question: {query}\n"
CHAT = (
    "messages:\n  - {role: system, content: 'Answer from: {context}'}\n"
    "  - {role: user, content: '{query}'}\n"
)
CASE = (
    "cases:\n  - name: cites\n    vars: {context: section 4.2, query: How many days?}\n"
    "    assert:\n      - {type: contains, value: 'echo:'}\n"
)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_MODEL_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _version(prompt: str = CONTENT, model: str = MODEL) -> str:
    return (
        f'prompt_id: {PID}\nversion: "1.0.0"\ndescription: First\n'
        'author: Dana Reyes <dana@example.com>\ncreated_at: "2026-11-20T10:00:00Z"\n'
        f"{prompt}{model}tested: false\n"
    )


def _target(server: FakeOpenAI) -> str:
    return f"target:\n  provider: openai\n  base_url: {server.url}\n  api_key_env: TEST_MODEL_KEY\n"


def _registry(
    repo: Path, top: str, *, prompt: str = CONTENT, model: str = MODEL, cases: str = CASE
) -> Path:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(repo, V1, _version(prompt, model))
    write(repo, SUITE, f"prompt_id: {PID}\nthreshold: 0.5\n{top}{cases}")
    commit_all(repo, "registry")
    return repo


def _eval(repo: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", "--json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr


# -- what is sent, what is judged -------------------------------------------------------------
def test_a_text_prompt_sends_the_versions_model_block_and_the_key(
    repo: Path, server: FakeOpenAI
) -> None:
    _registry(repo, _target(server))
    code, out, err = _eval(repo, "--no-record")
    assert code == 0, (out, err)
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body == {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 64,
        "response_format": {"type": "text"},
        "messages": [
            {"role": "user", "content": "Context: section 4.2\nQuestion: How many days?\n"}
        ],
    }
    [case] = out["cases"]
    assert case["passed"] is True and case["latency_ms"] > 0


def test_the_models_answer_is_what_the_assertions_judge(repo: Path, server: FakeOpenAI) -> None:
    cases = CASE.replace("{type: contains, value: 'echo:'}", "{type: equals, value: 'echo: x'}")
    _registry(repo, _target(server), cases=cases)
    code, out, _ = _eval(repo, "--no-record")
    assert code == 1
    message = out["cases"][0]["assertions"][0]["message"]
    assert message.startswith("output differs from the expected text at character 6: got 'Context")


def test_a_chat_prompt_sends_its_messages(repo: Path, server: FakeOpenAI) -> None:
    _registry(repo, _target(server), prompt=CHAT, model="model: {name: llama3}\n")
    code, _, err = _eval(repo, "--no-record")
    assert code == 0, err
    assert server.requests[0].body == {
        "model": "llama3",
        "messages": [
            {"role": "system", "content": "Answer from: section 4.2"},
            {"role": "user", "content": "How many days?"},
        ],
    }


def test_the_library_evaluates_against_the_model(repo: Path, server: FakeOpenAI) -> None:
    _registry(repo, _target(server))
    result = PromptRegistry(repo).evaluate(PID, "1.0.0", record=False)
    assert result.passed and result.score == 1.0
    assert result.cases[0].latency_ms is not None
    assert len(server.requests) == 1


# -- the cache and its bypasses ---------------------------------------------------------------
def test_a_second_eval_is_answered_from_the_cache_and_no_cache_asks_again(
    repo: Path, server: FakeOpenAI, _response_cache: Path
) -> None:
    _registry(repo, _target(server))
    assert _eval(repo, "--no-record")[0] == 0
    assert len(server.requests) == 1
    assert list(_response_cache.glob("*/*.json"))
    code, out, _ = _eval(repo, "--no-record")
    assert code == 0 and len(server.requests) == 1  # the cache answered
    assert out["cases"][0]["latency_ms"] > 0  # the original request's latency
    assert _eval(repo, "--no-record", "--no-cache")[0] == 0
    assert len(server.requests) == 2
    evaluate(repo, PID, "1.0.0", record=False, cache=False)
    assert len(server.requests) == 3
    evaluate(repo, PID, "1.0.0", record=False)
    assert len(server.requests) == 3


def test_a_changed_parameter_is_a_new_request(repo: Path, server: FakeOpenAI) -> None:
    _registry(repo, _target(server))
    assert _eval(repo, "--no-record")[0] == 0
    write(repo, V1, _version(model=MODEL.replace("0.2", "0.3")))
    assert _eval(repo, "--no-record")[0] == 0
    assert [r.body["temperature"] for r in server.requests] == [0.2, 0.3]


def test_verify_evaluations_never_reads_the_cache(repo: Path, server: FakeOpenAI) -> None:
    from tests.testing import git

    _registry(repo, _target(server))
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "change")
    assert run_cli("-C", str(repo), "eval", PID, "1.0.0").returncode == 0
    commit_all(repo, "record the evaluation")
    assert len(server.requests) == 1  # the answer is cached now
    proc = run_cli("-C", str(repo), "check", "--base", base, "--verify-evaluations")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(server.requests) == 2  # the CI re-run asked the model again


# -- failures are results ---------------------------------------------------------------------
def test_a_429_is_retried_and_the_case_passes(repo: Path, server: FakeOpenAI) -> None:
    server.script(Reply(429, error_body("slow down"), {"Retry-After": "0"}))
    _registry(repo, _target(server))
    code, out, _ = _eval(repo, "--no-record")
    assert code == 0 and out["cases"][0]["passed"] is True
    assert len(server.requests) == 2


def test_a_server_error_fails_the_case_naming_the_target_and_status(
    repo: Path, server: FakeOpenAI
) -> None:
    busy = Reply(500, error_body("model overloaded"), {"Retry-After": "0"})
    server.script(busy, busy, busy, busy)
    _registry(repo, _target(server))
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    label = f"openai@127.0.0.1:{server.port}"
    assert (
        f"target {label}: HTTP 500 Internal Server Error after 4 attempts: model overloaded"
        in proc.stdout
    )
    assert "FAIL" in proc.stdout and "tested: false" in (repo / V1).read_text()
    assert len(server.requests) == 4


def test_a_slow_reply_fails_the_case_after_the_suites_timeout(
    repo: Path, server: FakeOpenAI
) -> None:
    server.script(Reply(delay=5.0))
    _registry(repo, "timeout: 0.5\n" + _target(server))
    code, out, _ = _eval(repo, "--no-record")
    assert code == 1
    assert "no reply within 0.5 s (timeout)" in out["cases"][0]["error"]
    assert out["cases"][0]["error"].startswith(f"target openai@127.0.0.1:{server.port}: ")


def test_a_malformed_reply_fails_the_case(repo: Path, server: FakeOpenAI) -> None:
    server.script(Reply(200, b"<html>gateway</html>"))
    _registry(repo, _target(server))
    code, out, _ = _eval(repo, "--no-record")
    assert code == 1
    assert "HTTP 200, but the reply is not JSON: <html>gateway</html>" in out["cases"][0]["error"]


def test_a_refused_connection_fails_the_case(repo: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _registry(repo, f"target: {{provider: openai, base_url: 'http://127.0.0.1:{port}/v1'}}\n")
    code, out, _ = _eval(repo, "--no-record")
    assert code == 1
    assert out["cases"][0]["error"].startswith(f"target openai@127.0.0.1:{port}: cannot connect")


def test_one_failed_case_does_not_stop_the_others(repo: Path, server: FakeOpenAI) -> None:
    server.script(Reply(400, error_body("bad request")))
    second = CASE.replace("cases:\n", "").replace("name: cites", "name: second")
    _registry(repo, _target(server), cases=CASE + second)
    # One case at a time, so the scripted failure is the first case's answer.
    code, out, _ = _eval(repo, "--no-record", "--jobs", "1")
    # The score reaches the threshold (0.5), but a case that could not be run fails the run.
    assert code == 1 and out["score"] == 0.5 and out["passed"] is False
    assert [c["passed"] for c in out["cases"]] == [False, True]
    assert "HTTP 400 Bad Request: bad request" in out["cases"][0]["error"]


def test_an_unset_key_stops_the_run_before_any_request(repo: Path) -> None:
    target = "target: {provider: openai, base_url: 'https://llm.example.invalid/v1'}\n"
    _registry(repo, target)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert (
        f"{SUITE}:3: target openai@llm.example.invalid: $OPENAI_API_KEY is not set" in proc.stderr
    )
    assert proc.stdout == ""


def test_a_version_without_a_model_name_stops_the_run(repo: Path, server: FakeOpenAI) -> None:
    _registry(repo, _target(server), model="model: {temperature: 0}\n")
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{V1} has no model.name" in proc.stderr
    assert server.requests == []


def test_a_bad_openai_base_url_in_the_environment_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8000")
    _registry(repo, "target: {provider: openai}\n")
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{SUITE}:3: target.base_url: not given, and $OPENAI_BASE_URL" in proc.stderr


def test_a_case_may_take_every_retry_of_its_requests(tmp_path: Path, server: FakeOpenAI) -> None:
    def limit(top: str, asserts: str = "") -> float:
        path = write(
            tmp_path, SUITE, f"prompt_id: {PID}\nthreshold: 1\ntimeout: 10\n{top}{CASE}{asserts}"
        )
        return case_limit(load_suite(path, SUITE))

    judge = "judge: {provider: openai, model: m}\n"
    rubric = "      - {type: llm_rubric, value: polite}\n"
    assert limit("") == 10
    assert limit(judge) == 10  # a judge without llm_rubric makes no request
    one = limit(_target(server))
    assert one > 4 * 10 + 3 * 8  # every attempt's waits and the backoffs between them
    assert limit(_target(server) + judge, rubric) == 10 + 2 * (one - 10)


# -- the record ---------------------------------------------------------------------------------
def test_the_record_names_the_target_host_and_the_judge(repo: Path, server: FakeOpenAI) -> None:
    server.answer = lambda body: (
        json.dumps({"pass": True, "score": 1, "reason": "fine"})
        if body.get("model") == "judge-model"
        else "echo"
    )
    top = (
        _target(server)
        + f"judge: {{provider: openai, base_url: '{server.url}', model: judge-model}}\n"
    )
    cases = CASE + "      - {type: llm_rubric, value: Says echo}\n"
    _registry(repo, top, cases=cases)
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / V1).read_text()
    assert f'  target: "openai@127.0.0.1:{server.port}"\n  judge: "judge-model"\n' in text
    evaluation = PromptRegistry(repo).read_version(PID, "1.0.0").evaluation
    assert evaluation is not None
    assert (evaluation.target, evaluation.judge) == (
        f"openai@127.0.0.1:{server.port}",
        "judge-model",
    )
    assert run_cli("-C", str(repo), "check").returncode == 0


def test_a_hook_target_is_recorded_as_module_function(repo: Path) -> None:
    write(repo, "answers.py", "def answer(rendered, case):\n    return 'echo: ' + rendered\n")
    _registry(repo, "target: answers:answer\n")
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '  target: "answers:answer"\n' in (repo / V1).read_text()
    assert "judge:" not in (repo / V1).read_text()


def test_without_a_target_the_record_names_none(repo: Path) -> None:
    # A judge that no llm_rubric assertion calls is not named either.
    _registry(
        repo, "judge: {provider: openai, model: m}\n", cases=CASE.replace("'echo:'", "'Question:'")
    )
    assert run_cli("-C", str(repo), "eval", PID, "1.0.0").returncode == 0
    evaluation = PromptRegistry(repo).read_version(PID, "1.0.0").evaluation
    assert evaluation is not None and (evaluation.target, evaluation.judge) == (None, None)


# -- check ------------------------------------------------------------------------------------
def _check(repo: Path) -> list[dict[str, Any]]:
    proc = run_cli("-C", str(repo), "check", "--format", "json")
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else []


def test_check_names_a_target_or_judge_problem_at_its_line(repo: Path) -> None:
    top = (
        "target:\n  provider: openai\n  base_url: 'https://me:pw@llm.example.com/v1'\n"
        "judge: {provider: openai, model: m, base_url: 'https://llm.example.com/v1?x=1'}\n"
    )
    _registry(repo, top)
    problems = [(p["path"], p["line"], p["message"]) for p in _check(repo)]
    assert problems == [
        (SUITE, 5, "target.base_url: must not contain credentials; name the variable holding the key in api_key_env"),
        (SUITE, 6, "judge.base_url: must not have a query or fragment, got 'https://llm.example.com/v1?x=1'"),
    ]  # fmt: skip


def test_check_names_an_llm_rubric_without_a_judge(repo: Path) -> None:
    _registry(repo, "", cases=CASE + "      - {type: llm_rubric, value: polite}\n")
    [problem] = _check(repo)
    assert (problem["path"], problem["line"]) == (SUITE, 8)
    assert "an llm_rubric assertion needs the suite's judge model" in problem["message"]


def test_check_reads_no_environment_for_a_target(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "not a url")
    monkeypatch.delenv("TEST_MODEL_KEY")
    _registry(repo, "target: {provider: openai, api_key_env: TEST_MODEL_KEY}\n")
    assert _check(repo) == []


def test_load_suite_refuses_what_check_refuses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SUITE,
        f"prompt_id: {PID}\nthreshold: 1\ntarget: {{provider: vllm}}\n{CASE}",
    )
    with pytest.raises(EvaluationError, match=r"^evals/hr\.yaml:3: target\.provider: unknown"):
        load_suite(path, SUITE)


def test_a_failed_request_exits_1_without_a_traceback_from_a_real_interpreter(
    repo: Path, server: FakeOpenAI
) -> None:
    server.script(*[Reply(503, error_body("warming up"), {"Retry-After": "0"})] * 4)
    _registry(repo, _target(server))
    proc = run_cli("-C", str(repo), "eval", PID, "1.0.0", real=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "HTTP 503 Service Unavailable after 4 attempts: warming up" in proc.stdout
