"""Turn loaded YAML into frozen records, collecting every file-level problem.

One decoder per file kind (``build_version``, ``build_pointer``, ``build_settings``) serves
``promptreg check`` and the runtime alike. Its first step is the file's JSON Schema from
``schemas/``: ``check`` has already applied it with jsonschema (and passes
``shape_checked=True``); the runtime applies the same schema file with the dependency-free
interpreter in ``shapes.py``, because ``import registry`` must not pay for jsonschema. The
schema is thus the one statement of every shape rule (fields, types, patterns, lengths,
ranges, enums); the checks below add only what a schema cannot say: dates that do not exist,
names that must match their path, templates, variables against placeholders, ``promote_from``
naming a configured environment, and the evaluation fingerprint. ``tests/test_decode_agreement.py``
feeds the whole example-file corpus through both paths and expects the same verdict.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from registry.durations import parse_duration
from registry.errors import TemplateError
from registry.models import (
    EnvironmentPolicy,
    Evaluation,
    Message,
    Problem,
    PromptDeployment,
    PromptVersion,
    Settings,
)
from registry.template import Template, TemplateSyntaxError
from registry.yamlio.load import Loaded

TIME_FIELDS = frozenset({"created_at", "deployed_at", "evaluated_at"})
_DATE_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2}))?")


@lru_cache(maxsize=4096)
def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def date_problem(text: object) -> str | None:
    """Why the date (and hour and minute) at the start of ``text`` cannot exist, e.g.
    "February 2026 has 28 days"; None when it can, or when ``text`` is no date at all (its
    shape is the schema's concern)."""
    m = _DATE_TIME_RE.match(text) if isinstance(text, str) else None
    if m is None:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if year == 0:
        return "there is no year 0000"
    if not 1 <= month <= 12:
        return f"there is no month {m.group(2)}; months run from 01 to 12"
    days = _days_in(year, month)
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} {year} has {days} days, not {m.group(3)}"
    if m.group(4) is not None and (int(m.group(4)) > 23 or int(m.group(5)) > 59):
        return f"there is no time {m.group(4)}:{m.group(5)}; hours run to 23, minutes to 59"
    return None


class _Collector:
    def __init__(self, path: str, loaded: Loaded) -> None:
        self.path = path
        self.loaded = loaded
        self.problems: list[Problem] = []

    def add(self, code: str, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(code, self.path, self.loaded.line_of(where), message))

    def shape(self, kind: str, shape_checked: bool) -> bool:
        """Add a problem per broken schema rule of the file; whether there was one."""
        if shape_checked:
            return False
        from registry.schema.shapes import is_valid_kind  # on first load, not on `import registry`

        if is_valid_kind(kind, self.loaded.data):
            return False
        # Only a broken file pays for the messages; schemas imports this module.
        from registry.schema.validate import runtime_schema_errors

        for where, message in runtime_schema_errors(kind, self.loaded.data):
            self.add("schema", where, message)
        return bool(self.problems)

    def real_date(self, where: tuple[str | int, ...], value: object) -> None:
        why = date_problem(value)
        if why is not None:
            field = ".".join(str(part) for part in where)
            self.add("schema", where, f"{field}: {json.dumps(value)} is not valid: {why}")


def _check_template(c: _Collector, text: str, where: tuple[str | int, ...]) -> Template | None:
    if not text.strip():  # as the schema's "pattern": "\\S" on every template
        c.add("schema", where, "the template is empty or only spaces; write the prompt text")
        return None
    try:
        return Template(text)
    except TemplateSyntaxError as exc:
        first = c.loaded.text_lines.get(where, c.loaded.line_of(where))
        c.problems.append(Problem("template", c.path, first + exc.line - 1, str(exc)))
    except TemplateError as exc:
        c.add("template", where, str(exc))
    return None


def _evaluation(raw: dict[str, Any] | None) -> Evaluation | None:
    if raw is None:
        return None
    return Evaluation(
        raw["suite"], float(raw["threshold"]), raw["fingerprint"], raw["evaluated_at"],
        raw["evaluated_by"], target=raw.get("target"), judge=raw.get("judge"),
    )  # fmt: skip


def _non_finite(value: Any, where: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where the first NaN or infinity (YAML ``.nan``, ``.inf``, ``1e400``) in ``value`` is."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            found = _non_finite(item, (*where, key))
            if found is not None:
                return found
    return None


def build_version(
    path: str, loaded: Loaded, expect: tuple[str, str] | None, *, shape_checked: bool = False
) -> tuple[PromptVersion | None, list[Problem]]:
    """A PromptVersion from a version file, and every problem found in it; ``shape_checked``
    when the caller has already validated the file against its JSON Schema."""
    c = _Collector(path, loaded)
    if c.shape("prompt-version", shape_checked):
        return None, c.problems
    data = loaded.data
    pid, ver = data["prompt_id"], data["version"]
    c.real_date(("created_at",), data["created_at"])
    if expect is not None:
        if pid != expect[0]:
            c.add(
                "path-mismatch",
                ("prompt_id",),
                f"prompt_id {pid!r} does not match its folder {expect[0]!r}",
            )
        if ver != expect[1]:
            c.add(
                "path-mismatch",
                ("version",),
                f"version {ver!r} does not match the file name {expect[1]!r}",
            )
    content: str | None = data.get("content")
    messages: tuple[Message, ...] | None = None
    templates: list[Template | None] = []
    if content is not None:
        templates.append(_check_template(c, content, ("content",)))
    else:
        messages = tuple(Message(m["role"], m["content"]) for m in data["messages"])
        for i, m in enumerate(messages):
            templates.append(_check_template(c, m.content, ("messages", i, "content")))
    variables: tuple[str, ...] | None = None
    if "variables" in data:
        variables = tuple(data["variables"])
        if all(t is not None for t in templates):
            names = {n for t in templates if t is not None for n in t.fields}
            if set(variables) != names:
                c.add(
                    "variables",
                    ("variables",),
                    f"variables {sorted(variables)} do not equal the template's placeholders {sorted(names)}; list each placeholder once",
                )
    bad = _non_finite(data.get("model"))
    if bad is not None:
        c.add(
            "model-number",
            ("model", *bad),
            f"model.{'.'.join(map(str, bad))}: NaN and infinity are not numbers JSON can"
            " carry, so no model API can receive them; write a finite number",
        )
    evaluation = _evaluation(data.get("evaluation"))
    if evaluation is not None:
        c.real_date(("evaluation", "evaluated_at"), evaluation.evaluated_at)
    if c.problems:
        return None, c.problems
    # Evaluation writes these three; a hand-written version without them is untested.
    score = data.get("evaluation_score")
    v = PromptVersion(
        prompt_id=pid, version=ver, content=content, description=data["description"],
        author=data["author"], created_at=data["created_at"], tested=data.get("tested", False),
        evaluation_score=None if score is None else float(score), messages=messages,
        variables=variables, model=data.get("model"), evaluation=evaluation,
    )  # fmt: skip
    # The templates are parsed once: the record keeps these (its cached ``_templates``).
    vars(v)["_templates"] = tuple(t for t in templates if t is not None)
    if v.tested and not v.is_tested:
        why = (
            "has no evaluation record"
            if evaluation is None
            else "was evaluated on different content or model"
        )
        c.add(
            "fingerprint",
            ("tested",),
            f"tested: true but the version {why}; run `promptreg eval {pid} {ver}` or set tested: false",
        )
        # A stale `tested` still yields the record, as untested, so commands can show it.
        v = replace(v, tested=False)
    return v, c.problems


def build_pointer(
    path: str, loaded: Loaded, expect: tuple[str, str] | None, *, shape_checked: bool = False
) -> tuple[PromptDeployment | None, list[Problem]]:
    """A PromptDeployment from a pointer file ``expect`` = (environment, prompt_id)."""
    c = _Collector(path, loaded)
    if c.shape("deployment", shape_checked):
        return None, c.problems
    data = loaded.data
    pid, env = data["prompt_id"], data["environment"]
    c.real_date(("deployed_at",), data["deployed_at"])
    if expect is not None:
        if env != expect[0]:
            c.add(
                "path-mismatch",
                ("environment",),
                f"environment {env!r} does not match its folder {expect[0]!r}",
            )
        if pid != expect[1]:
            c.add(
                "path-mismatch",
                ("prompt_id",),
                f"prompt_id {pid!r} does not match the file name {expect[1]!r}",
            )
    if c.problems:
        return None, c.problems
    return PromptDeployment(
        pid, data["version"], env, data["deployed_at"], data["deployed_by"],
        data["previous_version"], data["action"], data.get("reason"),
    ), []  # fmt: skip


def build_settings(
    path: str, loaded: Loaded, *, shape_checked: bool = False
) -> tuple[Settings | None, list[Problem]]:
    """Settings from ``promptreg.yaml``."""
    c = _Collector(path, loaded)
    if c.shape("settings", shape_checked):
        return None, c.problems
    raw: dict[str, dict[str, Any]] = loaded.data["environments"]
    envs: list[EnvironmentPolicy] = []
    for name, pol in raw.items():
        ms, pf = pol.get("min_score"), pol.get("promote_from")
        if pf is not None and (pf not in raw or pf == name):
            c.add(
                "settings",
                ("environments", name, "promote_from"),
                f"promote_from must name another configured environment, got {pf!r}",
            )
        soak = pol.get("min_soak")
        if soak is not None and pf is None:
            c.add(
                "settings",
                ("environments", name, "min_soak"),
                "min_soak needs promote_from: it is the time a version must run there first",
            )
        score = None if ms is None else float(ms)
        seconds = None if soak is None else parse_duration(soak)
        envs.append(EnvironmentPolicy(name, pol.get("require_tested", True), score, pf, seconds))
    cycle = [] if c.problems else _promotion_cycle({e.name: e.promote_from for e in envs})
    if cycle:
        c.add(
            "settings",
            ("environments", cycle[0], "promote_from"),
            f"promote_from goes round in a circle ({' -> '.join([*cycle, cycle[0]])});"
            " a version must start somewhere: remove promote_from from one of them",
        )
    if c.problems:
        return None, c.problems
    return Settings(tuple(envs), tuple(loaded.data.get("trusted_modules", ()))), []


def _promotion_cycle(sources: dict[str, str | None]) -> list[str]:
    """The environments of the first promote_from cycle, in promotion order, or []."""
    for start in sources:
        chain: list[str] = []
        env: str | None = start
        while env is not None and env in sources and env not in chain:
            chain.append(env)
            env = sources[env]
        if env is not None and env in chain:
            loop = chain[chain.index(env) :]
            return loop[::-1]
    return []
