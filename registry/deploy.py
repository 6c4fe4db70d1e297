"""Moving a pointer: deploy and rollback, each under the write lock, with the environment's
policy applied and, optionally, as one commit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.encode import now_rfc3339
from registry.errors import (
    EnvironmentNotConfiguredError,
    NotFoundError,
    PolicyError,
    ValidationError,
)
from registry.fsio import Transaction, write_lock
from registry.gitio.repo import is_work_tree
from registry.history import Evidence
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.models import PromptDeployment, PromptVersion
from registry.paths import pointer_path, version_path
from registry.policy import Candidate, judge, pointer_move
from registry.schema.files import modeline_target
from registry.view import RegistryView
from registry.yamlio.dump import dump_yaml

if TYPE_CHECKING:
    pass
from registry.writer import finish, fresh_view, require_version, writer_actor


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


def _enforce(
    root: Path, view: RegistryView, v: PromptVersion, environment: str, promotion: bool
) -> None:
    """Refuse to point ``environment`` at ``v`` against its policy; ``promotion``: the move
    must come through ``promote_from`` (and ``min_soak``, by the current branch's history,
    now being the clock). A version file with problems (``tested: true`` on edited content)
    is refused too, as the runtime would refuse to serve it."""
    policy = view.settings().get(environment)
    assert policy is not None  # _check_env refused an unknown environment
    move = None
    if promotion:
        evidence = Evidence(root, "HEAD") if is_work_tree(root) else None
        move = pointer_move(view, policy, v.prompt_id, v.version, evidence)
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
        _enforce(root, view, v, environment, promotion=True)
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
        _enforce(root, view, v, environment, promotion=promotion)
        _require_committed(root, v, environment, commit, view, promotion=promotion)
        d = PromptDeployment(
            prompt_id, target, environment, now_rfc3339(), actor, current.version,
            "rollback", reason,
        )  # fmt: skip
        return _write_pointer(root, d, commit, _message("Roll back", d))
