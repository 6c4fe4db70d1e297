"""Hardened reading of one YAML file: a regular file only, its size checked before reading."""

from __future__ import annotations

import errno
import os
import stat

from registry.errors import YamlError
from registry.yamlio import load
from registry.yamlio.load import Loaded, load_yaml_bytes, too_large

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def file_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _not_regular(mode: int, path: str) -> YamlError:
    return YamlError(
        f"is {file_kind(mode)}, not a regular file; promptreg reads only regular files",
        path,
        code="yaml-not-regular",
    )


def load_yaml_file(path: str | os.PathLike[str], display_path: str | None = None) -> Loaded:
    """Load one untrusted YAML mapping from a regular file, checking its size before reading."""
    shown = display_path if display_path is not None else os.fspath(path)
    return load_yaml_bytes(read_regular_file(path, shown, load.MAX_FILE_BYTES), shown)


def read_regular_file(path: str | os.PathLike[str], shown: str, limit: int) -> bytes:
    """The bytes of a regular file (no symlink, FIFO or device), at most ``limit`` of them;
    raises YamlError (a LoadError) naming ``shown`` otherwise."""
    try:
        # lstat first so a FIFO or device is never even opened; fstat again after opening
        # in case the path was swapped in between.
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode, shown)
        if st.st_size > limit:
            raise too_large(st.st_size, shown, limit)
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _not_regular(stat.S_IFLNK, shown) from None
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _not_regular(st.st_mode, shown)
            if st.st_size > limit:
                raise too_large(st.st_size, shown, limit)
            # A file that grew after fstat is still caught; one that did not is read with
            # one read, not a second to see the end.
            data = read_bounded(fd, limit, expected=st.st_size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise YamlError(
            f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable",
            shown,
            code="yaml-io",
        ) from None
    if len(data) > limit:
        raise too_large(len(data), shown, limit)
    return data


def read_bounded(fd: int, limit: int, expected: int | None = None) -> bytes:
    """At most ``limit + 1`` bytes from ``fd``: one byte more than allowed tells the caller
    the input is too large, without reading an endless one (``/dev/zero``, a pipe) to its end.
    ``expected``: the size fstat gave a regular file; reading stops once that much is read."""
    chunks = []
    remaining = limit + 1
    while remaining > 0:
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
        if expected is not None and limit + 1 - remaining == expected:
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
