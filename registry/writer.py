"""The write path: register, deploy and rollback, each under the registry lock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.encode import messages_of, now_rfc3339, version_document
from registry.errors import (
    AlreadyExistsError,
    EnvironmentNotConfiguredError,
    NotFoundError,
    PolicyError,
    ValidationError,
)
from registry.fsio import Transaction, write_lock
from registry.gitio.commit import commit_paths, require_person, resolve_actor
from registry.gitio.repo import is_work_tree
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.models import Problem, PromptDeployment, PromptVersion
from registry.paths import pointer_path, version_path
from registry.policy import Candidate, judge, pointer_move
from registry.schema.files import modeline_target
from registry.sources import DirSource
from registry.view import RegistryView
from registry.yamlio.dump import dump_yaml

if TYPE_CHECKING:
    pass


def finish(root: Path, tx: Transaction, commit: bool, message: str, author: str) -> str | None:
    if not commit:
        return None
    try:
        return commit_paths(root, tx.paths, message, author)
    except BaseException:
        tx.rollback()
        raise


def writer_actor(root: Path, given: str | None, commit: bool, flag: str = "--by") -> str:
    """Who makes the change; with a commit it must be ``Name <email>``."""
    actor = resolve_actor(root, given, flag)
    if commit:
        require_person(actor, flag)
    return actor


def _refuse_existing(root: Path, rel: str, v: PromptVersion) -> None:
    if (root / rel).exists() or (root / rel).is_symlink():
        raise AlreadyExistsError(
            f"{v.prompt_id} {v.version} already exists ({rel}); versions are immutable:"
            " choose a new version (promptreg new --bump patch)"
        )


def _refuse_evaluation_fields(v: PromptVersion) -> None:
    """A new version is untested; only a passing evaluation may say otherwise."""
    given = [
        name
        for name, unset in (
            ("tested", v.tested is False),
            ("evaluation_score", v.evaluation_score is None),
            ("evaluation", v.evaluation is None),
        )
        if not unset
    ]
    if given:
        raise ValidationError(
            f"{v.prompt_id} {v.version}: {', '.join(given)} cannot be given to register;"
            f" evaluation sets them (promptreg eval {v.prompt_id} {v.version}, or"
            " PromptRegistry.evaluate)"
        )


def register(root: Path, v: PromptVersion, *, commit: bool = False) -> PromptVersion:
    """Write a new version file; it is always untested. Raises AlreadyExistsError, and
    ValidationError when ``tested``, a score or an evaluation is given (evaluation sets them)."""
    from registry.decode import build_version
    from registry.schema.validate import schema_errors
    from registry.yamlio.load import load_yaml_bytes

    _refuse_evaluation_fields(v)
    if not isinstance(v.created_at, str):
        raise ValidationError(
            f"created_at must be an RFC 3339 string or an aware datetime, got {v.created_at!r}"
        )
    rel = version_path(v.prompt_id, v.version)
    _refuse_existing(root, rel, v)
    v = replace(
        v,
        is_active=False,
        messages=messages_of(v.messages),
    )
    if not v.created_at:
        v = replace(v, created_at=now_rfc3339())
    if not v.author:
        v = replace(v, author=resolve_actor(root, None, "--author"))
    if commit:
        require_person(v.author, "--author")
    text = dump_yaml(version_document(v), modeline_target("prompt-version", rel))
    # Verify the file as every reader and the check will see it before it reaches the disk.
    loaded = load_yaml_bytes(text.encode(), rel)
    built, problems = build_version(rel, loaded, (v.prompt_id, v.version))
    schema_problems = [
        Problem("schema", rel, loaded.line_of(p), m)
        for p, m in schema_errors("prompt-version", loaded.data)
    ]
    # The decoder repeats some schema rules (an empty template): say each once.
    problems = schema_problems + [
        p for p in problems
        if not any(s.line == p.line and s.message.endswith(p.message) for s in schema_problems)
    ]  # fmt: skip
    if problems or built is None:
        raise ValidationError(
            "refusing to write an invalid version: " + "; ".join(str(p) for p in problems), problems
        )
    with write_lock(root):
        _refuse_existing(root, rel, v)
        tx = Transaction(root)
        try:
            tx.write(rel, text.encode("utf-8"))
            finish(root, tx, commit, f"Add {v.prompt_id} {v.version}: {v.description}", v.author)
        except BaseException:
            tx.rollback()
            raise
    return built


def fresh_view(root: Path) -> RegistryView:
    return RegistryView(DirSource(root))


def require_version(view: RegistryView, prompt_id: str, version: str) -> PromptVersion:
    res = view.version_result(prompt_id, version)
    if res.record is None:
        if res.problems:
            raise ValidationError(
                f"{prompt_id} {version} is not valid: " + "; ".join(str(p) for p in res.problems),
                res.problems,
            )
        raise NotFoundError(
            f"{prompt_id} {version} not found ({version_path(prompt_id, version)} does not exist)"
        )
    assert isinstance(res.record, PromptVersion)
    return res.record


def _check_env(view: RegistryView, environment: str) -> None:
    settings_res = view.settings_result()
    if settings_res.problems:
        raise ValidationError(
            "promptreg.yaml is not valid: " + "; ".join(str(p) for p in settings_res.problems),
            settings_res.problems,
        )
    settings = view.settings()
    if settings.get(environment) is None:
        raise EnvironmentNotConfiguredError(
            f"environment {environment!r} is not configured; configured environments:"
            f" {', '.join(settings.names)} (edit promptreg.yaml to add one)"
        )


def _current_pointer(
    view: RegistryView, environment: str, prompt_id: str
) -> PromptDeployment | None:
    res = view.pointer_result(environment, prompt_id)
    if res.problems:
        raise ValidationError(
            f"{pointer_path(environment, prompt_id)} is not valid: "
            + "; ".join(str(p) for p in res.problems),
            res.problems,
        )
    rec = res.record
    return rec if isinstance(rec, PromptDeployment) else None


def _enforce(view: RegistryView, v: PromptVersion, environment: str, promotion: bool) -> None:
    """Refuse to point ``environment`` at ``v`` against its policy; ``promotion``: the move
    must come through ``promote_from``. A version file with problems (``tested: true`` on
    edited content) is refused too, as the runtime would refuse to serve it."""
    policy = view.settings().get(environment)
    assert policy is not None  # _check_env refused an unknown environment
    move = pointer_move(view, policy, v.prompt_id) if promotion else None
    refused = judge(Candidate(v, environment, policy, move))
    if refused:
        raise PolicyError("; ".join(p.message for p in refused))
    invalid = view.version_result(v.prompt_id, v.version).problems
    if invalid:
        raise ValidationError(
            f"{v.prompt_id} {v.version} cannot be active in {environment}: it is not valid: "
            + "; ".join(str(p) for p in invalid),
            invalid,
        )


def _require_committed(
    root: Path,
    v: PromptVersion,
    environment: str,
    commit: bool,
    view: RegistryView,
    promotion: bool,
) -> None:
    """With --commit, the pointer commit must stand on its own in HEAD: the version it names,
    the settings and the promotion source pointer may not exist only in the working tree."""
    if not commit:
        return
    from registry.gitio.commit import uncommitted
    from registry.paths import SETTINGS

    deps = [version_path(v.prompt_id, v.version), SETTINGS]
    policy = view.settings().get(environment)
    if promotion and policy is not None and policy.promote_from:
        deps.append(pointer_path(policy.promote_from, v.prompt_id))
    dirty = uncommitted(root, deps)
    if dirty:
        raise PolicyError(
            f"cannot commit the deployment of {v.prompt_id} {v.version} to {environment}:"
            f" {', '.join(dirty)} has uncommitted changes that the pointer depends on;"
            " commit them first (for example `promptreg eval ... --commit`)"
        )


def _write_pointer(root: Path, d: PromptDeployment, commit: bool, message: str) -> PromptDeployment:
    doc: dict[str, Any] = {
        "prompt_id": d.prompt_id,
        "environment": d.environment,
        "version": d.version,
        "previous_version": d.previous_version,
        "action": d.action,
        "deployed_by": d.deployed_by,
        "deployed_at": d.deployed_at,
    }
    if d.reason:
        doc["reason"] = d.reason
    rel = pointer_path(d.environment, d.prompt_id)
    text = dump_yaml(doc, modeline_target("deployment", rel))
    tx = Transaction(root)
    try:
        tx.write(rel, text.encode("utf-8"))
        sha = finish(root, tx, commit, message, d.deployed_by)
    except BaseException:
        tx.rollback()
        raise
    return replace(d, commit=sha, committed_by=None if sha is None else _author(root, sha))


def _last_commit(root: Path, d: PromptDeployment) -> PromptDeployment:
    """``d`` (a pointer left as it is) with the commit that last changed its file and that
    commit's author; both stay None when the pointer has uncommitted changes or no commit."""
    from registry.gitio.commit import uncommitted
    from registry.gitio.run import run_git

    rel = pointer_path(d.environment, d.prompt_id)
    if not is_work_tree(root) or uncommitted(root, [rel]):
        return d
    out = run_git(root, "-c", "log.follow=false", "log", "-1", "--encoding=UTF-8",
                  "--format=%H%x00%an <%ae>", "--", rel, check=False)  # fmt: skip
    sha, _, author = out.decode("utf-8", "replace").strip().partition("\0")
    if not sha:
        return d
    return replace(d, commit=sha, committed_by=author)


def _author(root: Path, sha: str) -> str:
    """The git author of ``sha`` as ``history`` reports it (``Name <email>``)."""
    from registry.gitio.run import run_git

    out = run_git(root, "show", "-s", "--encoding=UTF-8", "--format=%an <%ae>", sha)
    return out.decode("utf-8", "replace").strip()


def _message(verb: str, d: PromptDeployment) -> str:
    head = f"{verb} {d.prompt_id} {d.version} to {d.environment}"
    if d.previous_version:
        head += f" (was {d.previous_version})"
    return head + (f"\n\nReason: {d.reason}" if d.reason else "")


def clean_reason(reason: str | None) -> str | None:
    """The reason stripped (None when empty); raises ValidationError when too long."""
    if reason is None:
        return None
    reason = reason.strip()
    if len(reason) > 500 or "\0" in reason:
        raise ValidationError("--reason must be at most 500 characters")
    return reason or None


def deploy(
    root: Path, prompt_id: str, version: str, environment: str, deployed_by: str | None,
    *, reason: str | None = None, commit: bool = False,
) -> PromptDeployment:  # fmt: skip
    """Point ``environment`` at ``version``; a no-op when it is already active there."""
    validate_prompt_id(prompt_id)
    validate_version(version)
    validate_environment(environment)
    reason = clean_reason(reason)
    actor = writer_actor(root, deployed_by, commit)
    with write_lock(root):
        view = fresh_view(root)
        _check_env(view, environment)
        v = require_version(view, prompt_id, version)
        current = _current_pointer(view, environment, prompt_id)
        if current is not None and current.version == version:
            return _last_commit(root, current)
        _enforce(view, v, environment, promotion=True)
        _require_committed(root, v, environment, commit, view, promotion=True)
        d = PromptDeployment(
            prompt_id, version, environment, now_rfc3339(), actor,
            current.version if current else None, "deploy", reason,
        )  # fmt: skip
        return _write_pointer(root, d, commit, _message("Deploy", d))


def _ran(root: Path, environment: str, v: PromptVersion) -> bool:
    """Whether git's history shows ``environment`` running ``v`` (False without git)."""
    from registry.history import history

    if not is_work_tree(root):
        return False
    events = history(root, v.prompt_id, environment, (environment,))
    return any(e.version == v.version for e in events)


def rollback(
    root: Path, prompt_id: str, environment: str, rolled_back_by: str | None,
    *, to: str | None = None, reason: str | None = None, commit: bool = False,
) -> PromptDeployment:  # fmt: skip
    """Re-point ``environment`` at its previous version (or ``to``), as ``action: rollback``."""
    validate_prompt_id(prompt_id)
    validate_environment(environment)
    if to is not None:
        validate_version(to)
    reason = clean_reason(reason)
    actor = writer_actor(root, rolled_back_by, commit)
    with write_lock(root):
        view = fresh_view(root)
        _check_env(view, environment)
        current = _current_pointer(view, environment, prompt_id)
        if current is None:
            raise NotFoundError(
                f"No previous version to roll back to: nothing is deployed for {prompt_id}"
                f" in {environment}"
            )
        target = to
        if target is None:
            if current.action == "rollback":
                raise PolicyError(
                    f"the last change of {prompt_id} in {environment} was already a rollback"
                    f" (to {current.version}, from {current.previous_version}); rolling back"
                    " again would re-deploy the version just rolled back: pass --to VERSION"
                )
            target = current.previous_version
        if target is None:
            raise PolicyError(
                f"No previous version to roll back to: {prompt_id} {current.version} was the"
                f" first deployment in {environment}; pass --to VERSION"
            )
        if target == current.version:
            return _last_commit(root, current)
        v = require_version(view, prompt_id, target)
        # Going back to what the environment ran needs no promotion; a --to target it never
        # ran is a new version there and must come through promote_from like a deploy.
        promotion = target != current.previous_version and not _ran(root, environment, v)
        _enforce(view, v, environment, promotion=promotion)
        _require_committed(root, v, environment, commit, view, promotion=promotion)
        d = PromptDeployment(
            prompt_id, target, environment, now_rfc3339(), actor, current.version,
            "rollback", reason,
        )  # fmt: skip
        return _write_pointer(root, d, commit, _message("Roll back", d))
