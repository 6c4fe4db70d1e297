"""The openai target's configuration, request body and retry policy, from literals: every bad
mapping gets a message naming the key, defaults come from the environment, and the label an
evaluation record carries is ``openai@host``."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest

from registry.errors import EvaluationError
from registry.evals.providers.config import (
    OpenAIConfig,
    Role,
    config_problems,
    decode_config,
    is_loopback,
    resolve_api_key,
)
from registry.evals.providers.openai import build_request
from registry.evals.providers.retry import (
    RetryPolicy,
    backoff_delay,
    is_retryable,
    retry_after_seconds,
)


# -- the mapping -------------------------------------------------------------------------------
def test_a_minimal_target_takes_the_openai_defaults() -> None:
    config = decode_config({"provider": "openai"}, environ={})
    assert config == OpenAIConfig(base_url="https://api.openai.com/v1")
    assert (config.api_key_env, config.timeout, config.model) == ("OPENAI_API_KEY", 60.0, None)
    assert config.label == "openai@api.openai.com"
    assert config.endpoint == "https://api.openai.com/v1/chat/completions"


def test_base_url_defaults_to_openai_base_url_from_the_environment() -> None:
    env = {"OPENAI_BASE_URL": "http://localhost:11434/v1/"}
    config = decode_config({"provider": "openai"}, environ=env, timeout=5)
    assert config.base_url == "http://localhost:11434/v1"
    assert (config.label, config.timeout) == ("openai@localhost:11434", 5.0)


def test_a_written_base_url_wins_over_the_environment() -> None:
    raw = {"provider": "openai", "base_url": "https://my-res.openai.azure.com/openai/v1"}
    config = decode_config(raw, environ={"OPENAI_BASE_URL": "http://elsewhere/v1"})
    assert config.label == "openai@my-res.openai.azure.com"


def test_an_unusable_openai_base_url_is_named() -> None:
    with pytest.raises(EvaluationError, match=r"not given, and \$OPENAI_BASE_URL must be an http"):
        decode_config({"provider": "openai"}, environ={"OPENAI_BASE_URL": "localhost:8000"})


@pytest.mark.parametrize(
    ("raw", "role", "message"),
    [
        ("openai", "target", "target: must be a mapping with provider: openai"),
        ({}, "target", "target.provider: is missing; the built-in provider is 'openai'"),
        ({"provider": "anthropic"}, "target", "target.provider: is 'anthropic'"),
        ({"provider": "openai", "url": "x"}, "target", "target.url: unknown key; target takes"),
        ({"provider": "openai", "model": "m"}, "target", "target.model: unknown key"),
        ({"provider": "openai", "base_url": 8000}, "target", "must be a string"),
        ({"provider": "openai", "base_url": "ftp://h/v1"}, "target", "http:// or https://"),
        ({"provider": "openai", "base_url": "http:///v1"}, "target", "with a host"),
        ({"provider": "openai", "base_url": "http://h:port/v1"}, "target", "not a valid URL"),
        (
            {"provider": "openai", "base_url": "https://u:pw@h/v1"},
            "target",
            "target.base_url: must not contain credentials",
        ),
        ({"provider": "openai", "base_url": "http://h/v1?a=1"}, "target", "query or fragment"),
        (
            {"provider": "openai", "api_key_env": "sk-proj-abcdef"},
            "target",
            "target.api_key_env: must name an environment variable (letters, digits, _), not"
            " hold the key itself; got 'sk-proj-abcdef'",
        ),
        ({"provider": "openai", "api_key_env": ["K"]}, "target", "got list"),
        ({"provider": "openai"}, "judge", "judge.model: the judge's model name is required"),
        ({"provider": "openai", "model": ""}, "judge", "judge.model"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_key(raw: object, role: Role, message: str) -> None:
    problems = config_problems(raw, role)
    assert any(message in text for _, text in problems), problems
    with pytest.raises(EvaluationError, match=r"^evals/hr\.yaml:4: ") as caught:
        decode_config(raw, role=role, where="evals/hr.yaml:4", environ={})
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    raw = {"provider": "x", "base_url": "file:///etc", "api_key_env": "", "extra": 1}
    assert [path for path, _ in config_problems(raw)] == [
        ("target", "extra"),
        ("target", "provider"),
        ("target", "base_url"),
        ("target", "api_key_env"),
    ]
    with pytest.raises(EvaluationError) as caught:
        decode_config(raw, environ={})
    assert len(str(caught.value).splitlines()) == 4


@pytest.mark.parametrize("timeout", [0, -1, math.inf, math.nan])
def test_a_timeout_must_be_a_positive_number(timeout: float) -> None:
    with pytest.raises(EvaluationError, match="timeout: must be a positive number"):
        decode_config({"provider": "openai"}, timeout=timeout, environ={})


def test_a_judge_keeps_its_model() -> None:
    judge = decode_config({"provider": "openai", "model": "gpt-4o-mini"}, role="judge")
    assert judge.model == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("vllm.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("10.0.0.5", False),
        ("localhost.example.com", False),
        ("api.openai.com", False),
    ],
)
def test_which_hosts_are_local(host: str, local: bool) -> None:
    assert is_loopback(host) is local


def test_the_label_keeps_an_ipv6_host_readable() -> None:
    assert OpenAIConfig(base_url="http://[::1]:8080/v1").label == "openai@[::1]:8080"


def test_the_key_comes_from_the_named_variable_and_a_blank_one_counts_as_unset() -> None:
    remote = OpenAIConfig(base_url="https://api.openai.com/v1", api_key_env="K")
    assert resolve_api_key(remote, {"K": " sk-1 "}) == "sk-1"
    with pytest.raises(EvaluationError, match=r"\$K is not set"):
        resolve_api_key(remote, {"K": "  "})
    assert resolve_api_key(OpenAIConfig(base_url="http://127.0.0.1:1/v1"), {}) is None


@pytest.mark.parametrize("value", ["sk-\u00e9t\u00e9", "sk one", "sk-1\x07"])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(value: str) -> None:
    config = OpenAIConfig(base_url="https://api.openai.com/v1", api_key_env="K")
    with pytest.raises(EvaluationError, match=r"\$K holds characters") as caught:
        resolve_api_key(config, {"K": value})
    assert value not in str(caught.value)


# -- the request body --------------------------------------------------------------------------
def test_nested_parameters_are_sent_as_plain_json() -> None:
    from types import MappingProxyType

    model = MappingProxyType(
        {"name": "m", "response_format": MappingProxyType({"type": "json_object"}), "stop": ("a",)}
    )
    assert build_request(model, "hi") == {
        "model": "m",
        "response_format": {"type": "json_object"},
        "stop": ["a"],
        "messages": [{"role": "user", "content": "hi"}],
    }


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (None, "hr 1.0.0 has no model.name"),
        ({"temperature": 0.2}, "hr 1.0.0 has no model.name"),
        ({"name": 4}, "hr 1.0.0 has no model.name"),
        ({"name": "m", "messages": []}, "hr 1.0.0: model.messages cannot be a request parameter"),
        ({"name": "m", "model": "x"}, "hr 1.0.0: model.model cannot be a request parameter"),
        ({"name": "m", "stream": True}, "hr 1.0.0: model.stream is not supported"),
        ({"name": "m", "temperature": math.nan}, "model.temperature: nan cannot be sent"),
        (
            {"name": "m", "x": {"when": datetime(2026, 1, 1)}},
            "model.x.when: datetime values cannot",
        ),
    ],
)
def test_a_model_block_that_cannot_be_sent_is_refused(
    model: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(EvaluationError) as caught:
        build_request(model, "hi", what="hr 1.0.0")
    assert message in str(caught.value)


# -- retries -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (429, True),
        (500, True),
        (503, True),
        (599, True),
        (400, False),
        (401, False),
        (404, False),
        (200, False),
    ],
)
def test_which_statuses_are_retried(status: int, retried: bool) -> None:
    assert is_retryable(status) is retried


NOW = datetime(2026, 12, 2, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("Wed, 02 Dec 2026 01:00:10 GMT", 10.0),
        ("Wed, 02 Dec 2026 00:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("inf", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


def test_the_backoff_doubles_with_jitter_and_stays_bounded() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0)
    rng = random.Random(7)
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        waits = [backoff_delay(policy, retry, None, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # jittered over the whole range, not fixed
    assert backoff_delay(policy, 1, "120", rng) == policy.max_retry_after
