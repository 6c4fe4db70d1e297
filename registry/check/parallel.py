"""``check --all`` on several processes, sharded by prompt: only problem lists come back.

Parsing and schema validation are CPU-bound, so a whole-registry check of a directory spreads
its prompts over processes: the parent forks one worker per core (``fork`` only, where the
platform has it; at most MAX_PROCESSES) and waits for their problems. A shard holds *every*
version and pointer file of its prompts, so each rule that reads across files of one prompt
(``breaking-variables``, a pointer's target and its promote_from source) runs where the
files are loaded, and a worker sends back only its problems, a few bytes per file, never the
parsed files with their line maps (pickling those back cost more than parsing them). A
worker checks one prompt at a time and drops its files after, so its memory stays small.

What stays in the parent: the settings (loaded before the fork, so every worker reads the
same), suites, layout problems (symbolic links, unexpected files), and the pointers whose
promotion is judged (``promotions``): their rules may read git history, and a worker must not
share the parent's git processes. ``check_view`` (rules.py) skips the paths a shard covered,
and the problems are the same set as the serial path's: both call the same per-file and
per-pointer functions (tests/test_check_shards.py compares them on the corpus).

A worker that fails (killed, out of memory, an exception) costs only time: its shard is
checked again in the parent.
"""

from __future__ import annotations

import gc
import marshal
import os
from dataclasses import dataclass, field, fields
from typing import Any

from registry.models import Problem, Settings
from registry.sources import DirSource
from registry.view import FileResult, RegistryView

MAX_PROCESSES = 4
# Below this many files, forking costs more than it saves.
PARALLEL_MIN_FILES = 2000
# Schema kinds of the files a shard validates (compiled before forking, once).
_SHARD_KINDS = ("prompt-version", "deployment")
# A problem crosses the pipe as the tuple of its fields (text, numbers, None).
_FIELDS = tuple(f.name for f in fields(Problem))


@dataclass
class Shards:
    """What the shards found, and the paths they covered (the parent skips those)."""

    problems: list[Problem] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)


@dataclass
class _Prompt:
    """The files of one prompt that a shard checks."""

    files: list[tuple[str, str]] = field(default_factory=list)  # (path, "version"/"pointer")
    versions: set[str] = field(default_factory=set)
    pointers: list[tuple[str, str, str]] = field(default_factory=list)  # (env, pid, path)


@dataclass
class _Shard:
    prompts: list[_Prompt] = field(default_factory=list)
    size: int = 0  # files

    @property
    def files(self) -> list[tuple[str, str]]:
        return [f for one in self.prompts for f in one.files]


def processes() -> int:
    """How many processes a whole-registry check uses (1: no fork on this platform)."""
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def check_shards(
    view: RegistryView, settings_res: FileResult[Settings], promotions: set[str] | None
) -> Shards | None:
    """The problems of every prompt's files and unjudged pointers, checked on worker
    processes; None when the check should run serially (few files, one core, no fork, a
    source that is not a directory)."""
    n = processes()
    if n < 2 or not isinstance(view.source, DirSource):
        return None
    if len(view.entries()) < PARALLEL_MIN_FILES:
        return None  # too few files for a fork to pay (the shards hold fewer still)
    # Nothing the plan or a shard makes is cyclic, so the cyclic garbage collector only
    # costs time here (a third of the parse, with tens of thousands of small objects
    # alive): it is off until the shards are in.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(view, settings_res, _plan(view, promotions, n))
    finally:
        if was_enabled:
            gc.enable()


def _run(
    view: RegistryView, settings_res: FileResult[Settings], shards: list[_Shard]
) -> Shards | None:
    if sum(s.size for s in shards) < PARALLEL_MIN_FILES:
        return None
    if view.schema:
        from registry.schema.validate import warm_validators

        warm_validators(_SHARD_KINDS)  # compiled once, before the fork: every worker has them
    out = Shards()
    for shard in shards:
        out.paths.update(path for path, _ in shard.files)
    # Every shard in a child: the parent never holds the parsed files.
    children = [(_fork(view, settings_res, shard), shard) for shard in shards]
    for child, shard in children:
        found = _collect(child)
        out.problems += found if found is not None else _shard_problems(view, settings_res, shard)
    return out


def _plan(view: RegistryView, promotions: set[str] | None, n: int) -> list[_Shard]:
    """Prompts spread over ``n`` shards, the largest prompts first, each to the lightest."""
    # From the view's indexes (each path classified once, there): the parent needs them after.
    by_prompt: dict[str, _Prompt] = {}
    for pid, versions in view.version_index().items():
        one = by_prompt[pid] = _Prompt()
        # The index holds the file name's stem: the path is the listed one, rebuilt.
        paths = [f"prompts/{pid}/{ver}.yaml" for ver in versions]
        one.versions.update(paths)
        one.files += [(path, "version") for path in paths]
    for (env, pid), path in view.pointer_index().items():
        if promotions is None or path in promotions:
            continue  # a judged pointer may read git history: the parent checks it
        one = by_prompt.get(pid) or by_prompt.setdefault(pid, _Prompt())
        one.pointers.append((env, pid, path))
        one.files.append((path, "pointer"))
    shards = [_Shard() for _ in range(n)]
    for _, one in sorted(by_prompt.items(), key=lambda item: (-len(item[1].files), item[0])):
        target = min(shards, key=lambda s: s.size)
        target.prompts.append(one)
        target.size += len(one.files)
    return shards


def _shard_problems(
    view: RegistryView, settings_res: FileResult[Settings], shard: _Shard
) -> list[Problem]:
    """Every problem of the shard's files, as the serial path finds them (rules.py), one
    prompt at a time: its files are dropped once its rules have run, so a worker's memory
    stays that of one prompt (holding them all cost more in page faults than parsing)."""
    from registry.check.rules import file_problems, pointer_problems
    from registry.check.templates import breaking_variables

    out: list[Problem] = []
    versions = view.version_index()
    for one in shard.prompts:
        for path, kind in one.files:
            out += file_problems(view, path, kind)
        out += breaking_variables(view, one.versions)
        for pointer in one.pointers:
            out += pointer_problems(view, settings_res, versions, pointer, False, None)
        view.forget(path for path, _ in one.files)
    return out


def _fork(view: RegistryView, settings_res: FileResult[Settings], shard: _Shard) -> Any:
    """A child process checking ``shard``; its problems come back through a pipe, marshalled."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: check, send, and leave without running the parent's cleanup
        status = 1
        try:
            os.close(read_end)
            found = _shard_problems(view, settings_res, shard)
            payload = marshal.dumps(
                [(p.code, p.path, p.line, p.message, p.severity) for p in found]
            )
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return (pid, read_end)


def _collect(child: Any) -> list[Problem] | None:
    """The child's problems; None when it failed (the parent then checks its shard)."""
    if child is None:
        return None
    pid, read_end = child
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return None
    # marshal: a builtin (no import on this path) for our own child's plain tuples.
    return [Problem(*fields) for fields in marshal.loads(payload)]
