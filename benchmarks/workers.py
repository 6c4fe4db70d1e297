"""Reader processes of the benchmark: each loads promptreg in a fresh interpreter.

    python workers.py first|warm|reload|poll '{"path": ..., "prompt": ..., "env": ..., ...}'

``first``, ``warm`` and ``reload`` print one JSON object; ``poll`` prints ``ready V``, then
``seen V MONOTONIC_NS`` on every change it observes, until its stdin closes.
Nothing here imports promptreg before the timed region starts; peak memory is taken by
launcher.py, which starts these processes.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from typing import Any


def open_registry(args: dict[str, Any]) -> Any:
    """A PromptRegistry on the benchmark checkout, with the refresh interval if one is given."""
    from registry import PromptRegistry

    if args.get("refresh_interval") is None:
        return PromptRegistry(args["path"])
    return PromptRegistry(args["path"], refresh_interval=args["refresh_interval"])


def version_of(found: Any) -> str | None:
    return None if found is None else str(found.version)


def first(args: dict[str, Any]) -> dict[str, Any]:
    """Import, open and serve once: the cost an application pays at start-up."""
    start = time.perf_counter()
    import registry  # noqa: F401

    imported = time.perf_counter()
    reg = open_registry(args)
    found = reg.get_active(args["prompt"], args["env"])
    served = time.perf_counter()
    reg.close()
    return {
        "import_ms": (imported - start) * 1e3,
        "first_ms": (served - imported) * 1e3,
        "version": version_of(found),
    }


def warm(args: dict[str, Any]) -> dict[str, Any]:
    """Per-call cost of get_active once loaded: the median over batches of many calls."""
    reg = open_registry(args)
    get, prompt, env = reg.get_active, args["prompt"], args["env"]
    found = get(prompt, env)
    batch, batches = args["batch"], max(1, args["calls"] // args["batch"])
    # The floor: the same answer looked up in a plain dict by (prompt, env), same loop.
    lookup = {(prompt, env): found}.get
    per_call, loop_only, dict_only = [], [], []
    for _ in range(batches):
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            get(prompt, env)
        t1 = time.perf_counter_ns()
        for _ in range(batch):
            pass
        t2 = time.perf_counter_ns()
        for _ in range(batch):
            lookup((prompt, env))
        t3 = time.perf_counter_ns()
        per_call.append((t1 - t0) / batch)
        loop_only.append((t2 - t1) / batch)
        dict_only.append((t3 - t2) / batch)
    reg.close()
    return {
        "per_call_ns": statistics.median(per_call),
        "loop_ns": statistics.median(loop_only),
        "dict_ns": statistics.median(dict_only),
        "calls": batch * batches,
        "version": version_of(found),
    }


def poll(args: dict[str, Any]) -> None:
    """Serve get_active every ``interval`` seconds and say when the answer changes."""
    reg = open_registry(args)
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    last = version_of(reg.get_active(args["prompt"], args["env"]))
    print("ready", last, flush=True)
    while not stop.wait(args["interval"]):
        now = version_of(reg.get_active(args["prompt"], args["env"]))
        if now != last:
            print("seen", now, time.monotonic_ns(), flush=True)
            last = now
    reg.close()


def reload(args: dict[str, Any]) -> dict[str, Any]:
    """Time reload() after the bundle at ``path`` is replaced, alternately by ``other`` and
    by itself again; ends serving the original file."""
    import os
    from pathlib import Path

    reg = open_registry(args)
    path = Path(args["path"])
    blobs = [path.read_bytes(), Path(args["other"]).read_bytes()]
    tmp = path.with_name(f".{path.name}.swap")
    times = []
    for i in range(args["rounds"] // 2 * 2):
        tmp.write_bytes(blobs[(i + 1) % 2])
        os.replace(tmp, path)
        start = time.perf_counter()
        swapped = reg.reload()
        times.append((time.perf_counter() - start) * 1e3)
        if not swapped:
            raise SystemExit(f"reload() did not take the replaced bundle: {reg.last_error}")
    found = reg.get_active(args["prompt"], args["env"])
    reg.close()
    return {"reload_ms": times, "version": version_of(found)}


def main(argv: list[str]) -> int:
    mode, args = argv[1], json.loads(argv[2])
    if mode == "poll":
        poll(args)
    else:
        print(json.dumps({"first": first, "warm": warm, "reload": reload}[mode](args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
