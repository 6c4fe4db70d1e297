"""One pointer file under the write lock: what a change replaces, and writing the new state.

What a change replaces is read under the lock by the writer itself, and returned with the
outcome (``PointerChange``), so what a command prints is what happened: a reader outside the
lock can see a state that another writer replaces before this one gets its turn.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from registry.errors import PolicyError, ValidationError
from registry.fsio import Transaction
from registry.gitio.repo import is_work_tree
from registry.history import REMOVE as REMOVE  # re-exported: the action of a tombstone
from registry.models import PromptDeployment
from registry.paths import pointer_path
from registry.schema.files import modeline_target
from registry.view import RegistryView
from registry.writer import finish
from registry.yamlio.dump import dump_yaml


@dataclass(frozen=True)
class PointerChange:
    """The outcome of a deploy, rollback or undeploy: the pointer it replaced (None: there
    was none), the pointer now, and whether anything was written."""

    before: PromptDeployment | None
    after: PromptDeployment
    changed: bool


def current_pointer(
    view: RegistryView, environment: str, prompt_id: str
) -> PromptDeployment | None:
    """The pointer of ``view``; None when there is none; ValidationError when it is broken."""
    res = view.pointer_result(environment, prompt_id)
    if res.problems:
        raise ValidationError(
            f"{pointer_path(environment, prompt_id)} is not valid: "
            + "; ".join(str(p) for p in res.problems),
            res.problems,
        )
    rec = res.record
    return rec if isinstance(rec, PromptDeployment) else None


def pointer_before(
    root: Path, view: RegistryView, environment: str, prompt_id: str, commit: bool
) -> PromptDeployment | None:
    """What a change replaces. With a commit it is HEAD's pointer: the working tree may name
    a version that never was in the branch (left by a killed writer, or by a change made
    without ``--commit``), and the commit records what the branch ran before it."""
    if not commit or not is_work_tree(root):
        return current_pointer(view, environment, prompt_id)
    from registry.gitio.run import rev_parse
    from registry.sources import GitSource

    head = rev_parse(root, "HEAD")
    if head is None:
        return None
    source = GitSource(root, head)
    try:
        res = RegistryView(source).pointer_result(environment, prompt_id)
    finally:
        source.close()
    if res.problems:
        # A broken committed pointer says nothing about what ran; the working tree's may be
        # its fix (and is refused in turn when it is broken too).
        return current_pointer(view, environment, prompt_id)
    return res.record if isinstance(res.record, PromptDeployment) else None


def unchanged(
    root: Path, view: RegistryView, before: PromptDeployment, commit: bool
) -> PointerChange:
    """The outcome of a change that finds its target already in place. With a commit the
    working tree must agree with HEAD: a different uncommitted pointer is not silently kept
    (it would read as active) nor thrown away."""
    if commit and is_work_tree(root):
        here = current_pointer(view, before.environment, before.prompt_id)
        if here is None or here.version != before.version:
            rel = pointer_path(before.environment, before.prompt_id)
            names = "is deleted" if here is None else f"names {_shown(here.version)}"
            raise PolicyError(
                f"{rel} has an uncommitted change (it {names}; HEAD has"
                f" {_shown(before.version)}, which is what was asked for): commit it, or discard"
                f" it with `git checkout -- {rel}`, then try again"
            )
    return PointerChange(before, last_commit(root, before), changed=False)


def _shown(version: str | None) -> str:
    return "nothing active (a tombstone)" if version is None else version


def write_pointer(
    root: Path, before: PromptDeployment | None, d: PromptDeployment, commit: bool, message: str
) -> PointerChange:
    """Write ``d`` as the pointer file (one commit with ``commit``); undone when it fails."""
    doc: dict[str, Any] = {
        "prompt_id": d.prompt_id,
        "environment": d.environment,
        "version": d.version,
        "previous_version": d.previous_version,
        "action": d.action,
        "deployed_by": d.deployed_by,
        "deployed_at": d.deployed_at,
    }
    if d.reason:
        doc["reason"] = d.reason
    rel = pointer_path(d.environment, d.prompt_id)
    text = dump_yaml(doc, modeline_target("deployment", rel))
    tx = Transaction(root)
    try:
        tx.write(rel, text.encode("utf-8"))
        sha = finish(root, tx, commit, message, d.deployed_by)
    except BaseException:
        tx.rollback()
        raise
    after = replace(d, commit=sha, committed_by=None if sha is None else _author(root, sha))
    return PointerChange(before, after, changed=True)


def last_commit(root: Path, d: PromptDeployment) -> PromptDeployment:
    """``d`` (a pointer left as it is) with the commit that last changed its file and that
    commit's author; both stay None when the pointer has uncommitted changes or no commit."""
    from registry.gitio.commit import uncommitted
    from registry.gitio.run import run_git

    rel = pointer_path(d.environment, d.prompt_id)
    if not is_work_tree(root) or uncommitted(root, [rel]):
        return d
    out = run_git(root, "-c", "log.follow=false", "log", "-1", "--encoding=UTF-8",
                  "--format=%H%x00%an <%ae>", "--", rel, check=False)  # fmt: skip
    sha, _, author = out.decode("utf-8", "replace").strip().partition("\0")
    if not sha:
        return d
    return replace(d, commit=sha, committed_by=author)


def _author(root: Path, sha: str) -> str:
    """The git author of ``sha`` as ``history`` reports it (``Name <email>``)."""
    from registry.gitio.run import run_git

    out = run_git(root, "show", "-s", "--encoding=UTF-8", "--format=%an <%ae>", sha)
    return out.decode("utf-8", "replace").strip()


def commit_message(verb: str, d: PromptDeployment) -> str:
    """The commit message of a pointer change, naming prompt, version, environment, reason."""
    if d.version is None:
        head = f"{verb} {d.prompt_id} from {d.environment}"
    else:
        head = f"{verb} {d.prompt_id} {d.version} to {d.environment}"
    if d.previous_version:
        head += f" (was {d.previous_version})"
    return head + (f"\n\nReason: {d.reason}" if d.reason else "")
