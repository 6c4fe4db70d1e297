"""Benchmark results: one record per measurement, the terminal tables and the JSON file."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ABOUT_SLACK = 1.5  # a goal stated as "about N" passes up to 1.5 N
NOTE_WIDTH = 160  # the JSON file keeps the whole text


@dataclass
class Result:
    """One measured figure: a median in ``unit``, its goal, and what went wrong if anything."""

    key: str
    label: str
    unit: str
    value: float | None = None
    goal: float | None = None
    about: bool = False  # the goal is "about", not "at most"
    samples: list[float] = field(default_factory=list)
    rss_mib: float | None = None
    error: str | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.value is None or self.goal is None:
            return ""
        limit = self.goal * (ABOUT_SLACK if self.about else 1.0)
        return "ok" if self.value <= limit else "MISSED"

    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        return f"{'~' if self.about else '<='} {fmt(self.goal)} {self.unit}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data


@dataclass
class RunReport:
    """Every result of one benchmark run at one scale."""

    scale: float
    shape: dict[str, int]
    build_seconds: float | None
    commits: int | None
    results: list[Result]
    gto_scale: float | None = None

    def by_key(self) -> dict[str, Result]:
        return {r.key: r for r in self.results}

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "shape": self.shape,
            "build_seconds": self.build_seconds,
            "commits": self.commits,
            "gto_scale": self.gto_scale,
            "results": [r.to_json() for r in self.results],
        }


def fmt(value: float | None) -> str:
    """Three significant digits, no exponent for the ranges benchmarks produce."""
    if value is None or math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """A plain aligned text table; columns in ``right`` are right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def run_table(report: RunReport) -> str:
    """The table of one run."""
    rows = []
    for r in report.results:
        value = f"{fmt(r.value)} {r.unit}" if r.value is not None else "-"
        rss = fmt(r.rss_mib) if r.rss_mib is not None else ""
        note = "; ".join(x for x in (r.error, r.note) if x)
        note = note if len(note) <= NOTE_WIDTH else note[: NOTE_WIDTH - 3] + "..."
        rows.append([r.label, value, r.goal_text(), r.verdict, rss, note])
    headers = ["measurement", "median", "goal", "verdict", "peak MiB", "notes"]
    return table(headers, rows, right={1, 4})


def run_header(report: RunReport) -> str:
    s = report.shape
    built = (
        f"built in {report.build_seconds:.1f} s"
        if report.build_seconds is not None
        else "not built"
    )
    return (
        f"scale {report.scale:g}: {s['prompts'] + 1:,} prompts x {s['versions']} versions, "
        f"{s['deploys']:,} deployment commits ({s['hot_deploys']:,} of hot_prompt to production), "
        f"{report.commits or 0:,} commits, {built}"
    )


def machine_header(machine: dict[str, Any]) -> str:
    return (
        f"machine: {machine['cores']} cores, {machine['platform']}; git {machine['git']}; "
        f"python {machine['python']}; promptreg {machine['promptreg']}"
    )


def scaling_table(reports: Sequence[RunReport]) -> str:
    """How each figure grows with the history length, relative to the first scale."""
    first = reports[0]
    keys = [r.key for r in first.results]
    labels = {r.key: (r.label, r.unit) for rep in reports for r in rep.results}
    for rep in reports[1:]:
        keys += [k for k in rep.by_key() if k not in keys]
    headers = ["measurement", *(f"x{rep.scale:g}" for rep in reports), "growth", "history"]
    history_growth = f"x{reports[-1].scale / first.scale:g}"
    rows = []
    for key in keys:
        label, unit = labels[key]
        values = [rep.by_key().get(key) for rep in reports]
        cells = [
            f"{fmt(v.value)} {unit}" if v and v.value is not None else "error" if v else "-"
            for v in values
        ]
        ends = [v.value for v in (values[0], values[-1]) if v and v.value is not None]
        growth = f"x{ends[1] / ends[0]:.2f}" if len(ends) == 2 and ends[0] else "-"
        rows.append([label, *cells, growth, history_growth])
    right = set(range(1, len(headers)))
    return table(headers, rows, right)


def write_json(path: Path, machine: dict[str, Any], reports: Sequence[RunReport]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": machine, "runs": [r.to_json() for r in reports]}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
