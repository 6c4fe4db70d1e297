"""A read view of one registry state (a directory, a commit or the index), loaded lazily."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from registry.decode import build_pointer, build_settings, build_version
from registry.errors import LoadError
from registry.ids import version_key
from registry.models import Problem, PromptDeployment, PromptVersion, Settings
from registry.paths import SETTINGS, classify, pointer_path, version_path
from registry.sources import FILE, Entry, GitSource, Source
from registry.yamlio.load import Loaded, YamlError

T = TypeVar("T")


@dataclass
class FileResult(Generic[T]):
    """A record and the problems of its file (cached per path)."""

    record: T | None
    problems: list[Problem] = field(default_factory=list)
    loaded: Loaded | None = None


def load_problem(exc: LoadError, path: str) -> Problem:
    code = getattr(exc, "code", "load") if isinstance(exc, YamlError) else "load"
    return Problem(code, exc.path or path, exc.line, exc.bare_message)


# A git source's files are read ahead this many at a time (bounded memory, one round trip each).
PREFETCH_FILES = 512


class RegistryView:
    """Settings, versions and pointers of one source; ``schema=True`` adds JSON Schema checks."""

    def __init__(self, source: Source, schema: bool = False) -> None:
        self.source = source
        self.schema = schema
        self._cache: dict[str, FileResult[Any]] = {}
        self._entries: list[Entry] | None = None
        self._versions: dict[str, list[str]] | None = None
        self._pointers: dict[tuple[str, str], str] | None = None

    # -- listing -----------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every managed file of the source."""
        if self._entries is None:
            self._entries = self.source.entries()
        return self._entries

    def version_index(self) -> dict[str, list[str]]:
        """prompt id -> versions in SemVer order, from file names."""
        if self._versions is None:
            self._index()
        assert self._versions is not None
        return self._versions

    def pointer_index(self) -> dict[tuple[str, str], str]:
        """(environment, prompt id) -> pointer path."""
        if self._pointers is None:
            self._index()
        assert self._pointers is not None
        return self._pointers

    def _index(self) -> None:
        """Both indexes from one pass over the listing (each path classified once)."""
        versions: dict[str, list[str]] = defaultdict(list)
        pointers: dict[tuple[str, str], str] = {}
        for e in self.entries():
            if e.kind != FILE:
                continue
            c = classify(e.path)
            if c is None:
                continue
            if c[0] == "version":
                versions[c[1][0]].append(c[1][1])
            elif c[0] == "pointer":
                pointers[(c[1][0], c[1][1])] = e.path
        self._versions = {pid: sorted(vs, key=version_key) for pid, vs in sorted(versions.items())}
        self._pointers = pointers

    # -- loading -----------------------------------------------------------------------------
    def _load(self, path: str, kind: str, schema_kind: str) -> FileResult[Any]:
        hit = self._cache.get(path)
        if hit is not None:
            return hit
        res: FileResult[Any]
        try:
            loaded = self.source.load(path)
        except LoadError as exc:
            res = FileResult(None, [load_problem(exc, path)])
        else:
            res = (
                FileResult(None) if loaded is None else self._build(path, loaded, kind, schema_kind)
            )
        self._cache[path] = res
        return res

    def _build(self, path: str, loaded: Loaded, kind: str, schema_kind: str) -> FileResult[Any]:
        if self.schema:
            from registry.schema.validate import schema_errors

            errs = schema_errors(schema_kind, loaded.data)
            if errs:
                return FileResult(
                    None, [Problem("schema", path, loaded.line_of(p), m) for p, m in errs], loaded
                )
        c = classify(path)
        expect = (c[1][0], c[1][1]) if c and len(c[1]) == 2 else None
        rec: object
        # With schema=True jsonschema has passed the file; otherwise the decoder applies the
        # same schema itself, without jsonschema.
        done = self.schema
        if kind == "version":
            rec, probs = build_version(path, loaded, expect, shape_checked=done)
        elif kind == "pointer":
            rec, probs = build_pointer(path, loaded, expect, shape_checked=done)
        else:
            rec, probs = build_settings(path, loaded, shape_checked=done)
        return FileResult(rec, probs, loaded)

    def preload(self, paths: list[str]) -> None:
        """Load many files ahead of use; a git source reads them in batches. (``check --all``
        spreads a directory's files over processes itself: registry/check/parallel.py.)"""
        todo = [p for p in paths if p not in self._cache]
        for i in range(0, len(todo), PREFETCH_FILES):
            chunk = todo[i : i + PREFETCH_FILES]
            if isinstance(self.source, GitSource):
                self.source.prefetch(chunk)
            for path in chunk:
                self.result_for(path)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop what was loaded of ``paths``; a later read loads them again."""
        for path in paths:
            self._cache.pop(path, None)

    def settings_result(self) -> FileResult[Settings]:
        """Settings (the strict default when there is no file) and their problems."""
        res = cast("FileResult[Settings]", self._load(SETTINGS, "settings", "settings"))
        if res.record is None and not res.problems:
            return FileResult(Settings())
        return res

    def checked_settings(self) -> Settings:
        """The settings, raising ValidationError (naming file and line) when they are broken."""
        res = self.settings_result()
        if res.problems:
            from registry.errors import ValidationError

            raise ValidationError("\n".join(str(p) for p in res.problems), res.problems)
        return self.settings()

    def settings(self) -> Settings:
        """The settings; the strict default when the file is absent or broken."""
        rec = self.settings_result().record
        return rec if isinstance(rec, Settings) else Settings()

    def version_result(self, prompt_id: str, version: str) -> FileResult[PromptVersion]:
        """The version record (None when absent or broken) and its problems."""
        res = self._load(version_path(prompt_id, version), "version", "prompt-version")
        return cast("FileResult[PromptVersion]", res)

    def version(self, prompt_id: str, version: str) -> PromptVersion | None:
        """The version, or None when it does not exist or does not load."""
        rec = self.version_result(prompt_id, version).record
        return rec if isinstance(rec, PromptVersion) else None

    def pointer_result(self, environment: str, prompt_id: str) -> FileResult[PromptDeployment]:
        """The pointer record (None when absent or broken) and its problems."""
        res = self._load(pointer_path(environment, prompt_id), "pointer", "deployment")
        return cast("FileResult[PromptDeployment]", res)

    def pointer(self, environment: str, prompt_id: str) -> PromptDeployment | None:
        """The pointer, or None when absent or broken."""
        rec = self.pointer_result(environment, prompt_id).record
        return rec if isinstance(rec, PromptDeployment) else None

    def result_for(self, path: str) -> FileResult[Any] | None:
        """Load any managed file by path; None for unmanaged or unexpected paths."""
        c = classify(path)
        if c is None:
            return None
        kind, parts = c
        if kind == "version":
            return self.version_result(*parts)
        if kind == "pointer":
            return self.pointer_result(*parts)
        if kind == "settings":
            return self.settings_result()
        return None
