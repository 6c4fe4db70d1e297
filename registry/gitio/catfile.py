"""One persistent ``git cat-file --batch`` reader per repository, safe across threads and forks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from registry.errors import GitError
from registry.gitio.run import _OID_RE, _git_env

# At most this many request bytes are written before their answers are read; a pipe holds at
# least a page, so the write never blocks while git waits for us to drain its output.
_CHUNK_BYTES = 4096

_LIVE: weakref.WeakSet[CatFile] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for cat in list(_LIVE):
        cat._forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _spec_line(spec: str) -> bytes:
    if "\n" in spec or "\0" in spec:
        raise GitError(f"invalid object name {spec!r}: it contains a newline or NUL")
    return os.fsencode(spec) + b"\n"


def _chunks(lines: list[bytes]) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) > _CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield chunk


class CatFile:
    """One persistent ``git cat-file --batch`` process; thread-safe (a lock around each
    request); restarts itself after os.fork (pid check); close() and context manager;
    __del__ closes quietly."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._err: IO[bytes] | None = None
        _LIVE.add(self)

    def __enter__(self) -> CatFile:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # At interpreter shutdown modules may already be torn down; never raise from here.
        with contextlib.suppress(Exception):
            self.close()

    def read(self, spec: str) -> bytes | None:
        """The object ``spec`` names ("<rev>:<path>" or an object id), None when missing."""
        return self.read_many([spec])[0]

    def read_many(self, specs: Sequence[str]) -> list[bytes | None]:
        """Like read() for each spec, pipelined through the one process."""
        lines = [_spec_line(s) for s in specs]
        if self._pid != os.getpid():
            self._forget()
        with self._lock:
            try:
                return self._request(lines)
            except BaseException:
                # A half-read answer leaves the stream out of step; start afresh next time.
                self._stop(kill=True)
                raise

    def close(self) -> None:
        """Stop the process (idempotent)."""
        if self._pid != os.getpid():
            self._forget()
            return
        with self._lock:
            self._stop(kill=False)

    # -- internals ------------------------------------------------------------------------------

    def _request(self, lines: list[bytes]) -> list[bytes | None]:
        proc = self._ensure()
        assert proc.stdin is not None
        answers: list[bytes | None] = []
        for chunk in _chunks(lines):
            data = memoryview(b"".join(chunk))
            try:
                while data:
                    data = data[proc.stdin.write(data) or 0 :]
            except BrokenPipeError:
                raise self._died() from None
            answers.extend(self._answer(line) for line in chunk)
        return answers

    def _answer(self, line: bytes) -> bytes | None:
        assert self._out is not None
        header = self._out.readline()
        if not header.endswith(b"\n"):
            raise self._died()
        fields = header[:-1].split(b" ")
        if len(fields) >= 3 and fields[-1].isdigit() and _OID_RE.fullmatch(fields[0]):
            size = int(fields[-1])
            body = self._out.read(size + 1)
            if len(body) != size + 1:
                raise self._died()
            return body[:-1]
        if fields[-1] == b"missing":
            return None
        shown = line[:-1].decode("utf-8", "replace")
        raise GitError(
            f"git cat-file in {self.root}: {shown!r}: {fields[-1].decode(errors='replace')}"
        )

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop(kill=True)
        # stderr goes to a file: a pipe nobody reads could fill up and stall git.
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        try:
            self._proc = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._err,
                bufsize=0,  # unbuffered stdin: a forked child closing it can flush nothing
                env=_git_env(None),
            )
        except OSError as exc:
            self._stop(kill=True)
            raise GitError(f"cannot run git ({exc}); is git installed and on PATH?") from None
        assert self._proc.stdout is not None
        self._out = open(self._proc.stdout.fileno(), "rb", 1 << 16, closefd=False)  # noqa: SIM115
        return self._proc

    def _died(self) -> GitError:
        proc, err = self._proc, self._err
        code: int | None = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=5)
        message = b""
        if err is not None:
            err.seek(0)
            message = err.read(4096)
        detail = "; ".join(message.decode("utf-8", "replace").strip().splitlines()[:3])
        return GitError(
            f"git cat-file --batch in {self.root} stopped (exit {code}): {detail or 'no message'}"
        )

    def _stop(self, kill: bool) -> None:
        proc, self._proc = self._proc, None
        out, self._out = self._out, None
        err, self._err = self._err, None
        if proc is not None:
            if kill:
                proc.kill()
            for stream in (proc.stdin, out, proc.stdout):
                if stream is not None:
                    stream.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if err is not None:
            err.close()

    def _forget(self) -> None:
        """In a forked child: drop the parent's process without touching it."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        proc, self._proc = self._proc, None
        out, self._out = self._out, None
        err, self._err = self._err, None
        # Closing our copies lets the parent's process see end-of-input when the parent closes.
        for stream in (out, err, *(() if proc is None else (proc.stdin, proc.stdout))):
            if stream is not None:
                stream.close()
        if proc is not None:
            proc.poll()  # not our child: waitpid fails with ECHILD and Popen marks it done
            if proc.returncode is None:
                _ABANDONED.append(proc)


# Popen objects of a parent process that a forked child must never reap or warn about.
_ABANDONED: list[subprocess.Popen[bytes]] = []
