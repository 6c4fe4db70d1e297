"""The ``provider: openai`` mapping of a suite's ``target:`` or ``judge:``, validated into a
frozen ``OpenAIConfig``; the label an evaluation record names it by (``openai@host``).

``config_problems(raw, role)`` lists every problem of a mapping (pure: no environment read),
as ``(path, message)`` pairs like ``registry.evals.suite.suite_problems``; ``decode_config``
resolves the defaults from the environment and raises ``EvaluationError`` listing them all.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from registry.errors import EvaluationError

PROVIDER = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_TIMEOUT = 60.0

Role = Literal["target", "judge"]
Problem = tuple[tuple[str, ...], str]

_KEYS: dict[str, tuple[str, ...]] = {
    "target": ("provider", "base_url", "api_key_env"),
    "judge": ("provider", "base_url", "api_key_env", "model"),
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True)
class OpenAIConfig:
    """One OpenAI-compatible endpoint: where (``base_url``, no trailing slash), which
    environment variable holds the key, seconds per request, and for a judge its model."""

    base_url: str
    api_key_env: str = DEFAULT_API_KEY_ENV
    timeout: float = DEFAULT_TIMEOUT
    model: str | None = None
    provider: str = PROVIDER

    @property
    def label(self) -> str:
        """What an evaluation record and every error message call it: ``openai@host``."""
        return f"{self.provider}@{url_host(self.base_url)}"

    @property
    def endpoint(self) -> str:
        """The chat-completions URL requests go to."""
        return f"{self.base_url}/chat/completions"

    @property
    def is_local(self) -> bool:
        """Whether the endpoint is on this machine (a key is then optional)."""
        return is_loopback(urlsplit(self.base_url).hostname or "")


def url_host(url: str) -> str:
    """The host of ``url`` with its port when one is written (``localhost:8000``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def is_loopback(host: str) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 and ::1."""
    name = host.lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_problem(url: object) -> str | None:
    """Why ``url`` cannot be a base URL (None when it can): an http(s) URL with a host, no
    credentials, query or fragment."""
    if not isinstance(url, str):
        return f"must be a string (an http:// or https:// URL), not {type(url).__name__}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # a port that is not a number raises only when read
    except ValueError as exc:
        return f"is not a valid URL ({exc}): {url!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an http:// or https:// URL with a host, got {url!r}"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials; name the variable holding the key in api_key_env"
    if parts.query or parts.fragment:
        return f"must not have a query or fragment, got {url!r}"
    return None


def _role_problems(raw: Mapping[str, object], role: Role) -> Iterator[Problem]:
    for key in raw:
        if key not in _KEYS[role]:
            allowed = ", ".join(_KEYS[role])
            yield (role, str(key)), f"{role}.{key}: unknown key; {role} takes {allowed}"
    provider = raw.get("provider")
    if provider != PROVIDER:
        what = "is missing" if "provider" not in raw else f"is {provider!r}"
        yield (
            (role, "provider"),
            f"{role}.provider: {what}; the built-in provider is 'openai' (any OpenAI-compatible"
            " chat-completions endpoint); for anything else use a module:function target",
        )
    if "base_url" in raw and (why := url_problem(raw["base_url"])):
        yield (role, "base_url"), f"{role}.base_url: {why}"
    if "api_key_env" in raw:
        name = raw["api_key_env"]
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            yield (
                (role, "api_key_env"),
                f"{role}.api_key_env: must name an environment variable (letters, digits, _),"
                f" not hold the key itself; got {_shown(name)}",
            )
    if role == "judge":
        model = raw.get("model")
        if not isinstance(model, str) or not model.strip():
            yield (
                (role, "model"),
                f"judge.model: the judge's model name is required (a non-empty string), got {_shown(model)}",
            )


def _shown(value: object) -> str:
    if isinstance(value, str):
        return "a string" if len(value) > 40 else repr(value)
    return type(value).__name__ if value is not None else "nothing"


def config_problems(raw: object, role: Role = "target") -> list[Problem]:
    """Every problem of a ``target:`` / ``judge:`` mapping, with the path it is at."""
    if not isinstance(raw, Mapping):
        return [((role,), f"{role}: must be a mapping with provider: openai")]
    return list(_role_problems(raw, role))


def decode_config(
    raw: object,
    *,
    role: Role = "target",
    timeout: float = DEFAULT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    where: str = "",
) -> OpenAIConfig:
    """The validated config; ``base_url`` falls back to ``$OPENAI_BASE_URL``, then the OpenAI
    API. Raises EvaluationError listing every problem, each prefixed with ``where`` (the
    suite's ``path:line``, when given)."""
    env = os.environ if environ is None else environ
    problems = [message for _, message in config_problems(raw, role)]
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        problems.append(f"timeout: must be a positive number of seconds, got {timeout!r}")
    base_url = DEFAULT_BASE_URL
    if isinstance(raw, Mapping) and "base_url" in raw:
        base_url = str(raw["base_url"])
    elif env.get(BASE_URL_ENV):
        base_url = env[BASE_URL_ENV]
        if why := url_problem(base_url):
            problems.append(f"{role}.base_url: not given, and ${BASE_URL_ENV} {why}")
    if problems or not isinstance(raw, Mapping):
        prefix = f"{where}: " if where else ""
        raise EvaluationError("\n".join(prefix + p for p in problems))
    model = raw.get("model")
    return OpenAIConfig(
        base_url=base_url.rstrip("/"),
        api_key_env=str(raw.get("api_key_env", DEFAULT_API_KEY_ENV)),
        timeout=float(timeout),
        model=model if isinstance(model, str) else None,
    )


def resolve_api_key(config: OpenAIConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The key to send, or None for a local endpoint without one; raises EvaluationError
    when a remote endpoint's variable is unset or empty."""
    env = os.environ if environ is None else environ
    key = env.get(config.api_key_env, "").strip()
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise EvaluationError(
            f"{config.label}: ${config.api_key_env} holds characters an Authorization header"
            " cannot carry (spaces, control or non-ASCII characters); check its value"
        )
    if key:
        return key
    if config.is_local:
        return None
    raise EvaluationError(
        f"{config.label}: ${config.api_key_env} is not set; export the API key in it"
        " (or name another variable with api_key_env)"
    )
