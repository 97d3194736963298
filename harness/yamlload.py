"""A safe YAML loader for scenario files that remembers line numbers and knows the matcher tags.

Mappings load as :class:`LineDict` and sequences as :class:`LineList`; both remember the line
of the node itself and of each key/item (1-based), so an error found later (JSON Schema,
unknown operationId) can name ``file:line``. Tags build :mod:`harness.matchers` objects.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from harness import matchers


class LineDict(dict):
    """A dict that knows the line of itself (``line``) and of each key (``lines[key]``)."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LineList(list):
    """A list that knows the line of itself (``line``) and of each item (``lines[index]``)."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []


class YamlFormatError(Exception):
    """A YAML problem with its 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Loader(yaml.SafeLoader):
    pass


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = _line(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise YamlFormatError(_line(key_node), "a mapping key must be a plain value") from None
        if key in result:
            raise YamlFormatError(_line(key_node), f"duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = _line(key_node)
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = _line(node)
    result.lines = [_line(child) for child in node.value]
    return result


def _scalar_tag(build: Any) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise YamlFormatError(_line(node), f"{node.tag} takes a plain value, not a collection")
        try:
            return build(loader.construct_scalar(node))
        except (ValueError, re.error) as exc:
            raise YamlFormatError(_line(node), f"{node.tag}: {exc}") from None

    return construct


def _no_argument(cls: type) -> Any:
    def build(value: str) -> Any:
        if value.strip():
            raise ValueError(f"takes no argument, got {value!r}")
        return cls()

    return build


def _regex(value: str) -> matchers.Regex:
    if not value:
        raise ValueError("needs a pattern, e.g. !regex 'VERZOEK-\\d{4}-\\d{10}'")
    return matchers.Regex(value)


def _length(value: str) -> matchers.Length:
    if not value.strip().isdigit():
        raise ValueError(f"needs a whole number, got {value!r}")
    return matchers.Length(int(value))


def _item_list(cls: type, tag: str) -> Any:
    """The constructor of a tag over a list of matchers (``!contains``, ``!not_contains``)."""

    def construct(loader: _Loader, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            raise YamlFormatError(_line(node), f"{tag} takes a list, e.g. {tag} [{{code: unique}}]")
        return cls(tuple(loader.construct_object(c, deep=True) for c in node.value))

    return construct


def _not(loader: _Loader, node: yaml.Node) -> matchers.Not:
    if isinstance(node, yaml.ScalarNode):
        return matchers.Not(loader.construct_scalar(node))
    return matchers.Not(loader.construct_object(node, deep=True))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("!anyuuid", _scalar_tag(_no_argument(matchers.AnyUuid)))
_Loader.add_constructor("!anyurl", _scalar_tag(_no_argument(matchers.AnyUrl)))
_Loader.add_constructor("!absent", _scalar_tag(_no_argument(matchers.Absent)))
_Loader.add_constructor("!present", _scalar_tag(_no_argument(matchers.Present)))
_Loader.add_constructor("!regex", _scalar_tag(_regex))
_Loader.add_constructor("!type", _scalar_tag(lambda v: matchers.JsonType(v.strip())))
_Loader.add_constructor("!len", _scalar_tag(_length))
_Loader.add_constructor("!contains", _item_list(matchers.Contains, "!contains"))
_Loader.add_constructor("!not_contains", _item_list(matchers.NotContains, "!not_contains"))
_Loader.add_constructor("!not", _not)


def load(text: str) -> Any:
    """Parse one YAML document; raises :class:`YamlFormatError` with the line of any problem."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except YamlFormatError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        if "could not determine a constructor" in str(exc):
            tag = str(exc).split("tag '")[-1].split("'")[0]
            problem = (
                f"unknown tag {tag}; known: !anyuuid !anyurl !regex !type !absent !present "
                "!contains !not_contains !not !len"
            )
        source_line = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
        if re.search(r"!(anyuuid|anyurl|absent|present)[,}\]]", source_line):
            problem += (
                " (inside {...} or [...] put a space after a tag without argument:"
                " `!anyurl ,` not `!anyurl,`)"
            )
        raise YamlFormatError(line, problem) from None
    except yaml.YAMLError as exc:
        raise YamlFormatError(1, str(exc)) from None


def line_of(document: Any, path: list[Any] | tuple[Any, ...]) -> int:
    """The line of the deepest node along ``path`` (keys and indices) that has one."""
    node, line = document, getattr(document, "line", 1) or 1
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lines[part] if part < len(node.lines) else line
            node = node[part]
        else:
            break
    return line
