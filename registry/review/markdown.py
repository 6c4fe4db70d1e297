"""The review as GitHub-flavoured Markdown: the marker a sticky comment is found by, the
verdict, a summary table of pointer moves, the problems, then each section; diffs last, in
collapsible sections. Every piece of pull-request text goes through registry/review/escape.py."""

from __future__ import annotations

import json
from collections.abc import Sequence

from registry.durations import format_duration
from registry.models import EnvironmentPolicy, Problem
from registry.review.escape import code, html_text, inline, one_line
from registry.review.fit import MAX_CHARS, Block, assemble, details, table
from registry.review.markdown_moves import (
    ARROW,
    FAIL,
    NONE,
    PASS,
    WARN,
    move_details,
    moves_table,
    shown,
)
from registry.review.records import NewVersion, Review

MARKER = "<!-- promptreg-review -->"


def render_markdown(review: Review, limit: int = MAX_CHARS) -> str:
    """The review within ``limit`` characters (GitHub's comment limit is 65,536)."""
    see = f"Run {code(one_line(f'promptreg review --base {review.base}'))} for all of it."
    blocks = [Block(_header(review)), moves_table(review.moves, see)]
    blocks += _problems(review.problems, see)
    blocks += move_details(review.moves)
    blocks += _versions_table(review.versions, see)
    blocks += _evaluations(review, see)
    blocks += _suites(review, see)
    blocks += _policy(review)
    blocks += _other_files(review.other_files, see)
    blocks += [_version_details(v) for v in review.versions]
    return assemble(blocks, limit, see)


def _header(r: Review) -> str:
    warnings = len(r.problems) - r.errors
    if r.errors:
        verdict = f"{FAIL} **{code('promptreg check --base')} fails: {r.errors} error(s)**"
    else:
        verdict = f"{PASS} **{code('promptreg check --base')} passes**"
    if warnings:
        verdict += f", {warnings} warning(s)"
    counts = [
        f"{n} {what}"
        for n, what in (
            (len(r.moves), "pointer change(s)"),
            (len(r.versions), "new version(s)"),
            (len(r.evaluations), "evaluation record(s) of released versions"),
            (len(r.suites), "suite change(s)"),
            (0 if r.policy is None else 1, "settings change"),
            (len(r.other_files), "other file(s)"),
        )
        if n
    ]
    return (
        f"{MARKER}\n## promptreg review\n\n{verdict}\n\n"
        f"Since {inline(r.base)} (merge base {code(r.merge_base[:12])}), at"
        f" {code(r.head_commit[:12])}: {', '.join(counts) or 'no changes'}.\n"
    )


def _where(p: Problem) -> str:
    return inline(p.path if p.line is None else f"{p.path}:{p.line}")


def _problems(problems: Sequence[Problem], see: str) -> list[Block]:
    if not problems:
        return [Block(f"### Problems\n\nNone: {code('promptreg check --base')} reports nothing.\n")]
    rows = [
        [
            FAIL + " error" if p.is_error else WARN + " warning",
            code(p.code),
            _where(p),
            inline(p.message, 600),
        ]
        for p in sorted(problems, key=lambda p: (not p.is_error, p.path, p.line or 0, p.code))
    ]
    t = table(["severity", "code", "where", "message"], rows, see)
    head = "### Problems\n\n"
    return [_section(head, t)]


def _section(head: str, block: Block) -> Block:
    """``block`` under the heading ``head``, shortened as ``block`` is."""
    shorter = block.fit

    def fit(room: int) -> str | None:
        text = None if shorter is None else shorter(room - len(head))
        return None if text is None else head + text

    return Block(head + block.text, fit)


def _variables(v: NewVersion) -> str:
    parts = [f"+{inline(n)}" for n in v.variables_added]
    parts += [f"\u2212{inline(n)}" for n in v.variables_dropped]
    return ", ".join(parts) or "unchanged"


def _versions_table(versions: Sequence[NewVersion], see: str) -> list[Block]:
    if not versions:
        return []
    rows = [
        [
            inline(v.prompt_id),
            inline(v.version),
            shown(v.from_version),
            _variables(v),
            shown(v.evaluation_score),
            PASS + " yes" if v.tested else "no",
            inline(v.description),
        ]
        for v in versions
    ]
    head = "### New versions\n\n"
    t = table(
        ["prompt", "version", "from", "variables", "score", "tested", "description"], rows, see
    )
    return [_section(head, t)]


def _version_details(v: NewVersion) -> Block:
    added = sum(
        1 for line in v.diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    )
    gone = sum(
        1 for line in v.diff.splitlines() if line.startswith("-") and not line.startswith("---")
    )
    against = "a new prompt" if v.from_version is None else f"against {v.from_version}"
    summary = html_text(f"{v.prompt_id} {v.version} ({against}): +{added} \u2212{gone} line(s)")
    before = [f"author: {inline(v.author)}", f"{v.kind}; variables: {_variables(v)}"]
    if v.model_changed:
        before.append(f"model: {_json(v.model_before)} {ARROW} {_json(v.model_after)}")
    if not v.diff:
        same = "empty" if v.from_version is None else f"the same as {inline(v.from_version)}'s"
        before.append(f"the {v.kind} is {same}")
    note = (
        f"See {code(f'promptreg diff {v.prompt_id} {v.from_version} {v.version}')}."
        if v.from_version is not None
        else f"See {code(f'promptreg show {v.prompt_id} {v.version}')}."
    )
    return details(summary, "  \n".join(before) + "\n", v.diff, note)


def _json(value: object) -> str:
    return inline(json.dumps(value, sort_keys=True, ensure_ascii=False), 300)


def _evaluations(r: Review, see: str) -> list[Block]:
    if not r.evaluations:
        return []
    rows = [
        [
            inline(e.prompt_id),
            inline(e.version),
            PASS + " yes" if e.tested else "no",
            shown(e.evaluation_score),
            f"{'tested' if e.tested_before else 'untested'}, score {shown(e.score_before)}",
            shown(e.evaluated_by),
        ]
        for e in r.evaluations
    ]
    head = "### Evaluation records of released versions\n\n"
    t = table(["prompt", "version", "tested", "score", "before", "evaluated by"], rows, see)
    return [_section(head, t)]


def _names(names: Sequence[str]) -> str:
    return ", ".join(inline(n, 80) for n in names) or NONE


def _suites(r: Review, see: str) -> list[Block]:
    if not r.suites:
        return []
    rows = [
        [
            inline(s.path),
            s.status,
            f"{shown(s.threshold[0])} {ARROW} {shown(s.threshold[1])}",
            f"{shown(s.tolerance[0])} {ARROW} {shown(s.tolerance[1])}",
            _names(s.cases_added),
            _names(s.cases_removed),
            _names(s.cases_changed),
            "; ".join(inline(w) for w in s.weakened) or "no",
        ]
        for s in r.suites
    ]
    headers = ["suite", "status", "threshold", "tolerance", "cases added", "cases removed",
               "cases changed", "weakened"]  # fmt: skip
    head = "### Evaluation suites\n\n"
    t = table(headers, rows, see)
    return [_section(head, t)]


def _policy_text(p: EnvironmentPolicy | None) -> str:
    if p is None:
        return "not configured"
    parts = [f"require\\_tested: {'true' if p.require_tested else 'false'}"]
    if p.min_score is not None:
        parts.append(f"min\\_score: {inline(p.min_score)}")
    if p.promote_from is not None:
        parts.append(f"promote\\_from: {inline(p.promote_from)}")
    if p.min_soak is not None:
        parts.append(f"min\\_soak: {format_duration(p.min_soak)}")
    return ", ".join(parts)


def _policy(r: Review) -> list[Block]:
    c = r.policy
    if c is None:
        return []
    head = "### Policy (promptreg.yaml)\n\n"
    if c.broken:
        return [Block(head + "promptreg.yaml does not load at HEAD; see the problems.\n")]
    text = head
    if c.environments:
        rows = [
            [
                inline(e.name),
                _policy_text(e.before),
                _policy_text(e.after),
                f"{WARN} " + "; ".join(inline(x) for x in e.relaxed) if e.relaxed else "no",
            ]
            for e in c.environments
        ]
        text += table(["environment", "before", "after", "relaxed"], rows).text
    if c.order[0] != c.order[1]:
        text += f"\nPromotion order: {_names(c.order[0])} {ARROW} {_names(c.order[1])}\n"
    if c.trusted_modules[0] != c.trusted_modules[1]:
        text += (
            f"\ntrusted\\_modules: {_names(c.trusted_modules[0])} {ARROW}"
            f" {_names(c.trusted_modules[1])}\n"
        )
    if text == head:
        text += "The file changed; no policy did.\n"
    return [Block(text)]


def _other_files(paths: Sequence[str], see: str) -> list[Block]:
    if not paths:
        return []
    head = "### Other changed files\n\n"
    t = table(["path"], [[inline(p)] for p in paths], see)
    return [_section(head, t)]
