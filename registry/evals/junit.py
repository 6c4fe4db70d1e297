"""``eval --junit-xml FILE``: an evaluation as a JUnit XML report, so CI systems (GitHub,
GitLab, Jenkins, Azure) show each case. One ``<testsuite>`` per run, one ``<testcase>`` per
case, in suite order; a failed assertion is a ``<failure>``, a case whose render or target
failed an ``<error>``. Written with xml.etree, atomically: the file is whole or untouched."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from registry.errors import WriteError
from registry.evals.results import CaseResult, EvalResult

# XML 1.0 cannot carry most control characters, not even escaped; a hook's message may.
_BANNED = {c: "\ufffd" for c in range(32) if chr(c) not in "\t\n\r"}


def _text(value: str) -> str:
    return value.translate(_BANNED)


def _testcase(res: EvalResult, case: CaseResult) -> ET.Element:
    el = ET.Element(
        "testcase",
        name=_text(case.name),
        classname=f"{res.prompt_id}.{res.version}",
        time=f"{case.seconds:.3f}",
    )
    if case.error is not None:
        err = ET.SubElement(el, "error", message=_text(case.error), type="case-error")
        err.text = _text(case.error)
    elif not case.passed:
        failed = [a for a in case.assertions if not a.passed]
        lines = [f"{a.type}: {a.message} (score {a.score:g})" for a in failed]
        summary = lines[0] if len(lines) == 1 else f"{len(lines)} assertions failed"
        if not failed:
            summary = f"the case scored {case.score:g}"
        fail = ET.SubElement(el, "failure", message=_text(summary), type="assertion")
        fail.text = _text("\n".join(lines) or summary)
    return el


def junit_tree(res: EvalResult) -> ET.ElementTree:
    """The report of ``res`` as an element tree rooted at ``<testsuite>``."""
    errors = sum(1 for c in res.cases if c.error is not None)
    failures = sum(1 for c in res.cases if c.error is None and not c.passed)
    suite = ET.Element(
        "testsuite",
        name=f"{res.prompt_id} {res.version}",
        tests=str(len(res.cases)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{sum(c.seconds for c in res.cases):.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("suite", res.suite),
        ("score", f"{res.score:g}"),
        ("threshold", f"{res.threshold:g}"),
        ("passed", "true" if res.passed else "false"),
    ):
        ET.SubElement(props, "property", name=name, value=_text(value))
    suite.extend(_testcase(res, c) for c in res.cases)
    return ET.ElementTree(suite)


def write_junit(res: EvalResult, path: Path) -> None:
    """Write the report to ``path`` atomically (a temporary file beside it, then a rename);
    raises WriteError naming the file when it cannot be written."""
    tree = junit_tree(res)
    ET.indent(tree)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"{path}: cannot write the JUnit report: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            tree.write(out, encoding="utf-8", xml_declaration=True)
            out.write(b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for the CI to read
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise WriteError(f"{path}: cannot write the JUnit report: {exc.strerror or exc}") from None
