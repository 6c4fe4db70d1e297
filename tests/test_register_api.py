"""``PromptRegistry.register`` as applications call it: datetimes, and the fields only
evaluation may set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from registry import PromptRegistry, PromptVersion, RegistryError
from registry.models import Evaluation
from tests.testing import LENIENT_SETTINGS, commit_all, git, write

ACTOR = "Dana Reyes <dana@example.com>"


@pytest.fixture
def reg(repo: Path) -> PromptRegistry:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    commit_all(repo, "settings")
    r = PromptRegistry(repo)
    yield r  # type: ignore[misc]
    r.close()


def _version(**kw: object) -> PromptVersion:
    return PromptVersion(
        prompt_id="greet", version="1.0.0", content="Hi {name}\n", description="First",
        author=ACTOR, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _written(repo: Path) -> dict[str, object]:
    data = yaml.safe_load((repo / "prompts/greet/1.0.0.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_an_aware_datetime_is_written_as_rfc3339(reg: PromptRegistry) -> None:
    when = datetime(2026, 11, 20, 12, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    written = reg.register(_version(created_at=when))
    assert written.created_at == "2026-11-20T10:30:05Z"
    assert _written(reg.root)["created_at"] == "2026-11-20T10:30:05Z"


def test_now_in_utc_is_accepted(reg: PromptRegistry) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    written = reg.register(_version(created_at=datetime.now(UTC)))
    stamp = datetime.fromisoformat(written.created_at.replace("Z", "+00:00"))
    assert before <= stamp <= datetime.now(UTC)


def test_a_naive_datetime_is_a_clear_error(reg: PromptRegistry) -> None:
    with pytest.raises(RegistryError, match="no time zone") as info:
        reg.register(_version(created_at=datetime(2026, 11, 20, 12, 0)))
    assert isinstance(info.value, ValueError)
    assert not (reg.root / "prompts").exists()


EVALUATION = Evaluation(
    "evals/greet.yaml", 0.8, "sha256:" + "0" * 64, "2026-11-20T11:00:00Z", ACTOR
)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"tested": True}, "tested"),
        ({"evaluation_score": 0.9}, "evaluation_score"),
        ({"evaluation_score": 0.0}, "evaluation_score"),
        ({"evaluation": EVALUATION}, "evaluation"),
        ({"tested": True, "evaluation_score": 0.9}, "tested, evaluation_score"),
    ],
)
def test_fields_set_by_evaluation_are_refused(
    reg: PromptRegistry, fields: dict[str, object], named: str
) -> None:
    head = git(reg.root, "rev-parse", "HEAD")
    with pytest.raises(RegistryError, match="evaluation sets them") as info:
        reg.register(_version(**fields), commit=True)
    assert isinstance(info.value, ValueError)
    assert named in str(info.value)
    assert not (reg.root / "prompts").exists()
    assert git(reg.root, "rev-parse", "HEAD") == head


def test_a_hand_written_version_without_evaluation_fields_is_untested(repo: Path) -> None:
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    write(
        repo,
        "prompts/greet/1.0.0.yaml",
        'prompt_id: greet\nversion: "1.0.0"\ndescription: By hand\nauthor: Dana\n'
        'created_at: "2026-11-20T10:00:00Z"\ncontent: "Hi {name}"\n',
    )
    write(
        repo,
        "deployments/development/greet.yaml",
        'prompt_id: greet\nenvironment: development\nversion: "1.0.0"\nprevious_version: null\n'
        'action: deploy\ndeployed_by: Dana\ndeployed_at: "2026-11-21T09:30:00Z"\n',
    )
    commit_all(repo, "by hand")
    with PromptRegistry(repo) as r:
        v = r.get_active("greet", "development")
        assert v is not None
        assert (v.tested, v.is_tested, v.evaluation_score, v.evaluation) == (
            False,
            False,
            None,
            None,
        )
