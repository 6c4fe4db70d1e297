"""Checks about evaluation that read files but run nothing: the hooks a suite names are
contained (``untrusted-hook``, see registry/evals/containment.py), a tested version whose
record is in the legacy fingerprint format is told how to refresh it
(``fingerprint-outdated``, a warning), a change may not add a legacy record
(``fingerprint-legacy``), and a suite's ``cases_file`` parses (``cases-file``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from registry.errors import LoadError
from registry.evals.containment import CODE, hook_refs, refusal
from registry.fingerprint import is_legacy
from registry.models import Problem, PromptVersion
from registry.paths import classify
from registry.sources import FILE, GitSource, Source
from registry.view import FileResult, RegistryView
from registry.yamlio.load import Loaded


def source_has_file(source: Source) -> Callable[[str], bool]:
    """``has_file(path)``: whether the registry state of ``source`` holds a regular file at
    ``path`` (any path, not only the managed folders); a symbolic link does not count."""
    if isinstance(source, GitSource):
        return _git_has_file(source)
    root = Path(getattr(source, "root", "."))

    def on_disk(rel: str) -> bool:
        from registry.evals.imports import registry_file

        return registry_file(root, rel)

    return on_disk


def _git_has_file(source: GitSource) -> Callable[[str], bool]:
    from registry.gitio.run import ls_index, ls_tree
    from registry.sources import _kind_of_mode

    @cache
    def files() -> frozenset[str]:
        # One listing of the whole tree (or index), only when a suite names a hook.
        listed = (
            ls_index(source.root) if source.commit is None else ls_tree(source.root, source.commit)
        )
        return frozenset(e.path for e in listed if _kind_of_mode(e.mode) == FILE)

    return lambda rel: rel in files()


def hook_problems(
    path: str, loaded: Loaded, has_file: Callable[[str], bool], trusted: Sequence[str]
) -> list[Problem]:
    """An ``untrusted-hook`` problem for each hook of the (schema-valid) suite that names code
    outside the registry's own .py files and ``trusted``."""
    out: list[Problem] = []
    data: dict[str, Any] = loaded.data
    for where, label, ref in hook_refs(data):
        why = refusal(ref, trusted, has_file)
        if why is not None:
            out.append(
                Problem(CODE, path, loaded.line_of(where), f"{label} {ref!r} is refused: {why}")
            )
    return out


def fingerprint_warnings(res: FileResult[Any], path: str) -> list[Problem]:
    """A warning for a tested version whose record uses the legacy ``sha256:`` format."""
    v, loaded = res.record, res.loaded
    if not isinstance(v, PromptVersion) or loaded is None or not v.fingerprint_outdated:
        return []
    return [
        Problem(
            "fingerprint-outdated",
            path,
            loaded.line_of(("evaluation", "fingerprint")),
            "the evaluation record uses the legacy sha256: fingerprint, which does not name"
            f" the prompt; refresh it with `promptreg eval {v.prompt_id} {v.version}` (it"
            " writes sha256-jcs:)",
            severity="warning",
        )
    ]


def new_legacy_records(
    base_view: RegistryView, head_view: RegistryView, changes: list[tuple[str, str, str | None]]
) -> list[Problem]:
    """``fingerprint-legacy`` (an error) for each evaluation record in the legacy format that
    the change adds or alters. promptreg eval writes only ``sha256-jcs:``, and the legacy
    format does not name the prompt, so such a record is hand-made or copied; the legacy
    format stays valid only for records the base already has."""
    out: list[Problem] = []
    for status, path, _ in changes:
        c = classify(path)
        if status.startswith("D") or c is None or c[0] != "version" or len(c[1]) != 2:
            continue
        res = head_view.version_result(c[1][0], c[1][1])
        v, loaded = res.record, res.loaded
        if not isinstance(v, PromptVersion) or v.evaluation is None or loaded is None:
            continue
        if not is_legacy(v.evaluation.fingerprint):
            continue
        before = base_view.version(c[1][0], c[1][1])
        if before is not None and before.evaluation == v.evaluation:
            continue
        out.append(
            Problem(
                "fingerprint-legacy",
                path,
                loaded.line_of(("evaluation", "fingerprint")),
                "a new or changed evaluation record must use the sha256-jcs: fingerprint"
                " (the legacy sha256: one does not name the prompt); run"
                f" `promptreg eval {v.prompt_id} {v.version}` to record it",
            )
        )
    return out


CASES_FILE = "cases-file"


def cases_file_problems(
    view: RegistryView,
    path: str,
    loaded: Loaded,
    has_file: Callable[[str], bool],
    trusted: Sequence[str],
) -> list[Problem]:
    """``cases-file`` problems of a valid suite's data file, read from the checked source:
    absent, unreadable, not a regular file, over the size limit, or a row that is wrong;
    and ``untrusted-hook`` for a row's python assertion that names code it may not call."""
    from registry.evals.datafile import MAX_DATA_BYTES, parse_rows
    from registry.evals.suite import file_case_problems

    rel = loaded.data.get("cases_file")
    if rel is None:
        return []
    line = loaded.line_of(("cases_file",))
    try:
        raw = view.source.read_data(rel, MAX_DATA_BYTES)
    except LoadError as exc:
        return [Problem(CASES_FILE, rel, exc.line, exc.bare_message)]
    if raw is None:
        why = f"cases_file {rel} does not exist in the {view.source.label}; add it or remove it"
        return [Problem(CASES_FILE, path, line, why)]
    rows, problems = parse_rows(raw, rel)
    problems += file_case_problems(loaded.data, rows, rel)
    out = [Problem(CASES_FILE, rel, n, m) for n, m in sorted(problems)]
    for row in rows:
        for a in row.assertions:
            ref = a.get("value")
            if a["type"] != "python" or not isinstance(ref, str):
                continue
            refused = refusal(ref, trusted, has_file)
            if refused is not None:
                message = f"python assertion {ref!r} is refused: {refused}"
                out.append(Problem(CODE, rel, row.line, message))
    return out
