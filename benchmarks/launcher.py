"""Start one measured command from a small process and report its time and peak memory.

    python -I -S launcher.py REPORT TIMEOUT -- ARGV...

Linux starts a new program's peak-RSS count at the size of the process that spawned it,
so a command spawned straight from the benchmark (which holds the whole planned history)
would report the benchmark's memory as its own. Spawned from this small process instead,
the floor is this process's size (about 10 MiB). The command inherits stdin, stdout,
stderr, the working directory and the environment; REPORT receives a JSON object with
``seconds``, ``rss_kib``, ``returncode`` and ``timed_out``.
"""

import json
import os
import signal
import sys
import time


def main(argv: list[str]) -> int:
    report, timeout, command = argv[1], float(argv[2]), argv[4:]
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(command[0], command, os.environ)
    except OSError as exc:
        result: dict[str, object] = {"seconds": 0.0, "rss_kib": 0, "returncode": 127}
        result.update(timed_out=False, error=f"{command[0]}: {exc.strerror}")
    else:
        fired = []

        def kill(signum: int, frame: object) -> None:
            fired.append(True)
            os.kill(pid, signal.SIGKILL)

        signal.signal(signal.SIGALRM, kill)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - start
        signal.setitimer(signal.ITIMER_REAL, 0)
        result = {
            "seconds": seconds,
            "rss_kib": usage.ru_maxrss,
            "returncode": os.waitstatus_to_exitcode(status),
            "timed_out": bool(fired),
        }
    with open(report, "w", encoding="utf-8") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
