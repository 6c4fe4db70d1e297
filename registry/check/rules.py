"""File-level and registry-level checks of one registry state; every problem at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from registry.check.evaluations import (
    cases_file_problems,
    fingerprint_warnings,
    hook_problems,
    source_has_file,
)
from registry.check.scope import Selection, load_ahead, select
from registry.check.templates import breaking_variables, mustache_warnings
from registry.errors import LoadError
from registry.models import Problem, PromptDeployment, Settings
from registry.paths import SETTINGS, classify, expected_layout
from registry.policy import Candidate, Evidence, judge, pointer_move
from registry.sources import FILE, SYMLINK
from registry.view import FileResult, RegistryView, load_problem


def check_view(
    view: RegistryView,
    paths: Iterable[str] | Selection | None = None,
    promotions: set[str] | None = None,
    evidence: Evidence | None = None,
    trusted_modules: Sequence[str] | None = None,
) -> list[Problem]:
    """Check the whole state, or only what ``paths`` touch: the files given and what depends
    on them (registry/check/scope.py; a Selection is taken as is). ``promote_from`` and
    ``min_soak`` are rules about a change, so they are checked only for the pointer paths in
    ``promotions`` (None: every pointer), against
    the trusted history in ``evidence`` (None: none): time in the source environment comes
    from it, and a return to a version the environment ran there is exempt (a rollback or a
    revert must never wait for staging). Suite hooks may name the modules of
    ``trusted_modules`` (None: the list in the view's own settings; ``--base`` passes the
    base's). Problems come sorted."""
    entries = view.entries()
    problems: list[Problem] = []
    kinds = {e.path: e.kind for e in entries}
    if isinstance(paths, Selection) or paths is None:
        sel = paths
    else:  # hooks judged by the view's own trusted_modules depend on its settings
        sel = select(view, paths, own_trust=trusted_modules is None)
    selected = None if sel is None else sel.files

    settings_res = view.settings_result()
    if kinds.get(SETTINGS, FILE) == FILE and (selected is None or SETTINGS in selected):
        problems += settings_res.problems
    settings = settings_res.record if isinstance(settings_res.record, Settings) else Settings()
    trusted = settings.trusted_modules if trusted_modules is None else tuple(trusted_modules)
    has_file = source_has_file(view.source)

    shards = None
    if sel is None:
        from registry.check.parallel import check_shards

        # The files and pointers of each prompt, checked on worker processes (None: here).
        shards = check_shards(view, settings_res, promotions)
        if shards is None:
            view.preload([e.path for e in entries if e.kind == FILE])
    else:
        load_ahead(view, sel)
    done = set() if shards is None else shards.paths
    if shards is not None:
        problems += shards.problems
    for e in entries:
        if e.path in done:
            continue
        if selected is not None and e.path not in selected:
            continue
        if e.kind == SYMLINK:
            problems.append(
                Problem("symlink", e.path, None, "is a symbolic link; store a regular file instead")
            )
            continue
        if e.kind != FILE:
            problems.append(
                Problem(
                    "not-regular",
                    e.path,
                    None,
                    "is not a regular file; store a regular YAML file instead",
                )
            )
            continue
        c = classify(e.path)
        if c is None or c[0] == "settings":
            continue
        kind = c[0]
        if kind == "unexpected":
            problems.append(
                Problem(
                    "unexpected-file",
                    e.path,
                    None,
                    f"is not where promptreg expects files: {expected_layout(e.path)}",
                )
            )
        elif kind == "suite":
            problems += _check_suite(view, e.path, c[1][0], trusted, has_file)
        else:
            problems += file_problems(view, e.path, kind)

    if shards is None:  # the shards cover every prompt's versions
        problems += breaking_variables(view, selected)
    versions = view.version_index()
    for (env, pid), path in sorted(view.pointer_index().items()):
        if kinds.get(path) != FILE:
            continue
        if path in done:
            continue
        if sel is not None and path not in sel.pointers:
            continue
        judged = promotions is None or path in promotions
        problems += pointer_problems(
            view, settings_res, versions, (env, pid, path), judged, evidence
        )

    return sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.code, p.message))


def file_problems(view: RegistryView, path: str, kind: str) -> list[Problem]:
    """The problems of one version or pointer file on its own (warnings included)."""
    res = view.result_for(path)
    if res is None:
        return []
    if kind != "version":
        return res.problems
    return res.problems + mustache_warnings(res, path) + fingerprint_warnings(res, path)


def pointer_problems(
    view: RegistryView,
    settings_res: FileResult[Settings],
    versions: dict[str, list[str]],
    pointer: tuple[str, str, str],
    judged: bool,
    evidence: Evidence | None,
) -> list[Problem]:
    """The problems of a pointer, (environment, prompt id, path), against its target and its
    environment's policy (promotion rules only when ``judged``)."""
    env, pid, path = pointer
    ptr = view.pointer(env, pid)
    if ptr is None or ptr.version is None:
        return []
    settings = settings_res.record if isinstance(settings_res.record, Settings) else Settings()
    found = _check_pointer(view, settings, versions, path, ptr, judged, evidence)
    if settings_res.problems:
        # Policies of broken settings would be guesses; the settings problem is reported.
        found = [p for p in found if p.code in ("missing-version", "invalid-version")]
    return found


def _check_pointer(
    view: RegistryView,
    settings: Settings,
    versions: dict[str, list[str]],
    path: str,
    ptr: PromptDeployment,
    judged: bool,
    evidence: Evidence | None,
) -> list[Problem]:
    """The pointer's target and its policy; promotion only when ``judged`` (a changed pointer)."""
    env, pid, ver = ptr.environment, ptr.prompt_id, ptr.version
    loaded = view.pointer_result(env, pid).loaded
    line = None if loaded is None else loaded.line_of(("version",))
    policy = settings.get(env)
    out: list[Problem] = []
    if policy is None:
        out.append(
            Problem(
                "unknown-environment",
                path,
                None,
                f"environment {env!r} is not configured; configured: {', '.join(settings.names)} (promptreg.yaml)",
            )
        )
        return out
    if ver not in versions.get(pid, []):
        out.append(
            Problem(
                "missing-version",
                path,
                line,
                f"points {env} at {pid} {ver}, which does not exist (prompts/{pid}/{ver}.yaml)",
            )
        )
        return out
    assert ver is not None
    v = view.version(pid, ver)
    if v is None:
        out.append(
            Problem(
                "invalid-version",
                path,
                line,
                f"points {env} at {pid} {ver}, which is not valid; fix prompts/{pid}/{ver}.yaml",
            )
        )
        return out
    move = pointer_move(view, policy, pid, v.version, evidence) if judged else None
    return judge(Candidate(v, env, policy, move), line)


def _check_suite(
    view: RegistryView,
    path: str,
    pid: str,
    trusted: Sequence[str],
    has_file: Callable[[str], bool],
) -> list[Problem]:
    try:
        loaded = view.source.load(path)
    except LoadError as exc:
        return [load_problem(exc, path)]
    if loaded is None:
        return []
    if view.schema:
        from registry.evals.suite import suite_problems
        from registry.schema.validate import schema_errors

        errs = schema_errors("eval-suite", loaded.data) or suite_problems(loaded.data)
        if errs:
            return [Problem("schema", path, loaded.line_of(p), m) for p, m in errs]
        found = cases_file_problems(view, path, loaded, has_file, trusted)
        if found:
            return found
    got = loaded.data.get("prompt_id")
    if got != pid:
        return [
            Problem(
                "path-mismatch",
                path,
                loaded.line_of(("prompt_id",)),
                f"prompt_id {got!r} does not match the file name {pid!r}",
            )
        ]
    if pid not in view.version_index():
        return [
            Problem(
                "orphan-suite",
                path,
                None,
                f"no prompt {pid!r} exists for this suite (prompts/{pid}/)",
            )
        ]
    return hook_problems(path, loaded, has_file, trusted)
