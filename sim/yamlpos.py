"""Safe YAML loading that remembers the line and column of every value."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "Path",
    "Position",
    "PositionMap",
    "YamlSyntaxError",
    "load_yaml_file",
    "load_yaml_with_positions",
    "position_for",
]

Path = tuple[str | int, ...]
"""Location of a node: mapping keys as ``str``, sequence indices as ``int``; ``()`` is the root."""

Position = tuple[int, int]
"""1-based ``(line, column)``; columns count characters, not bytes."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"

# Paths reached through an alias are expanded (so errors inside an aliased
# structure still get a position) only while the map is smaller than this.
# It keeps "billion laughs" style documents from blowing up the position map;
# beyond the limit, position_for falls back to the alias itself.
_ALIAS_EXPANSION_LIMIT = 100_000


class YamlSyntaxError(ValueError):
    """A YAML document could not be read, parsed or safely constructed.

    ``line`` and ``column`` are 1-based and ``None`` when unknown. ``context``
    optionally describes the enclosing construct, for example the mapping
    being parsed when the problem was found, and is appended after ``"; "``.
    """

    def __init__(
        self,
        file: str,
        line: int | None,
        column: int | None,
        problem: str,
        context: str | None = None,
    ) -> None:
        super().__init__(file, line, column, problem, context)
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        self.context = context

    def __str__(self) -> str:
        message = f"{location(self.file, self.line, self.column)}: {self.problem}"
        if self.context:
            message += f"; {self.context}"
        return message


def location(file: str | None, line: int | None, column: int | None) -> str:
    """``file:line:column`` with whatever parts are known."""
    where = file or ""
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return where


class PositionMap(dict[Path, Position]):
    """Maps a :data:`Path` to the position of the node's *value*.

    For an entry ``key: value`` the recorded position is where the value
    starts. For a collection or scalar with an anchor or tag, that is the
    anchor or tag; an untagged block collection starts at its first item,
    usually on the line after the key; for an alias (``key: *anchor``) it is the alias
    itself; for an empty value (``key:``) it is just after the colon.

    :attr:`key_positions` additionally holds, for every mapping entry, the
    position of the key itself (the line of ``key:``). Entries pulled in by
    a merge key (``<<: *base``) point into the merged mapping, where they
    are actually written.
    """

    def __init__(self) -> None:
        super().__init__()
        self.key_positions: dict[Path, Position] = {}


@dataclass(frozen=True, slots=True)
class _Entry:
    """One effective entry of a mapping node, after merge keys are applied."""

    component: str
    key: Any
    key_text: str
    key_position: Position
    value: Node
    value_mark: Any


def _position(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1)


def _index_to_position(text: str, index: int) -> Position:
    """Convert a character index into a 1-based position using YAML line breaks."""
    line, column = 1, 1
    for i, char in enumerate(text[:index]):
        if char in "\n\x85\u2028\u2029" or (char == "\r" and text[i + 1 : i + 2] != "\n"):
            line, column = line + 1, 1
        elif char != "\ufeff":
            column += 1
    return (line, column)


class SpecSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader with merge keys (``<<``) as the YAML merge-key specification
    (yaml.org/type/merge.html) defines them: keys written in the mapping win over merged ones,
    and of a list of merged mappings, the first listed wins.

    PyYAML 6.0.4 changed its merge to keep the first occurrence of a key by object identity,
    which lets a later mapping in the list win for most keys; this is the behaviour of 6.0.3
    and earlier, kept so that a scenario means the same with any PyYAML release."""

    def flatten_mapping(self, node: MappingNode) -> None:
        merge: list[tuple[Node, Node]] = []
        index = 0
        while index < len(node.value):
            key_node, value_node = node.value[index]
            if key_node.tag == _MERGE_TAG:
                del node.value[index]
                if isinstance(value_node, MappingNode):
                    self.flatten_mapping(value_node)
                    merge.extend(value_node.value)
                elif isinstance(value_node, SequenceNode):
                    sources = []
                    for subnode in value_node.value:
                        if not isinstance(subnode, MappingNode):
                            raise yaml.constructor.ConstructorError(
                                "while constructing a mapping",
                                node.start_mark,
                                f"expected a mapping for merging, but found {subnode.id}",
                                subnode.start_mark,
                            )
                        self.flatten_mapping(subnode)
                        sources.append(subnode.value)
                    for value in reversed(sources):  # the first listed is applied last: wins
                        merge.extend(value)
                else:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        "expected a mapping or list of mappings for merging, but found "
                        f"{value_node.id}",
                        value_node.start_mark,
                    )
            elif key_node.tag == _VALUE_TAG:
                key_node.tag = "tag:yaml.org,2002:str"
                index += 1
            else:
                index += 1
        if merge:
            node.value = merge + node.value


class _PositionLoader(SpecSafeLoader):
    """A SafeLoader that also records where each alias is used.

    Composition normally returns the anchored node itself for an alias, which
    loses the alias's own position. The marks are stored by
    ``(id(parent), index in parent, is_key)``. Construction is SafeLoader's,
    unchanged, except that plain ``ValueError``s from scalar constructors
    (such as ``2024-02-30`` or ``!!int abc``) are turned into marked errors.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_marks: dict[tuple[int, int, bool], Any] = {}
        self.aliased_ids: set[int] = set()

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        node: Node = super().compose_node(parent, index)
        self.aliased_ids.add(id(node))
        if parent is not None:
            is_key = isinstance(parent, MappingNode) and index is None
            self.alias_marks[(id(parent), len(parent.value), is_key)] = mark
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid value: {exc}", node.start_mark
            ) from exc


class _Walker:
    """Walks a composed node tree and records the position of every path."""

    def __init__(self, loader: _PositionLoader, file: str) -> None:
        self._alias_marks = loader.alias_marks
        self._aliased_ids = loader.aliased_ids
        self._file = file
        # A second loader constructs mapping keys, so that the main loader's
        # construction state stays untouched until the whole document is built.
        self._key_loader = _PositionLoader("")
        self._entries: dict[int, list[_Entry]] = {}
        self._merging: set[int] = set()

    def close(self) -> None:
        self._key_loader.dispose()

    def _error(self, mark: Any, problem: str) -> YamlSyntaxError:
        line, column = _position(mark)
        return YamlSyntaxError(self._file, line, column, problem)

    def walk(self, root: Node) -> PositionMap:
        positions = PositionMap()
        positions[()] = _position(root.start_mark)
        stack: list[tuple[Node, Path, frozenset[int]]] = [(root, (), frozenset())]
        while stack:
            node, path, ancestors = stack.pop()
            if id(node) in self._aliased_ids:
                ancestors = ancestors | {id(node)}
            children: list[tuple[str | int, Node, Any]] = []
            if isinstance(node, SequenceNode):
                for index, child in enumerate(node.value):
                    children.append((index, child, self._alias_marks.get((id(node), index, False))))
            elif isinstance(node, MappingNode):
                for entry in self.entries(node):
                    positions.key_positions[(*path, entry.component)] = entry.key_position
                    children.append((entry.component, entry.value, entry.value_mark))
            pending: list[tuple[Node, Path, frozenset[int]]] = []
            for component, child, alias_mark in children:
                child_path = (*path, component)
                positions[child_path] = _position(alias_mark or child.start_mark)
                if not isinstance(child, CollectionNode) or id(child) in ancestors:
                    continue  # a scalar, or an alias back to an enclosing node
                if alias_mark is not None and len(positions) >= _ALIAS_EXPANSION_LIMIT:
                    continue
                pending.append((child, child_path, ancestors))
            stack.extend(reversed(pending))
        return positions

    def entries(self, node: MappingNode) -> list[_Entry]:
        """Effective entries of ``node``, exactly as SafeLoader's merge logic picks them."""
        cached = self._entries.get(id(node))
        if cached is not None:
            return cached
        if id(node) in self._merging:
            raise self._error(node.start_mark, "recursive merge: a mapping merges itself")
        self._merging.add(id(node))
        merged: list[_Entry] = []
        explicit: list[_Entry] = []
        by_key: dict[Any, _Entry] = {}
        by_component: dict[str, _Entry] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merge_sources(value_node))
                continue
            key_mark = self._alias_marks.get((id(node), index, True)) or key_node.start_mark
            if not isinstance(key_node, ScalarNode):
                raise self._error(
                    key_mark, "mapping keys must be scalars, not sequences or mappings"
                )
            key = self._construct_key(key_node)
            entry = _Entry(
                component=key if isinstance(key, str) else str(key),
                key=key,
                key_text=key_node.value,
                key_position=_position(key_mark),
                value=value_node,
                value_mark=self._alias_marks.get((id(node), index, False)),
            )
            first = by_key.get(key) or by_component.get(entry.component)
            if first is not None:
                raise self._duplicate(first, entry, key_mark)
            by_key[key] = entry
            by_component[entry.component] = entry
            explicit.append(entry)
        # Later entries win: explicit keys over merged ones, as in SafeLoader.
        effective: dict[str, _Entry] = {}
        for entry in (*merged, *explicit):
            effective.pop(entry.component, None)
            effective[entry.component] = entry
        result = list(effective.values())
        self._merging.discard(id(node))
        self._entries[id(node)] = result
        return result

    def _merge_sources(self, value_node: Node) -> list[_Entry]:
        if isinstance(value_node, MappingNode):
            return self.entries(value_node)
        if isinstance(value_node, SequenceNode):
            merged: list[_Entry] = []
            # The first mapping listed takes precedence, so it is applied last.
            for source in reversed(value_node.value):
                if not isinstance(source, MappingNode):
                    raise self._error(
                        source.start_mark,
                        f"expected a mapping for merging, but found {source.id}",
                    )
                merged.extend(self.entries(source))
            return merged
        raise self._error(
            value_node.start_mark,
            f"expected a mapping or list of mappings for merging, but found {value_node.id}",
        )

    def _construct_key(self, key_node: ScalarNode) -> Any:
        if key_node.tag == _VALUE_TAG:
            return key_node.value  # SafeLoader turns the '=' key into a plain string
        return self._key_loader.construct_object(key_node, deep=True)

    def _duplicate(self, first: _Entry, second: _Entry, mark: Any) -> YamlSyntaxError:
        first_line, second_line = first.key_position[0], second.key_position[0]
        problem = (
            f"duplicate key {second.key_text!r}: first defined on line {first_line}, "
            f"defined again on line {second_line}"
        )
        if first.key_text != second.key_text:
            problem += f" (the first one is written {first.key_text!r})"
        return self._error(mark, problem)


def _convert_yaml_error(exc: yaml.YAMLError, text: str, file: str) -> YamlSyntaxError:
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        at = _index_to_position(text, exc.position)
        return YamlSyntaxError(
            file, at[0], at[1], f"unacceptable character #x{code:04x}: {exc.reason}"
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line: int | None
        column: int | None
        line, column = _position(mark) if mark is not None else (None, None)
        problem = exc.problem or exc.context or "invalid YAML"
        context = None
        if exc.problem and exc.context:
            context = exc.context
            if exc.context_mark is not None and exc.context_mark is not mark:
                context_line, context_column = _position(exc.context_mark)
                context += f" at line {context_line}, column {context_column}"
        return YamlSyntaxError(file, line, column, problem, context)
    return YamlSyntaxError(file, None, None, str(exc) or type(exc).__name__)


def load_yaml_with_positions(text: str, file: str = "<string>") -> tuple[Any, PositionMap]:
    """Parse one YAML document safely and return ``(data, positions)``.

    ``data`` is exactly what ``yaml.safe_load(text)`` returns (including
    anchors, aliases, merge keys and ``datetime.date`` values); only the
    safe tags are accepted, so ``!!python/object`` and friends are errors.
    An empty document gives ``(None, PositionMap())``.

    ``positions`` maps each path to the position of its value; see
    :class:`PositionMap` for the exact rules and for the key positions. Path
    components of mapping keys are the keys themselves when they are strings
    and ``str(key)`` for other scalar keys (``1: x`` gives ``"1"``, ``true: x``
    gives ``"True"``); the data keeps the original keys. Sequence and mapping
    keys are rejected, as ``yaml.safe_load`` cannot build them either.

    Unlike ``yaml.safe_load``, duplicate keys in one mapping are an error
    (including keys that differ only in spelling, such as ``1`` and ``0x1``,
    or whose path components collide, such as ``1`` and ``"1"``). Keys that
    come from a merge key may be overridden as usual.

    Raises :class:`YamlSyntaxError` for any syntax, tag or construction error,
    with the 1-based line and column where the problem was found.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected the YAML text as str, got {type(text).__name__}")
    loader: _PositionLoader | None = None
    walker: _Walker | None = None
    try:
        loader = _PositionLoader(text)
        root = loader.get_single_node()
        if root is None:
            return None, PositionMap()
        walker = _Walker(loader, file)
        positions = walker.walk(root)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise _convert_yaml_error(exc, text, file) from exc
    except RecursionError as exc:
        raise YamlSyntaxError(file, None, None, "the document is nested too deeply") from exc
    finally:
        if walker is not None:
            walker.close()
        if loader is not None:
            loader.dispose()
    return data, positions


def position_for(positions: Mapping[Path, Position], loc: Sequence[str | int]) -> Position | None:
    """Position of the longest prefix of ``loc`` (e.g. a pydantic error loc) in ``positions``.

    A loc may go deeper than the document, for instance into a missing field;
    the position of the deepest existing parent is returned then. An integer
    component that is not a sequence index is also tried as a string key,
    because pydantic reports ``dict[int, ...]`` keys as ints while the YAML
    path holds ``str(key)``. Returns ``None`` if not even the root is known
    (an empty document).
    """
    path: Path = ()
    best = positions.get(path)
    for part in loc:
        candidate: Path = (*path, part)
        if candidate not in positions and isinstance(part, int) and not isinstance(part, bool):
            candidate = (*path, str(part))
        found = positions.get(candidate)
        if found is None:
            break
        path, best = candidate, found
    return best


def load_yaml_file(path: str | os.PathLike[str]) -> tuple[Any, PositionMap]:
    """Read a UTF-8 YAML file; return ``(data, positions)`` like :func:`load_yaml_with_positions`.

    A missing file raises the usual :class:`FileNotFoundError` (which carries
    the file name); bytes that are not valid UTF-8 raise
    :class:`YamlSyntaxError` pointing at the offending byte's line and column.
    """
    file = os.fsdecode(path)
    with open(file, "rb") as stream:
        raw = stream.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise YamlSyntaxError(
            file, line, column, f"not valid UTF-8: {exc.reason} (byte 0x{raw[exc.start]:02x})"
        ) from exc
    return load_yaml_with_positions(text, file)
