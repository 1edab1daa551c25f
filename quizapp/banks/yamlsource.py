"""Safe YAML with line numbers.

PyYAML's C composer builds the node tree; we turn nodes into plain Python values
ourselves, so that

* only the plain YAML types come through (strings, numbers, booleans, null,
  timestamps, lists, mappings): any other tag, ``!!python/object`` above all, is
  reported and never constructed;
* every mapping key and list item keeps the line it was written on, so an error can
  point at the offending field rather than the top of the file;
* a key written twice is an error instead of a silent overwrite;
* alias bombs ("billion laughs") stop at a node budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # the C composer is ten times faster; the pure-Python one gives the same nodes
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

Loc = tuple[str | int, ...]

TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = {
    TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")
}
MAX_NODES = 1_000_000
MAX_DEPTH = 64
#: libyaml's composer recurses in C without a check, and crashes the process (a
#: segmentation fault) somewhere past 20,000 levels; a file that could nest deeper
#: than this is measured on the event stream, which does not recurse, first.
SAFE_TO_COMPOSE = 10_000


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, printed as ``path:line: field: message``."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        field, message = _one_line(self.field), _one_line(self.message)
        return f"{self.path}:{self.line}: {field}: {message}"


def _one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters escaped, so that a
    problem is always one line (a key may be ``"a\\nb"``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class Located:
    """A parsed document and the line of every key and list item in it."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    #: Locations whose YAML was refused (reported already, read as null).
    refused: set[Loc] = field(default_factory=set)

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest enclosing key or item."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(loc[:end])
            if line is not None:
                return line
        return 1

    def problem(self, loc: Loc, message: str, field: str | None = None) -> Problem:
        return Problem(
            self.path, self.line(loc), field or dotted(loc, self.data), message
        )


def dotted(loc: Loc, data: Any = None) -> str:
    """``("questions", 3, "choices", 1)`` as ``questions[relu-range].choices[1]``.

    A question is named by its id when it has one, since that is how instructors
    know it; other list items by their index, counted from 0.
    """
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            name = str(part)
            if isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
                ident = node.get("id") if isinstance(node, dict) else None
                if isinstance(ident, str) and ident:
                    name = ident
            else:
                node = None
            out += f"[{name}]"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(file)"


class YAMLProblem(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def load(path: str, text: str) -> tuple[Located | None, list[Problem]]:
    """Parse ``text`` (the contents of ``path``) into a :class:`Located` document."""
    deep = _too_deep(text)
    if deep is not None:
        message = f"nested more than {MAX_DEPTH} levels deep"
        return None, [Problem(path, deep, "(syntax)", message)]
    try:
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        context = exc.context or ""
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != mark.line:
            context += f" (from line {exc.context_mark.line + 1})"
        message = " ".join(part for part in (context, exc.problem) if part)
        return None, [Problem(path, line, "(syntax)", f"YAML syntax error: {message}")]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        message = f"YAML error: unacceptable character #x{exc.character:04x}: "
        return None, [Problem(path, line, "(syntax)", message + exc.reason)]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, "(syntax)", f"YAML error: {exc}")]
    if node is None:
        return None, [Problem(path, 1, "(file)", "the file is empty")]
    doc = Located(path, None)
    builder = _Builder(doc.lines)
    try:
        doc.data = builder.value(node, ())
    except YAMLProblem as exc:
        return None, [Problem(path, exc.line, "(syntax)", exc.message)]
    doc.refused = {loc for loc, _, _ in builder.problems}
    return doc, [
        Problem(path, line, dotted(loc, doc.data), msg)
        for loc, line, msg in builder.problems
    ]


def _too_deep(text: str) -> int | None:
    """The line where ``text`` nests more than MAX_DEPTH collections deep, when it
    could nest deeper than SAFE_TO_COMPOSE; None otherwise (the builder checks the
    depth of the rest).

    Each level of nesting takes a ``[`` or ``{``, or one more column of indentation,
    so a file with few of those and short lines cannot nest deep.
    """
    if len(text) <= SAFE_TO_COMPOSE:
        return None
    longest = max(map(len, text.splitlines()), default=0)
    if text.count("[") + text.count("{") + longest <= SAFE_TO_COMPOSE:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass  # reported by the composer
    return None


class _Builder:
    """Turns a composed node tree into Python values, recording lines."""

    def __init__(self, lines: dict[Loc, int]):
        self.lines = lines
        self.nodes = 0
        self.problems: list[tuple[Loc, int, str]] = []
        self.constructor = yaml.constructor.SafeConstructor()

    def value(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        self.nodes += 1
        line = node.start_mark.line + 1
        if self.nodes > MAX_NODES:
            raise YAMLProblem(
                line, "the document is too large (are aliases repeating it?)"
            )
        if depth > MAX_DEPTH:
            raise YAMLProblem(line, f"nested more than {MAX_DEPTH} levels deep")
        self.lines.setdefault(loc, line)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, loc)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != TAG + "seq":
                return self.refuse(node, loc)
            return [
                self.value(item, (*loc, i), depth + 1)
                for i, item in enumerate(node.value)
            ]
        if isinstance(node, yaml.MappingNode):
            if node.tag != TAG + "map":
                return self.refuse(node, loc)
            return self.mapping(node, loc, depth)
        raise YAMLProblem(line, "unexpected YAML node")  # pragma: no cover

    def mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == TAG + "merge":
                self.problems.append(
                    (loc, key_line, "merge keys (<<) are not supported")
                )
                continue
            if (
                not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag not in SCALAR_TAGS
            ):
                self.problems.append((loc, key_line, "a key must be a plain word"))
                continue
            key = str(key_node.value)
            if key in out:
                self.problems.append(
                    ((*loc, key), key_line, "this key is written twice")
                )
                continue
            self.lines[(*loc, key)] = key_line
            out[key] = self.value(value_node, (*loc, key), depth + 1)
        return out

    def scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        if node.tag == TAG + "str":
            return node.value
        if node.tag not in SCALAR_TAGS:
            return self.refuse(node, loc)
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            message = f"cannot read this value: {exc}"
        except (KeyError, AttributeError, TypeError):
            # An explicit tag on text it does not fit: PyYAML's constructors fail
            # in their own ways (!!bool maybe, !!timestamp never).
            message = f"cannot read {node.value!r} as {node.tag.replace(TAG, '!!')}"
        self.problems.append((loc, node.start_mark.line + 1, message))
        return None

    def refuse(self, node: yaml.Node, loc: Loc) -> None:
        tag = node.tag.replace(TAG, "!!")
        self.problems.append(
            (
                loc,
                node.start_mark.line + 1,
                f"the YAML tag {tag} is not allowed (plain YAML only)",
            )
        )
        return None
