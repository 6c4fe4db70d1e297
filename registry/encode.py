"""Records to file mappings: a new version's document, its messages, the time it is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from registry.errors import (
    ValidationError,
)
from registry.models import Message, PromptVersion

if TYPE_CHECKING:
    pass


def now_rfc3339() -> str:
    """The current UTC time as ``2026-11-21T09:30:00Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_document(v: PromptVersion) -> dict[str, Any]:
    """The file mapping of a new (untested) version, in the documented key order."""
    doc: dict[str, Any] = {
        "prompt_id": v.prompt_id,
        "version": v.version,
        "description": v.description,
        "author": v.author,
        "created_at": v.created_at,
    }
    if v.messages is not None:
        doc["messages"] = [{"role": m.role, "content": m.content} for m in v.messages]
    else:
        doc["content"] = v.content
    if v.variables is not None:
        doc["variables"] = list(v.variables)
    if v.model is not None:
        doc["model"] = dict(v.model)
    doc["tested"] = False
    doc["evaluation_score"] = None
    return doc


def messages_of(raw: object) -> tuple[Message, ...] | None:
    """Messages as records: accepts Message objects or {role, content} mappings."""
    if raw is None:
        return None
    if not isinstance(raw, list | tuple):
        raise ValidationError("messages must be a list of {role, content}")
    out = []
    for i, m in enumerate(raw):
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, dict) and set(m) == {"role", "content"}:
            out.append(Message(m["role"], m["content"]))
        else:
            raise ValidationError(f"messages[{i}] must be a Message or a {{role, content}} mapping")
    return tuple(out)
