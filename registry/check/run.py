"""``promptreg check``: which state to check (working tree, index, a commit range) and how."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from registry.check.evaluations import new_legacy_records
from registry.check.narrow import narrow_pathspecs
from registry.check.released import BREAKING, immutability_problems, released_breaks
from registry.check.removal import deleted_pointers
from registry.check.rules import check_view
from registry.check.trust import against_base
from registry.errors import GitError, NotFoundError
from registry.gitio.repo import is_work_tree
from registry.models import Problem
from registry.paths import DEPLOYMENTS, MANAGED_DIRS, classify
from registry.sources import DirSource, GitSource
from registry.view import RegistryView

if TYPE_CHECKING:
    from registry.history import Evidence


def run_check(
    root: Path,
    files: list[str],
    *,
    check_all: bool = False,
    staged: bool = False,
    base: str | None = None,
    cwd: Path | None = None,
    verify_evaluations: bool = False,
) -> tuple[list[Problem], str]:
    """Every problem of the chosen state, and a one-line summary for a clean result. Relative
    ``files`` are relative to ``cwd`` (default: the registry root). Warnings (see
    ``Problem.severity``) come last. ``verify_evaluations`` (with ``base`` only) re-runs the
    suites of the evaluation records the range changes (registry/check/verify.py)."""
    problems, summary = _check_state(
        root, files, check_all=check_all, staged=staged, base=base, cwd=cwd,
        verify=verify_evaluations,
    )  # fmt: skip
    return problems + schema_copy_problems(root), summary


def schema_copy_problems(root: Path) -> list[Problem]:
    """A warning for each schema copy in ``schemas/`` that differs from the installed
    promptreg's: editors would validate against an old shape. A registry without the folder
    gets none."""
    from registry.schema.files import REFRESH_HINT, outdated_copies

    return [
        Problem("schema-outdated", rel, None, f"{why}; {REFRESH_HINT}", severity="warning")
        for rel, why in outdated_copies(root)
    ]


def _check_state(
    root: Path,
    files: list[str],
    *,
    check_all: bool,
    staged: bool,
    base: str | None,
    cwd: Path | None,
    verify: bool = False,
) -> tuple[list[Problem], str]:
    has_git = is_work_tree(root)
    if (staged or base) and not has_git:
        raise NotFoundError(f"--staged and --base need a git repository; {root} is not one")
    if staged:
        if check_all:
            return _check_staged(root, base, None)
        named, outside = _select(root, cwd or root, files)
        return _check_staged(root, base, named, outside)
    if base is not None:
        return _check_base(root, base, verify)
    view = RegistryView(DirSource(root), schema=True)
    problems: list[Problem] = []
    selected: list[str] | None = None
    if not check_all and files:
        selected, problems = _select(root, cwd or root, files)
    promotions = _changed_pointers_listing(root, view) if has_git else set()
    # Evidence serves only the pointers judged for promotion (the changed ones): a clean tree
    # needs none, and finding where the branch left its base costs several git processes.
    evidence = _release_evidence(root) if has_git and promotions else None
    problems += check_view(view, selected, promotions, evidence)
    if has_git and any(p.code == BREAKING for p in problems):
        problems = _released_breaks_worktree(root, view, problems)
    if selected is None:
        if not any((root / d).is_dir() for d in MANAGED_DIRS):
            problems.append(
                Problem(
                    "not-a-registry",
                    str(root),
                    None,
                    "has no prompts/ or deployments/ folder; run `promptreg init` or pass -C PATH",
                )
            )
        return problems, f"ok: {len(view.entries())} file(s) checked in the working tree"
    present = {e.path for e in view.entries()}
    gone = [p for p in selected if p not in present and not os.path.lexists(root / p)]
    if gone and has_git:
        from registry.gitio.run import run_git

        # Files git tracks are deletions, which are fine to name (`git diff --name-only`).
        out = run_git(root, "ls-tree", "-r", "--name-only", "-z", "HEAD", "--", *gone, check=False)
        tracked = set(out.decode("utf-8", "surrogateescape").split("\0"))
        gone = [p for p in gone if p not in tracked]
    for p in gone:
        problems.append(
            Problem(
                "missing-file",
                p,
                None,
                "does not exist; check the path (paths are relative to the current directory)",
            )
        )
    return problems, f"ok: {len(selected)} file(s) checked in the working tree"


def _select(root: Path, cwd: Path, files: list[str]) -> tuple[list[str], list[Problem]]:
    """``files`` relative to the registry root, and a problem for each one outside it."""
    selected: list[str] = []
    problems: list[Problem] = []
    for f in files:
        rel = _rel(root, cwd, f)
        if rel is None:
            problems.append(
                Problem("outside-registry", f, None, f"is not inside the registry {root}")
            )
        else:
            selected.append(rel)
    return selected, problems


def _rel(root: Path, cwd: Path, f: str) -> str | None:
    """``f`` relative to the registry root, or None when it lies outside."""
    p = Path(f)
    if not p.is_absolute():
        p = cwd / p
    try:
        return Path(os.path.normpath(p)).relative_to(os.path.normpath(root)).as_posix()
    except ValueError:
        return None


def _changed_pointers_listing(root: Path, view: RegistryView) -> set[str]:
    """The changed pointer files (git status), found while the view lists the tree and reads
    its settings: git runs on another core meanwhile. A git failure is reported first."""
    found: list[set[str] | BaseException] = []

    def status() -> None:
        try:
            found.append(_changed_pointers_worktree(root))
        except BaseException as exc:  # handed to the caller, raised there
            found.append(exc)

    job = threading.Thread(target=status, daemon=True)
    job.start()
    listing: BaseException | None = None
    try:
        view.entries()
        view.settings_result()
    except BaseException as exc:
        listing = exc
    job.join()
    changed = found[0]
    if isinstance(changed, BaseException):
        raise changed
    if listing is not None:
        raise listing
    return changed


def _changed_pointers_worktree(root: Path) -> set[str]:
    from registry.gitio.run import run_git

    out = run_git(
        root, "status", "--porcelain", "-z", "--untracked-files=all", "--", DEPLOYMENTS, check=False
    )
    paths = set()
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        if len(item) > 3:
            paths.add(item[3:])
    return paths


def _release_base(root: Path, head: str, base: str | None) -> str:
    """Where versions count as released for a commit: where the branch left ``base`` (or
    origin's default branch, or else the branch's upstream); HEAD itself when there is none of
    these. Versions added on the branch since can still be amended before they are merged."""
    from registry.gitio.run import merge_base, rev_parse

    candidates = (
        [base]
        if base is not None
        else [
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
            "refs/remotes/origin/master",
            "@{upstream}",
        ]
    )
    for ref in candidates:
        try:
            commit = rev_parse(root, ref)
        except GitError:  # "no upstream configured", a detached HEAD
            if base is not None:
                raise
            commit = None
        if commit is None:
            if base is not None:
                raise NotFoundError(f"--base {base!r} is not a known git revision")
            continue
        found = merge_base(root, commit, head)
        if found is not None:
            return found
    return head


def _check_staged(
    root: Path,
    base: str | None,
    named: list[str] | None,
    problems: list[Problem] | None = None,
) -> tuple[list[Problem], str]:
    """The staged change (the index against HEAD) and what it affects, plus every file in
    ``named`` checked in full against the staged state (None: every file). pre-commit names
    the staged files on a commit and every tracked one on ``run --all-files``, so the second
    checks the whole registry state."""
    from registry.gitio.run import diff_names, rev_parse

    problems = list(problems or [])
    head = rev_parse(root, "HEAD")
    if head is None:  # the first commit: everything staged is new
        view = RegistryView(GitSource(root, None), schema=True)
        try:
            problems += check_view(view, None, None)
        finally:
            view.source.close()
        return _sorted(problems), "ok: the first commit's files checked"
    changes = diff_names(root, head, None, cached=True)
    changed = {p for _, p, _ in changes} | {o for _, _, o in changes if o}
    managed = sorted(p for p in changed if _managed(p))
    # Suite hooks name the registry's .py files: a change to one re-judges the suites.
    code = sorted(p for p in changed if p.endswith(".py") and not _managed(p))
    if named is not None and not managed and not named and not code:
        return _sorted(problems), "ok: no registry files staged"
    released = _release_base(root, head, base)
    released_changes = (
        changes if released == head else diff_names(root, released, None, cached=True)
    )
    # A small change to versions and pointers lists only the part of the index it can
    # matter to (registry/check/narrow.py); broken settings re-judge every pointer.
    specs = None if named is None else narrow_pathspecs([*changes, *released_changes], named)
    index = GitSource(root, None, pathspecs=specs or ())
    view = RegistryView(index, schema=True)
    try:
        if specs is not None and view.settings_result().problems:
            index.widen()
            view = RegistryView(index, schema=True)
        if named:
            problems += _not_staged(view, named, changed)
        moved = {p for p in changed if p.startswith(DEPLOYMENTS + "/")}
        # What an environment ran, and since when, is learnt from where the branch left its
        # base: the branch's own commits are no evidence.
        from registry.history import Evidence

        evidence = Evidence(root, released)
        base_view = RegistryView(GitSource(root, released, cat=index.cat))
        problems += check_view(
            view,
            None if named is None else [*managed, *code, *named],
            moved,
            evidence,
            trusted_modules=base_view.settings().trusted_modules,
        )
        committed = RegistryView(GitSource(root, head, cat=index.cat))
        problems += against_base(problems, view, committed, committed, moved, evidence, "HEAD")
        changes = released_changes
        problems += immutability_problems(base_view, view, changes)
        problems += new_legacy_records(base_view, view, changes)
        problems += deleted_pointers(base_view, view, changes)
        problems = released_breaks(problems, view, base_view)
    finally:
        view.source.close()
    return _sorted(problems), _staged_summary(managed, named)


def _staged_summary(managed: list[str], named: list[str] | None) -> str:
    if named is None:
        return f"ok: the staged registry checked ({len(managed)} changed file(s))"
    extra = sorted(set(named) - set(managed))
    more = f" and {len(extra)} more named file(s)" if extra else ""
    return f"ok: {len(managed)} staged registry file(s){more} checked"


def _not_staged(view: RegistryView, named: list[str], changed: set[str]) -> list[Problem]:
    """A named file that the index does not have (and that the commit does not delete)."""
    present = {e.path for e in view.entries()}
    missing = [p for p in named if _managed(p) and p not in present and p not in changed]
    if not missing:
        return []
    folders = {f"{parent}/" for path in present for parent in _parents(path)}
    return [
        Problem(
            "missing-file",
            p,
            None,
            "is not in git's index; `git add` it, or check the working tree without --staged",
        )
        for p in missing
        if p.rstrip("/") + "/" not in folders
    ]


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.code))


def _check_base(root: Path, base: str, verify: bool = False) -> tuple[list[Problem], str]:
    # The range machinery (and --verify-evaluations' engine) only when --base asks for it.
    from registry.check.base_range import open_range, range_problems

    with open_range(root, base) as rng:
        return range_problems(rng, verify), rng.summary()


def _release_evidence(root: Path) -> Evidence | None:
    """The history evidence of a working-tree check: where the branch left its base."""
    from registry.gitio.run import rev_parse
    from registry.history import Evidence

    head = rev_parse(root, "HEAD")
    return None if head is None else Evidence(root, _release_base(root, head, None))


def _released_breaks_worktree(
    root: Path, view: RegistryView, problems: list[Problem]
) -> list[Problem]:
    from registry.gitio.run import rev_parse

    head = rev_parse(root, "HEAD")
    if head is None:
        return problems
    base_view = RegistryView(GitSource(root, _release_base(root, head, None)))
    try:
        return released_breaks(problems, view, base_view)
    finally:
        base_view.source.close()


def _managed(path: str) -> bool:
    return path.split("/", 1)[0] in MANAGED_DIRS or classify(path) is not None
