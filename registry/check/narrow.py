"""Which part of the index ``check --staged`` lists: for a small change to versions and
pointers only, the files whose judgement can depend on it, not the whole registry.

A staged version or pointer of prompt ``pid`` is judged against ``prompts/<pid>/`` (its
versions, their neighbours, a pointer's target), the prompt's pointers in every environment
(``deployments/*/<pid>.yaml``: the ones re-judged, and the source environment of a promotion)
and ``promptreg.yaml``; nothing else is read (registry/check/scope.py). Anything that widens
what a change re-judges lists the whole index instead (``None``):

- ``promptreg.yaml`` (every pointer), a ``.py`` file or a data file under ``evals/`` (suites),
  a suite, a folder or any other path under a managed folder;
- a deletion, rename, copy or type change (a prompt left with no version re-judges its
  suite; a file turned into a symlink is judged as one);
- more than ``NARROW_MAX_PATHS`` paths (``pre-commit run --all-files`` names every file).

The caller also widens to the whole index when ``promptreg.yaml`` has problems, since broken
settings re-judge every pointer.
"""

from __future__ import annotations

from collections.abc import Iterable

from registry.paths import DEPLOYMENTS, EVALS, MANAGED_DIRS, PROMPTS, SETTINGS, classify

# Beyond this many changed or named paths the whole listing is as cheap as the pathspecs.
NARROW_MAX_PATHS = 64


def narrow_pathspecs(
    changes: Iterable[tuple[str, str, str | None]], named: Iterable[str]
) -> tuple[str, ...] | None:
    """The git pathspecs of what judging ``changes`` ((status, path, old path) against HEAD
    and against where the branch left its base) and the ``named`` files reads, or None: list
    the whole index."""
    paths: set[str] = set()
    for status, path, old in changes:
        if not status.startswith(("A", "M")) or old:
            return None
        paths.add(path)
    paths.update(named)
    if len(paths) > NARROW_MAX_PATHS:
        return None
    pids: set[str] = set()
    for path in paths:
        if path.split("/", 1)[0] not in MANAGED_DIRS and path != SETTINGS:
            if path.endswith(".py"):
                return None  # a suite hook may import it
            continue  # outside the registry: judges nothing
        c = classify(path)
        if c is None or c[0] not in ("version", "pointer"):
            return None
        pids.add(c[1][0] if c[0] == "version" else c[1][1])
    if not pids:
        return None
    specs = {f":(literal){SETTINGS}"}
    specs.update(f":(literal){p}" for p in paths if p.split("/", 1)[0] in MANAGED_DIRS)
    for pid in pids:
        specs.add(f":(literal){PROMPTS}/{pid}/")
        specs.add(f":(glob){DEPLOYMENTS}/*/{pid}.yaml")
        specs.add(f":(literal){EVALS}/{pid}.yaml")
    return tuple(sorted(specs))
