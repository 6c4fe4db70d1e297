"""The prompts x environments table of ``promptreg status``."""

from __future__ import annotations

from typing import Any

from registry.checks import policy_problems
from registry.ids import validate_environment
from registry.reader import RegistryView


def status_rows(view: RegistryView, environment: str | None = None) -> list[dict[str, Any]]:
    """One row per deployed (prompt, environment) with the active version and a note when it
    is untested, invalid, missing or against the environment's policy."""
    settings = view.settings()
    envs = list(settings.names)
    if environment is not None:
        validate_environment(environment)
        envs = [environment]
    pointers = view.pointer_index()
    extra = sorted({env for env, _ in pointers} - set(settings.names))
    if environment is None:
        envs += extra
    prompt_ids = sorted(set(view.version_index()) | {pid for _, pid in pointers})
    rows: list[dict[str, Any]] = []
    for pid in prompt_ids:
        for env in envs:
            if (env, pid) not in pointers:
                continue
            rows.append(_row(view, settings, pid, env, pointers[(env, pid)]))
    return rows


def _row(view: RegistryView, settings: Any, pid: str, env: str, path: str) -> dict[str, Any]:
    row: dict[str, Any] = {"prompt_id": pid, "environment": env, "version": None, "tested": False}
    res = view.pointer_result(env, pid)
    ptr = res.record
    if ptr is None:
        row["note"] = "INVALID pointer: " + (res.problems[0].message if res.problems else "?")
        return row
    ver = ptr.version  # type: ignore[attr-defined]
    row["version"] = ver
    vres = view.version_result(pid, ver)
    v = vres.record
    if v is None:
        row["note"] = (
            "INVALID version: " + vres.problems[0].message if vres.problems else "MISSING version"
        )
        return row
    row["tested"] = v.is_tested  # type: ignore[attr-defined]
    if settings.get(env) is None:
        row["note"] = "environment not configured"
        return row
    probs = [
        p
        for p in policy_problems(view, settings, v, env, path, None)  # type: ignore[arg-type]
        if p.code != "not-promoted"
    ]
    notes = [p.code.upper() for p in probs]
    if vres.problems:
        notes.append("INVALID")
    row["note"] = ", ".join(notes)
    return row
