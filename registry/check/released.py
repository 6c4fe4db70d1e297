"""What a released version may not do: be deleted, renamed or edited (but for its evaluation);
placeholders two released versions added stay warnings."""

from __future__ import annotations

from dataclasses import replace

from registry.errors import LoadError
from registry.models import Problem
from registry.paths import classify, version_path
from registry.view import RegistryView

# Fields a reviewer may still change on a released version: re-evaluation results.
MUTABLE_FIELDS = frozenset({"tested", "evaluation_score", "evaluation"})


BREAKING = "breaking-variables"


def released_breaks(
    problems: list[Problem], view: RegistryView, base_view: RegistryView
) -> list[Problem]:
    """A placeholder added within a major by two versions that were both released already
    cannot be undone (released versions are frozen): it stays visible as a warning, and only a
    change that brings such a version in is refused."""
    if not any(p.code == BREAKING for p in problems):
        return problems
    released = {e.path for e in base_view.entries()}
    index = view.version_index()
    out = []
    for p in problems:
        c = classify(p.path) if p.code == BREAKING else None
        if c is not None and c[0] == "version" and p.path in released:
            pid, version = c[1]
            versions = index.get(pid, [])
            i = versions.index(version) if version in versions else 0
            if i > 0 and version_path(pid, versions[i - 1]) in released:
                p = replace(
                    p,
                    severity="warning",
                    message=p.message + " (both were released before, so this stays as it is;"
                    " the next such change needs a new major)",
                )
        out.append(p)
    return out


def frozen_form(value: object) -> object:
    """A value with its JSON type kept, for comparing frozen fields: Python says ``1 == True``
    and ``0 == 0.0``, but a model API receives ``true`` for one and ``0.0`` for the other (and
    may accept only integers), so a boolean, an integer and a float never compare equal here.
    Mapping order is not part of the value."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value.hex())  # also tells -0.0 from 0.0 and a NaN from itself
    if isinstance(value, dict):
        return ("map", frozenset((frozen_form(k), frozen_form(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(frozen_form(v) for v in value))
    return (type(value).__name__, value)


def immutability_problems(
    base_view: RegistryView, head_view: RegistryView, changes: list[tuple[str, str, str | None]]
) -> list[Problem]:
    """Released versions (present at the base) must not be deleted, renamed or edited, except
    for their evaluation fields."""
    out: list[Problem] = []
    for status, path, old in changes:
        src = old if status.startswith("R") and old else path
        c = classify(src)
        if c is None or c[0] != "version":
            continue
        if status.startswith("D"):
            out.append(
                Problem(
                    "deleted-version",
                    src,
                    None,
                    "a released version may not be deleted; deploy another version instead",
                )
            )
            continue
        if status.startswith("R"):
            out.append(
                Problem(
                    "renamed-version",
                    src,
                    None,
                    f"a released version may not be renamed (to {path}); create a new version instead",
                )
            )
            continue
        if status.startswith("A"):
            continue  # absent where the branch left its base: not released
        after = head_view.version_result(*c[1]).loaded
        try:
            before = base_view.source.load(src)
        except LoadError:
            continue
        if before is None or after is None:
            continue  # a broken head file is reported by the file checks of the new state
        for key in sorted((set(before.data) | set(after.data)) - MUTABLE_FIELDS):
            if frozen_form(before.data.get(key)) != frozen_form(after.data.get(key)):
                out.append(
                    Problem(
                        "frozen-field",
                        path,
                        after.line_of((key,)),
                        f"'{key}' of a released version may not change; create a new version (promptreg new {c[1][0]} --bump patch)",
                    )
                )
    return out
