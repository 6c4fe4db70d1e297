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
NO_FLOOR = "\u2014"  # a figure without a natural floor
UNIT_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "KiB": 1.0, "MiB": 1024.0}


@dataclass
class Result:
    """One measured figure: a median in ``unit``, its goal, and what went wrong if anything.

    A figure with a floor carries it as measured in the same rounds (``floor``, in
    ``floor_unit``, which defaults to ``unit``), what the floor is (``floor_label``), and the
    goal on the ratio ``value / floor`` (``ratio_goal``). ``floor_error`` says why a figure
    that has a floor has no number for it (not available here, or the floor's run failed).
    """

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
    floor: float | None = None
    floor_unit: str = ""
    floor_label: str = ""
    floor_samples: list[float] = field(default_factory=list)
    floor_error: str | None = None
    ratio_goal: float | None = None

    @property
    def has_floor(self) -> bool:
        return bool(self.floor_label) or self.floor is not None or self.floor_error is not None

    @property
    def ratio(self) -> float | None:
        """``value / floor``, the units converted; None without both."""
        if self.value is None or not self.floor:
            return None
        unit, floor_unit = self.unit, self.floor_unit or self.unit
        if unit == floor_unit:
            return self.value / self.floor
        if unit not in UNIT_SCALE or floor_unit not in UNIT_SCALE:
            return None
        return self.value * UNIT_SCALE[unit] / (self.floor * UNIT_SCALE[floor_unit])

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        checks = []
        if self.value is not None and self.goal is not None:
            limit = self.goal * (ABOUT_SLACK if self.about else 1.0)
            checks.append(self.value <= limit)
        if self.ratio is not None and self.ratio_goal is not None:
            checks.append(self.ratio <= self.ratio_goal)
        if not checks:
            return ""
        return "ok" if all(checks) else "MISSED"

    def goal_text(self) -> str:
        parts = []
        if self.ratio_goal is not None:
            parts.append(f"<= {fmt(self.ratio_goal)}x")
        if self.goal is not None:
            parts.append(f"{'~' if self.about else '<='} {fmt(self.goal)} {self.unit}")
        return ", ".join(parts)

    def value_text(self) -> str:
        return f"{fmt(self.value)} {self.unit}" if self.value is not None else "-"

    def floor_text(self) -> str:
        """The floor's median, "not available"/"error" without one, a dash if none exists."""
        if self.floor is not None:
            return f"{fmt(self.floor)} {self.floor_unit or self.unit}"
        if self.floor_error is not None:
            return "not available" if self.floor_error.startswith("not available") else "error"
        return NO_FLOOR

    def ratio_text(self) -> str:
        if (found := self.ratio) is not None:
            return f"{fmt(found)}x"
        return NO_FLOOR if not self.has_floor else "-"

    def notes(self) -> str:
        """The error, what the floor is (and why it is missing), then the note."""
        floor = ""
        if self.floor_label or self.floor_error:
            floor = "floor: " + " ".join(
                x
                for x in (self.floor_label, f"({self.floor_error})" if self.floor_error else "")
                if x
            )
        return "; ".join(x for x in (self.error, floor, self.note) if x)

    def set_floor(self, floor: Result, label: str, ratio_goal: float | None = None) -> None:
        """Take ``floor``'s median (measured in the same rounds) as this figure's floor."""
        self.floor_label = label
        self.ratio_goal = ratio_goal
        self.floor_unit = floor.unit
        if floor.value is None:
            self.floor_error = floor.error or "no floor measured"
            return
        self.floor, self.floor_samples = floor.value, list(floor.samples)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
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
    """The table of one run: each figure, its floor from the same rounds, the ratio, the goal."""
    rows = []
    for r in report.results:
        rss = fmt(r.rss_mib) if r.rss_mib is not None else ""
        note = r.notes()
        note = note if len(note) <= NOTE_WIDTH else note[: NOTE_WIDTH - 3] + "..."
        rows.append(
            [
                r.label,
                r.value_text(),
                r.floor_text(),
                r.ratio_text(),
                r.goal_text(),
                r.verdict,
                rss,
                note,
            ]
        )
    headers = ["figure", "promptreg", "floor", "ratio", "goal", "verdict", "peak MiB", "notes"]
    return table(headers, rows, right={1, 2, 3, 6})


def markdown_cell(text: str) -> str:
    """``text`` safe in a Markdown table cell (pipes, and angle brackets read as HTML)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def markdown_table(report: RunReport) -> str:
    """The run's figures as the README's Performance table: figure | promptreg | floor | ratio
    | goal, the floor named beside its median."""
    lines = [
        "| figure | promptreg | floor, same run | ratio | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in report.results:
        value = f"error: {r.error}" if r.error else r.value_text()
        floor = f"{r.floor_label}: {r.floor_text()}" if r.floor_label else r.floor_text()
        cells = [r.label.strip(), value, floor, r.ratio_text(), r.goal_text()]
        lines.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    return "\n".join(lines)


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
    """Each figure at every scale, with its floor and ratio there, and how the figure grows
    with the history length, relative to the first scale."""
    first = reports[0]
    keys = [r.key for r in first.results]
    labels = {r.key: r.label for rep in reports for r in rep.results}
    for rep in reports[1:]:
        keys += [k for k in rep.by_key() if k not in keys]
    per_scale = [(f"x{rep.scale:g}", "floor", "ratio") for rep in reports]
    headers = ["figure", *(h for hs in per_scale for h in hs), "growth", "history"]
    history_growth = f"x{reports[-1].scale / first.scale:g}"
    rows = []
    for key in keys:
        values = [rep.by_key().get(key) for rep in reports]
        cells = []
        for v in values:
            if v is None:
                cells += ["-", "", ""]
            elif v.value is None:
                cells += ["error", v.floor_text(), "-"]
            else:
                cells += [v.value_text(), v.floor_text(), v.ratio_text()]
        ends = [v.value for v in (values[0], values[-1]) if v and v.value is not None]
        growth = f"x{ends[1] / ends[0]:.2f}" if len(ends) == 2 and ends[0] else "-"
        rows.append([labels[key], *cells, growth, history_growth])
    right = set(range(1, len(headers)))
    return table(headers, rows, right)


def write_json(path: Path, machine: dict[str, Any], reports: Sequence[RunReport]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": machine, "runs": [r.to_json() for r in reports]}
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
