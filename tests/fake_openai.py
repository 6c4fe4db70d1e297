"""A real OpenAI-compatible chat-completions server on 127.0.0.1, inside the test process.

``FakeOpenAI`` serves ``POST /v1/chat/completions`` from a ``ThreadingHTTPServer`` on a free
port and records every request (path, headers, parsed JSON body). By default it answers with
a completion whose content is ``answer(body)`` (``"echo: <last message content>"`` unless
given); ``script(*replies)`` queues replies served in order first: an error status, a
``Retry-After`` header, a delay, a malformed body, or a judge's JSON verdict
(``judge_completion``). Use it as a context manager or through a fixture::

    @pytest.fixture
    def server() -> Iterator[FakeOpenAI]:
        with FakeOpenAI() as s:
            yield s

    config = OpenAIConfig(base_url=server.url)       # http://127.0.0.1:<port>/v1
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/v1/chat/completions"


def completion(content: Any, usage: Mapping[str, int] | None = None) -> dict[str, Any]:
    """A chat-completion reply whose ``choices[0].message.content`` is ``content``."""
    reply: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    if usage is not None:
        reply["usage"] = dict(usage)
    return reply


def judge_completion(passed: bool, score: float, reason: str) -> dict[str, Any]:
    """A judge's reply: the content is promptreg's (and promptfoo's) verdict as JSON text."""
    return completion(json.dumps({"pass": passed, "score": score, "reason": reason}))


def error_body(message: str) -> dict[str, Any]:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": "server_error", "code": None}}


@dataclass(frozen=True)
class Reply:
    """One scripted reply: ``body`` is JSON (a mapping), raw bytes, or None for the default
    answer; ``delay`` seconds pass before anything is sent."""

    status: int = 200
    body: Mapping[str, Any] | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    """One request as the server saw it; header names are lower-case."""

    path: str
    headers: Mapping[str, str]
    body: Any


def echo(body: Mapping[str, Any]) -> str:
    """The default answer: ``echo: `` and the last message's content."""
    messages = body.get("messages") or [{}]
    return f"echo: {messages[-1].get('content')}"


class FakeOpenAI:
    """The server; ``url`` is the base URL a client is configured with."""

    def __init__(self, answer: Callable[[Mapping[str, Any]], str] = echo) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Serve these replies, in order, before the default answer."""
        with self._lock:
            self._replies.extend(replies)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._replies.popleft() if self._replies else Reply()

    def _wait(self, seconds: float) -> None:
        # In slices, so stopping the server does not wait for a slow reply to finish.
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        reply = self._record(Request(handler.path, headers, body))
        if handler.path != PATH:
            reply = Reply(404, error_body(f"no route {handler.path}"))
        self._wait(reply.delay)
        if self._stopping.is_set():
            return
        payload = reply.body
        if payload is None:
            payload = completion(
                self.answer(body or {}),
                {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
            )
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Room for every thread of a concurrency test to connect at once.
    request_queue_size = 128


def _handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10

        def do_POST(self) -> None:
            # The client may give up first (a timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                server._serve(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    return Handler
