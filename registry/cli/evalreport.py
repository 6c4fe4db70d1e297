"""What ``promptreg eval`` shows: the progress bar on a terminal, the per-case table (with the
baseline's scores beside the candidate's) and the closing lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

import click

from registry.cli.output import table

if TYPE_CHECKING:
    from registry.evals.results import EvalResult

_BAR = 30


def progress_bar(stream: IO[str], environ: Mapping[str, str]) -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` that draws a bar on ``stream``, or None when ``stream``
    is not a terminal or ``CI`` is set (a CI log would keep every redraw)."""
    if environ.get("CI") or not _isatty(stream):
        return None

    def progress(done: int, total: int) -> None:
        filled = _BAR * done // total if total else _BAR
        bar = "#" * filled + "-" * (_BAR - filled)
        stream.write(f"\r  [{bar}] {done}/{total} cases")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return progress


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _note(case: Any) -> str:
    failed = [a.message for a in case.assertions if not a.passed]
    return str(case.error or "; ".join(failed))


def show_result(res: EvalResult, baseline: EvalResult | None, environment: str | None) -> None:
    """The per-case table in suite order, then the verdict (and the baseline's score)."""
    rows: list[tuple[str, ...]]
    if baseline is None:
        rows = [
            (c.name, f"{c.score:.2f}", "pass" if c.passed else "FAIL", _note(c)) for c in res.cases
        ]
        table(["CASE", "SCORE", "RESULT", "NOTE"], rows)
    else:
        rows = []
        for c, b in zip(res.cases, baseline.cases, strict=True):
            mark = " (lower)" if c.score < b.score else ""
            rows.append(
                (
                    c.name,
                    f"{c.score:.2f}",
                    f"{b.score:.2f}",
                    ("pass" if c.passed else "FAIL") + mark,
                    _note(c),
                )
            )
        table(["CASE", "SCORE", environment or "BASELINE", "RESULT", "NOTE"], rows)
    verdict = "passed" if res.passed else "FAILED"
    errors = sum(1 for c in res.cases if c.error)
    if errors:
        verdict += f" ({errors} of {len(res.cases)} cases could not be run)"
    click.echo(
        f"\n{res.prompt_id} {res.version}: score {res.score:.3f},"
        f" threshold {res.threshold}: {verdict}"
    )
    if baseline is not None:
        lower = sum(1 for c, b in zip(res.cases, baseline.cases, strict=True) if c.score < b.score)
        click.echo(
            f"baseline {environment} ({baseline.prompt_id} {baseline.version}): score"
            f" {baseline.score:.3f}; {lower} of {len(res.cases)} cases score lower than it"
        )


def result_json(
    res: EvalResult, baseline: EvalResult | None, environment: str | None
) -> dict[str, Any]:
    """``eval --json``: the result, and with --baseline the baseline's under ``baseline``."""
    doc = res.to_dict()
    if baseline is not None:
        doc["baseline"] = {"environment": environment, **baseline.to_dict()}
    return doc
