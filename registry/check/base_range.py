"""The commit range ``check --base REF`` judges: where the branch left REF, what changed since,
the views and the trusted evidence, and every problem of the range. ``promptreg review``
reads the same range, so what it shows is what the check judges."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from registry.check.evaluations import new_legacy_records
from registry.check.released import immutability_problems, released_breaks
from registry.check.removal import deleted_pointers
from registry.check.rules import check_view
from registry.check.scope import Selection, select
from registry.check.trust import against_base
from registry.check.verify import record_problems
from registry.errors import NotFoundError
from registry.gitio.repo import is_work_tree
from registry.history import Evidence
from registry.models import Problem
from registry.paths import DEPLOYMENTS
from registry.sources import GitSource
from registry.view import RegistryView

Change = tuple[str, str, str | None]

# A range whose files and dependents make up at least this share of HEAD's files is judged
# as a whole state: at that size, selecting saves little and one full pass is simpler.
WHOLE_SHARE = 0.5


@dataclass(frozen=True)
class BaseRange:
    """HEAD against ``base``: ``before`` is the fork point (where the branch left the base, as
    a pull request's diff has it), ``trusted`` the base itself (its policy and its history are
    the evidence of what ran where and since when, never the branch's own commits)."""

    root: Path
    base: str
    base_commit: str
    fork_point: str
    head_commit: str
    changes: list[Change]
    head: RegistryView
    before: RegistryView
    trusted: RegistryView
    evidence: Evidence

    @property
    def pointers(self) -> set[str]:
        """The pointer paths the range adds or changes (at HEAD)."""
        return {p for _, p, _ in self.changes if p.startswith(DEPLOYMENTS + "/")}

    @cached_property
    def scope(self) -> Selection | None:
        """What the check judges at HEAD: the files the range touches (old paths of renames
        and deleted paths included) and every file that depends on them (registry/check/
        scope.py); None (every file) when that is most of HEAD. Problems already present in
        files outside it are the base's, which ``check --all`` reports."""
        touched = {p for _, p, _ in self.changes} | {o for _, _, o in self.changes if o}
        sel = select(self.head, touched)
        if len(sel.files | sel.pointers) >= WHOLE_SHARE * len(self.head.entries()):
            return None
        return sel

    def summary(self) -> str:
        """The line of a clean check: what was checked at HEAD."""
        changes = f"{len(self.changes)} change(s) since {self.base}"
        if self.scope is None:
            n = len(self.head.entries())
            return f"ok: {changes}; every file at HEAD checked ({n} file(s))"
        n = len(self.scope.present(self.head))
        return (
            f"ok: {changes} checked ({n} file(s) at HEAD: the changed files and those that"
            " depend on them)"
        )

    @property
    def moved(self) -> set[str]:
        """The pointer paths the range touches, the old paths of renames included."""
        olds = {o for _, _, o in self.changes if o and o.startswith(DEPLOYMENTS + "/")}
        return self.pointers | olds


@contextmanager
def open_range(root: Path, base: str) -> Iterator[BaseRange]:
    """The range from where HEAD left ``base`` to HEAD; raises NotFoundError when ``base``
    names no commit (with a hint for a shallow clone) or ``root`` is not a git repository."""
    from registry.gitio.run import diff_names, is_shallow, merge_base, rev_parse

    if not is_work_tree(root):
        raise NotFoundError(f"--base needs a git repository; {root} is not one")
    if rev_parse(root, base) is None:
        hint = (
            " (a shallow CI checkout? fetch full history: fetch-depth: 0)"
            if is_shallow(root)
            else ""
        )
        raise NotFoundError(f"--base {base!r} is not a known git revision{hint}")
    head = GitSource(root, "HEAD")
    head_view = RegistryView(head, schema=True)
    try:
        assert head.commit is not None
        # Compare with where the branch left the base, as a pull request's diff does: what
        # the base released since then is not this branch's deletion.
        fork_point = merge_base(root, base, head.commit) or base
        changes = diff_names(root, fork_point, "HEAD")
        trusted_commit = rev_parse(root, base) or fork_point
        before = RegistryView(GitSource(root, fork_point, cat=head.cat))
        trusted = (
            before
            if trusted_commit == fork_point
            else RegistryView(GitSource(root, trusted_commit, cat=head.cat))
        )
        yield BaseRange(
            root=root,
            base=base,
            base_commit=trusted_commit,
            fork_point=fork_point,
            head_commit=head.commit,
            changes=changes,
            head=head_view,
            before=before,
            trusted=trusted,
            evidence=Evidence(root, trusted_commit),
        )
    finally:
        head_view.source.close()


def range_problems(rng: BaseRange, verify: bool = False, whole: bool = False) -> list[Problem]:
    """Every problem of the range, sorted: what it touches at HEAD and what depends on that
    (``rng.scope``; every file of HEAD with ``whole``) with the changed pointers' promotion
    judged, the change judged by the base's policy, released versions frozen, deleted
    pointers, and the evaluation records the range changes (re-run with ``verify``)."""
    head, before, trusted = rng.head, rng.before, rng.trusted
    # Suites may call only what the base trusts: the change cannot widen trusted_modules.
    problems = check_view(
        head,
        None if whole else rng.scope,
        rng.pointers,
        rng.evidence,
        trusted_modules=trusted.settings().trusted_modules,
    )
    problems += against_base(
        problems, head, trusted, before, rng.moved, rng.evidence, f"the base {rng.base}"
    )
    problems += immutability_problems(before, head, rng.changes)
    problems += new_legacy_records(before, head, rng.changes)
    problems += deleted_pointers(before, head, rng.changes)
    problems = released_breaks(problems, head, before)
    problems += record_problems(rng.root, before, head, rng.changes, verify=verify)
    return sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.code))
