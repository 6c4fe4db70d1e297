"""The deterministic YAML writer for the files promptreg creates: key order kept, no aliases."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import yaml

from registry.yamlio.scalars import plain_kind

__all__ = ["dump_yaml", "modeline"]

_STR_TAG = "tag:yaml.org,2002:str"
_DIGITS = frozenset("0123456789")
# Characters YAML 1.1 treats as line breaks: inside a block scalar they would come back as "\n".
_ODD_BREAKS = re.compile("[\x85\u2028\u2029\r]")


# YAML 1.1 booleans that PyYAML's resolver leaves out but other YAML 1.1 readers honour.
_YAML11_SHORT_BOOLS = frozenset({"y", "Y", "n", "N"})


def _reads_as_other_type(value: str) -> bool:
    """Whether plain ``value`` is something other than text to a YAML reader: by the YAML 1.2
    core schema promptreg reads, or by YAML 1.1 (yes/no/on/off, "1_000", timestamps), so a
    file promptreg writes means the same to older tools."""
    if plain_kind(value) is not None or value in _YAML11_SHORT_BOOLS:
        return True
    candidates = yaml.resolver.Resolver.yaml_implicit_resolvers.get(value[:1], ())
    return any(rx.match(value) for _tag, rx in candidates)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if _ODD_BREAKS.search(value):
        style = '"'
    elif "\n" in value:
        # The emitter falls back to double quotes when the text cannot be a block
        # (trailing spaces, tabs, control characters).
        style = "|"
    elif value[:1] in _DIGITS or _reads_as_other_type(value):
        # Text that YAML would read as another type ("yes", "null", "1.10", "-.5", a timestamp) and
        # anything starting with a digit (versions) is quoted, so a hand edit copying the line
        # keeps it a string.
        style = '"'
    return dumper.represent_scalar(_STR_TAG, value, style=style)


def _never_alias(dumper: yaml.SafeDumper, data: Any) -> bool:
    return True


def _dumper_class(base: type[yaml.SafeDumper]) -> type[yaml.SafeDumper]:
    """A subclass of ``base`` (SafeDumper or its C twin) in promptreg's style, never aliasing."""
    namespace = {"ignore_aliases": _never_alias}
    dumper = cast("type[yaml.SafeDumper]", type("PromptregDumper", (base,), namespace))
    dumper.add_representer(str, _represent_str)
    return dumper


_DUMPER = _dumper_class(getattr(yaml, "CSafeDumper", yaml.SafeDumper))


def _plain(value: Any, where: str) -> Any:
    """Copy ``value`` into plain dicts, lists and scalars; refuse what YAML cannot round-trip."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r} is not a string")
            out[str(k)] = _plain(v, f"{where}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where}: cannot write a {type(value).__name__} to YAML")


def dump_yaml(data: Mapping[str, Any], schema_url: str | None = None) -> str:
    """Render ``data`` as the YAML promptreg writes: key order kept, deterministic, no aliases."""
    body = yaml.dump(
        _plain(data, "data"),
        Dumper=_DUMPER,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 30,  # never fold long lines
        indent=2,
    )
    if schema_url is None:
        return body
    return modeline(schema_url) + body


def modeline(schema: str) -> str:
    """The first line that points the YAML language server at ``schema`` (a path relative to
    the file, or a URL)."""
    if any(ch in schema for ch in "\r\n\x85\u2028\u2029"):
        raise ValueError(f"schema URL contains a line break: {schema!r}")
    return f"# yaml-language-server: $schema={schema}\n"
