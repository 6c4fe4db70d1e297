"""``.vscode/settings.json``: map the registry's files to its schema copies for VS Code.

VS Code reads its settings as JSON with comments and trailing commas. promptreg merges its
``yaml.schemas`` entries only into a file that is plain JSON (so nothing the user wrote can be
lost in the rewrite); any other file is left untouched and the caller is told what to add.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.fsio import atomic_write
from registry.schema.files import FILE_GLOBS, KINDS, schema_copy_path

SETTINGS_PATH = ".vscode/settings.json"
SCHEMAS_KEY = "yaml.schemas"

_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


@dataclass(frozen=True)
class SettingsOutcome:
    """What became of the settings file: ``created``, ``merged``, ``unchanged`` or ``kept``
    (left as it was; ``hint`` says what to add by hand)."""

    action: str
    hint: str = ""


def yaml_schemas() -> dict[str, list[str]]:
    """The ``yaml.schemas`` mapping: each schema copy (relative to the workspace folder, which
    the YAML language server resolves) to the files it describes."""
    return {f"./{schema_copy_path(kind)}": [FILE_GLOBS[kind]] for kind in KINDS}


def write_settings(root: Path) -> SettingsOutcome:
    """Create ``.vscode/settings.json``, or add the missing ``yaml.schemas`` entries to it."""
    path = root / SETTINGS_PATH
    try:
        return _merge(path)
    except OSError as e:
        return SettingsOutcome("kept", _hint(f"it cannot be written ({e.strerror or e})"))


def _merge(path: Path) -> SettingsOutcome:
    if not path.exists() and not path.is_symlink():
        _write(path, {SCHEMAS_KEY: yaml_schemas()})
        return SettingsOutcome("created")
    text = _read(path)
    data = _strict_json(text) if text is not None and not path.is_symlink() else None
    if data is None:
        loose = _jsonc(text) if text is not None else None
        if isinstance(loose, dict) and not _missing(loose.get(SCHEMAS_KEY)):
            return SettingsOutcome("unchanged")
        return SettingsOutcome("kept", _hint(_why_kept(path, text)))
    current = data.get(SCHEMAS_KEY)
    if current is not None and not isinstance(current, dict):
        return SettingsOutcome("kept", _hint(f"its {SCHEMAS_KEY!r} is not a mapping"))
    missing = _missing(current)
    if not missing:
        return SettingsOutcome("unchanged")
    data[SCHEMAS_KEY] = {**(current or {}), **missing}
    _write(path, data)
    return SettingsOutcome("merged")


def _missing(current: object) -> dict[str, list[str]]:
    """The entries of ``yaml_schemas()`` that ``current`` lacks; an entry the user already has
    for the same schema file (``./`` or not) is theirs and stays as it is."""
    have = {str(k).removeprefix("./") for k in current} if isinstance(current, dict) else set()
    return {k: v for k, v in yaml_schemas().items() if k.removeprefix("./") not in have}


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _write(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def _strict_json(text: str) -> dict[str, Any] | None:
    """The settings when ``text`` is a plain JSON object without duplicate keys (which a
    rewrite would silently drop), else None."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(items)

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _jsonc(text: str) -> Any:
    """``text`` read as VS Code reads it (comments and trailing commas allowed), or None.
    Used only to see whether the entries are already there, never to rewrite the file."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            parts.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return None
            parts.append(" ")
            i = end + 2
        else:
            j = i
            while j < n and text[j] != '"' and not text.startswith(("//", "/*"), j):
                j += 1
            parts.append(text[i:j])
            i = j
    # Strings are whole parts, so a comma inside one is never taken for a trailing comma.
    cleaned = "".join(
        p if p.startswith('"') else _TRAILING_COMMA.sub(r"\1", p) for p in _merge_plain(parts)
    )
    try:
        return json.loads(cleaned)
    except ValueError:
        return None


def _merge_plain(parts: list[str]) -> list[str]:
    """Adjacent non-string parts joined, so a trailing comma and its bracket that a comment
    separated end up in one part."""
    out: list[str] = []
    for p in parts:
        if out and not p.startswith('"') and not out[-1].startswith('"'):
            out[-1] += p
        else:
            out.append(p)
    return out


def _why_kept(path: Path, text: str | None) -> str:
    if path.is_symlink():
        return "it is a symbolic link"
    if text is None:
        return "it cannot be read as UTF-8"
    return "it is not plain JSON (comments, trailing commas or duplicate keys), so promptreg cannot merge into it without losing what it holds"


def _hint(why: str) -> str:
    snippet = json.dumps({SCHEMAS_KEY: yaml_schemas()}, indent=2)
    body = "\n".join("  " + line for line in snippet.splitlines()[1:-1])
    return (
        f"{SETTINGS_PATH} left as it is: {why}. "
        f"For editor validation, add these settings to it:\n{body}"
    )
