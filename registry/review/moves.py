"""The pointers a range moves, each with the gate's verdict: judged by ``judge`` with the
promotion evidence ``check --base`` uses, under the change's policy and the base's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from registry.check.base_range import BaseRange
from registry.models import EnvironmentPolicy, Problem, PromptVersion
from registry.paths import classify
from registry.policy import Candidate, judge, pointer_move
from registry.review.records import Gate, Move, PolicyGate


def pointer_moves(rng: BaseRange, problems: Sequence[Problem]) -> list[Move]:
    """Every pointer file the range touches, in promotion order of the environments, then by
    prompt; ``problems`` (the check's) give each its verdict."""
    found: list[Move] = []
    for path in rng.moved:
        c = classify(path)
        if c is None or c[0] != "pointer":
            continue
        env, pid = c[1]
        found.append(_move(rng, env, pid, path, [p for p in problems if p.path == path]))
    order = _environment_order(rng)
    return sorted(found, key=lambda m: (order.get(m.environment, len(order)), m.environment,
                                        m.prompt_id, m.path))  # fmt: skip


def _environment_order(rng: BaseRange) -> dict[str, int]:
    names = [*rng.head.settings().names, *rng.trusted.settings().names]
    return {name: i for i, name in enumerate(dict.fromkeys(names))}


def _move(rng: BaseRange, env: str, pid: str, path: str, problems: list[Problem]) -> Move:
    before = rng.before.pointer(env, pid)
    after = rng.head.pointer(env, pid)
    present = path in {e.path for e in rng.head.entries()}
    v = None
    if after is not None and after.version is not None:
        v = rng.head.version(pid, after.version)
    gate = Gate(
        tested=None if v is None else v.is_tested,
        score=None if v is None else v.evaluation_score,
        policies=() if v is None else _policy_gates(rng, env, v),
        problems=tuple(problems),
    )
    return Move(
        environment=env,
        prompt_id=pid,
        path=path,
        from_version=None if before is None else before.version,
        to_version=None if after is None else after.version,
        action="remove" if not present else None if after is None else after.action,
        deployed_by=None if after is None else after.deployed_by,
        deployed_at=None if after is None else after.deployed_at,
        reason=None if after is None else after.reason,
        deleted=not present,
        gate=gate,
    )


def _policy_gates(rng: BaseRange, env: str, v: PromptVersion) -> tuple[PolicyGate, ...]:
    """The move under the change's policy, and under the base's where it differs (an
    environment one of them does not configure has only the other's)."""
    # The check judges nothing by broken settings (their problem is reported instead).
    broken = bool(rng.head.settings_result().problems)
    change = None if broken else rng.head.settings().get(env)
    base = rng.trusted.settings().get(env)
    gates = []
    if change is not None:
        gates.append(_policy_gate(rng, "change", change, v))
    if base is not None and base != change:
        gates.append(_policy_gate(rng, "base", base, v))
    return tuple(gates)


def _policy_gate(
    rng: BaseRange, of: str, policy: EnvironmentPolicy, v: PromptVersion
) -> PolicyGate:
    move = pointer_move(rng.head, policy, v.prompt_id, v.version, rng.evidence)
    failed = tuple(p.code for p in judge(Candidate(v, policy.name, policy, move)))
    if policy.promote_from is None:
        return PolicyGate(of, policy, None, False, None, None, failed)
    since = move.source_since()
    soaked = None if since is None else int((rng.evidence.now - since).total_seconds())
    return PolicyGate(
        of,
        policy,
        move.source_version,
        move.ran_before(),
        None if since is None else since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        soaked,
        failed,
    )
