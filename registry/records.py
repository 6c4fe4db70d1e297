"""Turn loaded YAML into frozen records, collecting every file-level problem.

The same functions serve ``promptreg check`` and the runtime: the runtime skips only the JSON
Schema pass (to keep ``import registry`` light) and relies on the structural checks here.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import replace

from registry.errors import TemplateError
from registry.ids import is_valid_id, is_valid_version
from registry.models import (
    ACTIONS,
    ROLES,
    EnvironmentPolicy,
    Evaluation,
    Message,
    Problem,
    PromptDeployment,
    PromptVersion,
    Settings,
    is_finite_score,
)
from registry.template import Template, TemplateSyntaxError
from registry.yamlio import Loaded, boolean_hint

_VERSION_FIELDS = {
    "prompt_id", "version", "description", "author", "created_at", "content", "messages",
    "variables", "model", "tested", "evaluation_score", "evaluation",
}  # fmt: skip
_POINTER_FIELDS = {
    "prompt_id", "environment", "version", "previous_version", "action", "deployed_by",
    "deployed_at", "reason",
}  # fmt: skip
_EVAL_FIELDS = ("suite", "threshold", "fingerprint", "evaluated_at", "evaluated_by")
TIME_FIELDS = frozenset({"created_at", "deployed_at", "evaluated_at"})
_DATE_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2}))?")


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
    days = calendar.monthrange(year, month)[1]
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

    def string(self, key: str, required: bool = True, nullable: bool = False) -> str | None:
        data = self.loaded.data
        if key not in data:
            if required:
                self.add("schema", (), f"missing required field '{key}'")
            return None
        value = data[key]
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            hint = ' (quote it: "1.0.0")' if key.endswith("version") else ""
            self.add("schema", (key,), f"'{key}' must be a string, got {_type(value)}{hint}")
            return None
        return value

    def time(self, key: str) -> str | None:
        """A required date-time string field whose date exists."""
        value = self.string(key)
        self.real_date((key,), value)
        return value

    def real_date(self, where: tuple[str | int, ...], value: object) -> None:
        why = date_problem(value)
        if why is not None:
            field = ".".join(str(part) for part in where)
            self.add("schema", where, f"{field}: {json.dumps(value)} is not valid: {why}")

    def unknown(self, allowed: set[str]) -> None:
        for key in self.loaded.data:
            if key not in allowed:
                self.add(
                    "schema",
                    (key,),
                    f"unknown field '{key}'; allowed: {', '.join(sorted(allowed))}",
                )


def _type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"a {type(value).__name__}"


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


def _messages(c: _Collector) -> tuple[Message, ...] | None:
    raw = c.loaded.data.get("messages")
    if not isinstance(raw, list) or not raw:
        c.add("schema", ("messages",), "'messages' must be a non-empty list of {role, content}")
        return None
    out: list[Message] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"role", "content"}:
            c.add("schema", ("messages", i), "each message must be exactly {role, content}")
            continue
        role, content = item["role"], item["content"]
        if role not in ROLES:
            c.add("schema", ("messages", i, "role"), f"role must be one of {', '.join(ROLES)}")
            continue
        if not isinstance(content, str):
            c.add("schema", ("messages", i, "content"), "message content must be a string")
            continue
        out.append(Message(role, content))
    return tuple(out) if len(out) == len(raw) else None


def _evaluation(c: _Collector) -> Evaluation | None:
    raw = c.loaded.data.get("evaluation")
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != set(_EVAL_FIELDS):
        c.add(
            "schema", ("evaluation",), f"'evaluation' must have exactly: {', '.join(_EVAL_FIELDS)}"
        )
        return None
    thr = raw["threshold"]
    strs = [raw[k] for k in ("suite", "fingerprint", "evaluated_at", "evaluated_by")]
    if not all(isinstance(s, str) for s in strs) or not is_finite_score(thr):
        c.add("schema", ("evaluation",), "'evaluation' fields have the wrong types")
        return None
    c.real_date(("evaluation", "evaluated_at"), raw["evaluated_at"])
    return Evaluation(
        raw["suite"], float(thr), raw["fingerprint"], raw["evaluated_at"], raw["evaluated_by"]
    )


def build_version(
    path: str, loaded: Loaded, expect: tuple[str, str] | None
) -> tuple[PromptVersion | None, list[Problem]]:
    """A PromptVersion from a version file, and every problem found in it."""
    c = _Collector(path, loaded)
    data = loaded.data
    c.unknown(_VERSION_FIELDS)
    pid = c.string("prompt_id")
    ver = c.string("version")
    desc = c.string("description")
    author = c.string("author")
    created = c.time("created_at")
    if pid is not None and not is_valid_id(pid):
        c.add(
            "identifier",
            ("prompt_id",),
            f"invalid prompt id {pid!r}: lowercase letters and digits separated by '_' or '-'",
        )
    if ver is not None and not is_valid_version(ver):
        c.add(
            "version",
            ("version",),
            f"invalid version {ver!r}: use SemVer MAJOR.MINOR.PATCH[-pre], no 'v', no leading zeros, no '+build'",
        )
    if expect is not None:
        if pid is not None and pid != expect[0]:
            c.add(
                "path-mismatch",
                ("prompt_id",),
                f"prompt_id {pid!r} does not match its folder {expect[0]!r}",
            )
        if ver is not None and ver != expect[1]:
            c.add(
                "path-mismatch",
                ("version",),
                f"version {ver!r} does not match the file name {expect[1]!r}",
            )
    has_c, has_m = "content" in data, "messages" in data
    content: str | None = None
    messages: tuple[Message, ...] | None = None
    templates: list[Template | None] = []
    if has_c == has_m:
        c.add("schema", (), "give exactly one of 'content' or 'messages'")
    elif has_c:
        content = c.string("content")
        if content is not None:
            templates.append(_check_template(c, content, ("content",)))
    else:
        messages = _messages(c)
        for i, m in enumerate(messages or ()):
            templates.append(_check_template(c, m.content, ("messages", i, "content")))
    variables: tuple[str, ...] | None = None
    if "variables" in data:
        raw = data["variables"]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            c.add("schema", ("variables",), "'variables' must be a list of placeholder names")
        else:
            variables = tuple(raw)
            if templates and all(t is not None for t in templates):
                names = {n for t in templates if t is not None for n in t.fields}
                if set(variables) != names or len(set(variables)) != len(variables):
                    c.add(
                        "variables",
                        ("variables",),
                        f"variables {sorted(variables)} do not equal the template's placeholders {sorted(names)}; list each placeholder once",
                    )
    model = data.get("model")
    if model is not None and not isinstance(model, dict):
        c.add("schema", ("model",), "'model' must be a mapping of model settings")
        model = None
    # Evaluation writes these three; a hand-written version without them is untested.
    tested = data.get("tested", False)
    if not isinstance(tested, bool):
        hint = boolean_hint(tested)
        c.add(
            "schema",
            ("tested",),
            f"'tested' must be true or false, got {_type(tested)}" + (f"; {hint}" if hint else ""),
        )
        tested = False
    score = data.get("evaluation_score")
    if score is not None and not is_finite_score(score):
        c.add(
            "score",
            ("evaluation_score",),
            f"evaluation_score must be a finite number in 0..1 or null, got {score!r}",
        )
        score = None
    evaluation = _evaluation(c)
    if c.problems:
        return None, c.problems
    assert pid is not None and ver is not None
    v = PromptVersion(
        prompt_id=pid, version=ver, content=content, description=desc or "", author=author or "",
        created_at=created or "", tested=bool(tested), evaluation_score=None if score is None else float(score),
        messages=messages, variables=variables, model=model, evaluation=evaluation,
    )  # fmt: skip
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
    path: str, loaded: Loaded, expect: tuple[str, str] | None
) -> tuple[PromptDeployment | None, list[Problem]]:
    """A PromptDeployment from a pointer file ``expect`` = (environment, prompt_id)."""
    c = _Collector(path, loaded)
    c.unknown(_POINTER_FIELDS)
    pid = c.string("prompt_id")
    env = c.string("environment")
    ver = c.string("version")
    prev = c.string("previous_version", nullable=True)
    action = c.string("action")
    by = c.string("deployed_by")
    at = c.time("deployed_at")
    reason = c.string("reason", required=False, nullable=True)
    for key, value in (("prompt_id", pid), ("environment", env)):
        if value is not None and not is_valid_id(value):
            c.add("identifier", (key,), f"invalid {key} {value!r}")
    for key, value in (("version", ver), ("previous_version", prev)):
        if value is not None and not is_valid_version(value):
            c.add("version", (key,), f'invalid {key} {value!r}: use SemVer like "1.2.0"')
    if action is not None and action not in ACTIONS:
        c.add("schema", ("action",), f"action must be one of {', '.join(ACTIONS)}")
    if expect is not None:
        if env is not None and env != expect[0]:
            c.add(
                "path-mismatch",
                ("environment",),
                f"environment {env!r} does not match its folder {expect[0]!r}",
            )
        if pid is not None and pid != expect[1]:
            c.add(
                "path-mismatch",
                ("prompt_id",),
                f"prompt_id {pid!r} does not match the file name {expect[1]!r}",
            )
    if c.problems:
        return None, c.problems
    assert pid is not None and env is not None and ver is not None and action is not None
    return PromptDeployment(pid, ver, env, at or "", by or "", prev, action, reason), []


def build_settings(path: str, loaded: Loaded) -> tuple[Settings | None, list[Problem]]:
    """Settings from ``promptreg.yaml``."""
    c = _Collector(path, loaded)
    c.unknown({"environments"})
    raw = loaded.data.get("environments")
    if not isinstance(raw, dict) or not raw:
        c.add(
            "settings",
            ("environments",),
            "'environments' must be a non-empty mapping of environment name to policy",
        )
        return None, c.problems
    envs: list[EnvironmentPolicy] = []
    for name, pol in raw.items():
        where: tuple[str | int, ...] = ("environments", name)
        if not is_valid_id(name):
            c.add("identifier", where, f"invalid environment name {name!r}")
            continue
        pol = {} if pol is None else pol
        if not isinstance(pol, dict) or not set(pol) <= {
            "require_tested",
            "min_score",
            "promote_from",
        }:
            c.add("settings", where, "a policy takes require_tested, min_score and promote_from")
            continue
        req = pol.get("require_tested", True)
        ms = pol.get("min_score")
        pf = pol.get("promote_from")
        if not isinstance(req, bool):
            hint = boolean_hint(req)
            c.add(
                "settings",
                (*where, "require_tested"),
                "require_tested must be true or false" + (f"; {hint}" if hint else ""),
            )
        if ms is not None and not is_finite_score(ms):
            c.add("settings", (*where, "min_score"), "min_score must be a number in 0..1")
        if pf is not None and (not isinstance(pf, str) or pf not in raw or pf == name):
            c.add(
                "settings",
                (*where, "promote_from"),
                f"promote_from must name another configured environment, got {pf!r}",
            )
        envs.append(EnvironmentPolicy(name, req is True, None if ms is None else float(ms), pf))
    if c.problems:
        return None, c.problems
    return Settings(tuple(envs)), []
