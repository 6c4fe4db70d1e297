"""schemas/bundle.schema.json: a valid Draft 7 schema, restating the version file's field
rules, applied alike by jsonschema (tools) and the runtime's interpreter (the reader)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft7Validator

from registry.schema.shapes import is_valid_kind
from registry.schema.validate import load_schema, runtime_schema_errors, schema_errors
from tests.test_bundle_serve import bundle_bytes

SHARED = ("version", "description", "author", "created_at", "evaluation_score")


def _entry_schema() -> dict[str, Any]:
    entry: dict[str, Any] = load_schema("bundle")["properties"]["prompts"]["additionalProperties"]
    return entry


def test_the_bundle_schema_is_valid_draft7() -> None:
    Draft7Validator.check_schema(load_schema("bundle"))


@pytest.mark.parametrize("field", SHARED)
def test_an_entry_field_has_the_rules_of_the_version_file(field: str) -> None:
    ours = dict(_entry_schema()["properties"][field])
    theirs = dict(load_schema("prompt-version")["properties"][field])
    ours.pop("description")
    theirs.pop("description")
    assert ours == theirs


def test_the_nullable_fields_keep_the_version_files_rules_for_a_value() -> None:
    version = load_schema("prompt-version")["properties"]
    for field in ("content", "messages", "variables", "model", "evaluation"):
        ours = {k: v for k, v in _entry_schema()["properties"][field].items() if k != "type"}
        theirs = {k: v for k, v in version[field].items() if k != "type"}
        ours.pop("description")
        theirs.pop("description")
        if field == "evaluation":  # the fingerprint's format moves with the evaluation code
            ours["properties"] = {k: v for k, v in ours["properties"].items() if k != "fingerprint"}
            theirs["properties"] = {
                k: v for k, v in theirs["properties"].items() if k != "fingerprint"
            }
        assert ours == theirs, field
        assert _entry_schema()["properties"][field]["type"] == [version[field]["type"], "null"]


def _mutations() -> list[Any]:
    good = json.loads(bundle_bytes("1.0.0"))
    out: list[Any] = [good, [], {}, dict(good, extra=1), dict(good, commit="abc")]
    for field, value in [
        ("content", None), ("messages", []), ("messages", [{"role": "robot", "content": "x"}]),
        ("variables", ["1bad"]), ("tested", "yes"), ("evaluation_score", 1.5),
        ("version", "v1"), ("fingerprint", "md5:x"), ("model", []),
    ]:  # fmt: skip
        doc = json.loads(bundle_bytes("1.0.0"))
        doc["prompts"]["alpha"][field] = value
        out.append(doc)
    doc = json.loads(bundle_bytes("1.0.0"))
    del doc["prompts"]["beta"]["author"]
    out.append(doc)
    return out


@pytest.mark.parametrize("doc", _mutations())
def test_jsonschema_and_the_runtime_agree(doc: Any) -> None:
    tools = schema_errors("bundle", doc)
    assert (tools == []) == is_valid_kind("bundle", doc)
    assert set(tools) == set(runtime_schema_errors("bundle", doc))


def test_only_the_unmutated_document_is_valid() -> None:
    assert [is_valid_kind("bundle", d) for d in _mutations()] == [True] + [False] * (
        len(_mutations()) - 1
    )
