"""Where promptreg's JSON Schemas live: their file names, the modeline that points a file at its
schema, and the copies a registry keeps in ``schemas/`` for editors.

This is the one place that knows the schema file names. A modeline is a path relative to the
file it heads (``../../schemas/prompt-version.schema.json`` for a version file), so an editor
with the YAML language server validates offline, against the registry's own copies.
"""

from __future__ import annotations

import json
import posixpath
import stat
from pathlib import Path

from registry.errors import RegistryError

KINDS = ("prompt-version", "deployment", "eval-suite", "settings")
# Documents promptreg writes rather than files of a registry: no modeline, no editor glob and
# no copy in a registry's schemas/ folder (a bundle is read by programs, not edited).
DOCUMENT_KINDS = ("bundle",)
SCHEMAS_DIR = "schemas"
# The schemas' ``$id``: a stable name for each schema, not an address anything serves.
SCHEMA_ID_BASE = "https://promptreg.dev/schemas/"
# The files of a registry each schema describes, as editors' glob patterns.
FILE_GLOBS: dict[str, str] = {
    "prompt-version": "prompts/*/*.yaml",
    "deployment": "deployments/*/*.yaml",
    "eval-suite": "evals/*.yaml",
    "settings": "promptreg.yaml",
}
REFRESH_HINT = "refresh the copies with `promptreg init --update-schemas`"

# The wheel ships the top-level schemas/ folder as this package (package-dir in pyproject);
# a source tree, or an editable install made before that mapping, reads <repo>/schemas.
_RESOURCE_PACKAGE = "registry.schema_files"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "schema_files"  # registry/schema_files
_SOURCE_DIR = _PACKAGE_DIR.parent.parent / SCHEMAS_DIR


def schema_filename(kind: str) -> str:
    """``<kind>.schema.json``; raises ValueError for a kind that is not one of KINDS."""
    if kind not in KINDS and kind not in DOCUMENT_KINDS:
        known = ", ".join((*KINDS, *DOCUMENT_KINDS))
        raise ValueError(f"unknown schema kind {kind!r}: use one of {known}")
    return f"{kind}.schema.json"


def schema_id(kind: str) -> str:
    """The ``$id`` of the schema of ``kind``."""
    return SCHEMA_ID_BASE + schema_filename(kind)


def schema_copy_path(kind: str) -> str:
    """Where a registry keeps its copy of the schema, relative to the registry root."""
    return f"{SCHEMAS_DIR}/{schema_filename(kind)}"


def modeline_target(kind: str, rel_path: str) -> str:
    """The schema path a modeline in the registry file ``rel_path`` names: relative to the
    file's folder, as the YAML language server resolves it."""
    folder = posixpath.dirname(rel_path) or "."
    return posixpath.relpath(schema_copy_path(kind), folder)


def installed_schema_text(kind: str) -> str:
    """The schema of ``kind`` as the installed promptreg ships it."""
    name = schema_filename(kind)
    # The runtime reads schemas on its first load: plain files first, so importing
    # importlib.resources (tens of milliseconds) is left to installs from a zip.
    for folder in (_PACKAGE_DIR, _SOURCE_DIR):
        try:
            return (folder / name).read_text(encoding="utf-8")
        except OSError:
            continue
    from importlib import resources

    return resources.files(_RESOURCE_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def outdated_copies(root: Path) -> list[tuple[str, str]]:
    """The registry's schema copies that differ from the installed ones, as (path, why).

    A registry without a ``schemas/`` folder has no copies to keep fresh and gets [], unless
    its files name schemas in that folder (the modelines promptreg writes), when editors
    would fail to load them. Copies are compared as JSON, so line endings and indentation do
    not count.
    """
    if not (root / SCHEMAS_DIR).is_dir():
        if _names_local_schemas(root):
            return [(SCHEMAS_DIR + "/", "is missing, but the registry's modelines point at it")]
        return []
    out: list[tuple[str, str]] = []
    for kind in KINDS:
        rel = schema_copy_path(kind)
        state = _copy_state(root, kind)
        if state == "missing":
            out.append((rel, "is missing; modelines and editor settings point at it"))
        elif state == "different":
            out.append((rel, "differs from the schema of the installed promptreg"))
    return out


def _names_local_schemas(root: Path) -> bool:
    """Whether the settings file or a first version file starts with a modeline naming the
    registry's own schemas/ (a look at two files at most, not a scan)."""
    candidates = [root / "promptreg.yaml"]
    try:
        prompt_dir = next(p for p in sorted((root / "prompts").iterdir()) if p.is_dir())
        candidates.append(next(p for p in sorted(prompt_dir.iterdir()) if p.suffix == ".yaml"))
    except (OSError, StopIteration):
        pass
    for path in candidates:
        try:
            # Only a regular file, never through a link: a FIFO would block the read.
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
            with path.open("rb") as f:
                first = f.readline(512)
        except OSError:
            continue
        local = f"{SCHEMAS_DIR}/".encode() in first and b"://" not in first
        if b"yaml-language-server:" in first and local:
            return True
    return False


def write_copies(root: Path, *, update: bool) -> list[tuple[str, str]]:
    """Create the missing schema copies (and with ``update`` refresh the differing ones);
    return (path, what happened) for each copy that was written or left different."""
    out: list[tuple[str, str]] = []
    for kind in KINDS:
        rel = schema_copy_path(kind)
        state = _copy_state(root, kind)
        if state == "missing" or (state == "different" and update):
            _write_copy(root, rel, installed_schema_text(kind))
            out.append((rel, "created" if state == "missing" else "updated"))
        elif state == "different":
            out.append((rel, "kept"))
    return out


def _write_copy(root: Path, rel: str, text: str) -> None:
    if (root / rel).is_dir():
        raise RegistryError(f"{rel} is a folder; move it away so the schema can be copied")
    from registry.fsio import atomic_write

    try:
        atomic_write(root / rel, text.encode("utf-8"))
    except OSError as e:
        raise RegistryError(f"{rel}: cannot write the schema copy: {e.strerror or e}") from e


def _copy_state(root: Path, kind: str) -> str:
    """``missing``, ``same`` or ``different``: the registry's copy against the installed one."""
    path = root / schema_copy_path(kind)
    if not path.exists():
        return "missing"
    if not path.is_file():
        return "different"
    try:
        copy = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return "different"
    return "same" if copy == json.loads(installed_schema_text(kind)) else "different"
