"""The prompts x environments table of ``promptreg status``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from registry.errors import EnvironmentNotConfiguredError
from registry.ids import validate_environment
from registry.models import Problem, PromptDeployment, PromptVersion, Settings
from registry.paths import classify, pointer_path
from registry.policy import Candidate, Evidence, judge, pointer_move, soak_wait
from registry.sources import FILE
from registry.view import RegistryView


@dataclass(frozen=True)
class DeploymentStatus:
    """One deployed (prompt, environment): the version its pointer names (None when the
    pointer cannot be read), whether that version is tested, and ``problems`` when it is
    untested, invalid, missing or against the environment's policy; ``note`` abbreviates them
    for the table."""

    prompt_id: str
    environment: str
    version: str | None = None
    tested: bool = False
    problems: tuple[Problem, ...] = ()
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The ``status --json`` form (no note; problems without their severity)."""
        return {
            "prompt_id": self.prompt_id,
            "environment": self.environment,
            "version": self.version,
            "tested": self.tested,
            "problems": [
                {"code": p.code, "path": p.path, "line": p.line, "message": p.message}
                for p in self.problems
            ],
        }


def status_rows(
    view: RegistryView, environment: str | None = None, evidence: Evidence | None = None
) -> list[DeploymentStatus]:
    """One row per deployed (prompt, environment) with the active version and a note when it
    is untested, invalid, missing or against the environment's policy. With ``evidence``
    (the branch's history), a version that still has to soak in its environment before the
    next one may take it says how long is left."""
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
    rows: list[DeploymentStatus] = []
    for pid in prompt_ids:
        for env in envs:
            if (env, pid) in irregular:
                rows.append(_irregular_row(pid, env, irregular[(env, pid)]))
            elif (env, pid) in pointers:
                row = _row(view, settings, pid, env)
                if evidence is not None:
                    row = _note_soak(row, view, settings, evidence)
                rows.append(row)
    return rows


def _note_soak(
    row: DeploymentStatus, view: RegistryView, settings: Settings, ev: Evidence
) -> DeploymentStatus:
    """Add to the note how long the row's version still has to run before each environment
    that promotes from this one with a ``min_soak`` (and does not run it yet) may take it."""
    pid, env, ver = row.prompt_id, row.environment, row.version
    v = None if ver is None else view.version(pid, ver)
    if v is None:
        return row
    waits = []
    for policy in settings.environments:
        target = view.pointer(policy.name, pid)
        if policy.promote_from != env or (target is not None and target.version == ver):
            continue
        move = pointer_move(view, policy, pid, v.version, ev)
        wait = soak_wait(Candidate(v, policy.name, policy, move))
        if wait is not None:
            waits.append(wait)
    if not waits:
        return row
    return replace(row, note="; ".join([row.note, *waits] if row.note else waits))


def _irregular_row(pid: str, env: str, path: str) -> DeploymentStatus:
    message = f"{path} is not a regular file"
    problem = Problem("not-regular", path, None, message)
    return DeploymentStatus(pid, env, note=f"INVALID pointer: {message}", problems=(problem,))


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


def _row(view: RegistryView, settings: Settings, pid: str, env: str) -> DeploymentStatus:
    """A row whose ``problems`` are what the NOTE column abbreviates."""
    row = DeploymentStatus(pid, env)
    res = view.pointer_result(env, pid)
    ptr = res.record
    if not isinstance(ptr, PromptDeployment):
        note = "INVALID pointer: " + (_located(res.problems[0]) if res.problems else "?")
        found = tuple(res.problems) or (
            Problem("invalid-pointer", pointer_path(env, pid), None, note),
        )
        return replace(row, note=note, problems=found)
    ver = ptr.version
    if ver is None:
        # A tombstone: removed on purpose, nothing is active (not a problem to report).
        note = f"removed by {ptr.deployed_by}" + (f": {ptr.reason}" if ptr.reason else "")
        return replace(row, note=note)
    row = replace(row, version=ver)
    vres = view.version_result(pid, ver) if ver is not None else None
    v = None if vres is None else vres.record
    if vres is None or not isinstance(v, PromptVersion):
        if vres is not None and vres.problems:
            note = "INVALID version: " + _located(vres.problems[0])
            return replace(row, note=note, problems=tuple(vres.problems))
        message = f"points {env} at {pid} {ver}, which does not exist (prompts/{pid}/{ver}.yaml)"
        missing = Problem("missing-version", pointer_path(env, pid), None, message)
        return replace(row, note="MISSING version", problems=(missing,))
    row = replace(row, tested=v.is_tested)
    policy = settings.get(env)
    if policy is None:
        message = f"environment {env!r} is not configured; configured: {', '.join(settings.names)}"
        unknown = Problem("unknown-environment", pointer_path(env, pid), None, message)
        return replace(row, note="environment not configured", problems=(unknown,))
    # What is deployed is judged as a state: promote_from is a rule about the change.
    probs = judge(Candidate(v, env, policy, promotion=None))
    notes = [p.code.upper() for p in probs]
    if vres.problems:
        notes.append("INVALID")
    return replace(row, note=", ".join(notes), problems=(*probs, *vres.problems))
