"""Where is ``.git``: the work tree top, its git dir and common dir, read without a process."""

from __future__ import annotations

import os
from pathlib import Path

from registry.errors import NotFoundError


def is_work_tree(root: Path) -> bool:
    """Whether ``root`` is the top of a git work tree (a ``.git`` folder or file)."""
    return (root / ".git").exists()


def find_work_tree(start: Path) -> Path | None:
    """The top of the work tree enclosing ``start`` (``start`` itself included), else None."""
    here = Path(start).resolve()
    return next((cand for cand in (here, *here.parents) if is_work_tree(cand)), None)


def find_root(path: str | os.PathLike[str] | None) -> tuple[Path, bool]:
    """The registry root and whether it is a git work tree (pure Python, no process)."""
    start = Path(path) if path is not None else Path.cwd()
    start = start.resolve()
    if not start.is_dir():
        raise NotFoundError(f"registry path {str(start)!r} is not a directory")
    if path is not None:
        return start, is_work_tree(start)
    top = find_work_tree(start)
    return (start, False) if top is None else (top, True)


def read_bytes(path: Path) -> bytes | None:
    """The bytes of a small git file, None when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def git_dir(root: Path) -> Path | None:
    """The git dir of the work tree at ``root``: ``.git`` itself, or where a ``gitdir:`` file
    (a linked worktree, a submodule) points."""
    dotgit = root / ".git"
    if dotgit.is_dir():
        return dotgit
    text = read_bytes(dotgit)
    if text is None or not text.startswith(b"gitdir:"):
        return None
    target = Path(os.fsdecode(text[len(b"gitdir:") :].strip()))
    return target if target.is_absolute() else root / target


def git_dirs(root: Path) -> tuple[Path, Path] | None:
    """(git dir, common dir) of the work tree at ``root``; a linked worktree shares the refs
    of its common dir."""
    gitdir = git_dir(root)
    if gitdir is None:
        return None
    common = read_bytes(gitdir / "commondir")
    if common is None:
        return gitdir, gitdir
    target = Path(os.fsdecode(common.strip()))
    return gitdir, target if target.is_absolute() else gitdir / target
