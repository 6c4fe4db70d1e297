"""Commits: git's identity, who makes a change, which paths are uncommitted, and
``commit_paths`` (the only user of GitPython)."""

from __future__ import annotations

import contextlib
import re
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
def _git_repo(root: Path) -> Iterator[Any]:
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
        detail = str(exc.stderr or exc.stdout or exc).strip().replace("\n", "; ")
        raise GitError(
            f"git {exc.command[1] if len(exc.command) > 1 else ''} failed: {detail}"
        ) from None
    finally:
        repo.close()


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
    another writer moved the branch or holds the index, rather than losing a commit."""
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
    with _git_repo(root) as repo:
        repo.git.add("--", *paths)
        try:
            repo.git.commit(*args, "--", *paths, env=env)
        except BaseException:
            with contextlib.suppress(Exception):
                repo.git.reset("--quiet", "--", *paths)
            raise
        return str(repo.head.commit.hexsha)
