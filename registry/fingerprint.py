"""The evaluation fingerprint: what binds ``tested: true`` to one prompt's exact content.

The current format is ``sha256-jcs:`` followed by the lowercase hex SHA-256 of the UTF-8
bytes of the RFC 8785 (JSON Canonicalization Scheme) serialisation of::

    {"prompt_id": ..., "content": ..., "messages": [{"role", "content"}, ...], "model": ...}

with ``null`` for whichever of content, messages and model is absent. RFC 8785 sorts keys
by their UTF-16 code units, writes strings with minimal escaping and numbers as ECMAScript
does (``1.0`` is ``1``), so any language with a JCS library recomputes it.

The legacy format, ``sha256:`` over Python's ``json.dumps(..., sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` of the same mapping without ``prompt_id``, is
still read (a record that matches it counts), so registries evaluated before the change
keep their tested versions; ``check`` warns (``fingerprint-outdated``) until ``promptreg
eval`` rewrites it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from registry.errors import ValidationError

PREFIX = "sha256-jcs:"
LEGACY_PREFIX = "sha256:"


class _Message(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...


def _messages(messages: Sequence[_Message] | None) -> list[dict[str, str]] | None:
    if messages is None:
        return None
    return [{"role": m.role, "content": m.content} for m in messages]


def fingerprint(
    prompt_id: str,
    content: str | None,
    messages: Sequence[_Message] | None,
    model: Mapping[str, Any] | None,
) -> str:
    """``sha256-jcs:<hex>`` of prompt_id, content / messages and model (see the module doc).

    Raises ValidationError when the model holds a number that RFC 8785 cannot represent
    (NaN, infinity, or an integer beyond +-(2**53 - 1)): write such a value as a string.
    """
    import rfc8785  # ~2 ms, and only evaluation and the tested check need it

    doc = {
        "prompt_id": prompt_id,
        "content": content,
        "messages": _messages(messages),
        "model": dict(model) if model is not None else None,
    }
    try:
        data = rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError as exc:
        raise ValidationError(
            f"{prompt_id}: cannot fingerprint the version: {exc} (RFC 8785 represents numbers"
            " as IEEE doubles); write that model value as a string"
        ) from None
    return PREFIX + hashlib.sha256(data).hexdigest()


def legacy_fingerprint(
    content: str | None,
    messages: Sequence[_Message] | None,
    model: Mapping[str, Any] | None,
) -> str:
    """The ``sha256:`` format written before ``sha256-jcs:`` (no prompt_id, Python's JSON)."""
    doc = {
        "content": content,
        "messages": _messages(messages),
        "model": dict(model) if model is not None else None,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return LEGACY_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_legacy(recorded: str) -> bool:
    """Whether a recorded fingerprint is in the legacy ``sha256:`` format."""
    return recorded.startswith(LEGACY_PREFIX)


def matches(
    recorded: str,
    prompt_id: str,
    content: str | None,
    messages: Sequence[_Message] | None,
    model: Mapping[str, Any] | None,
) -> bool:
    """Whether ``recorded`` is the fingerprint of this prompt's content, in either format.

    A current-format record names its prompt, so one copied to another prompt with the same
    content does not match. A version that cannot be fingerprinted matches nothing.
    """
    if is_legacy(recorded):
        try:
            return recorded == legacy_fingerprint(content, messages, model)
        except ValueError:  # NaN in the model: json.dumps writes it, the schema refuses it
            return False
    try:
        return recorded == fingerprint(prompt_id, content, messages, model)
    except ValidationError:
        return False
