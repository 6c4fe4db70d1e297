"""A pointer may not vanish where tested versions are required: removing a prompt from such an
environment is ``promptreg undeploy``, whose tombstone history records with who and why."""

from __future__ import annotations

from registry.models import Problem
from registry.paths import classify
from registry.view import RegistryView

POINTER_DELETED = "pointer-deleted"


def deleted_pointers(
    base_view: RegistryView, head_view: RegistryView, changes: list[tuple[str, str, str | None]]
) -> list[Problem]:
    """A problem for each pointer the change deletes (or renames away) in an environment that
    requires tested versions on the base or in the change; a tombstone may go."""
    out: list[Problem] = []
    for status, path, old in changes:
        gone = old if status.startswith("R") and old else path if status.startswith("D") else None
        c = None if gone is None else classify(gone)
        if gone is None or c is None or c[0] != "pointer":
            continue
        env, pid = c[1]
        before = base_view.pointer(env, pid)
        if before is not None and before.version is None:
            continue  # a tombstone: nothing was active, nothing is removed
        if not any(_requires_tested(view, env) for view in (base_view, head_view)):
            continue
        ran = f" (it runs {pid} {before.version})" if before is not None else ""
        out.append(
            Problem(
                POINTER_DELETED,
                gone,
                None,
                f"deleting this pointer removes {pid} from {env}{ran}, which requires tested"
                " versions, with no record of who removed it or why: restore the file and run"
                f" `promptreg undeploy {pid} --env {env} --reason TEXT` instead",
            )
        )
    return out


def _requires_tested(view: RegistryView, environment: str) -> bool:
    # Broken or absent settings read as the strict default: every environment requires it.
    policy = view.settings().get(environment)
    return policy is not None and policy.require_tested
