"""Identifier grammar (prompt ids, environments) and SemVer 2.0.0 parsing, ordering and bumps."""

from __future__ import annotations

import re
from functools import lru_cache, total_ordering
from typing import Literal

from registry.errors import InvalidIdentifierError

ID_MAX_LENGTH = 64
ID_PATTERN = r"[a-z0-9]+(?:[_-][a-z0-9]+)*"
_ID_RE = re.compile(ID_PATTERN, re.ASCII)
# SemVer 2.0.0 core plus optional pre-release; build metadata is not allowed.
_NUM = r"0|[1-9][0-9]*"
_PRE_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
# The same text without named groups, for patterns that embed it (registry/paths.py).
SEMVER_PATTERN = rf"(?:{_NUM})\.(?:{_NUM})\.(?:{_NUM})(?:-{_PRE_IDENT}(?:\.{_PRE_IDENT})*)?"
_SEMVER_RE = re.compile(
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_PRE_IDENT}(?:\.{_PRE_IDENT})*))?",
    re.ASCII,
)
VERSION_MAX_LENGTH = 128

Bump = Literal["major", "minor", "patch"]


def is_valid_id(value: object) -> bool:
    """True when ``value`` is a valid prompt id or environment name."""
    return isinstance(value, str) and _valid_id_text(value)


# A registry check asks about the same few thousand ids tens of thousands of times.
@lru_cache(maxsize=16384)
def _valid_id_text(value: str) -> bool:
    return len(value) <= ID_MAX_LENGTH and _ID_RE.fullmatch(value) is not None


def _check_id(value: object, kind: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifierError(f"{kind} must be a string, got {type(value).__name__}")
    if not is_valid_id(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidIdentifierError(
            f"invalid {kind} {shown!r}: use lowercase letters and digits separated by single"
            f" '_' or '-', at most {ID_MAX_LENGTH} characters (e.g. hr_query_system_prompt)"
        )
    return value


def validate_prompt_id(value: object) -> str:
    """Return ``value`` if it is a valid prompt id, else raise InvalidIdentifierError."""
    return _check_id(value, "prompt id")


def validate_environment(value: object) -> str:
    """Return ``value`` if it is a valid environment name, else raise InvalidIdentifierError."""
    return _check_id(value, "environment name")


@total_ordering
class SemVer:
    """A parsed SemVer 2.0.0 version (no build metadata) ordered by SemVer precedence."""

    __slots__ = ("_key", "major", "minor", "patch", "pre")

    def __init__(self, major: int, minor: int, patch: int, pre: tuple[str, ...] = ()) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.pre = pre
        # A release sorts after all of its pre-releases; numeric identifiers sort before
        # alphanumeric ones and compare numerically.
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre)
        self._key = (major, minor, patch, 1 if not pre else 0, pre_key)

    @classmethod
    def parse(cls, text: object) -> SemVer:
        """Parse ``MAJOR.MINOR.PATCH[-PRE]``; raise InvalidIdentifierError otherwise."""
        if not isinstance(text, str):
            raise InvalidIdentifierError(
                f'version must be a quoted string like "1.0.0", got {type(text).__name__} {text!r}'
            )
        m = _SEMVER_RE.fullmatch(text)
        if m is None or len(text) > 128:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise InvalidIdentifierError(
                f"invalid version {shown!r}: use SemVer MAJOR.MINOR.PATCH with an optional"
                " pre-release (1.2.0, 1.2.0-rc.1); no 'v' prefix, no leading zeros, no '+build'"
            )
        pre = tuple(m.group("pre").split(".")) if m.group("pre") else ()
        return cls(int(m.group("major")), int(m.group("minor")), int(m.group("patch")), pre)

    def bump(self, part: Bump) -> SemVer:
        """The next release for ``part``, as npm's ``semver.inc`` does: a pre-release of a
        release of that part becomes the release (major ``2.0.0-rc.1`` -> ``2.0.0``, minor
        ``1.2.0-rc.1`` -> ``1.2.0``, patch ``1.2.3-rc.1`` -> ``1.2.3``); otherwise the part
        increments and the lower ones reset."""
        if part == "major":
            if self.pre and self.minor == 0 and self.patch == 0:
                return SemVer(self.major, 0, 0)
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            if self.pre and self.patch == 0:
                return SemVer(self.major, self.minor, 0)
            return SemVer(self.major, self.minor + 1, 0)
        if part == "patch":
            if self.pre:
                return SemVer(self.major, self.minor, self.patch)
            return SemVer(self.major, self.minor, self.patch + 1)
        raise InvalidIdentifierError(f"unknown bump {part!r}: use major, minor or patch")

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(self.pre)}" if self.pre else core

    def __repr__(self) -> str:
        return f"SemVer({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key == other._key

    def __lt__(self, other: SemVer) -> bool:
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)


def validate_version(value: object) -> str:
    """Return ``value`` if it is a valid SemVer version string, else raise."""
    if isinstance(value, str) and _valid_version_text(value):
        return value
    SemVer.parse(value)  # raises, naming what is wrong
    raise AssertionError(value)  # pragma: no cover - parse accepted what it refused above


@lru_cache(maxsize=16384)
def _valid_version_text(value: str) -> bool:
    return len(value) <= VERSION_MAX_LENGTH and _SEMVER_RE.fullmatch(value) is not None


def is_valid_version(value: object) -> bool:
    """True when ``value`` is a valid version string."""
    return isinstance(value, str) and _valid_version_text(value)


@lru_cache(maxsize=16384)
def version_key(version: str) -> SemVer:
    """Sort key giving SemVer precedence order for version strings (the parsed version, shared:
    most registries reuse a few dozen version strings across all their prompts)."""
    return SemVer.parse(version)
