"""The response cache, through the real client and a real server on 127.0.0.1: a repeated
request is answered from disk, any change to the request is a new one, a bypass neither reads
nor writes, a corrupt entry is replaced, and concurrent writers leave one whole file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.errors import ModelCallError
from registry.evals.providers.cache import (
    CachedAnswer,
    ResponseCache,
    cache_key,
    default_cache_dir,
)
from registry.evals.providers.config import OpenAIConfig
from registry.evals.providers.openai import OpenAIClient, Prompt
from tests.fake_openai import FakeOpenAI, Reply, completion

KEY = "sk-secret-do-not-store"
ENV = {"OPENAI_API_KEY": KEY}
MODEL = {"name": "gpt-4o-mini", "temperature": 0.2}


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


def _client(server: FakeOpenAI, cache: ResponseCache | None) -> OpenAIClient:
    return OpenAIClient(OpenAIConfig(base_url=server.url), cache=cache, environ=ENV)


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_a_second_identical_request_is_answered_from_the_cache(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    cache = ResponseCache(tmp_path / "cache")
    with _client(server, cache) as client:
        first = client.complete(MODEL, "hi")
    with _client(server, ResponseCache(tmp_path / "cache")) as client:
        second = client.complete(dict(MODEL), "hi")
    assert len(server.requests) == 1
    assert (second.text, second.usage, second.latency_ms) == (
        first.text,
        first.usage,
        first.latency_ms,
    )
    assert (first.cached, second.cached) == (False, True)


@pytest.mark.parametrize(
    ("model", "prompt"),
    [
        ({**MODEL, "temperature": 0.3}, "hi"),
        ({**MODEL, "max_tokens": 10}, "hi"),
        ({**MODEL, "name": "gpt-4o"}, "hi"),
        (MODEL, "hello"),
        (MODEL, [{"role": "user", "content": "hi"}, {"role": "user", "content": "more"}]),
    ],
)
def test_a_changed_request_is_sent_again(
    server: FakeOpenAI, tmp_path: Path, model: dict[str, object], prompt: Prompt
) -> None:
    with _client(server, ResponseCache(tmp_path)) as client:
        client.complete(MODEL, "hi")
        got = client.complete(model, prompt)
    assert len(server.requests) == 2
    assert got.cached is False


def test_the_key_names_provider_base_url_and_body_but_not_the_api_key() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    key = cache_key("openai", "http://a/v1", body)
    assert key == cache_key("openai", "http://a/v1", dict(reversed(list(body.items()))))
    assert key != cache_key("openai", "http://b/v1", body)
    assert key != cache_key("other", "http://a/v1", body)
    assert len(key) == 64


def test_the_stored_entry_holds_the_request_and_answer_but_never_the_api_key(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    with _client(server, ResponseCache(tmp_path)) as client:
        client.complete(MODEL, "hi")
    [entry] = _entries(tmp_path)
    text = entry.read_text(encoding="utf-8")
    assert KEY not in text
    data = json.loads(text)
    assert data["text"] == "echo: hi"
    assert data["request"]["base_url"] == server.url
    assert data["request"]["body"]["model"] == "gpt-4o-mini"
    assert entry.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_no_cache_neither_reads_nor_writes(server: FakeOpenAI, tmp_path: Path) -> None:
    with _client(server, ResponseCache(tmp_path)) as client:
        client.complete(MODEL, "hi")
    before = {p: p.read_bytes() for p in _entries(tmp_path)}
    server.script(Reply(body=completion("fresh")))
    with _client(server, None) as client:
        got = client.complete(MODEL, "hi")
        client.complete(MODEL, "something new")
    assert (got.text, got.cached) == ("fresh", False)
    assert len(server.requests) == 3
    assert {p: p.read_bytes() for p in _entries(tmp_path)} == before


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{not json", b"[]", b'{"format": 1, "text": 3}', b'{"format": 999, "text": "x"}'],
)
def test_a_corrupt_entry_is_ignored_and_overwritten(
    server: FakeOpenAI, tmp_path: Path, garbage: bytes
) -> None:
    cache = ResponseCache(tmp_path)
    with _client(server, cache) as client:
        client.complete(MODEL, "hi")
        [entry] = _entries(tmp_path)
        entry.write_bytes(garbage)
        got = client.complete(MODEL, "hi")
    assert (got.text, got.cached) == ("echo: hi", False)
    assert len(server.requests) == 2
    assert json.loads(entry.read_bytes())["text"] == "echo: hi"


def test_a_failed_request_is_not_cached(server: FakeOpenAI, tmp_path: Path) -> None:
    server.script(Reply(400, {"error": {"message": "bad"}}))
    with _client(server, ResponseCache(tmp_path)) as client:
        with pytest.raises(ModelCallError, match="HTTP 400"):
            client.complete(MODEL, "hi")
        assert client.complete(MODEL, "hi").text == "echo: hi"
    assert len(server.requests) == 2


def test_concurrent_writers_of_one_entry_leave_one_whole_file(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache_key("openai", "http://x/v1", {"model": "m"})
    texts = [f"answer {i} " * 500 for i in range(16)]

    def write(text: str) -> None:
        for _ in range(20):
            cache.put(key, CachedAnswer(text, 1.0, None), {"body": {"model": "m"}})
            got = cache.get(key)
            assert got is not None and got.text in texts

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _entries(tmp_path) == [cache.path(key)]


def test_a_cache_folder_that_cannot_be_written_only_costs_the_caching(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with _client(server, ResponseCache(blocker / "cache")) as client:
        assert client.complete(MODEL, "hi").text == "echo: hi"
        assert client.complete(MODEL, "hi").cached is False


# -- where the cache lives ---------------------------------------------------------------------
HOME = Path("/home/dana")


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"PROMPTREG_CACHE_DIR": "/tmp/c", "XDG_CACHE_HOME": "/x"}, "linux", Path("/tmp/c")),
        ({"XDG_CACHE_HOME": "/x"}, "linux", Path("/x/promptreg")),
        ({"XDG_CACHE_HOME": "relative"}, "linux", HOME / ".cache" / "promptreg"),
        ({}, "linux", HOME / ".cache" / "promptreg"),
        ({}, "freebsd14", HOME / ".cache" / "promptreg"),
        ({}, "darwin", HOME / "Library" / "Caches" / "promptreg"),
        ({"LOCALAPPDATA": "/c/AppData/Local"}, "win32", Path("/c/AppData/Local/promptreg/Cache")),
        ({}, "win32", HOME / "AppData" / "Local" / "promptreg" / "Cache"),
    ],
)
def test_the_cache_folder_follows_the_platform(
    environ: dict[str, str], platform: str, expected: Path
) -> None:
    assert default_cache_dir(environ, platform, HOME) == expected


def test_the_default_cache_reads_promptreg_cache_dir(tmp_path: Path) -> None:
    assert ResponseCache.default({"PROMPTREG_CACHE_DIR": str(tmp_path)}).directory == tmp_path


def test_a_different_api_key_reads_the_same_entries(server: FakeOpenAI, tmp_path: Path) -> None:
    config = OpenAIConfig(base_url=server.url)
    with OpenAIClient(config, cache=ResponseCache(tmp_path), environ={"OPENAI_API_KEY": "a"}) as c:
        c.complete(MODEL, "hi")
    with OpenAIClient(config, cache=ResponseCache(tmp_path), environ={"OPENAI_API_KEY": "b"}) as c:
        assert c.complete(MODEL, "hi").cached is True
    assert len(server.requests) == 1
