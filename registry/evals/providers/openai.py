"""The client of an OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI's v1
endpoint, vLLM, Ollama, llama.cpp's server, LM Studio, a LiteLLM proxy), over httpx.

``OpenAIClient(config, cache=...)`` holds one ``httpx.Client`` (created on the first request,
shared by every thread); ``complete(model, prompt)`` sends a version's ``model:`` block and
rendered prompt and returns a ``Completion``; every failure is a ``ModelCallError`` naming the
endpoint's label and the HTTP status. httpx is imported on the first request only, so neither
``import registry`` nor importing this module loads it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry.errors import EvaluationError, ModelCallError
from registry.evals.providers.cache import CachedAnswer, ResponseCache, cache_key
from registry.evals.providers.config import OpenAIConfig, resolve_api_key
from registry.evals.providers.retry import RetryPolicy, backoff_delay, is_retryable

if TYPE_CHECKING:
    import httpx

# A rendered prompt: the text of a content prompt, or a chat prompt's {role, content} list.
Prompt = str | Sequence[Mapping[str, Any]]
# Keys of a version's model: block that would overwrite what promptreg itself sends.
_RESERVED = ("model", "messages")
_SNIPPET = 200


@dataclass(frozen=True)
class Completion:
    """One answer: ``choices[0].message.content``, the milliseconds the request took (for a
    cached answer, the original request's), the reply's ``usage`` token counts when it had
    any, and whether it came from the cache."""

    text: str
    latency_ms: float
    usage: Mapping[str, int] | None
    cached: bool = False


def _json_value(value: Any, where: str) -> Any:
    """``value`` as plain JSON data; EvaluationError for what JSON cannot carry."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvaluationError(f"{where}: {value!r} cannot be sent as JSON")
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise EvaluationError(f"{where}: {type(value).__name__} values cannot be sent as JSON")


def _messages(prompt: Prompt) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": m["role"], "content": m["content"]} for m in prompt]


def build_request(
    model: Mapping[str, Any] | None, prompt: Prompt, *, what: str = "the version"
) -> dict[str, Any]:
    """The request body: ``model`` is ``model.name``, every other key of the ``model:`` block
    a request parameter, then the messages. Raises EvaluationError (naming ``what``) when the
    block has no name, sets ``model``/``messages`` itself, asks to stream or holds non-JSON."""
    block: Mapping[str, Any] = model if model is not None else {}
    name = block.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EvaluationError(
            f"{what} has no model.name: the openai target sends it as the request's model;"
            " add model: {name: ...} to the version"
        )
    clashes = [k for k in _RESERVED if k in block]
    if clashes:
        raise EvaluationError(
            f"{what}: model.{clashes[0]} cannot be a request parameter; promptreg sends the"
            " request's model (from model.name) and messages (from the prompt) itself"
        )
    if block.get("stream"):
        raise EvaluationError(f"{what}: model.stream is not supported by the openai target")
    params = {str(k): _json_value(v, f"model.{k}") for k, v in block.items() if k != "name"}
    return {"model": name, **params, "messages": _messages(prompt)}


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[:_SNIPPET] + "..."


def _error_detail(body: bytes) -> str:
    """The server's own explanation: OpenAI's ``error.message``, else the start of the body."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return _snippet(text)
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return _snippet(message if isinstance(message, str) else text)


def parse_reply(label: str, status: int, body: bytes) -> tuple[str, Mapping[str, int] | None]:
    """The answer text and token usage of a successful reply; ModelCallError for a body that
    is not a chat completion with a text ``choices[0].message.content``."""

    def malformed(why: str) -> ModelCallError:
        return ModelCallError(label, f"HTTP {status}, but {why}", status)

    try:
        data = json.loads(body)
    except ValueError:
        shown = _snippet(body.decode("utf-8", errors="replace")) or "(empty)"
        raise malformed(f"the reply is not JSON: {shown}") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        raise malformed("the reply has no choices")
    first = choices[0]
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        reason = first.get("finish_reason") if isinstance(first, dict) else None
        got = "no message" if not isinstance(message, dict) else f"content {_kind(content)}"
        raise malformed(f"choices[0] has {got}, not text (finish_reason: {reason!r})")
    return content, _usage(data.get("usage"))


def _kind(value: object) -> str:
    return "null" if value is None else f"of type {type(value).__name__}"


def _usage(raw: object) -> Mapping[str, int] | None:
    if not isinstance(raw, dict):
        return None
    counts = {str(k): v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
    return counts or None


class OpenAIClient:
    """Requests to one endpoint; thread-safe, one connection pool for all threads.

    Raises EvaluationError on construction when the endpoint is remote and its key variable
    is unset. ``cache=None`` bypasses the cache entirely (no read, no write)."""

    def __init__(
        self,
        config: OpenAIConfig,
        *,
        cache: ResponseCache | None = None,
        environ: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.cache = cache
        self.retry = retry or RetryPolicy()
        self._key = resolve_api_key(config, environ)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (a later request opens a new one)."""
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def complete(
        self, model: Mapping[str, Any] | None, prompt: Prompt, *, what: str = "the version"
    ) -> Completion:
        """Send ``build_request(model, prompt)``; see ``send``."""
        return self.send(build_request(model, prompt, what=what))

    def send(self, body: Mapping[str, Any]) -> Completion:
        """POST ``body`` to the endpoint, or answer from the cache; retries 429 and 5xx.
        Raises ModelCallError when no answer comes, EvaluationError for a body JSON cannot
        carry."""
        body = _json_value(body, "the request")
        key = None
        if self.cache is not None:
            key = cache_key(self.config.provider, self.config.base_url, body)
            hit = self.cache.get(key)
            if hit is not None:
                return Completion(hit.text, hit.latency_ms, hit.usage, cached=True)
        completion = self._post(body)
        if self.cache is not None and key is not None:
            request = {"provider": self.config.provider, "base_url": self.config.base_url}
            answer = CachedAnswer(completion.text, completion.latency_ms, completion.usage)
            self.cache.put(key, answer, {**request, "body": body})
        return completion

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                import httpx

                from registry import __version__

                headers = {"User-Agent": f"promptreg/{__version__}", "Accept": "application/json"}
                if self._key is not None:
                    headers["Authorization"] = f"Bearer {self._key}"
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.config.timeout),
                    headers=headers,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                )
            return self._http

    def _post(self, body: Mapping[str, Any]) -> Completion:
        import httpx

        label, url = self.config.label, self.config.endpoint
        data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        http = self._client()
        attempts = max(1, self.retry.attempts)
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = http.post(url, content=data, headers=headers)
            except httpx.TimeoutException:
                raise ModelCallError(
                    label, f"no reply within {self.config.timeout:g} s (timeout) from {url}"
                ) from None
            except httpx.ConnectError as exc:
                raise ModelCallError(label, f"cannot connect to {url}: {exc}") from None
            except httpx.HTTPError as exc:
                raise ModelCallError(label, f"request to {url} failed: {exc}") from None
            latency_ms = (time.perf_counter() - started) * 1000.0
            status = response.status_code
            if 200 <= status <= 299:
                text, usage = parse_reply(label, status, response.content)
                return Completion(text, latency_ms, usage)
            if is_retryable(status) and attempt < attempts:
                self._sleep(backoff_delay(self.retry, attempt, response.headers.get("Retry-After")))
                continue
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            detail = _error_detail(response.content)
            raise ModelCallError(
                label,
                f"HTTP {status} {response.reason_phrase}{tries}"
                + (f": {detail}" if detail else ""),
                status,
            )
        raise AssertionError("unreachable: the last attempt returns or raises")
