"""Deployment history, pure: events from pointer commits, and what was active at a time; the
git log around it is ``gitio/log.py``."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from registry.errors import InvalidTimeError as InvalidTimeError  # re-exported
from registry.errors import RegistryError, ShallowCloneError
from registry.gitio.log import PointerCommit, PointerFields, pointer_log, pointer_log_everywhere
from registry.ids import validate_environment, validate_prompt_id
from registry.models import PromptDeployment
from registry.paths import pointer_path

REMOVE = "remove"  # the action of a tombstone, and of an event that deletes the pointer

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


# -- pure logic ------------------------------------------------------------------------------


def parse_rfc3339(text: str) -> datetime:
    """An aware datetime from an RFC 3339 timestamp with a zone ("Z" or ±hh:mm)."""
    m = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise InvalidTimeError(
            f"invalid time {text!r}: use RFC 3339 with a zone, e.g. 2026-11-21T09:30:00Z"
            " or 2026-11-21T10:30:00+01:00"
        )
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if m.group(9):
        if int(m.group(10)) > 23 or int(m.group(11)) > 59:
            raise InvalidTimeError(f"invalid time {text!r}: the zone offset is out of range")
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        offset = -offset if m.group(9) == "-" else offset
    try:
        return datetime(year, month, day, hour, minute, second, micro, timezone(offset))
    except ValueError as exc:
        raise InvalidTimeError(f"invalid time {text!r}: {exc}") from None


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(
    prompt_id: str,
    environment: str,
    c: PointerCommit,
    at: int,
    version: str | None,
    previous: str | None,
) -> PromptDeployment:
    fields = c.pointer or PointerFields(version)
    return PromptDeployment(
        prompt_id=prompt_id,
        version=version,
        environment=environment,
        deployed_at=_utc(at),
        # The pointer says who deployed; a deletion has no pointer, so its author is the actor.
        deployed_by=fields.deployed_by or c.author,
        previous_version=previous,
        action=REMOVE if version is None else fields.action or "deploy",
        reason=fields.reason,
        commit=c.commit,
        committed_by=c.author,
    )


def events_from_commits(
    prompt_id: str, environment: str, commits: Sequence[PointerCommit]
) -> list[PromptDeployment]:
    """The deployment events of one pointer from its commits, oldest first.

    An event is a commit where the pointer's version changes (creation and deletion
    included; a tombstone is a removal whose who and why come from the file). Times are made monotonic along the chain because commit dates come from
    client clocks. A commit whose pointer cannot be read is skipped and changes nothing.
    """
    events: list[PromptDeployment] = []
    current: str | None = None
    at: int | None = None
    for c in commits:
        at = c.committed_at if at is None else max(at, c.committed_at)
        if c.error is not None:
            continue
        if c.pointer is None:
            version = None
        else:
            version = c.pointer.version
            if version is None and not c.pointer.is_tombstone:
                continue  # a pointer without a usable version is as unreadable as bad YAML
        if version != current:
            events.append(_event(prompt_id, environment, c, at, version, current))
            current = version
    return events


def active_at(events: Sequence[PromptDeployment], when: datetime) -> PromptDeployment | None:
    """The last event at or before ``when`` (aware); None before the first or after a deletion."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidTimeError(f"time {when.isoformat()} has no zone; give an aware datetime")
    times = [parse_rfc3339(e.deployed_at) for e in events]
    index = bisect.bisect_right(times, when)
    if index == 0:
        return None
    event = events[index - 1]
    return event if event.version is not None else None


def active_since(events: Sequence[PromptDeployment], version: str) -> datetime | None:
    """When the last event put ``version`` in place, if it still is (None: it is not)."""
    if not events or events[-1].version != version:
        return None
    return parse_rfc3339(events[-1].deployed_at)


class Evidence:
    """What the first-parent history of one commit shows, as evidence for promotion: whether
    an environment ran a version, and since when it runs it; each pointer's history is read
    once, when first asked. Only git's history counts: a pointer's ``previous_version`` is
    text anyone can write. ``now`` is the clock ``min_soak`` is measured against."""

    def __init__(self, root: Path, rev: str, now: datetime | None = None) -> None:
        self.root = Path(root)
        self.rev = rev
        self.now = now or datetime.now(UTC)
        self._events: dict[tuple[str, str], list[PromptDeployment]] = {}

    def events(self, environment: str, prompt_id: str) -> list[PromptDeployment]:
        """The pointer's events at ``rev``; none when its history cannot be read (a shallow
        clone is refused instead, as its history would be short)."""
        key = (environment, prompt_id)
        if key not in self._events:
            try:
                found = history(self.root, prompt_id, environment, (environment,), rev=self.rev)
            except ShallowCloneError:
                raise
            except RegistryError:
                found = []
            self._events[key] = found
        return self._events[key]

    def ran(self, environment: str, prompt_id: str, version: str) -> bool:
        """Whether ``environment`` ever ran ``version``."""
        return any(e.version == version for e in self.events(environment, prompt_id))

    def since(self, environment: str, prompt_id: str, version: str) -> datetime | None:
        """Since when ``environment`` has run ``version`` (None: it does not run it)."""
        return active_since(self.events(environment, prompt_id), version)


def history(
    root: Path,
    prompt_id: str,
    environment: str | None,
    environments: Sequence[str],
    rev: str = "HEAD",
) -> list[PromptDeployment]:
    """Deployment events of ``prompt_id`` in ``environment`` (or every one of
    ``environments`` when None), oldest first, from one git log and one cat-file."""
    validate_prompt_id(prompt_id)
    envs = [environment] if environment is not None else list(dict.fromkeys(environments))
    paths = {env: pointer_path(validate_environment(env), prompt_id) for env in envs}
    if not paths:
        return []
    found, position = pointer_log(Path(root), rev, list(paths.values()), None)
    return merge_events(prompt_id, [(env, found[paths[env]]) for env in envs], position)


def history_everywhere(
    root: Path, prompt_id: str, configured: Sequence[str], rev: str = "HEAD"
) -> list[PromptDeployment]:
    """Deployment events of ``prompt_id`` in every environment: the ``configured`` ones, then
    any other whose folder held the pointer on the chain (a retired one), by name."""
    validate_prompt_id(prompt_id)
    configured = [validate_environment(env) for env in dict.fromkeys(configured)]
    found, position = pointer_log_everywhere(Path(root), rev, prompt_id, configured)
    retired = sorted(env for env, commits in found.items() if commits and env not in configured)
    envs = [*configured, *retired]
    return merge_events(prompt_id, [(env, found.get(env, [])) for env in envs], position)


def merge_events(
    prompt_id: str,
    commits: Sequence[tuple[str, Sequence[PointerCommit]]],
    position: Mapping[str, int],
) -> list[PromptDeployment]:
    """The events of each (environment, its pointer's commits) in one list, oldest first; at
    the same time, chain order first, then the given environment order."""
    merged = [
        (event, i)
        for i, (env, env_commits) in enumerate(commits)
        for event in events_from_commits(prompt_id, env, env_commits)
    ]
    merged.sort(key=lambda item: (item[0].deployed_at, position[item[0].commit or ""], item[1]))
    return [event for event, _ in merged]
