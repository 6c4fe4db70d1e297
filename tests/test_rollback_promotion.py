"""``rollback --to V``: a version the environment never ran comes through ``promote_from``."""

from __future__ import annotations

from pathlib import Path

from registry import PromptRegistry
from tests.test_write import ACTOR, assert_pointer, cli, refused, seeded
from tests.testing import commit_all, pointer_yaml, write

__all__ = ["seeded"]  # the fixture


def test_rollback_to_a_version_production_never_ran_needs_promotion(seeded: Path) -> None:
    # production (promote_from: staging) runs 1.0.0; staging runs 1.3.0; 1.1.0 is tested.
    err = refused(
        seeded,
        ["rollback", "greet", "--env", "production", "--to", "1.1.0", "--by", ACTOR],
        lambda r: r.rollback("greet", "production", ACTOR, to="1.1.0"),
        ("1.1.0", "staging"),
        phrase="must be active in staging before production",
    )
    assert "deploy it to staging first" in err


def test_rollback_to_a_version_promoted_through_staging_is_allowed(seeded: Path) -> None:
    write(seeded, "deployments/staging/greet.yaml", pointer_yaml("greet", "staging", "1.1.0"))
    commit_all(seeded, "staging runs 1.1.0")
    proc = cli(seeded, "rollback", "greet", "--env", "production", "--to", "1.1.0", "--by", ACTOR)
    assert proc.returncode == 0, proc.stderr
    assert_pointer(seeded, "production", "greet", "1.1.0", "1.0.0", "rollback")


def test_rollback_to_a_version_the_environment_ran_needs_no_promotion(seeded: Path) -> None:
    # production ran 1.1.0 once (in git history), then 1.0.0 again; staging moved on to 1.3.0.
    write(seeded, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.1.0", "1.0.0"))  # fmt: skip
    commit_all(seeded, "production runs 1.1.0")
    write(seeded, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.0.0", "1.1.0", action="rollback"))  # fmt: skip
    write(seeded, "deployments/staging/greet.yaml", pointer_yaml("greet", "staging", "1.3.0"))
    commit_all(seeded, "back to 1.0.0")
    write(seeded, "deployments/production/greet.yaml",
          pointer_yaml("greet", "production", "1.0.0", "1.2.0"))  # fmt: skip
    commit_all(seeded, "previous_version no longer names 1.1.0")
    with PromptRegistry(seeded) as reg:
        d = reg.rollback("greet", "production", ACTOR, to="1.1.0")
    assert (d.version, d.previous_version, d.action) == ("1.1.0", "1.0.0", "rollback")
