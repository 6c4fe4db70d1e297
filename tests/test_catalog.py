"""The library calls the CLI's read commands and ``new`` are built on: ``list_prompts``,
``deployments``, ``deployment``, ``read_version``, ``active_environments``,
``deployed_version``, ``require_known``, ``next_version``, and the frozen records they return."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from registry import (
    EnvironmentNotConfiguredError,
    NotFoundError,
    PromptRegistry,
    RegistryError,
    ValidationError,
    VersionNotGivenError,
)
from registry.catalog import PromptSummary
from registry.ids import Bump
from registry.status import DeploymentStatus
from tests.clirun import run
from tests.testing import ROOT, commit_all, pointer_yaml, version_yaml, write

SETTINGS = "environments:\n  development: {require_tested: false}\n  production: {}\n"


@pytest.fixture
def reg(repo: Path) -> Path:
    write(repo, "promptreg.yaml", SETTINGS)
    for v in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        write(repo, f"prompts/greet/{v}.yaml", version_yaml("greet", v))
    write(repo, "prompts/other/1.0.0.yaml", version_yaml("other", "1.0.0"))
    write(repo, "deployments/development/greet.yaml", pointer_yaml("greet", "development", "1.1.0"))
    write(repo, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.0.0"))
    commit_all(repo, "registry")
    return repo


def _registry(root: Path) -> PromptRegistry:
    return PromptRegistry(root, source="files")


# -- list_prompts --------------------------------------------------------------------------------
def test_list_prompts_returns_frozen_summaries_in_prompt_order(reg: Path) -> None:
    prompts = _registry(reg).list_prompts()
    assert [p.prompt_id for p in prompts] == ["greet", "other"]
    greet = prompts[0]
    assert isinstance(greet, PromptSummary)
    assert greet.versions == ("1.0.0", "1.1.0", "2.0.0-rc.1")
    assert greet.active == (("development", "1.1.0"), ("production", "1.0.0"))
    assert greet.problems == ()
    assert prompts[1].active == ()
    name = "prompt_id"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(greet, name, "x")


def test_list_prompts_reports_an_unreadable_pointer_in_the_record(reg: Path) -> None:
    write(reg, "deployments/production/greet.yaml", "prompt_id: greet\nenvironment: production\n")
    (greet, _) = _registry(reg).list_prompts()
    assert greet.active == (("development", "1.1.0"), ("production", None))
    assert greet.problems
    assert {(p.code, p.path) for p in greet.problems} == {
        ("schema", "deployments/production/greet.yaml")
    }
    assert greet.as_dict() == {
        "prompt_id": "greet",
        "versions": ["1.0.0", "1.1.0", "2.0.0-rc.1"],
        "active": {"development": "1.1.0", "production": None},
    }


def test_list_json_is_the_records_as_dicts(reg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, "-C", str(reg), "list", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out) == [p.as_dict() for p in _registry(reg).list_prompts()]


def test_list_prompts_refuses_broken_settings(reg: Path) -> None:
    write(reg, "promptreg.yaml", "environments: [production]\n")
    with pytest.raises(ValidationError, match=r"promptreg\.yaml"):
        _registry(reg).list_prompts()


# -- deployments and deployment ------------------------------------------------------------------
def test_deployments_are_status_records(reg: Path) -> None:
    rows = _registry(reg).deployments()
    assert all(isinstance(r, DeploymentStatus) for r in rows)
    assert [(r.prompt_id, r.environment, r.version, r.tested) for r in rows] == [
        ("greet", "development", "1.1.0", False),
        ("greet", "production", "1.0.0", False),
    ]
    assert rows[0].problems == () and rows[0].note == ""
    assert [p.code for p in rows[1].problems] == ["untested"]
    assert rows[1].note == "UNTESTED"
    assert set(rows[1].as_dict()["problems"][0]) == {"code", "path", "line", "message"}


def test_deployments_of_one_environment(reg: Path) -> None:
    rows = _registry(reg).deployments("development")
    assert [(r.prompt_id, r.environment) for r in rows] == [("greet", "development")]
    with pytest.raises(EnvironmentNotConfiguredError, match="'qa' is not configured"):
        _registry(reg).deployments("qa")


def test_deployment_reads_the_working_tree_pointer(reg: Path) -> None:
    write(reg, "deployments/production/greet.yaml", pointer_yaml("greet", "production", "1.1.0"))
    d = _registry(reg).deployment("greet", "production")
    assert d is not None and d.version == "1.1.0"  # uncommitted, still read
    assert _registry(reg).deployment("other", "production") is None


# -- read_version, active_environments, deployed_version -----------------------------------------
def test_read_version_defaults_to_the_latest_and_marks_active(reg: Path) -> None:
    registry = _registry(reg)
    latest = registry.read_version("greet")
    assert latest.version == "2.0.0-rc.1" and not latest.is_active
    v = registry.read_version("greet", "1.1.0")
    assert v.is_active
    assert registry.active_environments(v) == ["development"]
    with pytest.raises(
        NotFoundError, match=re.escape("greet 9.0.0 not found; versions: 1.0.0, 1.1.0")
    ):
        registry.read_version("greet", "9.0.0")
    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        registry.read_version("nope")


def test_deployed_version_carries_the_policy_problems(reg: Path) -> None:
    registry = _registry(reg)
    dev = registry.deployed_version("greet", "development")
    assert dev is not None and dev.version.version == "1.1.0" and dev.problems == ()
    prod = registry.deployed_version("greet", "production")
    assert prod is not None and prod.version.is_active
    assert len(prod.problems) == 1 and "requires a tested version" in prod.problems[0]
    assert registry.deployed_version("other", "production") is None
    with pytest.raises(EnvironmentNotConfiguredError):
        registry.deployed_version("greet", "qa")


def test_require_known(reg: Path) -> None:
    registry = _registry(reg)
    registry.require_known("greet", "production")
    with pytest.raises(NotFoundError, match="prompt 'nope' not found"):
        registry.require_known("nope")
    with pytest.raises(EnvironmentNotConfiguredError, match="never held a pointer of greet"):
        registry.require_known("greet", "qa")


# -- next_version --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bump", "expected"),
    [("patch", "2.0.0"), ("minor", "2.0.0"), ("major", "2.0.0")],
)
def test_a_pre_release_bumps_to_its_release(reg: Path, bump: Bump, expected: str) -> None:
    nxt = _registry(reg).next_version("greet", bump=bump)
    assert nxt.version == expected
    assert nxt.base is not None and nxt.base.version == "2.0.0-rc.1"


@pytest.mark.parametrize(
    ("bump", "expected"), [("patch", "1.0.1"), ("minor", "1.1.0"), ("major", "2.0.0")]
)
def test_bump_from_the_latest(reg: Path, bump: Bump, expected: str) -> None:
    nxt = _registry(reg).next_version("other", bump=bump)
    assert nxt.version == expected
    assert nxt.base is not None and nxt.base.version == "1.0.0"


def test_a_new_prompt_starts_at_1_0_0_without_a_base(reg: Path) -> None:
    nxt = _registry(reg).next_version("fresh")
    assert (nxt.version, nxt.base) == ("1.0.0", None)
    assert _registry(reg).next_version("fresh", version="0.1.0").version == "0.1.0"


def test_an_exact_version_and_a_base(reg: Path) -> None:
    nxt = _registry(reg).next_version("greet", version="3.0.0", from_version="1.0.0")
    assert nxt.version == "3.0.0"
    assert nxt.base is not None and nxt.base.version == "1.0.0"


@pytest.mark.parametrize(
    ("prompt_id", "kwargs", "error", "message"),
    [
        ("greet", {}, VersionNotGivenError, "give --bump major|minor|patch or --version V"),
        ("fresh", {"bump": "patch"}, VersionNotGivenError, "fresh has no versions yet"),
        ("greet", {"bump": "patch", "version": "3.0.0"}, VersionNotGivenError, "not both"),
        ("greet", {"version": "3.0.0", "from_version": "9.9.9"}, NotFoundError,
         "--from greet 9.9.9 not found"),
    ],
    ids=["no-bump-for-existing", "bump-for-new", "bump-and-version", "missing-base"],
)  # fmt: skip
def test_next_version_refusals(
    reg: Path, prompt_id: str, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("|", r"\|")):
        _registry(reg).next_version(
            prompt_id,
            bump="patch" if kwargs.get("bump") else None,
            version=kwargs.get("version"),
            from_version=kwargs.get("from_version"),
        )


def test_the_latest_version_must_load_to_be_a_base(reg: Path) -> None:
    write(reg, "prompts/greet/2.0.0-rc.1.yaml", "prompt_id: greet\n")
    with pytest.raises(RegistryError, match="does not load; use --from"):
        _registry(reg).next_version("greet", bump="patch")


# -- the CLI reads through these calls only ------------------------------------------------------
def test_the_cli_does_not_reach_into_the_view() -> None:
    for path in sorted((ROOT / "registry" / "cli").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "registry.view" not in text and "RegistryView" not in text, path
        assert ".view()" not in text, path
    assert not hasattr(PromptRegistry, "view")
