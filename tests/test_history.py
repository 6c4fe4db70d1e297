from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from registry.errors import GitError, InvalidIdentifierError, RegistryError, ShallowCloneError
from registry.gitio import log as log_module
from registry.gitio.log import PointerCommit, PointerFields, pointer_commits, pointer_fields
from registry.history import (
    InvalidTimeError,
    active_at,
    events_from_commits,
    history,
    parse_rfc3339,
)
from registry.models import PromptDeployment
from tests.testing import commit_all, git, pointer_yaml, write

PID = "hr_query"
ENV = "production"
POINTER = f"deployments/{ENV}/{PID}.yaml"
DANA = "Dana Reyes <dana@example.com>"
SAM = "Sam Lee <sam@example.com>"
T0 = 1_795_000_000  # 2026-11-18T08:26:40Z


def _pc(n: int, at: int, data: dict[str, Any] | None, error: str | None = None) -> PointerCommit:
    fields = None if data is None else pointer_fields(data)
    return PointerCommit(f"{n:040x}", at, "+0000", "Test User <test@example.com>", fields, error)


def _ptr(version: str, action: str = "deploy", by: str = DANA, **extra: Any) -> dict[str, Any]:
    return {
        "prompt_id": PID,
        "environment": ENV,
        "version": version,
        "action": action,
        "deployed_by": by,
        **extra,
    }


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(seconds: int) -> str:
    """A git date for ``seconds``."""
    return f"@{seconds} +0100"


# -- events_from_commits ---------------------------------------------------------------------


def test_events_creation_noop_rollback_and_deletion() -> None:
    commits = [
        _pc(1, T0, _ptr("1.0.0", reason="first")),
        _pc(2, T0 + 10, _ptr("1.0.0", reason="only the reason changed")),
        _pc(3, T0 + 20, _ptr("1.1.0", by=SAM)),
        _pc(4, T0 + 30, _ptr("1.0.0", action="rollback", reason="bad answers")),
        _pc(5, T0 + 40, None),
    ]
    events = events_from_commits(PID, ENV, commits)
    assert [(e.version, e.previous_version, e.action) for e in events] == [
        ("1.0.0", None, "deploy"),
        ("1.1.0", "1.0.0", "deploy"),
        ("1.0.0", "1.1.0", "rollback"),
        (None, "1.0.0", "remove"),
    ]
    assert [e.commit for e in events] == [f"{n:040x}" for n in (1, 3, 4, 5)]
    assert events[0] == PromptDeployment(
        prompt_id=PID,
        version="1.0.0",
        environment=ENV,
        deployed_at=_iso(T0),
        deployed_by=DANA,
        previous_version=None,
        action="deploy",
        reason="first",
        commit=f"{1:040x}",
        committed_by="Test User <test@example.com>",
    )
    assert events[1].deployed_by == SAM and events[1].reason is None
    assert events[2].reason == "bad answers"
    # A deletion has no pointer to say who did it: the git author did.
    assert events[3].deployed_by == "Test User <test@example.com>"
    assert events[3].deployed_at == _iso(T0 + 40)


def test_events_recreated_after_deletion() -> None:
    commits = [
        _pc(1, T0, _ptr("1.0.0")),
        _pc(2, T0 + 1, None),
        _pc(3, T0 + 2, None),
        _pc(4, T0 + 3, _ptr("1.0.0")),
    ]
    events = events_from_commits(PID, ENV, commits)
    assert [(e.version, e.previous_version) for e in events] == [
        ("1.0.0", None),
        (None, "1.0.0"),
        ("1.0.0", None),
    ]


def test_events_times_are_monotonic() -> None:
    commits = [
        _pc(1, T0 + 100, _ptr("1.0.0")),
        _pc(2, T0 + 500, _ptr("1.0.0")),  # no event, but its time still counts
        _pc(3, T0 + 50, _ptr("1.1.0")),  # a client clock running behind
        _pc(4, T0 + 600, _ptr("1.2.0")),
    ]
    events = events_from_commits(PID, ENV, commits)
    assert [e.deployed_at for e in events] == [_iso(T0 + 100), _iso(T0 + 500), _iso(T0 + 600)]


def test_events_skip_unreadable_pointers() -> None:
    commits = [
        _pc(1, T0, _ptr("1.0.0")),
        _pc(2, T0 + 1, None, error="deployments/production/hr_query.yaml:3: YAML syntax error"),
        _pc(3, T0 + 2, _ptr("not-a-version")),
        _pc(4, T0 + 3, {"prompt_id": PID}),
        _pc(5, T0 + 4, _ptr("1.1.0")),
    ]
    events = events_from_commits(PID, ENV, commits)
    assert [(e.version, e.previous_version, e.commit) for e in events] == [
        ("1.0.0", None, f"{1:040x}"),
        ("1.1.0", "1.0.0", f"{5:040x}"),
    ]


def test_events_from_nothing() -> None:
    assert events_from_commits(PID, ENV, []) == []


# -- active_at and times ---------------------------------------------------------------------


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_active_at_before_at_between_and_after() -> None:
    events = events_from_commits(
        PID, ENV, [_pc(1, T0, _ptr("1.0.0")), _pc(2, T0 + 100, _ptr("1.1.0"))]
    )
    assert active_at(events, _at(T0 - 1)) is None
    assert active_at(events, _at(T0)) == events[0]
    assert active_at(events, _at(T0 + 99)) == events[0]
    assert active_at(events, _at(T0 + 100)) == events[1]
    assert active_at(events, _at(T0 + 10_000)) == events[1]
    # Other zones name the same instant.
    plus_two = _at(T0 + 100).astimezone(timezone(timedelta(hours=2)))
    assert active_at(events, plus_two) == events[1]
    assert active_at(events, _at(T0 + 100) - timedelta(microseconds=1)) == events[0]
    assert active_at([], _at(T0)) is None


def test_active_at_after_a_deletion_is_none() -> None:
    events = events_from_commits(PID, ENV, [_pc(1, T0, _ptr("1.0.0")), _pc(2, T0 + 10, None)])
    assert active_at(events, _at(T0 + 5)) == events[0]
    assert active_at(events, _at(T0 + 10)) is None


def test_active_at_refuses_naive_times() -> None:
    with pytest.raises(InvalidTimeError, match="no zone"):
        active_at([], datetime(2026, 11, 21, 9, 30))


def test_parse_rfc3339_accepts_zones_and_fractions() -> None:
    assert parse_rfc3339("2026-11-21T09:30:00Z") == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert parse_rfc3339("2026-11-21t10:30:00+01:00") == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert parse_rfc3339("2026-11-21 04:00:00-05:30") == datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    assert parse_rfc3339("2026-11-21T09:30:00.1234567z").microsecond == 123456


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21T09:30:00",  # no zone
        "2026-11-21",
        "2026-11-21T09:30Z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-21T24:00:00Z",
        "2026-11-21T09:30:00+0100",
        "2026-11-21T09:30:00+24:00",
        "2026-11-21T09:30:00+01:60",
        " 2026-11-21T09:30:00Z",
        "2026-11-21T09:30:00Z\n",
        "yesterday",
        "\uff12\uff10\uff12\uff16-11-21T09:30:00Z",  # fullwidth digits,
    ],
)
def test_parse_rfc3339_rejects(text: str) -> None:
    with pytest.raises(InvalidTimeError) as info:
        parse_rfc3339(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, RegistryError) and isinstance(info.value, ValueError)


# -- real repositories -----------------------------------------------------------------------


def _deploy(
    repo: Path,
    version: str,
    at: int,
    previous: str | None = None,
    action: str = "deploy",
    by: str = DANA,
    reason: str | None = None,
    env: str = ENV,
) -> str:
    text = pointer_yaml(PID, env, version, previous, action, by, reason)
    write(repo, f"deployments/{env}/{PID}.yaml", text)
    return commit_all(repo, f"deploy {version} to {env}", date=_date(at))


def _unrelated(repo: Path, at: int, name: str = "notes.txt") -> str:
    write(repo, name, f"{at}\n")
    return commit_all(repo, f"touch {name}", date=_date(at))


def test_history_deploy_unrelated_deploy_rollback(repo: Path) -> None:
    c1 = _deploy(repo, "1.0.0", T0, reason="first rollout")
    _unrelated(repo, T0 + 60)
    c3 = _deploy(repo, "1.1.0", T0 + 120, previous="1.0.0", by=SAM)
    c4 = _deploy(repo, "1.0.0", T0 + 180, previous="1.1.0", action="rollback", reason="regression")
    events = history(repo, PID, ENV, [ENV])
    assert [
        (e.version, e.previous_version, e.action, e.deployed_by, e.reason, e.commit) for e in events
    ] == [
        ("1.0.0", None, "deploy", DANA, "first rollout", c1),
        ("1.1.0", "1.0.0", "deploy", SAM, None, c3),
        ("1.0.0", "1.1.0", "rollback", DANA, "regression", c4),
    ]
    assert {e.committed_by for e in events} == {"Test User <test@example.com>"}
    assert [e.deployed_at for e in events] == [_iso(T0), _iso(T0 + 120), _iso(T0 + 180)]
    assert all(e.environment == ENV and e.prompt_id == PID for e in events)


def test_pointer_commits_carry_git_facts(repo: Path) -> None:
    c1 = _deploy(repo, "1.0.0", T0)
    (repo / POINTER).unlink()
    c2 = commit_all(repo, "undeploy", date=_date(T0 + 5))
    commits = pointer_commits(repo, PID, ENV)
    assert [(c.commit, c.committed_at, c.tz_offset, c.author) for c in commits] == [
        (c1, T0, "+0100", "Test User <test@example.com>"),
        (c2, T0 + 5, "+0100", "Test User <test@example.com>"),
    ]
    assert commits[0].pointer is not None and commits[0].pointer.version == "1.0.0"
    assert commits[1].pointer is None and commits[1].error is None


def test_history_skips_a_broken_pointer_and_reports_deletion(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    write(repo, POINTER, "version: [unclosed\n")
    broken = commit_all(repo, "broken", date=_date(T0 + 10))
    _deploy(repo, "1.0.0", T0 + 20)  # repaired to the same version: nothing happened
    (repo / POINTER).unlink()
    gone = commit_all(repo, "remove", date=_date(T0 + 30))
    commits = pointer_commits(repo, PID, ENV)
    assert commits[1].commit == broken and commits[1].error and commits[1].pointer is None
    assert POINTER in commits[1].error and broken[:12] in commits[1].error
    events = history(repo, PID, ENV, [ENV])
    assert [(e.version, e.action) for e in events] == [("1.0.0", "deploy"), (None, "remove")]
    assert events[1].commit == gone and events[1].previous_version == "1.0.0"


def test_history_of_a_no_ff_merge_is_the_merge_commit(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    git(repo, "checkout", "-q", "-b", "feature")
    branch_commit = _deploy(repo, "1.1.0", T0 + 100, previous="1.0.0")  # old date
    git(repo, "checkout", "-q", "main")
    _unrelated(repo, T0 + 200)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature", date=_date(T0 + 5000))
    merge = git(repo, "rev-parse", "HEAD").strip()
    events = history(repo, PID, ENV, [ENV])
    assert [e.version for e in events] == ["1.0.0", "1.1.0"]
    assert events[1].commit == merge != branch_commit
    assert events[1].deployed_at == _iso(T0 + 5000)
    assert active_at(events, _at(T0 + 300)) == events[0]


def test_history_of_a_fast_forward_merge_has_every_commit(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    git(repo, "checkout", "-q", "-b", "feature")
    c2 = _deploy(repo, "1.1.0", T0 + 100, previous="1.0.0")
    c3 = _deploy(repo, "1.2.0", T0 + 200, previous="1.1.0")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "feature")
    events = history(repo, PID, ENV, [ENV])
    assert [(e.version, e.commit) for e in events][1:] == [("1.1.0", c2), ("1.2.0", c3)]


def test_history_ignores_a_merge_that_keeps_the_pointer(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    git(repo, "checkout", "-q", "-b", "feature")
    _unrelated(repo, T0 + 10, "feature.txt")
    git(repo, "checkout", "-q", "main")
    _deploy(repo, "1.1.0", T0 + 20, previous="1.0.0")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature", date=_date(T0 + 30))
    events = history(repo, PID, ENV, [ENV])
    assert [e.version for e in events] == ["1.0.0", "1.1.0"]


def test_history_times_never_go_backwards(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0 + 1000)
    c2 = _deploy(repo, "1.1.0", T0 + 10, previous="1.0.0")  # committer clock far behind
    _deploy(repo, "1.2.0", T0 + 2000, previous="1.1.0")
    events = history(repo, PID, ENV, [ENV])
    times = [e.deployed_at for e in events]
    assert times == [_iso(T0 + 1000), _iso(T0 + 1000), _iso(T0 + 2000)]
    assert events[1].commit == c2
    assert active_at(events, _at(T0 + 500)) is None
    assert active_at(events, _at(T0 + 1000)) == events[1]


def test_active_at_on_a_real_history(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    _deploy(repo, "1.1.0", T0 + 3600, previous="1.0.0")
    events = history(repo, PID, ENV, [ENV])
    assert active_at(events, parse_rfc3339(_iso(T0 - 1))) is None
    found = active_at(events, parse_rfc3339(_iso(T0)))
    assert found is not None and found.version == "1.0.0"
    found = active_at(events, parse_rfc3339(_iso(T0 + 1800)))
    assert found is not None and found.version == "1.0.0"
    found = active_at(events, parse_rfc3339(_iso(T0 + 3600)))
    assert found is not None and found.version == "1.1.0"


def test_history_of_all_environments_in_one_timeline(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0, env="staging")
    _deploy(repo, "1.0.0", T0 + 10, env="production")
    write(repo, f"deployments/staging/{PID}.yaml", pointer_yaml(PID, "staging", "1.1.0", "1.0.0"))
    write(repo, f"deployments/development/{PID}.yaml", pointer_yaml(PID, "development", "1.1.0"))
    both = commit_all(repo, "two at once", date=_date(T0 + 20))
    _deploy(repo, "9.9.9", T0 + 30, env="qa")  # not asked for
    events = history(repo, PID, None, ["development", "staging", "production"])
    assert [(e.environment, e.version) for e in events] == [
        ("staging", "1.0.0"),
        ("production", "1.0.0"),
        ("development", "1.1.0"),
        ("staging", "1.1.0"),
    ]
    assert events[2].commit == events[3].commit == both
    assert [e.environment for e in history(repo, PID, "staging", [])] == ["staging"] * 2
    assert history(repo, PID, None, []) == []


def test_history_of_an_unborn_branch_is_empty(repo: Path) -> None:
    assert history(repo, PID, ENV, [ENV]) == []
    _unrelated(repo, T0)
    assert history(repo, PID, ENV, [ENV]) == []


def test_history_at_another_revision(repo: Path) -> None:
    first = _deploy(repo, "1.0.0", T0)
    _deploy(repo, "1.1.0", T0 + 10, previous="1.0.0")
    assert [e.version for e in history(repo, PID, ENV, [ENV], rev=first)] == ["1.0.0"]
    with pytest.raises(GitError, match="no-such-rev"):
        history(repo, PID, ENV, [ENV], rev="no-such-rev")
    with pytest.raises(GitError, match="invalid git revision"):
        history(repo, PID, ENV, [ENV], rev="--all")


def test_shallow_clone_is_refused(repo: Path, tmp_path: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    _deploy(repo, "1.1.0", T0 + 10, previous="1.0.0")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    with pytest.raises(ShallowCloneError) as info:
        history(clone, PID, ENV, [ENV])
    message = str(info.value)
    assert "shallow clone" in message and "git fetch --unshallow" in message
    assert "fetch-depth: 0" in message
    with pytest.raises(ShallowCloneError):
        pointer_commits(clone, PID, ENV)


@pytest.mark.parametrize(
    ("prompt_id", "environment"),
    [
        ("../x", ENV),
        ("-rf", ENV),
        ("HR_Query", ENV),
        (PID, "../prod"),
        (PID, "-rf"),
        (PID, "Production"),
    ],
)
def test_invalid_identifiers_are_refused_before_git(
    repo: Path, monkeypatch: pytest.MonkeyPatch, prompt_id: str, environment: str
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("git must not run")

    monkeypatch.setattr(subprocess, "run", boom)
    monkeypatch.setattr(subprocess, "Popen", boom)
    with pytest.raises(InvalidIdentifierError):
        pointer_commits(repo, prompt_id, environment)
    with pytest.raises(InvalidIdentifierError):
        history(repo, prompt_id, environment, [ENV])
    with pytest.raises(InvalidIdentifierError):
        history(repo, prompt_id, None, [environment])


def test_history_uses_a_fixed_number_of_processes(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        _deploy(repo, f"1.{i}.0", T0 + i)
        _unrelated(repo, T0 + i)
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(args: list[str], *a: Any, **k: Any) -> Any:
        started.append(args)
        return real_popen(args, *a, **k)

    monkeypatch.setattr(subprocess, "Popen", popen)  # subprocess.run starts through it too
    monkeypatch.setattr(log_module, "_BATCH", 4)  # several batches through the one cat-file
    events = history(repo, PID, None, ["development", "staging", "production"])
    assert len(events) == 30
    # Whatever the history length: one log (which gives the chain's times too) and one
    # cat-file (a shallow clone is told by a file of the git dir, without a process).
    assert sorted(a[3] for a in started) == ["-c", "cat-file"], started


def test_times_are_monotonic_along_the_whole_first_parent_chain(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    _unrelated(repo, T0 + 500)  # a commit whose clock runs ahead
    _deploy(repo, "1.1.0", T0 + 200)
    events = history(repo, PID, ENV, [ENV])
    assert [e.version for e in events] == ["1.0.0", "1.1.0"]
    assert events[1].deployed_at == datetime.fromtimestamp(T0 + 500, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_history_is_immune_to_user_log_config(repo: Path) -> None:
    for key, value in [
        ("log.showRoot", "false"),
        ("log.follow", "true"),
        ("color.ui", "always"),
        ("diff.renames", "copies"),
        ("i18n.logOutputEncoding", "ISO-8859-1"),
        ("log.diffMerges", "combined"),
        ("core.abbrev", "7"),
    ]:
        git(repo, "config", key, value)
    git(repo, "config", "user.name", "Zoë Ünal")
    c1 = _deploy(repo, "1.0.0", T0)  # the root commit
    write(repo, f"deployments/staging/{PID}.yaml", (repo / POINTER).read_text())
    commit_all(repo, "copy to staging", date=_date(T0 + 5))
    git(repo, "checkout", "-q", "-b", "feature")
    _deploy(repo, "1.1.0", T0 + 10, previous="1.0.0")
    git(repo, "checkout", "-q", "main")
    _unrelated(repo, T0 + 15)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge", "feature", date=_date(T0 + 20))
    events = history(repo, PID, ENV, [ENV])
    assert (events[0].version, events[0].commit) == ("1.0.0", c1)
    assert [e.version for e in events] == ["1.0.0", "1.1.0"]
    assert events[0].committed_by == "Zoë Ünal <test@example.com>"


def test_history_skips_a_pointer_that_became_a_symlink(repo: Path) -> None:
    _deploy(repo, "1.0.0", T0)
    write(repo, "elsewhere.yaml", pointer_yaml(PID, ENV, "6.6.6"))
    (repo / POINTER).unlink()
    (repo / POINTER).symlink_to("../../elsewhere.yaml")
    commit_all(repo, "sneaky", date=_date(T0 + 10))
    commits = pointer_commits(repo, PID, ENV)
    assert commits[1].pointer is None and commits[1].error is not None
    assert "not a regular file (git mode 120000)" in commits[1].error
    assert [e.version for e in history(repo, PID, ENV, [ENV])] == ["1.0.0"]


def test_pointer_fields_are_typed_at_the_loader() -> None:
    fields = pointer_fields(
        {"version": "1.0", "deployed_by": 42, "action": "", "reason": "why", "extra": [1]}
    )
    assert fields == PointerFields(version=None, deployed_by=None, action=None, reason="why")
    assert pointer_fields(_ptr("1.2.0")).version == "1.2.0"
