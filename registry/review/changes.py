"""What a range changes besides pointers: new versions with their diffs, evaluation records
of released versions, suites and the settings' policy. Reads only; runs nothing."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from registry.check.base_range import BaseRange
from registry.check.trust import relaxations
from registry.check.verify import changed_records, suite_data
from registry.check.weakened import weakenings
from registry.models import PromptVersion, Settings
from registry.paths import SETTINGS, classify
from registry.review.records import (
    EnvironmentChange,
    EvaluationChange,
    NewVersion,
    PolicyChange,
    SuiteChange,
)


def template_text(v: PromptVersion | None) -> str:
    """The text a diff compares: the content, or each message under its ``[role]``."""
    if v is None:
        return ""
    if v.messages is not None:
        return "".join(f"[{m.role}]\n{m.content.rstrip()}\n" for m in v.messages)
    return v.content or ""


def new_versions(rng: BaseRange) -> list[NewVersion]:
    """Each version file the range adds that loads, against the version before it."""
    out: list[NewVersion] = []
    for status, path, _ in rng.changes:
        c = classify(path)
        if status not in ("A", "R") or c is None or c[0] != "version":
            continue
        pid, version = c[1]
        v = rng.head.version(pid, version)
        if v is None:
            continue  # a broken file: the check's problems say why
        versions = rng.head.version_index().get(pid, [])
        i = versions.index(version) if version in versions else 0
        prev_id = versions[i - 1] if i > 0 else None
        prev = None if prev_id is None else rng.head.version(pid, prev_id)
        out.append(_new_version(path, v, prev_id, prev))
    return sorted(out, key=lambda n: (n.prompt_id, n.path))


def _new_version(
    path: str, v: PromptVersion, prev_id: str | None, prev: PromptVersion | None
) -> NewVersion:
    old_names = set() if prev is None else set(prev.placeholders)
    new_names = set(v.placeholders)
    lines = difflib.unified_diff(
        template_text(prev).splitlines(keepends=True),
        template_text(v).splitlines(keepends=True),
        fromfile="/dev/null" if prev_id is None else f"{v.prompt_id}/{prev_id}",
        tofile=f"{v.prompt_id}/{v.version}",
    )
    diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return NewVersion(
        prompt_id=v.prompt_id,
        version=v.version,
        path=path,
        from_version=prev_id,
        description=v.description,
        author=v.author,
        kind="content" if v.messages is None else "messages",
        tested=v.is_tested,
        evaluation_score=v.evaluation_score,
        variables_added=tuple(n for n in v.placeholders if n not in old_names),
        variables_dropped=()
        if prev is None
        else tuple(n for n in prev.placeholders if n not in new_names),
        model_before=_plain(None if prev is None else prev.model),
        model_after=_plain(v.model),
        diff=diff,
    )


def _plain(model: Mapping[str, Any] | None) -> Any:
    return None if model is None else json.loads(json.dumps(model, default=repr))


def evaluation_changes(rng: BaseRange) -> list[EvaluationChange]:
    """Evaluation records the range adds or changes on versions the base already has (those
    of new versions are part of the version)."""
    added = {p for s, p, _ in rng.changes if s in ("A", "R")}
    out: list[EvaluationChange] = []
    for r in changed_records(rng.before, rng.head, rng.changes):
        if r.path in added:
            continue
        v = r.version
        old = rng.before.version(v.prompt_id, v.version)
        out.append(
            EvaluationChange(
                prompt_id=v.prompt_id,
                version=v.version,
                path=r.path,
                tested=v.is_tested,
                evaluation_score=v.evaluation_score,
                tested_before=old is not None and old.is_tested,
                score_before=None if old is None else old.evaluation_score,
                evaluated_by=None if v.evaluation is None else v.evaluation.evaluated_by,
            )
        )
    return out


def suite_changes(rng: BaseRange) -> list[SuiteChange]:
    """Each suite file the range adds, changes or removes (a rename is a removal and an
    addition)."""
    out: list[SuiteChange] = []
    for status, path, old in rng.changes:
        if status == "R" and old:
            sides = [(old, "removed"), (path, "added")]
        else:
            sides = [(path, {"A": "added", "D": "removed"}.get(status, "changed"))]
        for where, how in sides:
            c = classify(where)
            if c is None or c[0] != "suite":
                continue
            before = None if how == "added" else suite_data(rng.before, where)
            after = None if how == "removed" else suite_data(rng.head, where)
            out.append(_suite_change(c[1][0], where, how, before, after))
    return sorted(out, key=lambda s: s.path)


def _cases(data: Mapping[str, Any] | None) -> dict[str, str]:
    """Inline cases by name, each as canonical JSON."""
    cases = [] if data is None else data.get("cases") or []
    return {
        str(c.get("name")): json.dumps(c, sort_keys=True, ensure_ascii=False, default=repr)
        for c in cases
        if isinstance(c, Mapping)
    }


def _suite_change(
    pid: str,
    path: str,
    status: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> SuiteChange:
    old, new = _cases(before), _cases(after)
    if status == "removed":
        weakened: list[str] = ["the suite was removed"]
    elif before is not None and after is not None:
        weakened = weakenings(before, after)
    else:
        weakened = []
    return SuiteChange(
        prompt_id=pid,
        path=path,
        status=status,
        threshold=(_get(before, "threshold"), _get(after, "threshold")),
        tolerance=(_get(before, "tolerance", 0), _get(after, "tolerance", 0)),
        cases_added=tuple(n for n in new if n not in old),
        cases_removed=tuple(n for n in old if n not in new),
        cases_changed=tuple(n for n in new if n in old and old[n] != new[n]),
        weakened=tuple(weakened),
    )


def _get(data: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    return None if data is None else data.get(key, default)


def policy_change(rng: BaseRange) -> PolicyChange | None:
    """What the range changes in ``promptreg.yaml`` (None: it does not touch the file)."""
    touched = {p for _, p, _ in rng.changes} | {o for _, _, o in rng.changes if o}
    if SETTINGS not in touched:
        return None
    before = rng.before.settings()
    res = rng.head.settings_result()
    if res.problems or not isinstance(res.record, Settings):
        return PolicyChange(True, (), (before.names, ()), (before.trusted_modules, ()))
    after = res.record
    envs: list[EnvironmentChange] = []
    for name in dict.fromkeys([*before.names, *after.names]):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        relaxed = () if old is None else tuple(relaxations(old, new))
        envs.append(EnvironmentChange(name, old, new, relaxed))
    return PolicyChange(
        False,
        tuple(envs),
        (before.names, after.names),
        (before.trusted_modules, after.trusted_modules),
    )


def other_files(rng: BaseRange) -> list[str]:
    """Changed files that are no version, pointer, suite or settings file: suite hooks, case
    files, anything else of the repository."""
    known = ("version", "pointer", "suite", "settings")
    paths = {p for _, p, _ in rng.changes} | {o for _, _, o in rng.changes if o}
    return sorted(p for p in paths if (c := classify(p)) is None or c[0] not in known)
