"""A change judged by what it cannot change: the policy configured on its base.

Everything a pull request changes is untrusted until merged, ``promptreg.yaml`` included, so
a moved pointer must hold under the base's policy as well as the change's, and a change that
relaxes an environment's policy (``policy-relaxed``) may not also move a pointer there: the
relaxation is reviewed on its own.
"""

from __future__ import annotations

from dataclasses import replace

from registry.durations import format_duration
from registry.models import EnvironmentPolicy, Problem, Settings
from registry.paths import DEPLOYMENTS, SETTINGS
from registry.policy import Candidate, Evidence, judge, pointer_move
from registry.view import RegistryView

RELAXED = "policy-relaxed"


def against_base(
    problems: list[Problem],
    view: RegistryView,
    trusted: RegistryView,
    before: RegistryView,
    moved: set[str],
    evidence: Evidence | None,
    where: str,
) -> list[Problem]:
    """What the change ``before`` -> ``view`` adds to ``problems`` when judged by the base:
    each pointer in ``moved`` (changed paths) under ``trusted``'s policy, and every policy the
    change relaxes. ``where`` names the base in messages ("the base main")."""
    base = trusted.settings()  # the strict default when absent or broken
    seen = {(p.code, p.path) for p in problems}
    extra = [
        p
        for p in base_policy_problems(view, base, moved, evidence, where)
        if (p.code, p.path) not in seen
    ]
    res = view.settings_result()
    if res.problems:  # broken settings are reported as such; their policy would be a guess
        return extra
    after = res.record if isinstance(res.record, Settings) else Settings()
    lines = _lines(view, after)
    return extra + relaxation_problems(before.settings(), after, moved, where, lines)


def base_policy_problems(
    view: RegistryView,
    base: Settings,
    moved: set[str],
    evidence: Evidence | None,
    where: str,
) -> list[Problem]:
    """Every moved pointer of ``view`` judged under ``base``'s policy of its environment (an
    environment the base does not configure has only the change's policy)."""
    out: list[Problem] = []
    for (env, pid), path in sorted(view.pointer_index().items()):
        policy = base.get(env)
        if path not in moved or policy is None:
            continue
        ptr = view.pointer(env, pid)
        if ptr is None or ptr.version is None:
            continue
        v = view.version(pid, ptr.version)
        if v is None:
            continue  # a missing or broken version is the change's own problem
        loaded = view.pointer_result(env, pid).loaded
        line = None if loaded is None else loaded.line_of(("version",))
        move = pointer_move(view, policy, pid, v.version, evidence)
        for p in judge(Candidate(v, env, policy, move), line):
            out.append(replace(p, message=f"{p.message} (the policy of {where})"))
    return out


def relaxations(before: EnvironmentPolicy, after: EnvironmentPolicy | None) -> list[str]:
    """How ``after`` accepts what ``before`` refuses, one phrase per setting (pure)."""
    if after is None:
        return ["the environment is removed"]
    out: list[str] = []
    if before.require_tested and not after.require_tested:
        out.append("require_tested true -> false")
    if before.min_score is not None and (after.min_score or 0.0) < before.min_score:
        out.append(f"min_score {before.min_score} -> {_shown(after.min_score)}")
    if before.promote_from is not None and after.promote_from != before.promote_from:
        out.append(f"promote_from {before.promote_from} -> {_shown(after.promote_from)}")
    if before.min_soak is not None and (after.min_soak is None or after.min_soak < before.min_soak):
        now = None if after.min_soak is None else format_duration(after.min_soak)
        out.append(f"min_soak {format_duration(before.min_soak)} -> {_shown(now)}")
    return out


def _shown(value: object) -> str:
    return "none" if value is None else str(value)


def _lines(view: RegistryView, after: Settings) -> dict[str, int | None]:
    """The line of each environment in the change's ``promptreg.yaml``."""
    loaded = view.settings_result().loaded
    if loaded is None:
        return {}
    return {name: loaded.line_of(("environments", name)) for name in after.names}


def relaxation_problems(
    before: Settings,
    after: Settings,
    moved: set[str],
    where: str,
    lines: dict[str, int | None],
) -> list[Problem]:
    """A ``policy-relaxed`` problem for each environment whose policy ``after`` relaxes: an
    error when the change moves a pointer of that environment, else a warning for review."""
    moved_envs = {
        p.split("/")[1] for p in moved if p.startswith(DEPLOYMENTS + "/") and p.count("/") == 2
    }
    out: list[Problem] = []
    for policy in before.environments:
        found = relaxations(policy, after.get(policy.name))
        if not found:
            continue
        env = policy.name
        what = f"relaxes the policy of {env} as configured on {where} ({'; '.join(found)})"
        if env in moved_envs:
            message = (
                f"{what} and moves a pointer in {env}: a policy may be relaxed only in a change"
                f" that moves no pointer there; relax it in a change of its own"
            )
            severity = "error"
        else:
            message = f"{what}; allowed, as the change moves no pointer in {env}: review it"
            severity = "warning"
        out.append(Problem(RELAXED, SETTINGS, lines.get(env), message, severity=severity))
    return out
