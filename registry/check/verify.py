"""Evaluation records a commit range adds or changes (``check --base``): a suite weakened in the
same range is ``suite-weakened``; with ``--verify-evaluations`` each record's suite is re-run
here, in the CI job, and a record the re-run does not reproduce is ``evaluation-unverified``.

The fingerprint formula is public, so ``tested: true`` and a score are text anyone can write;
only a re-run by the trusted CI job is evidence. Without ``verify`` nothing here runs registry
code, and with it only code the base holds: a range that changes Python code gets no re-run.
The re-run never records, never writes into the registry and ignores bytecode caches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.check.weakened import weakenings
from registry.errors import LoadError
from registry.models import Problem, PromptVersion
from registry.paths import classify, suite_path
from registry.view import RegistryView

WEAKENED = "suite-weakened"
UNVERIFIED = "evaluation-unverified"
RECORD_FIELDS = ("tested", "evaluation_score", "evaluation")


@dataclass(frozen=True)
class Record:
    """An evaluation record that the range adds or changes, at the head."""

    path: str
    version: PromptVersion
    line: int | None

    @property
    def name(self) -> str:
        return f"{self.version.prompt_id} {self.version.version}"


def record_problems(
    root: Path,
    base_view: RegistryView,
    head_view: RegistryView,
    changes: list[tuple[str, str, str | None]],
    *,
    verify: bool,
) -> list[Problem]:
    """``suite-weakened`` for each record the range changes whose suite it also weakened;
    with ``verify``, ``evaluation-unverified`` for each record a re-run does not reproduce."""
    records = changed_records(base_view, head_view, changes)
    if not records:
        return []
    changed = {p for _, p, _ in changes} | {o for _, _, o in changes if o}
    code = _code_files(changed)
    problems: list[Problem] = []
    to_run: list[Record] = []
    for r in records:
        weakened = _weakened(base_view, head_view, r, changed, code)
        problems += weakened
        if weakened:
            continue  # refused already; a re-run would only confirm the weaker suite
        if code and verify:
            # CI runs only code the base branch holds: the change's own code could fake the
            # verdict, or read the job's model keys.
            problems.append(_not_run(r, code))
            continue
        endpoints = _new_endpoints(base_view, head_view, r)
        if endpoints and verify:
            problems.append(_not_sent(r, endpoints))
        elif not code:
            to_run.append(r)
    if verify and to_run:
        trusted = base_view.settings().trusted_modules
        from registry.check.rerun import rerun_problems

        problems += rerun_problems(root, head_view, to_run, trusted)
    return problems


def changed_records(
    base_view: RegistryView, head_view: RegistryView, changes: list[tuple[str, str, str | None]]
) -> list[Record]:
    """Version files whose head claims an evaluation (``tested: true`` or a score) that the
    base did not hold in the same words. Broken files are reported by the file checks."""
    out: list[Record] = []
    for status, path, old in changes:
        c = classify(path)
        if status.startswith("D") or c is None or c[0] != "version":
            continue
        pid, version = c[1]
        # The head's file as its check loaded it (a broken one is not a record).
        res = head_view.version_result(pid, version)
        v, after = res.record, res.loaded
        if after is None or v is None or not (v.tested or v.evaluation_score is not None):
            continue
        try:
            before = None if status.startswith("A") else base_view.source.load(old or path)
        except LoadError:
            before = None  # nothing readable to compare with: the record counts as new
        if before is not None and _record(before.data) == _record(after.data):
            continue
        field = next(k for k in RECORD_FIELDS if k in after.data)
        out.append(Record(path, v, after.line_of((field,))))
    return out


def _record(data: Mapping[str, Any]) -> str:
    """The evaluation fields as canonical JSON (``1`` and ``true`` stay different)."""
    fields = {k: data[k] for k in RECORD_FIELDS if k in data}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=repr)


# --- suite-weakened --------------------------------------------------------------------------


def suite_data(view: RegistryView, path: str) -> Mapping[str, Any] | None:
    """The suite at ``path`` as decoded data when it is a valid suite (with the cases of its
    ``cases_file`` appended to ``cases``: the data file's content is part of what the suite
    is, so a row removed or changed weakens it like an inline case), else None."""
    from registry.evals.datafile import MAX_DATA_BYTES
    from registry.evals.suite import file_cases, suite_problems
    from registry.schema.validate import schema_errors

    try:
        loaded = view.source.load(path)
    except LoadError:
        return None
    if loaded is None or schema_errors("eval-suite", loaded.data) or suite_problems(loaded.data):
        return None
    data = loaded.data
    rows, problems = file_cases(data, lambda rel: view.source.read_data(rel, MAX_DATA_BYTES))
    if problems:
        return None
    from_file = [{"name": r.name, "vars": r.vars, "assert": r.assertions} for r in rows]
    return {**data, "cases": [*(data.get("cases") or []), *from_file]} if from_file else data


def _weakened(
    base_view: RegistryView, head_view: RegistryView, r: Record, changed: set[str], code: list[str]
) -> list[Problem]:
    path = suite_path(r.version.prompt_id)
    before = suite_data(base_view, path)
    if before is None:
        return []  # a new suite is reviewed as part of the change; nothing to be weaker than
    after = suite_data(head_view, path)
    if path in changed and after is None:
        try:
            gone = head_view.source.load(path) is None
        except LoadError:
            gone = False
        found = ["the suite was removed"] if gone else []
    elif after is None and before.get("cases_file"):
        found = [f"its cases_file {before['cases_file']} was removed or no longer loads"]
    else:
        found = weakenings(before, after or before)
        if code:
            found.append(f"Python code the suite's run can import changed ({few(code)})")
    if not found:
        return []
    return [
        Problem(
            WEAKENED,
            r.path,
            r.line,
            f"the evaluation record of {r.name} changes in the same range that weakens {path}"
            f" ({'; '.join(found)}); merge the suite change on its own first, then record the"
            " evaluation in a change of its own",
        )
    ]


# What the interpreter imports from: the registry root is on ``sys.path`` during a run, so a
# module anywhere in it can stand in for a hook or for a module a hook imports (a ``json.py``).
_CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyd", ".so")


def _code_files(changed: set[str]) -> list[str]:
    """The changed paths that are Python code or bytecode."""
    return sorted(p for p in changed if p.endswith(_CODE_SUFFIXES) or "__pycache__/" in p)


def few(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")


def _not_run(r: Record, code: list[str]) -> Problem:
    return Problem(
        UNVERIFIED,
        r.path,
        r.line,
        f"the evaluation record of {r.name} is not re-run: the range also changes Python code"
        f" the run would import ({few(code)}); merge the code on its own first, then record"
        " the evaluation in a change of its own",
    )


# The endpoint mapping keys that decide where a request goes and which secret it carries.
_ROUTE_KEYS = ("provider", "base_url", "api_key_env")


def _new_endpoints(base_view: RegistryView, head_view: RegistryView, r: Record) -> list[str]:
    """The model endpoints (``target``, ``judge``) the record's suite at HEAD would send the
    CI job's key to that the base's suite does not: a ``base_url`` or ``api_key_env`` of the
    change's choosing would carry any variable of the job to any host. An endpoint with
    neither (the job's own ``$OPENAI_BASE_URL`` and ``OPENAI_API_KEY``) is the job's to set."""
    path = suite_path(r.version.prompt_id)
    head = suite_data(head_view, path) or {}
    base = suite_data(base_view, path) or {}
    known = [_route(base.get(k)) for k in ("target", "judge")]
    out = []
    for key in ("target", "judge"):
        route = _route(head.get(key))
        if route is None or route in known:
            continue
        if "base_url" not in route and route.get("api_key_env", "OPENAI_API_KEY") == (
            "OPENAI_API_KEY"
        ):
            continue
        out.append(key)
    return out


def _route(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return {k: value[k] for k in _ROUTE_KEYS if k in value}


def _not_sent(r: Record, endpoints: list[str]) -> Problem:
    path = suite_path(r.version.prompt_id)
    return Problem(
        UNVERIFIED,
        r.path,
        r.line,
        f"the evaluation record of {r.name} is not re-run: {path} sends its {' and '.join(endpoints)}"
        " requests to a base_url or with an api_key_env the base branch's suite does not name,"
        " and the CI job's key would go there; merge the suite on its own first, then record"
        " the evaluation in a change of its own",
    )
