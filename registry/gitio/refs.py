"""HEAD tracking in pure Python for the hot path: a change token and the commit."""

from __future__ import annotations

import os
from pathlib import Path

from registry.gitio.repo import git_dirs, read_bytes
from registry.gitio.run import _OID_RE, rev_parse

# Refs that live in a linked worktree's own git dir rather than the common dir.
_PER_WORKTREE = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")


def _symref(content: bytes | None) -> str | None:
    if content is None or not content.startswith(b"ref:"):
        return None
    name = os.fsdecode(content[4:].strip())
    if not name.startswith("refs/") or ".." in name.split("/") or "\\" in name:
        return None
    return name


def _ref_file(dirs: tuple[Path, Path], name: str) -> Path:
    gitdir, common = dirs
    return (gitdir if name.startswith(_PER_WORKTREE) else common) / name


def _stat(path: Path) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def head_state(root: Path) -> tuple[str, ...]:
    """A token that changes whenever HEAD's commit may have changed (no process)."""
    dirs = git_dirs(Path(root))
    if dirs is None:
        return ("no-git",)
    gitdir, common = dirs
    head = read_bytes(gitdir / "HEAD")
    state = [(head or b"").decode("utf-8", "replace").strip(), _stat(gitdir / "HEAD")]
    target = _symref(head)
    if target is not None:
        state.append(_stat(_ref_file(dirs, target)))
    state.append(_stat(common / "packed-refs"))
    if (common / "reftable").is_dir():
        state.append(_stat(common / "reftable" / "tables.list"))
    return tuple(state)


def _packed_ref(common: Path, name: str) -> bytes | None:
    data = read_bytes(common / "packed-refs")
    if data is None:
        return None
    at = data.find(b" " + os.fsencode(name) + b"\n")
    if at < 0:
        return None
    start = data.rfind(b"\n", 0, at) + 1
    return data[start:at]


# Sentinel for "pure Python cannot tell; ask git".
_ASK_GIT = "?"


def _resolve_head_files(root: Path) -> str | None:
    dirs = git_dirs(root)
    if dirs is None or (dirs[1] / "reftable").is_dir():
        return _ASK_GIT
    content = read_bytes(dirs[0] / "HEAD")
    for _ in range(5):  # HEAD -> branch, plus a few symbolic refs at most
        if content is None:
            return _ASK_GIT
        if _OID_RE.fullmatch(content.strip()):
            return content.strip().decode("ascii")
        name = _symref(content)
        if name is None:
            return _ASK_GIT
        content = read_bytes(_ref_file(dirs, name))
        if content is None:
            # No loose ref: packed, or an unborn branch.
            packed = _packed_ref(dirs[1], name)
            if packed is None:
                return None
            return packed.decode("ascii") if _OID_RE.fullmatch(packed) else _ASK_GIT
    return _ASK_GIT


def resolve_head(root: Path) -> str | None:
    """HEAD's commit id, read from the ref files where possible; None on an unborn branch."""
    found = _resolve_head_files(Path(root))
    if found != _ASK_GIT:
        return found
    return rev_parse(Path(root), "HEAD")
