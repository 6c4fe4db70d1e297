"""Moving a pointer: deploy, rollback and undeploy, each under the write lock, with the
environment's policy applied and, optionally, as one commit."""

from __future__ import annotations

from pathlib import Path

from registry.encode import now_rfc3339
from registry.errors import (
    EnvironmentNotConfiguredError,
    NotFoundError,
    PolicyError,
    ValidationError,
)
from registry.fsio import write_lock
from registry.gitio.repo import is_work_tree
from registry.history import Evidence
from registry.ids import validate_environment, validate_prompt_id, validate_version
from registry.models import PromptDeployment, PromptVersion
from registry.paths import pointer_path, version_path
from registry.pointers import (
    REMOVE,
    PointerChange,
    commit_message,
    pointer_before,
    unchanged,
    write_pointer,
)
from registry.policy import Candidate, judge, pointer_move
from registry.view import RegistryView
from registry.writer import fresh_view, require_version, writer_actor


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
    return deploy_change(
        root, prompt_id, version, environment, deployed_by, reason=reason, commit=commit
    ).after


def deploy_change(
    root: Path, prompt_id: str, version: str, environment: str, deployed_by: str | None,
    *, reason: str | None = None, commit: bool = False,
) -> PointerChange:  # fmt: skip
    """``deploy``, with the pointer it replaced and whether it wrote anything."""
    validate_prompt_id(prompt_id)
    validate_version(version)
    validate_environment(environment)
    reason = clean_reason(reason)
    actor = writer_actor(root, deployed_by, commit)
    with write_lock(root):
        view = fresh_view(root)
        _check_env(view, environment)
        v = require_version(view, prompt_id, version)
        current = pointer_before(root, view, environment, prompt_id, commit)
        if current is not None and current.version == version:
            return unchanged(root, view, current, commit)
        _enforce(root, view, v, environment, promotion=True)
        _require_committed(root, v, environment, commit, view, promotion=True)
        d = PromptDeployment(
            prompt_id, version, environment, now_rfc3339(), actor,
            current.version if current else None, "deploy", reason,
        )  # fmt: skip
        return write_pointer(root, current, d, commit, commit_message("Deploy", d))


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
    return rollback_change(
        root, prompt_id, environment, rolled_back_by, to=to, reason=reason, commit=commit
    ).after


def rollback_change(
    root: Path, prompt_id: str, environment: str, rolled_back_by: str | None,
    *, to: str | None = None, reason: str | None = None, commit: bool = False,
) -> PointerChange:  # fmt: skip
    """``rollback``, with the pointer it replaced and whether it wrote anything."""
    validate_prompt_id(prompt_id)
    validate_environment(environment)
    if to is not None:
        validate_version(to)
    reason = clean_reason(reason)
    actor = writer_actor(root, rolled_back_by, commit)
    with write_lock(root):
        view = fresh_view(root)
        _check_env(view, environment)
        current = pointer_before(root, view, environment, prompt_id, commit)
        if current is None:
            raise NotFoundError(
                f"No previous version to roll back to: nothing is deployed for {prompt_id}"
                f" in {environment}"
            )
        target = to if to is not None else _rollback_target(current)
        if target == current.version:
            return unchanged(root, view, current, commit)
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
        return write_pointer(root, current, d, commit, commit_message("Roll back", d))


def _rollback_target(current: PromptDeployment) -> str:
    """Where a rollback without ``--to`` goes: the version the pointer replaced."""
    pid, env = current.prompt_id, current.environment
    if current.action == "rollback":
        raise PolicyError(
            f"the last change of {pid} in {env} was already a rollback"
            f" (to {current.version}, from {current.previous_version}); rolling back"
            " again would re-deploy the version just rolled back: pass --to VERSION"
        )
    if current.previous_version is None:
        if current.version is None:
            raise PolicyError(
                f"No previous version to roll back to: nothing was active in {env} before"
                f" {pid} was removed from it; pass --to VERSION"
            )
        raise PolicyError(
            f"No previous version to roll back to: {pid} {current.version} was the"
            f" first deployment in {env}; pass --to VERSION"
        )
    return current.previous_version


def undeploy(
    root: Path, prompt_id: str, environment: str, removed_by: str | None,
    *, reason: str | None, commit: bool = False,
) -> PromptDeployment:  # fmt: skip
    """Record that nothing is active in ``environment`` (a tombstone: ``version: null``,
    ``action: remove``); a no-op when nothing is active there already."""
    return undeploy_change(
        root, prompt_id, environment, removed_by, reason=reason, commit=commit
    ).after


def undeploy_change(
    root: Path, prompt_id: str, environment: str, removed_by: str | None,
    *, reason: str | None, commit: bool = False,
) -> PointerChange:  # fmt: skip
    """``undeploy``, with the pointer it replaced and whether it wrote anything."""
    validate_prompt_id(prompt_id)
    validate_environment(environment)
    reason = clean_reason(reason)
    if reason is None:
        raise ValidationError(
            f"removing {prompt_id} from {environment} needs a reason (--reason TEXT):"
            " history records who removed it and why"
        )
    actor = writer_actor(root, removed_by, commit)
    with write_lock(root):
        view = fresh_view(root)
        _check_env(view, environment)
        current = pointer_before(root, view, environment, prompt_id, commit)
        if current is None:
            raise NotFoundError(
                f"nothing is deployed for {prompt_id} in {environment}; there is nothing to"
                " undeploy"
            )
        if current.version is None:
            return unchanged(root, view, current, commit)
        d = PromptDeployment(
            prompt_id, None, environment, now_rfc3339(), actor, current.version, REMOVE,
            reason,
        )  # fmt: skip
        return write_pointer(root, current, d, commit, commit_message("Remove", d))
