"""Finding and reading a bundle file: a path to the file, or a folder holding one.

A folder is a bundle folder when it holds no registry (no ``promptreg.yaml``, ``prompts/``,
``deployments/`` and no git work tree) and a bundle: ``bundle.json``, else its only ``*.json``
file. Names starting with ``.`` are skipped, so a Kubernetes ConfigMap mount (``..data`` and
its timestamped folders beside ``bundle.json -> ..data/bundle.json``) is read through the
symlinks kubelet swaps. The folder is looked at again at every refresh.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from registry.bundle.document import Bundle, decode
from registry.errors import NotFoundError, ValidationError
from registry.paths import DEPLOYMENTS, PROMPTS, SETTINGS

BUNDLE_NAME = "bundle.json"
# A file vanishes between finding it and opening it when kubelet deletes the old timestamped
# folder of a ConfigMap right after swapping ``..data``: the next look finds the new one.
_OPEN_ATTEMPTS = 3

Token = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class LoadedBundle:
    """A verified bundle, the file it was read from and what that file looked like then."""

    bundle: Bundle
    path: Path
    token: Token


def _holds_registry(folder: Path) -> bool:
    from registry.gitio.repo import is_work_tree

    marks = (SETTINGS, PROMPTS, DEPLOYMENTS)
    return any(os.path.lexists(folder / m) for m in marks) or is_work_tree(folder)


def _json_files(folder: Path) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith(".json") and not n.startswith("."))


def names_bundle(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a bundle rather than a registry: a file, a ``*.json`` path that
    does not exist (so its error says so), or a folder holding a bundle and no registry."""
    p = Path(path)
    if p.is_file():
        return True
    if p.is_dir():
        return not _holds_registry(p) and bool(_json_files(p))
    return p.suffix == ".json" and not os.path.lexists(p)


def bundle_file(given: Path) -> Path:
    """The bundle file ``given`` names now; raises NotFoundError when there is none, or when
    a folder holds several ``*.json`` files and no ``bundle.json``."""
    if not given.is_dir():
        if not given.exists():
            raise NotFoundError(f"bundle {given} does not exist")
        return given
    names = _json_files(given)
    if BUNDLE_NAME in names:
        return given / BUNDLE_NAME
    if len(names) == 1:
        return given / names[0]
    if not names:
        raise NotFoundError(f"{given} holds no bundle: no {BUNDLE_NAME} and no other *.json file")
    raise NotFoundError(
        f"{given} holds {len(names)} *.json files ({', '.join(names)}) and no {BUNDLE_NAME};"
        " pass the path of the bundle file"
    )


def file_token(path: Path) -> Token | None:
    """What the file ``path`` leads to looks like now (symlinks followed); None when absent."""
    try:
        return _token(os.stat(path))
    except OSError:
        return None


def _token(st: os.stat_result) -> Token:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def load_bundle(given: Path) -> LoadedBundle:
    """Find, read and verify the bundle ``given`` names; raises NotFoundError or
    ValidationError naming the file."""
    for attempt in range(_OPEN_ATTEMPTS):
        path = bundle_file(given)
        try:
            data, token = _read(path)
        except FileNotFoundError:
            if attempt + 1 == _OPEN_ATTEMPTS:
                raise NotFoundError(f"bundle {path} does not exist") from None
            continue
        return LoadedBundle(decode(data, str(path)), path, token)
    raise AssertionError("unreachable")


def _read(path: Path) -> tuple[bytes, Token]:
    # O_NONBLOCK: a FIFO put where the bundle belongs must not hang the application.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValidationError(f"{path}: is not a regular file; a bundle is a JSON file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read()
    finally:
        os.close(fd)
    return data, _token(st)
