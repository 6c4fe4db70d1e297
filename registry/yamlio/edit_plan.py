"""Where the evaluation edit goes: text positions from the parser's marks, the scalars it
writes, and the planner that turns the desired fields into text edits (``edit.py`` applies
and verifies them)."""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from registry.errors import YamlEditError

# What PyYAML counts as a line break; positions below are character offsets into the text.
_BREAKS = "\r\n\x85\u2028\u2029"
_BLOCK_STYLES = ("|", ">")

Edit = tuple[int, int, str]  # replace text[start:end] with the string


# --- scalars ------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """YAML text that every loader of promptreg reads back as exactly ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text:
            # YAML 1.1 reads 1e-07 as a string; a float needs the dot.
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    return _quote(str(value))


def _quote(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 0x20 <= code <= 0x7E or (
            (0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000)
            and ch not in "\u2028\u2029\ufeff"
        ):
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


# --- positions ----------------------------------------------------------------------------


def _line_end(text: str, i: int) -> int:
    """The offset just past the line break that ends the line holding offset ``i``."""
    n = len(text)
    while i < n and text[i] not in _BREAKS:
        i += 1
    if i >= n:
        return n
    return i + 2 if text.startswith("\r\n", i) else i + 1


def _strip_break(text: str, end: int) -> int:
    """``end`` moved back over the line break just before it, if any."""
    if text.endswith("\r\n", 0, end):
        return end - 2
    if end > 0 and text[end - 1] in _BREAKS:
        return end - 1
    return end


def _last_char(text: str, node: Node) -> int:
    """Offset of the last character that belongs to ``node``."""
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _last_char(text, last[1] if isinstance(node, MappingNode) else last)
    end: int = node.end_mark.index
    if isinstance(node, ScalarNode) and node.style in _BLOCK_STYLES:
        # A block scalar's end mark sits after its trailing blank lines, possibly after the
        # indentation of the next line: its last character is the break before that.
        i = end - 1
        while i > node.start_mark.index and text[i] == " ":
            i -= 1
        return i
    return max(end - 1, 0)


def _is_inline(node: Node) -> bool:
    """True when the node is written within its own line span with nothing after it but a
    comment: a plain or quoted scalar or a flow collection."""
    if isinstance(node, ScalarNode):
        return node.style not in _BLOCK_STYLES
    return isinstance(node, MappingNode | SequenceNode) and bool(node.flow_style)


def _same_shape(v: MappingNode, old: Any, value: dict[str, Any]) -> bool:
    """A block mapping with exactly the new keys and one-line values: edit values in place,
    keeping the comments around them."""
    return (
        not v.flow_style
        and isinstance(old, dict)
        and set(old) == set(value)
        and all(isinstance(cv, ScalarNode) and _is_inline(cv) for _, cv in v.value)
    )


class Planner:
    """Works out the text edits that set the evaluation fields of one parsed file."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.nl = "\r\n" if "\r\n" in text[: _line_end(text, 0)] else "\n"
        self.end_the_last_line = False

    def plan(self, root: Node | None, desired: dict[str, Any], old: dict[str, Any]) -> list[Edit]:
        if not isinstance(root, MappingNode) or root.flow_style or not root.value:
            raise YamlEditError(
                "the fields are not written one per line (a flow mapping {...});"
                " rewrite the file as 'key: value' lines",
                self.path,
                1,
            )
        entries = {k.value: (k, v) for k, v in root.value if isinstance(k, ScalarNode)}
        column = root.value[0][0].start_mark.column
        step = self._indent_step(root, column)
        edits: list[Edit] = []
        appended: list[str] = []
        for key, value in desired.items():
            if key in entries:
                if not same(old[key], value):
                    k, v = entries[key]
                    edits.extend(self._set(k, v, value, old[key], step))
            elif value is not None or key == "tested":
                appended.append(self._entry(key, value, column, step))
        if appended:
            edits.append(self._append(_last_char(self.text, root), column, "".join(appended)))
        if self.end_the_last_line:  # once, before anything inserted at the very end
            edits.insert(0, (len(self.text), len(self.text), self.nl))
        return edits

    def _append(self, offset: int, column: int, block: str) -> Edit:
        """Insert new fields after the last one, and after the indented comment lines that
        close its value, so a commented-out nested line stays with its mapping."""
        text = self.text
        last = offset
        at = _line_end(text, offset)
        while at < len(text):
            line = text[at : _strip_break(text, _line_end(text, at))]
            body = line.lstrip(" ")
            if not body.startswith("#") or len(line) - len(body) <= column:
                break
            last = at
            at = _line_end(text, at)
        return self._insert_after(last, block)

    def _indent_step(self, root: MappingNode, column: int) -> int:
        """How far this file indents a nested mapping (2 unless it shows otherwise)."""
        for _, v in root.value:
            if isinstance(v, MappingNode) and not v.flow_style and v.value:
                step = int(v.value[0][0].start_mark.column) - column
                if step > 0:
                    return step
        return 2

    def _entry(self, key: str, value: Any, column: int, step: int) -> str:
        pad = " " * column
        if not isinstance(value, dict):
            return f"{pad}{key}: {_scalar(value)}{self.nl}"
        return f"{pad}{key}:{self.nl}" + "".join(
            self._entry(k, v, column + step, step) for k, v in value.items()
        )

    def _insert_after(self, offset: int, block: str) -> Edit:
        """Insert ``block`` (whole lines) after the line holding ``offset``."""
        at = _line_end(self.text, offset)
        if at == len(self.text) and (at == 0 or self.text[at - 1] not in _BREAKS):
            self.end_the_last_line = True
        return (at, at, block)

    def _set(self, k: Node, v: Node, value: Any, old: Any, step: int) -> list[Edit]:
        text = self.text
        if isinstance(value, dict):
            if isinstance(v, MappingNode) and _same_shape(v, old, value):
                return [
                    self._replace_scalar(cv, _scalar(value[ck.value]))
                    for ck, cv in v.value
                    if not same(old[ck.value], value[ck.value])
                ]
            # Keep the key line (and a comment on it), put the mapping on the lines below.
            end = (
                v.end_mark.index
                if _is_inline(v)
                else _strip_break(text, _line_end(text, _last_char(text, v)))
            )
            column = k.start_mark.column
            lines = "".join(self._entry(ck, cv, column + step, step) for ck, cv in value.items())
            return [(k.end_mark.index, end, ":"), self._insert_after(max(end - 1, 0), lines)]
        if isinstance(v, ScalarNode) and _is_inline(v):
            return [self._replace_scalar(v, _scalar(value))]
        if _is_inline(v):
            return [(v.start_mark.index, v.end_mark.index, _scalar(value))]
        end = _strip_break(text, _line_end(text, _last_char(text, v)))
        return [(k.end_mark.index, end, ": " + _scalar(value))]

    @staticmethod
    def _replace_scalar(v: Node, new: str) -> Edit:
        start, end = v.start_mark.index, v.end_mark.index
        if start == end:  # an empty value right after "key:"
            new = " " + new
        return (start, end, new)


# --- comparison ---------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal with types: True is not 1, "1.0" is not 1.0; 1 and 1.0 are the same number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
