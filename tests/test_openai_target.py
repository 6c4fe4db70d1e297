"""The openai target's client against a real OpenAI-compatible HTTP server on 127.0.0.1
(tests/fake_openai.py): what is sent, what comes back, retries, failures and threads."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from registry.errors import EvaluationError, ModelCallError
from registry.evals.providers.config import OpenAIConfig, decode_config
from registry.evals.providers.openai import OpenAIClient
from registry.evals.providers.retry import RetryPolicy
from tests.fake_openai import FakeOpenAI, Reply, completion, error_body, judge_completion

KEY = "sk-test-0123456789"
ENV = {"TEST_OPENAI_KEY": KEY}
FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02)
MODEL = {
    "name": "gpt-4o-mini",
    "temperature": 0.2,
    "max_tokens": 256,
    "response_format": {"type": "json_object"},
}
CHAT = [
    {"role": "system", "content": "Answer about leave."},
    {"role": "user", "content": "How many days?"},
]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


def _config(server: FakeOpenAI, timeout: float = 10.0) -> OpenAIConfig:
    raw = {"provider": "openai", "base_url": server.url, "api_key_env": "TEST_OPENAI_KEY"}
    return decode_config(raw, timeout=timeout, environ={})


def _client(server: FakeOpenAI, timeout: float = 10.0) -> OpenAIClient:
    return OpenAIClient(_config(server, timeout), environ=ENV, retry=FAST)


# -- what is sent ----------------------------------------------------------------------------
def test_a_text_prompt_is_one_user_message_with_the_model_block_as_parameters(
    server: FakeOpenAI,
) -> None:
    with _client(server) as client:
        got = client.complete(MODEL, "Question: how many days?")
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 256,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "user", "content": "Question: how many days?"}],
    }
    assert got.text == "echo: Question: how many days?"
    assert got.usage == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    assert got.latency_ms > 0
    assert got.cached is False


def test_a_chat_prompt_sends_its_messages_in_order(server: FakeOpenAI) -> None:
    with _client(server) as client:
        got = client.complete({"name": "llama3"}, CHAT)
    assert server.requests[0].body == {"model": "llama3", "messages": CHAT}
    assert got.text == "echo: How many days?"


def test_a_local_endpoint_needs_no_key_and_gets_no_authorization_header(
    server: FakeOpenAI,
) -> None:
    with OpenAIClient(_config(server), environ={}) as client:
        client.complete({"name": "llama3"}, "hi")
    assert "authorization" not in server.requests[0].headers


def test_a_remote_endpoint_without_its_key_is_refused_before_any_request() -> None:
    config = decode_config({"provider": "openai", "api_key_env": "MY_KEY"}, environ={})
    with pytest.raises(EvaluationError, match=r"openai@api\.openai\.com: \$MY_KEY is not set"):
        OpenAIClient(config, environ={})


def test_a_reply_without_usage_has_none(server: FakeOpenAI) -> None:
    server.script(Reply(body=completion("fine")))
    with _client(server) as client:
        got = client.complete({"name": "m"}, "hi")
    assert (got.text, got.usage) == ("fine", None)


def test_the_judge_config_sends_its_own_model_and_gets_the_verdict(server: FakeOpenAI) -> None:
    raw = {"provider": "openai", "base_url": server.url, "model": "gpt-4o"}
    judge = decode_config(raw, role="judge", environ={})
    server.script(Reply(body=judge_completion(True, 0.8, "cites section 4.2")))
    with OpenAIClient(judge, environ={}) as client:
        got = client.complete({"name": judge.model, "temperature": 0}, CHAT)
    assert server.requests[0].body["model"] == "gpt-4o"
    assert json.loads(got.text) == {"pass": True, "score": 0.8, "reason": "cites section 4.2"}


def test_a_body_json_cannot_carry_is_refused_before_sending(server: FakeOpenAI) -> None:
    with (
        _client(server) as client,
        pytest.raises(EvaluationError, match=r"the request\.seed: object values cannot"),
    ):
        client.send({"model": "m", "seed": object(), "messages": []})
    assert server.requests == []


# -- retries and failures ----------------------------------------------------------------------
def test_a_429_is_retried_honouring_retry_after(server: FakeOpenAI) -> None:
    waits: list[float] = []
    server.script(Reply(429, error_body("slow down"), {"Retry-After": "2"}))
    client = OpenAIClient(_config(server), environ=ENV, retry=FAST, sleep=waits.append)
    with client:
        got = client.complete({"name": "m"}, "hi")
    assert got.text == "echo: hi"
    assert len(server.requests) == 2
    assert waits == [2.0]


def test_a_retry_after_beyond_the_bound_is_capped(server: FakeOpenAI) -> None:
    waits: list[float] = []
    server.script(Reply(503, b"", {"Retry-After": "3600"}))
    policy = RetryPolicy(attempts=2, max_retry_after=5.0)
    with OpenAIClient(_config(server), environ=ENV, retry=policy, sleep=waits.append) as client:
        client.complete({"name": "m"}, "hi")
    assert waits == [5.0]


def test_a_500_every_time_fails_naming_the_target_and_status(server: FakeOpenAI) -> None:
    server.script(*[Reply(500, error_body("the model is overloaded"))] * 4)
    with _client(server) as client, pytest.raises(ModelCallError) as caught:
        client.complete({"name": "m"}, "hi")
    assert len(server.requests) == 4
    assert caught.value.status == 500
    assert caught.value.target == f"openai@127.0.0.1:{server.port}"
    assert str(caught.value) == (
        f"openai@127.0.0.1:{server.port}: HTTP 500 Internal Server Error after 4 attempts:"
        " the model is overloaded"
    )


def test_a_client_error_is_not_retried(server: FakeOpenAI) -> None:
    server.script(Reply(400, error_body("max_tokens is too large")))
    with _client(server) as client, pytest.raises(ModelCallError) as caught:
        client.complete({"name": "m", "max_tokens": 10**6}, "hi")
    assert len(server.requests) == 1
    assert caught.value.status == 400
    assert "HTTP 400 Bad Request: max_tokens is too large" in str(caught.value)


def test_a_slow_reply_times_out(server: FakeOpenAI) -> None:
    server.script(Reply(delay=5.0))
    started = time.monotonic()
    with _client(server, timeout=0.3) as client, pytest.raises(ModelCallError) as caught:
        client.complete({"name": "m"}, "hi")
    assert time.monotonic() - started < 3.0
    assert caught.value.status is None
    assert "no reply within 0.3 s (timeout)" in str(caught.value)
    assert str(caught.value).startswith(f"openai@127.0.0.1:{server.port}: ")


def test_a_refused_connection_fails_the_request() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = OpenAIConfig(base_url=f"http://127.0.0.1:{port}/v1")
    with OpenAIClient(config, environ={}) as client, pytest.raises(ModelCallError) as caught:
        client.complete({"name": "m"}, "hi")
    assert caught.value.status is None
    assert str(caught.value).startswith(
        f"openai@127.0.0.1:{port}: cannot connect to http://127.0.0.1:{port}/v1/chat/completions"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>gateway</html>", "the reply is not JSON: <html>gateway</html>"),
        (b"", "the reply is not JSON: (empty)"),
        ({"id": "x"}, "the reply has no choices"),
        ({"choices": []}, "the reply has no choices"),
        ({"choices": [{"finish_reason": "stop"}]}, "choices[0] has no message"),
        (completion(None), "choices[0] has content null, not text (finish_reason: 'stop')"),
        (completion(42), "choices[0] has content of type int, not text"),
    ],
)
def test_a_malformed_reply_fails_the_request(
    server: FakeOpenAI, body: dict[str, object] | bytes, message: str
) -> None:
    server.script(Reply(200, body))
    with _client(server) as client, pytest.raises(ModelCallError) as caught:
        client.complete({"name": "m"}, "hi")
    assert caught.value.status == 200
    assert f"openai@127.0.0.1:{server.port}: HTTP 200, but {message}" in str(caught.value)


# -- threads -----------------------------------------------------------------------------------
def test_many_threads_share_one_client(server: FakeOpenAI) -> None:
    server.script(*[Reply(delay=0.02)] * 64)
    prompts = [f"question {i}" for i in range(64)]
    with _client(server) as client, ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda p: client.complete({"name": "m"}, p).text, prompts))
    assert answers == [f"echo: {p}" for p in prompts]
    assert sorted(r.body["messages"][0]["content"] for r in server.requests) == sorted(prompts)


# -- nothing loads on import -------------------------------------------------------------------
def test_importing_registry_and_its_evaluation_modules_does_not_load_httpx() -> None:
    code = (
        "import pkgutil, importlib, sys, registry, registry.evals\n"
        "for m in pkgutil.walk_packages(registry.evals.__path__, 'registry.evals.'):\n"
        "    importlib.import_module(m.name)\n"
        "import registry.evals.providers.openai\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('httpx', 'httpcore')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert out.stdout.strip() == "[]"
