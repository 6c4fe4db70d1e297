"""Template rules across versions and within one: a Mustache-style ``{{name}}`` that renders
as literal text (a warning), and ``breaking-variables``, a placeholder added within a major."""

from __future__ import annotations

from collections.abc import Set
from itertools import pairwise
from typing import Any

from registry.check.scope import chosen_versions, spans_selected
from registry.ids import SemVer, version_key
from registry.models import Problem, PromptVersion
from registry.paths import version_path
from registry.view import FileResult, RegistryView


def _templates(v: PromptVersion) -> list[tuple[tuple[str | int, ...], str]]:
    """(path in the file, template text) of every template of ``v``."""
    if v.messages is not None:
        return [(("messages", i, "content"), m.content) for i, m in enumerate(v.messages)]
    return [(("content",), v.content or "")]


def mustache_warnings(res: FileResult[Any], path: str) -> list[Problem]:
    """A warning for each ``{{name}}`` of a version's templates: written in the Mustache style
    of other tools, it renders as the literal text inside its outer braces (``{name}``)."""
    from registry.template import mustache_placeholders

    v, loaded = res.record, res.loaded
    if not isinstance(v, PromptVersion) or loaded is None:
        return []
    out: list[Problem] = []
    for where, text in _templates(v):
        first = loaded.text_lines.get(where, loaded.line_of(where))
        for shown, line in mustache_placeholders(text):
            name = shown[2:-2].strip()
            out.append(
                Problem(
                    "mustache-placeholder",
                    path,
                    first + line - 1,
                    f"{shown} is not a placeholder: it renders as the literal text"
                    f" {shown[1:-1]}; write {{{name}}} to insert a variable",
                    severity="warning",
                )
            )
    return out


def _promises_no_interface(version: SemVer) -> bool:
    """Major 0 (initial development) and the pre-releases of X.0.0 promise no interface yet."""
    return version.major == 0 or (version.minor == 0 and version.patch == 0 and bool(version.pre))


def breaking_variables(view: RegistryView, selected: Set[str] | None) -> list[Problem]:
    """A version that takes a placeholder the version before it in the same major did not:
    callers of the earlier version do not pass it, so it needs a new major. With ``selected``,
    only the pairs a selected version file is part of or was deleted from between."""
    out: list[Problem] = []
    index = view.version_index()
    chosen = {} if selected is None else chosen_versions(selected)
    if selected is not None:  # only the prompts a selected version file belongs to
        index = {pid: index[pid] for pid in sorted(chosen) if pid in index}
    for pid, versions in index.items():
        parsed = [version_key(v) for v in versions]
        names: dict[str, frozenset[str] | None] = {}
        for (before, old), (after, new) in pairwise(zip(versions, parsed, strict=True)):
            if old.major != new.major or _promises_no_interface(old):
                continue
            if selected is not None and not spans_selected(chosen[pid], before, after):
                continue
            earlier = _placeholder_set(view, pid, before, names)
            later_names = _placeholder_set(view, pid, after, names)
            if earlier is None or later_names is None:
                continue  # a broken file is reported by its own checks
            if later_names <= earlier:
                continue
            later = view.version(pid, after)
            assert later is not None
            added = [n for n in later.placeholders if n not in earlier]
            path = version_path(pid, after)
            loaded = view.version_result(pid, after).loaded
            key = "messages" if later.messages is not None else "content"
            out.append(
                Problem(
                    "breaking-variables",
                    path,
                    None if loaded is None else loaded.line_of((key,)),
                    f"{pid} {after} adds placeholder(s) {', '.join(added)} that {before} does"
                    f" not take: callers of {before} do not pass them, so this breaks the"
                    f" {new.major}.x interface; bump the major (promptreg new {pid} --bump major)",
                )
            )
    return out


def _placeholder_set(
    view: RegistryView, pid: str, version: str, seen: dict[str, frozenset[str] | None]
) -> frozenset[str] | None:
    """A version's placeholder names (None when it does not load), once per version."""
    if version not in seen:
        v = view.version(pid, version)
        seen[version] = None if v is None else frozenset(v.placeholders)
    return seen[version]
