"""The response cache: a model's answer stored by the SHA-256 of (provider, base URL, request
body as canonical JSON), one JSON file per entry under the user's cache folder.

Writes are atomic (a private temporary file in the entry's folder, then ``os.replace``), so
concurrent writers of one entry leave one whole file; an unreadable or malformed entry reads
as a miss and the next answer overwrites it. The API key is in neither the key nor the file.
Bypassing the cache (``--no-cache``, ``check --verify-evaluations``) is passing no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_DIR_ENV = "PROMPTREG_CACHE_DIR"
# Bumped when the entry layout changes; older entries then read as misses.
FORMAT = 1


@dataclass(frozen=True)
class CachedAnswer:
    """What an entry holds: the answer text, the original request's latency and usage."""

    text: str
    latency_ms: float
    usage: Mapping[str, int] | None


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text; NaN and infinities refused (ValueError)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def cache_key(provider: str, base_url: str, body: Mapping[str, Any]) -> str:
    """The hex SHA-256 naming the entry of one request."""
    material = canonical_json({"provider": provider, "base_url": base_url, "body": body})
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def default_cache_dir(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    home: Path | None = None,
) -> Path:
    """``$PROMPTREG_CACHE_DIR``, else the platform's cache folder: ``$XDG_CACHE_HOME/promptreg``
    or ``~/.cache/promptreg`` (Linux and other POSIX), ``~/Library/Caches/promptreg`` (macOS),
    ``%LOCALAPPDATA%\\promptreg\\Cache`` (Windows)."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    base_home = Path.home() if home is None else home
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV])
    if plat == "darwin":
        return base_home / "Library" / "Caches" / "promptreg"
    if plat == "win32":
        local = env.get("LOCALAPPDATA")
        root = Path(local) if local else base_home / "AppData" / "Local"
        return root / "promptreg" / "Cache"
    xdg = env.get("XDG_CACHE_HOME")
    # The XDG spec ignores a relative XDG_CACHE_HOME.
    root = Path(xdg) if xdg and Path(xdg).is_absolute() else base_home / ".cache"
    return root / "promptreg"


def _answer(data: object) -> CachedAnswer | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    text, latency, usage = data.get("text"), data.get("latency_ms"), data.get("usage")
    if not isinstance(text, str) or isinstance(latency, bool):
        return None
    if not isinstance(latency, int | float) or not math.isfinite(latency):
        return None
    if usage is not None and not (
        isinstance(usage, dict)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in usage.values())
    ):
        return None
    return CachedAnswer(text, float(latency), usage)


class ResponseCache:
    """A folder of entries; safe to share between threads and processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> ResponseCache:
        """The cache in the user's cache folder (see ``default_cache_dir``)."""
        return cls(default_cache_dir(environ))

    def path(self, key: str) -> Path:
        """Where the entry ``key`` lives: ``<dir>/<first two hex digits>/<key>.json``."""
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedAnswer | None:
        """The stored answer, or None for a miss (absent, unreadable or malformed)."""
        try:
            data = json.loads(self.path(key).read_bytes())
        except (OSError, ValueError):
            return None
        return _answer(data)

    def put(self, key: str, answer: CachedAnswer, request: Mapping[str, Any]) -> None:
        """Store ``answer`` (with the request, for whoever reads the folder); a write that
        fails (a read-only or full disk) is skipped, as the cache is only an optimisation."""
        entry = {
            "format": FORMAT,
            "request": request,
            "text": answer.text,
            "latency_ms": answer.latency_ms,
            "usage": dict(answer.usage) if answer.usage is not None else None,
        }
        with contextlib.suppress(OSError):
            _write_atomic(self.path(key), canonical_json(entry).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file readable by its owner only: answers may be confidential.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
