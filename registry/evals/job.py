"""The evaluation child's job: the version, the suite and the run's settings as JSON, the one
thing the parent writes to the child's stdin (nothing is pickled), and its decoding there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from registry.evals.suite import Assertion, Case, Endpoint, Suite
from registry.models import Message, PromptVersion


def _endpoint_job(endpoint: Endpoint | None) -> dict[str, Any] | None:
    return None if endpoint is None else {**endpoint.to_dict(), "line": endpoint.line}


def _endpoint_from_job(raw: dict[str, Any] | None) -> Endpoint | None:
    return None if raw is None else Endpoint(**raw)


def encode_job(
    version: PromptVersion,
    suite: Suite,
    root: Path,
    trusted: tuple[str, ...],
    jobs: int = 1,
    cache: bool = True,
) -> bytes:
    messages = None
    if version.messages is not None:
        messages = [{"role": m.role, "content": m.content} for m in version.messages]
    cases = [
        {
            "name": c.name,
            "vars": dict(c.vars),
            "line": c.line,
            "assertions": [
                {"type": a.type, "value": a.value, "weight": a.weight, "line": a.line}
                for a in c.assertions
            ],
        }
        for c in suite.cases
    ]
    doc = {
        "version": {
            "prompt_id": version.prompt_id,
            "version": version.version,
            "content": version.content,
            "messages": messages,
            "model": None if version.model is None else dict(version.model),
        },
        "suite": {
            "path": suite.path,
            "prompt_id": suite.prompt_id,
            "threshold": suite.threshold,
            "target": suite.target,
            "target_line": suite.target_line,
            "timeout": suite.timeout,
            "model_target": _endpoint_job(suite.model_target),
            "judge": _endpoint_job(suite.judge),
            "cases": cases,
        },
        "root": str(root.resolve()),
        "trusted": list(trusted),
        "cache": cache,
        "jobs": jobs,
    }
    return json.dumps(doc).encode("utf-8")


def decode_job(
    doc: dict[str, Any],
) -> tuple[PromptVersion, Suite, Path, tuple[str, ...], int, bool]:
    from types import MappingProxyType

    v = doc["version"]
    messages = v["messages"]
    version = PromptVersion(
        v["prompt_id"],
        v["version"],
        content=v["content"],
        messages=None if messages is None else tuple(Message(**m) for m in messages),
        model=v["model"],
    )
    s = doc["suite"]
    cases = tuple(
        Case(
            c["name"],
            MappingProxyType(c["vars"]),
            tuple(Assertion(**a) for a in c["assertions"]),
            c["line"],
        )
        for c in s["cases"]
    )
    suite = Suite(
        s["path"], s["prompt_id"], s["threshold"], s["target"], cases, s["target_line"],
        timeout=s["timeout"], model_target=_endpoint_from_job(s["model_target"]),
        judge=_endpoint_from_job(s["judge"]),
    )  # fmt: skip
    return (
        version, suite, Path(doc["root"]), tuple(doc["trusted"]), int(doc["jobs"]),
        bool(doc["cache"]),
    )  # fmt: skip
