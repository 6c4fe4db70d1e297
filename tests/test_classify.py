"""What a path is (registry/paths.py ``classify``): versions and pointers, and the near misses
that must not pass for them (the common cases are matched by one pattern first)."""

from __future__ import annotations

import pytest

from registry.paths import classify

LONG_ID = "a" * 64


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("prompts/greet/1.0.0.yaml", ("version", ("greet", "1.0.0"))),
        ("prompts/a_b-c/1.2.3-rc.1.yaml", ("version", ("a_b-c", "1.2.3-rc.1"))),
        ("prompts/greet/1.0.0-yaml.yaml", ("version", ("greet", "1.0.0-yaml"))),
        (f"prompts/{LONG_ID}/1.0.0.yaml", ("version", (LONG_ID, "1.0.0"))),
        ("deployments/prod/greet.yaml", ("pointer", ("prod", "greet"))),
        (f"deployments/{LONG_ID}/{LONG_ID}.yaml", ("pointer", (LONG_ID, LONG_ID))),
        ("evals/greet.yaml", ("suite", ("greet",))),
        ("promptreg.yaml", ("settings", ())),
        # Near misses: under a managed folder, so unexpected, never a version or a pointer.
        (f"prompts/{LONG_ID}a/1.0.0.yaml", ("unexpected", ())),
        ("prompts/greet/1.0.0-" + "a" * 130 + ".yaml", ("unexpected", ())),
        ("prompts/greet/01.0.0.yaml", ("unexpected", ())),
        ("prompts/greet/1.0.0+build.yaml", ("unexpected", ())),
        ("prompts/greet/1.0.0.yml", ("unexpected", ())),
        ("prompts/Greet/1.0.0.yaml", ("unexpected", ())),
        ("prompts/greet/x/1.0.0.yaml", ("unexpected", ())),
        (f"deployments/prod/{LONG_ID}a.yaml", ("unexpected", ())),
        ("deployments/prod/greet.yml", ("unexpected", ())),
        ("deployments/pr od/greet.yaml", ("unexpected", ())),
        ("prompts/greet/.1.0.0.yaml", None),
        ("src/prompts/greet/1.0.0.yaml", None),
    ],
)
def test_classify(path: str, expected: object) -> None:
    assert classify(path) == expected
