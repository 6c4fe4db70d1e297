"""Files a command line names (--content-file, --messages-file, --var NAME=@FILE): a regular
file of at most 256 KiB, or standard input, read without ever blocking on a FIFO or device."""

from __future__ import annotations

import os
import stat
import sys

import click

from registry.errors import RegistryError
from registry.yamlio.files import file_kind, read_bounded
from registry.yamlio.load import MAX_FILE_BYTES

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_LIMIT = f"{MAX_FILE_BYTES // 1024} KiB"


def read_input(path: str, flag: str) -> tuple[bytes, str]:
    """The bytes of ``path`` ('-' is standard input) and the name to show in messages."""
    if path == "-":
        return _capped(sys.stdin.buffer.read(MAX_FILE_BYTES + 1), "<stdin>", flag), "<stdin>"
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {path}: {exc.strerror or exc}", param_hint=f"'{flag}'"
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise RegistryError(
                f"{path}: is {file_kind(mode)}, not a regular file; {flag} reads a regular file"
                " (or '-' for standard input)"
            )
        data = read_bounded(fd, MAX_FILE_BYTES)
    finally:
        os.close(fd)
    return _capped(data, path, flag), path


def _capped(data: bytes, name: str, flag: str) -> bytes:
    if len(data) > MAX_FILE_BYTES:
        raise RegistryError(f"{name}: larger than {_LIMIT}, the limit of {flag}")
    return data


def read_text(path: str, flag: str) -> tuple[str, str]:
    """The UTF-8 text of ``path`` and the name to show in messages."""
    data, name = read_input(path, flag)
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegistryError(
            f"{name}:{line}: invalid UTF-8 ({flag} reads text); save the file as UTF-8"
        ) from None
