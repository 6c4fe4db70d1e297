"""Commits: git's identity, who makes a change, which paths are uncommitted, and
``commit_paths`` (the only user of GitPython)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from registry.errors import GitError, IdentityError
from registry.gitio.repo import is_work_tree
from registry.gitio.run import run_git

_PERSON = re.compile(r"(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>")


def require_person(actor: str, flag: str = "--by") -> None:
    """A commit author must be ``Name <email>``: git needs the email."""
    if _PERSON.fullmatch(actor) is None:
        raise IdentityError(
            f"with --commit, {flag} must look like 'Name <email>' (git records the email as the"
            f" commit author), got {actor!r}"
        )


@contextlib.contextmanager
def _git_repo(root: Path, paths: Sequence[str] = ()) -> Iterator[Any]:
    """GitPython's view of ``root`` for the write path (never the application's hot path,
    which keeps to one plain ``git cat-file`` process); closed after use."""
    import git

    try:
        repo = git.Repo(root)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        raise GitError(f"--commit needs a git repository; {root} is not one") from None
    try:
        yield repo
    except git.exc.GitCommandError as exc:
        raise GitError(_failure_message(exc, paths)) from None
    finally:
        repo.close()


def _failure_message(exc: Any, paths: Sequence[str]) -> str:
    """What git said when a commit step failed, without GitPython's command dump."""
    verb = exc.command[1] if len(exc.command) > 1 else ""
    detail = _clean(exc.stderr) or _clean(exc.stdout)
    if not detail:
        detail = f"exit code {exc.status}" + (
            " (a hook refused the commit?)" if verb == "commit" else ""
        )
    named = f" of {', '.join(paths)}" if paths else ""
    return f"git {verb}{named} failed: {detail}; nothing was committed"


def _clean(text: object) -> str:
    """git's output as one line: GitPython wraps stderr in ``stderr: '...'``."""
    out = str(text or "").strip()
    for prefix in ("stderr: ", "stdout: "):
        out = out.removeprefix(prefix)
    out = out.strip()
    if len(out) > 1 and out[0] == out[-1] == "'":
        out = out[1:-1].strip()
    return "; ".join(line.strip() for line in out.splitlines() if line.strip())


def git_identity(root: Path) -> str | None:
    """``user.name <user.email>`` from git config, or None when either is unset."""

    def get(key: str) -> str:
        try:
            return run_git(root, "config", "--get", key, check=False).decode().strip()
        except (GitError, OSError):
            return ""

    name, email = get("user.name"), get("user.email")
    if name and email:
        return f"{name} <{email}>"
    return None


def resolve_actor(root: Path, given: str | None, flag: str = "--by") -> str:
    """The actor of a change: ``given`` or git's identity; raises IdentityError."""
    actor = given if given is not None else git_identity(root)
    if actor is None:
        raise IdentityError(
            f"who is making this change? pass {flag} 'Name <email>' or set git's"
            " user.name and user.email (git config user.name 'Dana Reyes')"
        )
    actor = actor.strip()
    if not actor or len(actor) > 200 or any(ch in actor for ch in "\r\n\0"):
        raise IdentityError(f"{flag} must be a single line of at most 200 characters")
    return actor


def uncommitted(root: Path, paths: Sequence[str]) -> list[str]:
    """Which of ``paths`` differ between the working tree and HEAD (untracked included)."""
    out = run_git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
    return sorted(
        {item[3:] for item in out.decode("utf-8", "surrogateescape").split("\0") if len(item) > 3}
    )


def commit_paths(root: Path, paths: Sequence[str], message: str, author: str) -> str:
    """Commit exactly ``paths`` (nothing else that is staged) with ``author``; return the id.

    Runs the git command line (through GitPython's command wrapper), which fails loudly when
    another writer moved the branch or holds the index, rather than losing a commit. The
    commit is made on a private copy of git's index, which replaces the real one only once
    the commit has landed: a commit that fails (a full disk, a refusing hook) leaves the
    index exactly as it was, so the next unrelated commit cannot carry the change along."""
    if not is_work_tree(root):
        raise GitError(f"--commit needs a git repository; {root} is not one")
    person = _PERSON.fullmatch(author)
    env: dict[str, str] = {}
    if person is not None and git_identity(root) is None:
        # No git identity configured: the actor commits as well as authors.
        env = {"GIT_COMMITTER_NAME": person["name"], "GIT_COMMITTER_EMAIL": person["email"]}
    args = ["--quiet", "-m", message]
    if person is not None:
        args.append(f"--author={person['name']} <{person['email']}>")
    index = Path(os.fsdecode(run_git(root, "rev-parse", "--git-path", "index").strip()))
    if not index.is_absolute():
        index = root / index
    _sweep_private_indexes(index)
    private = _private_index(index, paths)
    try:
        with _git_repo(root, paths) as repo:
            env["GIT_INDEX_FILE"] = str(private)
            repo.git.add("--", *paths, env=env)
            repo.git.commit(*args, "--", *paths, env=env)
            sha = str(repo.head.commit.hexsha)
        # A rename needs no room on the disk: the index now matches the new commit.
        os.replace(private, index)
    finally:
        with contextlib.suppress(OSError):
            private.unlink()
    return sha


def _sweep_private_indexes(index: Path) -> None:
    """Remove private indexes a killed writer left (callers hold the registry write lock, so
    no other promptreg commit is using one)."""
    for leftover in index.parent.glob("promptreg-index.*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _private_index(index: Path, paths: Sequence[str]) -> Path:
    """A copy of git's index beside it (an empty index when there is none yet)."""
    fd, name = tempfile.mkstemp(dir=index.parent, prefix="promptreg-index.")
    os.close(fd)
    private = Path(name)
    try:
        if index.exists():
            shutil.copyfile(index, private)
            shutil.copymode(index, private)
        else:
            private.unlink()  # git creates it
    except OSError as exc:
        with contextlib.suppress(OSError):
            private.unlink()
        raise GitError(
            f"cannot commit {', '.join(paths)}: git's index cannot be copied"
            f" ({exc.strerror or exc}); nothing was committed"
        ) from None
    return private
