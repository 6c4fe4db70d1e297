"""What a check of part of a registry state judges: the files a change touches and every file
whose judgement depends on them. The one rule ``check --staged``, ``check FILE...`` and
``check --base`` share (registry/check/rules.py applies it):

- a named folder names every file under it;
- a version file (added, changed, deleted or renamed away) re-judges every pointer of its
  prompt (missing-version, invalid-version, require_tested, min_score), its prompt's suite when
  the prompt has no version left (orphan-suite), and the breaking-variables pairs it is part
  of or lies between (registry/check/templates.py);
- ``promptreg.yaml`` re-judges every pointer (policies, environments), and every suite when
  the suites' hooks are judged by its own ``trusted_modules`` (``own_trust``: ``check
  FILE...``; ``--staged`` and ``--base`` read the base's); a broken ``promptreg.yaml`` is
  always judged, since every pointer's judgement reads it;
- a data file under ``evals/`` re-judges the suites whose ``cases_file`` it is;
- a ``.py`` file re-judges every suite (hooks may name only the registry's own .py files).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from registry.errors import LoadError
from registry.ids import SemVer, version_key
from registry.paths import EVALS, SETTINGS, classify, version_path
from registry.sources import FILE
from registry.view import RegistryView


@dataclass(frozen=True)
class Selection:
    """``files`` are judged whole (their own problems and their rules); ``pointers`` (paths)
    have their target and policy judged again, touched or depending on a touched file."""

    files: frozenset[str]
    pointers: frozenset[str]

    def present(self, view: RegistryView) -> list[str]:
        """The selected paths that ``view`` holds, sorted."""
        held = {e.path for e in view.entries()}
        return sorted((self.files | self.pointers) & held)


def select(view: RegistryView, paths: Iterable[str], own_trust: bool = False) -> Selection:
    """``paths`` (files or folders, present or deleted) and what depends on them in ``view``;
    ``own_trust``: the suites' hooks are judged by ``view``'s own ``trusted_modules``."""
    named = {_norm(p) for p in paths}
    entries = view.entries()
    kinds = {e.path: e.kind for e in entries}
    files = set(named)
    maybe_folders = {p.rstrip("/") for p in named if p not in kinds}
    if maybe_folders:
        folders = tuple(f"{p}/" for p in maybe_folders & _folders(kinds))
        if folders:
            files.update(e.path for e in entries if e.path.startswith(folders))
    pids = _version_pids(files)
    index = view.pointer_index()
    pointers = {p for p in files if (c := classify(p)) is not None and c[0] == "pointer"}
    settings = SETTINGS in files or (
        kinds.get(SETTINGS) == FILE and bool(view.settings_result().problems)
    )
    if settings:
        files.add(SETTINGS)
        pointers.update(index.values())
    else:
        pointers.update(path for (_, pid), path in index.items() if pid in pids)
    suites = [e.path for e in entries if (c := classify(e.path)) is not None and c[0] == "suite"]
    if any(p.endswith(".py") for p in files) or (settings and own_trust):
        files.update(suites)
    else:
        # A suite reads no version; only whether its prompt has any left (orphan-suite).
        versions = view.version_index()
        files.update(
            suite
            for pid in pids
            if (suite := f"{EVALS}/{pid}.yaml") in kinds and not versions.get(pid)
        )
        data = {p for p in files if _data_file(p)}
        if data:
            files.update(s for s in suites if _reads_data(view, s, data))
    return Selection(frozenset(files), frozenset(pointers))


def load_ahead(view: RegistryView, sel: Selection) -> None:
    """Read what judging ``sel`` loads in two batches (one pipelined round trip each for a git
    source): the selected files with the version neighbours breaking-variables compares, then
    the versions the selected pointers name."""
    index = view.version_index()
    first = set(sel.files | sel.pointers)
    for pid, chosen in chosen_versions(sel.files).items():
        versions = index.get(pid, [])
        keys = [version_key(v) for v in versions]
        for k in chosen:
            i = bisect.bisect_left(keys, k)
            first.update(version_path(pid, v) for v in versions[max(i - 1, 0) : i + 2])
    held = {e.path for e in view.entries() if e.kind == FILE}
    view.preload(sorted(first & held))
    second = set()
    for path in sel.pointers:
        c = classify(path)
        ptr = None if c is None or path not in held else view.pointer(*c[1])
        if ptr is not None and ptr.version is not None:
            second.add(f"prompts/{ptr.prompt_id}/{ptr.version}.yaml")
    view.preload(sorted(second & held))


def spans_selected(chosen: list[SemVer], before: str, after: str) -> bool:
    """Whether a key of ``chosen`` (sorted) lies in ``[before, after]``: the pair compares a
    selected version, or its neighbours across one deleted from between them."""
    lo, hi = version_key(before), version_key(after)
    i = bisect.bisect_left(chosen, lo)
    return i < len(chosen) and not hi < chosen[i]


def chosen_versions(selected: Iterable[str]) -> dict[str, list[SemVer]]:
    """prompt id -> sorted version keys of the selected version files (present or not)."""
    out: dict[str, list[SemVer]] = defaultdict(list)
    for p in selected:
        c = classify(p)
        if c is not None and c[0] == "version":
            out[c[1][0]].append(version_key(c[1][1]))
    return {pid: sorted(keys) for pid, keys in out.items()}


def _norm(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def _folders(kinds: dict[str, str]) -> set[str]:
    """Every folder that holds an entry."""
    out: set[str] = set()
    for path in kinds:
        parent, _, _ = path.rpartition("/")
        while parent and parent not in out:
            out.add(parent)
            parent, _, _ = parent.rpartition("/")
    return out


def _version_pids(selected: set[str]) -> set[str]:
    """The prompts with a selected version file: their pointers depend on it."""
    return {c[1][0] for s in selected if (c := classify(s)) is not None and c[0] == "version"}


def _data_file(path: str) -> bool:
    """Whether ``path`` can be a suite's cases_file (a change to it re-checks the suite)."""
    return path.startswith(f"{EVALS}/") and path.endswith((".jsonl", ".csv"))


def _reads_data(view: RegistryView, path: str, data: set[str]) -> bool:
    """Whether the suite at ``path`` reads one of the ``data`` files as its cases_file."""
    try:
        loaded = view.source.load(path)
    except LoadError:
        return False
    got = loaded.data.get("cases_file") if loaded is not None else None
    return isinstance(got, str) and got in data
