"""Where files live in a registry, built only from validated identifiers."""

from __future__ import annotations

import re
from functools import lru_cache

from registry.ids import (
    ID_MAX_LENGTH,
    ID_PATTERN,
    SEMVER_PATTERN,
    VERSION_MAX_LENGTH,
    is_valid_id,
    is_valid_version,
    validate_environment,
    validate_prompt_id,
    validate_version,
)

PROMPTS = "prompts"
DEPLOYMENTS = "deployments"
EVALS = "evals"
SETTINGS = "promptreg.yaml"
MANAGED_DIRS = (PROMPTS, DEPLOYMENTS, EVALS)

_YAML_NAME = re.compile(r"(?P<stem>.+)\.yaml")
# The common cases in one match (the general rules below give the same answers): a version
# file prompts/<id>/<semver>.yaml and a pointer file deployments/<id>/<id>.yaml.
_COMMON = re.compile(
    rf"(?:prompts/({ID_PATTERN})/({SEMVER_PATTERN})|deployments/({ID_PATTERN})/({ID_PATTERN}))"
    r"\.yaml",
    re.ASCII,
)


def version_path(prompt_id: str, version: str) -> str:
    """``prompts/<prompt_id>/<version>.yaml`` after validating both parts."""
    return f"{PROMPTS}/{validate_prompt_id(prompt_id)}/{validate_version(version)}.yaml"


def pointer_path(environment: str, prompt_id: str) -> str:
    """``deployments/<environment>/<prompt_id>.yaml`` after validating both parts."""
    return f"{DEPLOYMENTS}/{validate_environment(environment)}/{validate_prompt_id(prompt_id)}.yaml"


def suite_path(prompt_id: str) -> str:
    """The default evaluation suite ``evals/<prompt_id>.yaml``."""
    return f"{EVALS}/{validate_prompt_id(prompt_id)}.yaml"


@lru_cache(maxsize=65536)
def classify(path: str) -> tuple[str, tuple[str, ...]] | None:
    """What a repo-relative path is: ("version", (pid, ver)), ("pointer", (env, pid)),
    ("suite", (pid,)), ("settings", ()), ("unexpected", ()) under a managed folder, or None
    for files promptreg does not manage. Parts are only returned when they are valid."""
    m = _COMMON.fullmatch(path)
    if m is not None:
        pid, ver, env, name = m.groups()
        if pid is not None:
            if len(pid) <= ID_MAX_LENGTH and len(ver) <= VERSION_MAX_LENGTH:
                return ("version", (pid, ver))
        elif len(env) <= ID_MAX_LENGTH and len(name) <= ID_MAX_LENGTH:
            return ("pointer", (env, name))
    if path == SETTINGS:
        return ("settings", ())
    parts = path.split("/")
    if parts[0] not in MANAGED_DIRS or len(parts) < 2:
        return None
    if parts[-1].startswith("."):
        return None  # .gitkeep and editor files are not registry files
    if parts[0] == EVALS and not (len(parts) == 2 and parts[-1].endswith((".yaml", ".yml"))):
        return None  # hooks, fixtures and notes of the suites; only evals/*.yaml are suites
    n = _YAML_NAME.fullmatch(parts[-1])
    stem = n.group("stem") if n else None
    if parts[0] == PROMPTS and len(parts) == 3 and stem is not None:
        if is_valid_id(parts[1]) and is_valid_version(stem):
            return ("version", (parts[1], stem))
    elif parts[0] == DEPLOYMENTS and len(parts) == 3 and stem is not None:
        if is_valid_id(parts[1]) and is_valid_id(stem):
            return ("pointer", (parts[1], stem))
    elif parts[0] == EVALS and len(parts) == 2 and stem is not None and is_valid_id(stem):
        return ("suite", (stem,))
    return ("unexpected", ())


def expected_layout(path: str) -> str:
    """Why an unexpected path is wrong and where files belong."""
    parts = path.split("/")
    top = parts[0]
    m = _YAML_NAME.fullmatch(parts[-1])
    stem = m.group("stem") if m else None
    if top in (PROMPTS, DEPLOYMENTS) and len(parts) == 3 and stem is not None:
        folder_kind = "prompt id" if top == PROMPTS else "environment name"
        if not is_valid_id(parts[1]):
            return (
                f"the folder name {parts[1]!r} is not a valid {folder_kind} (lowercase letters"
                " and digits separated by '_' or '-')"
            )
        if top == PROMPTS:
            return (
                f"the file name {stem!r} is not a SemVer version (MAJOR.MINOR.PATCH[-pre], no"
                " 'v', no leading zeros, no '+build')"
            )
        return f"the file name {stem!r} is not a valid prompt id"
    if top == EVALS and len(parts) == 2 and stem is not None:
        return f"the file name {stem!r} is not a valid prompt id"
    if top == PROMPTS:
        return "version files are prompts/<prompt_id>/<version>.yaml (e.g. prompts/my_prompt/1.0.0.yaml)"
    if top == DEPLOYMENTS:
        return "pointers are deployments/<environment>/<prompt_id>.yaml"
    return "suites are evals/<prompt_id>.yaml"
