"""The bundle document: the versions active in one environment at one commit, as bytes.

``schemas/bundle.schema.json`` is the contract. The bytes are RFC 8785 canonical JSON (keys
sorted, no whitespace, numbers as ECMAScript writes them), so one commit always gives the
same bytes. ``sha256`` is the hex SHA-256 of the document without that member; it sorts after
every other top-level key, so it is the last member and the hashed bytes are the file with
its final ``,"sha256":"<hex>"`` cut out. A reader in any language checks a bundle with a
byte search and a hash, without a canonical-JSON library; this one does the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.errors import ValidationError
from registry.models import Evaluation, Message, PromptVersion
from registry.paths import version_path

FORMAT = "promptreg-bundle/1"
_TAIL = re.compile(rb',"sha256":"([0-9a-f]{64})"\}\Z')


@dataclass(frozen=True)
class Bundle:
    """A verified bundle: where it comes from and its versions by prompt id."""

    environment: str
    commit: str
    committed_at: str
    sha256: str
    prompts: Mapping[str, PromptVersion]


def entry(v: PromptVersion) -> dict[str, Any]:
    """The bundle's record of one version (every field of its file but prompt_id, which is
    the key, plus the fingerprint)."""
    return {
        "version": v.version,
        "description": v.description,
        "author": v.author,
        "created_at": v.created_at,
        "content": v.content,
        "messages": None
        if v.messages is None
        else [{"role": m.role, "content": m.content} for m in v.messages],
        "variables": None if v.variables is None else list(v.variables),
        "model": None if v.model is None else _plain(v.model),
        "tested": v.is_tested,
        "evaluation_score": v.evaluation_score,
        "evaluation": None if v.evaluation is None else v.evaluation.to_dict(),
        "fingerprint": v.fingerprint,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(x) for k, x in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(x) for x in value]
    return value


def encode(
    environment: str, commit: str, committed_at: str, versions: Sequence[PromptVersion]
) -> bytes:
    """The canonical bytes of the bundle of ``versions``; raises ValidationError naming the
    version file whose model holds a number RFC 8785 cannot write (NaN, infinity, an integer
    beyond 2**53)."""
    import rfc8785

    entries = {v.prompt_id: entry(v) for v in sorted(versions, key=lambda v: v.prompt_id)}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "environment": environment,
        "commit": commit,
        "committed_at": committed_at,
        "prompts": entries,
    }
    try:
        body = rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError as exc:
        raise _unrepresentable(versions, exc) from None
    digest = hashlib.sha256(body).hexdigest()
    doc["sha256"] = digest
    return rfc8785.dumps(doc)


def _unrepresentable(versions: Sequence[PromptVersion], exc: Exception) -> ValidationError:
    import rfc8785

    for v in versions:
        try:
            rfc8785.dumps(entry(v))
        except rfc8785.CanonicalizationError:
            return ValidationError(
                f"{version_path(v.prompt_id, v.version)}: the bundle cannot hold it: {exc};"
                " write such a model value as a string"
            )
    return ValidationError(f"the bundle cannot be written: {exc}")


def digest_of(data: bytes) -> str | None:
    """The sha256 the bundle ``data`` states, when it matches its bytes; None otherwise."""
    m = _TAIL.search(data)
    if m is None:
        return None
    stated = m[1].decode("ascii")
    real = hashlib.sha256(data[: m.start()] + b"}").hexdigest()
    return stated if real == stated else None


def decode(data: bytes, where: str) -> Bundle:
    """The bundle in ``data`` (read from ``where``), verified: its sha256, JSON and schema;
    raises ValidationError naming ``where`` and what is wrong."""
    if _TAIL.search(data) is None:
        raise ValidationError(
            f"{where}: not a complete promptreg bundle: it does not end with its sha256 member"
            " (truncated, or not written by `promptreg bundle`)"
        )
    digest = digest_of(data)
    if digest is None:
        raise ValidationError(
            f"{where}: sha256 mismatch: the file is damaged or was changed after"
            " `promptreg bundle` wrote it; build it again"
        )
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise ValidationError(f"{where}: not valid JSON: {exc}") from None
    _check_shape(doc, where)
    prompts = {pid: _version(pid, e) for pid, e in doc["prompts"].items()}
    return Bundle(doc["environment"], doc["commit"], doc["committed_at"], digest, prompts)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_shape(doc: Any, where: str) -> None:
    from registry.schema.shapes import is_valid_kind

    if is_valid_kind("bundle", doc):
        return
    from registry.schema.validate import runtime_schema_errors

    found = runtime_schema_errors("bundle", doc)
    shown = "; ".join(message for _, message in found[:5])
    more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
    raise ValidationError(f"{where}: not a valid promptreg bundle: {shown}{more}")


def _version(prompt_id: str, e: Mapping[str, Any]) -> PromptVersion:
    messages = e["messages"]
    evaluation = e["evaluation"]
    score = e["evaluation_score"]
    return PromptVersion(
        prompt_id=prompt_id,
        version=e["version"],
        content=e["content"],
        description=e["description"],
        author=e["author"],
        created_at=e["created_at"],
        is_active=True,
        tested=e["tested"],
        # Canonical JSON writes 1.0 as 1; the file had a float.
        evaluation_score=None if score is None else float(score),
        messages=None
        if messages is None
        else tuple(Message(m["role"], m["content"]) for m in messages),
        variables=None if e["variables"] is None else tuple(e["variables"]),
        model=e["model"],
        evaluation=None
        if evaluation is None
        else Evaluation(
            suite=evaluation["suite"],
            threshold=float(evaluation["threshold"]),
            fingerprint=evaluation["fingerprint"],
            evaluated_at=evaluation["evaluated_at"],
            evaluated_by=evaluation["evaluated_by"],
        ),
    )
