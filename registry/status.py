"""The prompts x environments table of ``promptreg status``."""

from __future__ import annotations

from typing import Any

from registry.errors import EnvironmentNotConfiguredError
from registry.ids import validate_environment
from registry.models import Problem, PromptDeployment, PromptVersion, Settings
from registry.paths import classify, pointer_path
from registry.policy import Candidate, judge
from registry.sources import FILE
from registry.view import RegistryView


def status_rows(view: RegistryView, environment: str | None = None) -> list[dict[str, Any]]:
    """One row per deployed (prompt, environment) with the active version and a note when it
    is untested, invalid, missing or against the environment's policy."""
    settings = view.checked_settings()
    envs = list(settings.names)
    pointers = view.pointer_index()
    if environment is not None:
        validate_environment(environment)
        if environment not in envs and not any(env == environment for env, _ in pointers):
            raise EnvironmentNotConfiguredError(
                f"environment {environment!r} is not configured; configured:"
                f" {', '.join(settings.names)}"
            )
        envs = [environment]
    extra = sorted({env for env, _ in pointers} - set(settings.names))
    if environment is None:
        envs += extra
    irregular = _irregular_pointers(view)
    prompt_ids = sorted(
        set(view.version_index()) | {pid for _, pid in pointers} | {pid for _, pid in irregular}
    )
    rows: list[dict[str, Any]] = []
    for pid in prompt_ids:
        for env in envs:
            if (env, pid) in irregular:
                rows.append(_irregular_row(pid, env, irregular[(env, pid)]))
            elif (env, pid) in pointers:
                rows.append(_row(view, settings, pid, env))
    return rows


def _irregular_row(pid: str, env: str, path: str) -> dict[str, Any]:
    message = f"{path} is not a regular file"
    row = _new_row(pid, env)
    row["note"] = f"INVALID pointer: {message}"
    row["problems"] = [{"code": "not-regular", "path": path, "line": None, "message": message}]
    return row


def _new_row(pid: str, env: str) -> dict[str, Any]:
    return {"prompt_id": pid, "environment": env, "version": None, "tested": False,
            "problems": [], "note": ""}  # fmt: skip


def _problems(found: list[Problem]) -> list[dict[str, Any]]:
    return [{"code": p.code, "path": p.path, "line": p.line, "message": p.message} for p in found]


def _located(p: Problem) -> str:
    """A problem's message after its file and line (``fix the YAML at this line`` needs them)."""
    where = p.path if p.line is None else f"{p.path}:{p.line}"
    return f"{where}: {p.message}"


def _irregular_pointers(view: RegistryView) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for e in view.entries():
        c = classify(e.path)
        if c is not None and c[0] == "pointer" and e.kind != FILE:
            out[(c[1][0], c[1][1])] = e.path
    return out


def _row(view: RegistryView, settings: Settings, pid: str, env: str) -> dict[str, Any]:
    """A row whose ``problems`` are what the NOTE column abbreviates."""
    row = _new_row(pid, env)
    res = view.pointer_result(env, pid)
    ptr = res.record
    if not isinstance(ptr, PromptDeployment):
        row["note"] = "INVALID pointer: " + (_located(res.problems[0]) if res.problems else "?")
        row["problems"] = _problems(res.problems) or [
            {"code": "invalid-pointer", "path": pointer_path(env, pid), "line": None,
             "message": row["note"]}
        ]  # fmt: skip
        return row
    ver = ptr.version
    if ver is None:
        # A tombstone: removed on purpose, nothing is active (not a problem to report).
        row["note"] = f"removed by {ptr.deployed_by}" + (f": {ptr.reason}" if ptr.reason else "")
        return row
    row["version"] = ver
    vres = view.version_result(pid, ver)
    v = vres.record
    if not isinstance(v, PromptVersion):
        if vres.problems:
            row["note"] = "INVALID version: " + _located(vres.problems[0])
            row["problems"] = _problems(vres.problems)
        else:
            row["note"] = "MISSING version"
            message = (
                f"points {env} at {pid} {ver}, which does not exist (prompts/{pid}/{ver}.yaml)"
            )
            row["problems"] = [{"code": "missing-version", "path": pointer_path(env, pid),
                                "line": None, "message": message}]  # fmt: skip
        return row
    row["tested"] = v.is_tested
    policy = settings.get(env)
    if policy is None:
        row["note"] = "environment not configured"
        message = f"environment {env!r} is not configured; configured: {', '.join(settings.names)}"
        row["problems"] = [{"code": "unknown-environment", "path": pointer_path(env, pid),
                            "line": None, "message": message}]  # fmt: skip
        return row
    # What is deployed is judged as a state: promote_from is a rule about the change.
    probs = judge(Candidate(v, env, policy, promotion=None))
    notes = [p.code.upper() for p in probs]
    if vres.problems:
        notes.append("INVALID")
    row["note"] = ", ".join(notes)
    row["problems"] = _problems(probs + list(vres.problems))
    return row
