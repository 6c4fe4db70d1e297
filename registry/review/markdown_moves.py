"""Pointer moves in Markdown: the summary table's rows and, per environment, each move with
what the gate judged under each policy (registry/review/moves.py) and its verdict."""

from __future__ import annotations

from collections.abc import Sequence

from registry.durations import format_duration
from registry.review.escape import code, inline
from registry.review.fit import Block, table
from registry.review.records import Move, PolicyGate

PASS, FAIL, WARN = "\u2705", "\u274c", "\u26a0\ufe0f"
ARROW = "\u2192"
NONE = "\u2014"


def shown(value: object) -> str:
    """A value as escaped inline text; a dash for none."""
    return NONE if value is None else inline(value)


def _verdict(m: Move) -> str:
    errors = [p.code for p in m.gate.problems if p.is_error]
    if errors:
        return f"{FAIL} " + ", ".join(code(c) for c in dict.fromkeys(errors))
    if m.gate.problems:
        return f"{WARN} passes with warnings"
    return f"{PASS} passes"


def moves_table(moves: Sequence[Move], see: str) -> Block:
    """The summary table: one row per changed pointer, with the gate's verdict."""
    if not moves:
        return Block("No pointer moves.\n")
    rows = [
        [
            inline(m.environment),
            inline(m.prompt_id),
            shown(m.from_version),
            shown(m.to_version),
            shown(m.action),
            shown(m.deployed_by),
            shown(m.reason),
            _verdict(m),
        ]
        for m in moves
    ]
    headers = ["environment", "prompt", "from", "to", "action", "deployed by", "reason", "gate"]
    return table(headers, rows, see)


def _policy_parts(g: PolicyGate, tested: bool | None, score: float | None) -> list[str]:
    """What ``judge`` looked at under one policy, each with its verdict."""
    p = g.policy

    def mark(rule: str) -> str:
        return FAIL if rule in g.failed else PASS

    parts = [
        f"tested: {'yes' if tested else 'no'} "
        + (f"(required) {mark('untested')}" if p.require_tested else "(not required)")
    ]
    shown = "none" if score is None else inline(score)
    counts = "" if tested or score is None else " (untested: it does not count)"
    if p.min_score is not None:
        parts.append(
            f"score {shown}{counts}, min\\_score {inline(p.min_score)} {mark('min-score')}"
        )
    else:
        parts.append(f"score {shown}{counts}")
    if p.promote_from is not None:
        src = inline(p.promote_from)
        if g.returning:
            parts.append(f"promote\\_from {src}: {PASS} it ran here before (a return is exempt)")
        else:
            runs = "nothing" if g.source_version is None else inline(g.source_version)
            parts.append(f"promote\\_from {src}, which runs {runs} {mark('not-promoted')}")
            if p.min_soak is not None:
                soaked = (
                    "not active there on the base"
                    if g.soaked_seconds is None
                    else f"active there for {format_duration(g.soaked_seconds)}"
                )
                parts.append(
                    f"min\\_soak {format_duration(p.min_soak)}: {soaked} {mark('min-soak')}"
                )
    return parts


def move_details(moves: Sequence[Move]) -> list[Block]:
    """Per environment, each move with what the gate judged under each policy."""
    blocks: list[Block] = []
    env = None
    for m in moves:
        lines = []
        if m.environment != env:
            env = m.environment
            lines.append(("### Pointer moves\n\n" if not blocks else "") + f"#### {inline(env)}\n")
        what = "deleted the pointer file" if m.deleted else shown(m.action)
        by = "" if m.deployed_by is None else f" by {inline(m.deployed_by)}"
        why = "" if m.reason is None else f": {inline(m.reason, 600)}"
        lines.append(
            f"- **{inline(m.prompt_id)}** {shown(m.from_version)} {ARROW} {shown(m.to_version)},"
            f" {what}{by}{why}"
        )
        for g in m.gate.policies:
            of = "the change's policy" if g.of == "change" else "the base's policy"
            lines.append(f"  - {of}: " + "; ".join(_policy_parts(g, m.gate.tested, m.gate.score)))
        for p in m.gate.problems:
            mark = FAIL if p.is_error else WARN
            lines.append(f"  - {mark} {code(p.code)} {inline(p.message, 600)}")
        blocks.append(Block("\n".join(lines) + "\n"))
    return blocks
