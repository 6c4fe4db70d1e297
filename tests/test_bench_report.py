"""The benchmark's tables and JSON: each figure beside its floor and the ratio (no timing)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    monkeypatch.syspath_prepend(str(BENCH))
    import cli_bench
    import report

    return types.SimpleNamespace(report=report, cli_bench=cli_bench)


def history_figure(report: types.ModuleType) -> object:
    result = report.Result("history", "promptreg history hot_prompt", "s", samples=[0.3, 0.2])
    result.value = 0.3
    floor = report.Result("history_git", "", "s", value=0.2, samples=[0.2, 0.19])
    result.set_floor(floor, "git log -p -- <the pointer>", 1.25)
    return result


def test_a_figure_is_printed_with_its_floor_ratio_and_goal(bench_modules) -> None:
    report = bench_modules.report
    run = report.RunReport(1.0, {"prompts": 1000, "versions": 10, "deploys": 1, "hot_deploys": 1},
                           1.0, 3, [history_figure(report)])  # fmt: skip
    lines = report.run_table(run).splitlines()
    assert lines[0].split() == [
        "figure", "promptreg", "floor", "ratio", "goal", "verdict", "peak", "MiB", "notes",
    ]  # fmt: skip
    row = lines[2]
    for cell in ("0.300 s", "0.200 s", "1.50x", "<= 1.25x", "MISSED"):
        assert cell in row
    assert "floor: git log -p -- <the pointer>" in row


def test_the_ratio_converts_units_and_judges_both_goals(bench_modules) -> None:
    report = bench_modules.report
    stall = report.Result("reload_max", "slowest", "ms", value=1.0, goal=10.0)
    stall.floor, stall.floor_unit, stall.floor_label = 0.5, "us", "a warm call"
    assert stall.ratio == pytest.approx(2000.0)
    assert (stall.floor_text(), stall.ratio_text(), stall.verdict) == ("0.500 us", "2,000x", "ok")
    both = report.Result("check_all", "check --all", "s", value=2.0, goal=3.0, ratio_goal=1.5)
    both.floor = 1.0
    assert (both.goal_text(), both.verdict) == ("<= 1.50x, <= 3.00 s", "MISSED")


def test_a_figure_without_a_floor_shows_a_dash_and_a_missing_floor_says_so(bench_modules) -> None:
    report = bench_modules.report
    plain = report.Result("status", "status", "s", value=0.5, goal=1.0)
    assert (plain.floor_text(), plain.ratio_text(), plain.verdict) == ("\u2014", "\u2014", "ok")
    missing = report.Result("check_all", "check --all", "s", value=2.0, goal=3.0, ratio_goal=1.5)
    missing.floor_label, missing.floor_error = "two processes", "not available: absent"
    assert (missing.floor_text(), missing.ratio_text(), missing.verdict) == (
        "not available", "-", "ok",
    )  # fmt: skip
    assert missing.notes() == "floor: two processes (not available: absent)"
    failed = report.Result("x", "x", "s", value=1.0)
    failed.set_floor(report.Result("f", "", "s", error="exit 1: boom"), "the floor")
    assert (failed.floor_text(), failed.floor_error) == ("error", "exit 1: boom")


def test_the_json_carries_floor_and_ratio(bench_modules, tmp_path: Path) -> None:
    report = bench_modules.report
    shape = {"prompts": 1000, "versions": 10, "deploys": 1, "hot_deploys": 1}
    run = report.RunReport(1.0, shape, 1.0, 3, [history_figure(report)])
    out = tmp_path / "results.json"
    report.write_json(out, {"cores": 2}, [run])
    (found,) = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert (found["floor"], found["ratio_goal"]) == (0.2, 1.25)
    assert found["ratio"] == pytest.approx(1.5)
    assert found["floor_samples"] == [0.2, 0.19]
    assert found["floor_label"] == "git log -p -- <the pointer>"


def test_the_scaling_table_has_value_floor_and_ratio_per_scale(bench_modules) -> None:
    report = bench_modules.report
    shape = {"prompts": 1000, "versions": 10, "deploys": 1, "hot_deploys": 1}
    runs = []
    for scale in (1.0, 4.0):
        figure = history_figure(report)
        figure.value, figure.floor = 0.3 * scale, 0.2 * scale
        runs.append(report.RunReport(scale, shape, 1.0, 3, [figure]))
    lines = report.scaling_table(runs).splitlines()
    assert lines[0].split() == [
        "figure", "x1", "floor", "ratio", "x4", "floor", "ratio", "growth", "history",
    ]  # fmt: skip
    assert lines[2].split()[-12:] == [
        "0.300", "s", "0.200", "s", "1.50x", "1.20", "s", "0.800", "s", "1.50x", "x4.00", "x4",
    ]  # fmt: skip


def test_check_all_has_no_floor_without_check_floor_py(bench_modules, monkeypatch) -> None:
    bench = types.SimpleNamespace(registry=Path("/registry"))
    monkeypatch.setitem(sys.modules, "check_floor", None)  # the module cannot be imported
    cmd, why = bench_modules.cli_bench.check_all_floor(bench)
    assert (cmd, why) == (None, "not available: benchmarks/check_floor.py absent")
    given = types.ModuleType("check_floor")
    given.check_all_floor_cmd = lambda path: ["floor", str(path)]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "check_floor", given)
    assert bench_modules.cli_bench.check_all_floor(bench) == (["floor", "/registry"], "")


def test_the_markdown_table_names_each_floor_beside_its_median(bench_modules) -> None:
    report = bench_modules.report
    shape = {"prompts": 1000, "versions": 10, "deploys": 1, "hot_deploys": 1}
    plain = report.Result("status", "promptreg status --json", "s", value=0.5, goal=1.0)
    run = report.RunReport(1.0, shape, 1.0, 3, [history_figure(report), plain])
    assert report.markdown_table(run).splitlines() == [
        "| figure | promptreg | floor, same run | ratio | goal |",
        "| --- | --- | --- | --- | --- |",
        "| promptreg history hot_prompt | 0.300 s | git log -p -- &lt;the pointer&gt;: 0.200 s"
        " | 1.50x | &lt;= 1.25x |",
        "| promptreg status --json | 0.500 s | \u2014 | \u2014 | &lt;= 1.00 s |",
    ]
