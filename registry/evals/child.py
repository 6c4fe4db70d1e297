"""The process boundary of an evaluation: suite hooks run in a child process, never in the
process that decides what to record.

The parent starts ``python -P -B -c ...`` (no registry folder on ``sys.path`` but the root
the run adds, no bytecode written), in a new session, with the registry root as its working
directory. It sends the job (the version, the suite, the root and the trusted modules) as
JSON on the child's stdin; the child's stdout is the parent's stderr, so a hook's prints
never mix with ``eval --json``. The child answers on a separate pipe with JSON lines:
``{"ready": true}`` once it is up, ``{"progress": n}`` after the hooks are imported (n = 0) and after each case, then one
``{"verdict": [case results]}`` or ``{"error": message}``. The parent never unpickles
anything the child sends.

The evaluation fails (EvaluationError, exit 1) when the child exits without a verdict
(``os._exit(0)`` in a hook, a crash, a signal), sends something malformed, or stays silent
longer than the suite's ``timeout``: once the interpreter is up (it sends ``{"ready": true}``,
within 60 s), the hooks' import gets ``timeout`` seconds, and each case ``timeout`` seconds
more (with ``jobs`` cases at a time: ``timeout`` seconds between two finished cases), so a run takes at most ``timeout * (cases + 1)`` after start-up. The child's whole
process group is killed then. With a model target or an llm_rubric judge, ``timeout`` bounds
each wait of a request instead (the client's own timeout fails that case), and a case gets
``timeout`` seconds plus, for each request it makes, the longest the client can take with its
retries (``registry.evals.outputs.case_limit``), so a slow endpoint fails cases, not the whole run.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from registry.errors import EvaluationError
from registry.evals.job import decode_job, encode_job
from registry.evals.outputs import case_limit
from registry.evals.results import CaseResult, case_from_dict
from registry.evals.suite import Suite
from registry.models import PromptVersion

_MAX_ANSWER = 64 * 1024 * 1024  # bytes of answer the parent reads before giving up
_STARTUP = 60.0  # seconds the interpreter may take to start, on top of the suite's timeout
_PACKAGE_DIR = str(Path(__file__).resolve().parents[2])


def child_main(fd: int) -> None:
    """The child's side: run the job from stdin, answer on ``fd``."""
    out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    job = json.loads(sys.stdin.buffer.read())
    version, suite, root, trusted, jobs, cache = decode_job(job)
    from registry.evals.cases import judge_suite

    send({"ready": True})  # the interpreter is up: the suite's timeout starts now

    try:
        results = judge_suite(
            version,
            suite,
            root,
            trusted,
            lambda done, _: send({"progress": done}),
            jobs,
            cache=cache,
        )
    except EvaluationError as exc:
        send({"error": str(exc)})
        return
    send({"verdict": [{**r.to_dict(), "seconds": r.seconds} for r in results]})


def _command(fd: int) -> list[str]:
    bootstrap = (
        "import sys\n"
        f"sys.path.append({_PACKAGE_DIR!r})\n"
        "from registry.evals.child import child_main\n"
        f"child_main({fd})\n"
    )
    return [sys.executable, "-P", "-B", "-c", bootstrap]


class _Reader:
    """JSON lines from the child's answer pipe, each within a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.total = 0
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def line(self, deadline: float) -> dict[str, Any] | None:
        """The next message; None at end of file; TimeoutError past ``deadline``."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                raise TimeoutError
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.total += len(chunk)
            if self.total > _MAX_ANSWER:
                raise ValueError("it sent more than 64 MiB")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\n")
        message = json.loads(raw)
        if not isinstance(message, dict):
            raise ValueError("it sent a message that is not a JSON object")
        return message

    def close(self) -> None:
        self.selector.close()
        os.close(self.fd)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait()


def _ended(proc: subprocess.Popen[bytes]) -> str:
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        _kill(proc)
        code = proc.returncode
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def run_in_child(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    trusted: tuple[str, ...],
    report: Any,
    jobs: int = 1,
    *,
    cache: bool = True,
) -> list[CaseResult]:
    """Run the suite's cases in a child process, ``jobs`` at a time; ``report(done, total)``
    after each case; ``cache=False`` bypasses the response cache. Raises EvaluationError when
    the child gives no complete, well-formed verdict in time."""
    where = f"{suite.path}: evaluation of {version.prompt_id} {version.version}"
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            _command(write_fd), stdin=subprocess.PIPE, stdout=sys.stderr.fileno()
            if _has_fileno(sys.stderr) else subprocess.DEVNULL, pass_fds=(write_fd,),
            cwd=root, start_new_session=True,
        )  # fmt: skip
    finally:
        os.close(write_fd)
    reader = _Reader(read_fd)
    total = len(suite.cases)
    try:
        _send_job(proc.stdin, encode_job(version, suite, root, trusted, jobs, cache))
        seen = -2  # -2: starting, -1: importing the hooks, n: n cases done
        per_case = case_limit(suite)
        while True:
            if seen == -2:
                limit = max(_STARTUP, suite.timeout)
            else:
                limit = suite.timeout if seen == -1 else per_case
            try:
                message = reader.line(time.monotonic() + limit)
            except TimeoutError:
                _kill(proc)
                step = {-2: "starting", -1: "importing its hooks"}.get(
                    seen, f"case {seen + 1} of {total}"
                )
                allowed = f"the suite's timeout of {suite.timeout:g}s"
                if limit != suite.timeout and seen >= 0:
                    allowed = f"{limit:g}s (the suite's timeout for each request and its retries)"
                raise EvaluationError(
                    f"{where} timed out: {step} took longer than {allowed}"
                ) from None
            except ValueError as exc:
                _kill(proc)
                raise EvaluationError(f"{where} failed: the evaluation process {exc}") from None
            if message is None:
                raise EvaluationError(
                    f"{where} failed: the evaluation process {_ended(proc)} without a verdict"
                    " (a hook that exits, crashes or kills its process fails the evaluation)"
                )
            if seen == -2:
                if message != {"ready": True}:
                    _kill(proc)
                    raise EvaluationError(f"{where} failed: the evaluation process misreported")
                seen = -1
                continue
            if "progress" in message:
                done = message["progress"]
                if not isinstance(done, int) or isinstance(done, bool) or done != seen + 1:
                    _kill(proc)
                    raise EvaluationError(f"{where} failed: the evaluation process misreported")
                seen = done
                if done > 0:
                    report(done, total)
                continue
            if "error" in message:
                _ended(proc)
                raise EvaluationError(str(message["error"]))
            return _verdict(proc, message, suite, where)
    finally:
        reader.close()
        if proc.poll() is None:
            _kill(proc)


def _has_fileno(stream: IO[str]) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _send_job(stdin: IO[bytes] | None, job: bytes) -> None:
    assert stdin is not None
    try:
        stdin.write(job)
        stdin.close()
    except BrokenPipeError:
        pass  # the child died at once; the missing verdict says so


def _verdict(
    proc: subprocess.Popen[bytes], message: dict[str, Any], suite: Suite, where: str
) -> list[CaseResult]:
    try:
        raw = message["verdict"]
        cases = [case_from_dict(c) for c in raw] if isinstance(raw, list) else None
    except (KeyError, ValueError, TypeError, AttributeError):
        cases = None
    if (
        cases is None
        or [c.name for c in cases] != [c.name for c in suite.cases]
        or any(
            len(r.assertions) != len(c.assertions) for r, c in zip(cases, suite.cases, strict=True)
        )
    ):
        _kill(proc)
        raise EvaluationError(f"{where} failed: the evaluation process sent a malformed verdict")
    status = _ended(proc)
    if proc.returncode != 0:
        raise EvaluationError(f"{where} failed: the evaluation process {status} after its verdict")
    return cases
