"""Build the review of HEAD against a base: the range, views and problems of ``check --base``
(registry/check/base_range.py), read once."""

from __future__ import annotations

from pathlib import Path

from registry.check.base_range import open_range, range_problems
from registry.review.changes import (
    evaluation_changes,
    new_versions,
    other_files,
    policy_change,
    suite_changes,
)
from registry.review.moves import pointer_moves
from registry.review.records import Review


def build_review(root: Path, base: str) -> Review:
    """The review of what HEAD changes since it left ``base``; its problems are exactly what
    ``check --base`` reports (without ``--verify-evaluations``: a review runs no code)."""
    from registry.check.run import schema_copy_problems
    from registry.gitio.run import rev_parse

    with open_range(root, base) as rng:
        problems = range_problems(rng) + schema_copy_problems(root)
        return Review(
            base=base,
            base_commit=rng.base_commit,
            merge_base=rev_parse(root, rng.fork_point) or rng.fork_point,
            head_commit=rng.head_commit,
            moves=tuple(pointer_moves(rng, problems)),
            versions=tuple(new_versions(rng)),
            evaluations=tuple(evaluation_changes(rng)),
            suites=tuple(suite_changes(rng)),
            policy=policy_change(rng),
            other_files=tuple(other_files(rng)),
            problems=tuple(problems),
        )
