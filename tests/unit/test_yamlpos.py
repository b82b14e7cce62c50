"""Tests for sim.yamlpos: safe YAML loading with line/column positions."""

from __future__ import annotations

import datetime as dt
import pickle
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sim.yamlpos import (
    PositionMap,
    SpecSafeLoader,
    YamlSyntaxError,
    load_yaml_file,
    load_yaml_with_positions,
    position_for,
)


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def data_paths(data: Any, path: tuple[str | int, ...] = ()) -> set[tuple[str | int, ...]]:
    """All paths of a plain (tree-shaped, string-keyed) data structure."""
    paths = {path}
    if isinstance(data, dict):
        for key, value in data.items():
            paths |= data_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            paths |= data_paths(value, (*path, index))
    return paths


def assert_same_as_safe_load(text: str) -> Any:
    # SafeLoader with merge keys as the YAML specification defines them (PyYAML 6.0.4's
    # own merge lets a later merged mapping win; see SpecSafeLoader).
    expected = yaml.load(text, Loader=SpecSafeLoader)
    data, _ = load_yaml_with_positions(text)
    assert data == expected
    assert repr(data) == repr(expected)  # same types too: True vs 1, 1.0 vs 1, date vs str
    return data


SCENARIO = doc(
    """
    name: Baseline
    province:
      code: 44
      districts: [Đồng Hới, Ba Đồn]
    units:
      - id: party-committee
        seats: 3
      - id: people-council
        members:
        - a
        - b
    """
)


# --- positions ---------------------------------------------------------------


def test_positions_of_nested_mappings_and_sequences() -> None:
    data, positions = load_yaml_with_positions(SCENARIO)
    assert data["units"][1]["members"] == ["a", "b"]
    assert dict(positions) == {
        (): (1, 1),
        ("name",): (1, 7),
        ("province",): (3, 3),  # a block mapping starts at its first key
        ("province", "code"): (3, 9),
        ("province", "districts"): (4, 14),
        ("province", "districts", 0): (4, 15),
        ("province", "districts", 1): (4, 25),
        ("units",): (6, 3),
        ("units", 0): (6, 5),
        ("units", 0, "id"): (6, 9),
        ("units", 0, "seats"): (7, 12),
        ("units", 1): (8, 5),
        ("units", 1, "id"): (8, 9),
        ("units", 1, "members"): (10, 5),  # indentless sequence
        ("units", 1, "members", 0): (10, 7),
        ("units", 1, "members", 1): (11, 7),
    }


def test_key_positions_point_at_the_keys() -> None:
    _, positions = load_yaml_with_positions(SCENARIO)
    assert positions.key_positions == {
        ("name",): (1, 1),
        ("province",): (2, 1),
        ("province", "code"): (3, 3),
        ("province", "districts"): (4, 3),
        ("units",): (5, 1),
        ("units", 0, "id"): (6, 5),
        ("units", 0, "seats"): (7, 5),
        ("units", 1, "id"): (8, 5),
        ("units", 1, "members"): (9, 5),
    }


def test_returned_map_is_a_plain_dict_subclass() -> None:
    _, positions = load_yaml_with_positions("a: 1\n")
    assert isinstance(positions, PositionMap)
    assert isinstance(positions, dict)
    assert positions == {(): (1, 1), ("a",): (1, 4)}


def test_empty_value_and_scalar_root() -> None:
    data, positions = load_yaml_with_positions("a:\nb: 2\n")
    assert data == {"a": None, "b": 2}
    assert positions[("a",)][0] == 1
    data, positions = load_yaml_with_positions("\n\n  42\n")
    assert data == 42
    assert positions == {(): (3, 3)}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_document_returns_none(text: str) -> None:
    data, positions = load_yaml_with_positions(text)
    assert data is None
    assert positions == {}
    assert position_for(positions, ("anything",)) is None


def test_explicit_empty_document_is_a_null_node() -> None:
    data, positions = load_yaml_with_positions("---\n...\n")
    assert data is None
    assert positions == {(): (2, 1)}


def test_non_string_scalar_keys_become_str_in_paths_only() -> None:
    text = doc(
        """
        7: seven
        true: yes
        2024-01-02: date
        ~: null key
        """
    )
    data, positions = load_yaml_with_positions(text)
    assert data == {7: "seven", True: True, dt.date(2024, 1, 2): "date", None: "null key"}
    assert positions[("7",)] == (1, 4)
    assert positions[("True",)] == (2, 7)
    assert positions[("2024-01-02",)] == (3, 13)
    assert positions[("None",)] == (4, 4)


def test_unicode_columns_count_characters() -> None:
    text = "tỉnh: Quảng Bình\nmã: 44\nhuyện: [Lệ Thủy, Quảng Ninh]\n"
    data, positions = load_yaml_with_positions(text)
    assert data == {"tỉnh": "Quảng Bình", "mã": 44, "huyện": ["Lệ Thủy", "Quảng Ninh"]}
    assert positions[("tỉnh",)] == (1, 7)
    assert positions[("mã",)] == (2, 5)
    assert positions[("huyện", 1)] == (3, 18)


@pytest.mark.parametrize("allow_unicode", [True, False])
def test_vietnamese_text_round_trips(allow_unicode: bool) -> None:
    original = {
        "tỉnh": "Quảng Bình",
        "bí thư": {"họ tên": "Nguyễn Văn Ánh", "nhiệm kỳ": ["2020–2025", "2025–2030"]},
        "ghi chú": "Đồng Hới\nLệ Thủy",
    }
    text = yaml.safe_dump(original, allow_unicode=allow_unicode, sort_keys=False)
    data, positions = load_yaml_with_positions(text)
    assert data == original
    assert set(positions) == data_paths(original)


# --- aliases and merge keys --------------------------------------------------


def test_aliases_are_expanded_and_positioned_at_the_alias() -> None:
    text = doc(
        """
        defaults: &defaults
          seats: 3
          term: 5
        units:
          - id: a
            rules: *defaults
        """
    )
    data = assert_same_as_safe_load(text)
    assert data["units"][0]["rules"] is data["defaults"]
    _, positions = load_yaml_with_positions(text)
    assert positions[("units", 0, "rules")] == (6, 12)  # where "*defaults" is written
    assert positions[("units", 0, "rules", "term")] == (3, 9)  # inside the anchor
    assert positions[("defaults",)] == (1, 11)  # a node starts at its anchor


def test_alias_as_key_is_positioned_at_the_alias() -> None:
    text = "k: &k name\nm:\n  *k : value\n"
    data = assert_same_as_safe_load(text)
    assert data == {"k": "name", "m": {"name": "value"}}
    _, positions = load_yaml_with_positions(text)
    assert positions.key_positions[("m", "name")] == (3, 3)


def test_merge_keys() -> None:
    text = doc(
        """
        base: &base
          seats: 3
          term: 5
        extra: &extra
          term: 4
          quota: 0.3
        unit:
          <<: [*base, *extra]
          seats: 7
        """
    )
    data = assert_same_as_safe_load(text)
    assert data["unit"] == {"seats": 7, "term": 5, "quota": 0.3}
    _, positions = load_yaml_with_positions(text)
    assert "<<" not in {path[-1] for path in positions if path}
    assert positions[("unit", "seats")] == (9, 10)  # explicit key wins
    assert positions[("unit", "term")] == (3, 9)  # first merged mapping wins
    assert positions[("unit", "quota")] == (6, 10)
    assert positions.key_positions[("unit", "quota")] == (6, 3)


def test_merge_may_override_without_duplicate_error_and_is_repeatable() -> None:
    text = doc(
        """
        a: &a {x: 1, y: 2}
        b: &b {<<: *a, y: 3}
        c: {<<: *b, x: 0}
        d: {<<: *a}
        """
    )
    data = assert_same_as_safe_load(text)
    assert data["c"] == {"x": 0, "y": 3}


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: {<<: 1}\n", 1), ("a: &a [1]\nb:\n  <<: [*a]\n", 1), ("&a {<<: *a}\n", 1)],
)
def test_invalid_merges_are_errors(text: str, line: int) -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_with_positions(text)
    assert info.value.line == line


def test_recursive_alias_terminates() -> None:
    data, positions = load_yaml_with_positions("&a [1, *a]\n")
    assert data[1] is data
    assert positions == {(): (1, 1), (0,): (1, 5), (1,): (1, 8)}


def test_alias_bomb_stays_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    data, positions = load_yaml_with_positions("\n".join(lines) + "\n")
    assert len(data["a8"]) == 10
    assert len(positions) < 1_000_000
    assert position_for(positions, ("a8", 9, 9, 9, 9, 9, 9, 9, 9, 9)) is not None


# --- duplicate keys ----------------------------------------------------------


def test_duplicate_keys_are_rejected_with_both_lines() -> None:
    text = doc(
        """
        name: Baseline
        units:
          - id: a
            seats: 3
            term: 5
            seats: 4
        """
    )
    assert yaml.safe_load(text)["units"][0]["seats"] == 4  # PyYAML silently keeps the last
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_with_positions(text, file="scenarios/dup.yaml")
    error = info.value
    assert (error.file, error.line, error.column) == ("scenarios/dup.yaml", 6, 5)
    assert "'seats'" in error.problem
    assert "line 4" in error.problem
    assert "line 6" in error.problem
    assert str(error).startswith("scenarios/dup.yaml:6:5: duplicate key 'seats'")


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("{a: 1, b: 2, a: 3}\n", 1, 1),
        ("x: 1\ny: 2\n'x': 3\n", 1, 3),
        ("1: a\n0x1: b\n", 1, 2),  # equal after resolution
        ("1: a\n'1': b\n", 1, 2),  # different keys, same path component
        ("yes: a\ntrue: b\n", 1, 2),
        ("!!set {a, b, a}\n", 1, 1),
        ("m: &m {k: 1}\nn: {<<: {k: 1, k: 2}}\n", 2, 2),  # inside a merged mapping
    ],
)
def test_duplicate_key_variants(text: str, first: int, second: int) -> None:
    with pytest.raises(YamlSyntaxError, match="duplicate key") as info:
        load_yaml_with_positions(text)
    assert f"first defined on line {first}," in info.value.problem
    assert f"again on line {second}" in info.value.problem
    assert info.value.line == second


# --- syntax errors and unsafe tags ----------------------------------------------


def test_syntax_error_gives_file_line_column() -> None:
    text = "name: Baseline\nunits:\n  seats: 3: 4\n"
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_with_positions(text, file="scenarios/x.yaml")
    error = info.value
    assert (error.file, error.line, error.column) == ("scenarios/x.yaml", 3, 11)
    assert error.problem == "mapping values are not allowed here"
    assert str(error) == "scenarios/x.yaml:3:11: mapping values are not allowed here"
    assert isinstance(error, ValueError)
    assert isinstance(error.__cause__, yaml.YAMLError)


def test_syntax_error_includes_context() -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_with_positions("a: [1, 2\nb: 3\n", file="f.yaml")
    error = info.value
    assert error.line == 2
    assert error.context == "while parsing a flow sequence at line 1, column 4"
    assert str(error).endswith("; while parsing a flow sequence at line 1, column 4")


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a: 1\n---\nb: 2\n", 2, 1),  # more than one document
        ("a: *missing\n", 1, 4),
        ("a: 1\n b: 2\n", 2, 3),
        ("a: 1\n\tb: 2\n", 2, 1),  # tab indentation
        ("a: ok\nb: bad \x07 char\n", 2, 8),  # non-printable character
        ("start: 2024-02-30\n", 1, 8),  # invalid date
        ("n: !!int twelve\n", 1, 4),
        ("? [1, 2]\n: pair\n", 1, 3),  # sequence as a key
        ("a: !custom 1\n", 1, 4),
    ],
)
def test_errors_carry_positions(text: str, line: int, column: int) -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_with_positions(text, file="s.yaml")
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f"s.yaml:{line}:{column}: ")


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object:collections.OrderedDict {}\n",
        "a: !!python/name:os.system\n",
        "a: !!python/tuple [1, 2]\n",
        "a: !!python/object/new:builtins.list [[1]]\n",
        "? !!python/name:os.system\n: x\n",
        "a: !!python/object/apply:os.system ['echo pwned > {marker}']\n",
    ],
)
def test_python_tags_are_rejected(text: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    with pytest.raises(YamlSyntaxError, match="could not determine a constructor"):
        load_yaml_with_positions(text.replace("{marker}", str(marker)))
    assert not marker.exists()


def test_error_pickles_and_formats_without_position() -> None:
    error = YamlSyntaxError("f.yaml", 3, 7, "boom", "while testing")
    clone = pickle.loads(pickle.dumps(error))
    assert str(clone) == "f.yaml:3:7: boom; while testing"
    assert str(YamlSyntaxError("f.yaml", None, None, "boom")) == "f.yaml: boom"
    assert str(YamlSyntaxError("f.yaml", 2, None, "boom")) == "f.yaml:2: boom"


def test_bytes_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        load_yaml_with_positions(b"a: 1\n")  # type: ignore[arg-type]


# --- same data as yaml.safe_load ---------------------------------------------------

SAFE_LOAD_DOCUMENTS = [
    "a: 1\nb: 1.5\nc: true\nd: ~\ne: 2024-05-01\nf: 2024-05-01 10:30:00\n",
    "ints: [0o17, 017, 0x1F, 0b101, 1_000, -3, +4, 1:30]\n",
    "floats: [.inf, -.Inf, .nan, 1e3, 6.02e+23, 1_000.5]\n",
    "bools: [yes, no, on, off, True, FALSE, y, n]\n",
    "strings: ['1', \"two\\tx\", plain text, '', \"\\u00e9\"]\n",
    "folded: >\n  one\n  two\nliteral: |\n  line 1\n  line 2\n",
    "binary: !!binary aGVsbG8=\nset: !!set {a, b}\nomap: !!omap [{x: 1}, {y: 2}]\n",
    "explicit: [!!str 12, !!float 3, !!int '7', !!null '', !!bool 'yes']\n",
    "tz: 2001-12-14t21:59:43.10-05:00\n",
    "- [1, [2, [3, []]]]\n- {}\n- {a: {b: {c: []}}}\n",
    "=: value key\n",
    "%YAML 1.1\n---\n!!map {a: !!seq [1]}\n",
    "\ufeffbom: 1\n",
    "a: 1\r\nb: [x,\r\n  y]\r\n",
]


@pytest.mark.parametrize("text", SAFE_LOAD_DOCUMENTS)
def test_data_equals_safe_load(text: str) -> None:
    assert_same_as_safe_load(text)


def test_positions_survive_windows_line_endings() -> None:
    _, positions = load_yaml_with_positions("a: 1\r\nb: [x,\r\n  y]\r\n")
    assert positions[("b", 1)] == (3, 3)


YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.dates()
    | st.datetimes()
)
structures = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(
    value=structures,
    flow=st.sampled_from([None, True, False]),
    allow_unicode=st.booleans(),
)
def test_round_trip_matches_safe_load(value: Any, flow: bool | None, allow_unicode: bool) -> None:
    text = yaml.safe_dump(
        value, default_flow_style=flow, allow_unicode=allow_unicode, sort_keys=False
    )
    # Not compared with `value`: the emitter does not round-trip everything
    # (a raw U+0085 is written as a line break, for instance).
    data = assert_same_as_safe_load(text)
    _, positions = load_yaml_with_positions(text)
    assert set(positions) == data_paths(data)
    last_line = len(YAML_LINE_BREAK.split(text))
    assert all(1 <= line <= last_line and column >= 1 for line, column in positions.values())


# --- position_for ----------------------------------------------------------------------


def test_position_for_exact_and_parent_fallback() -> None:
    _, positions = load_yaml_with_positions(SCENARIO)
    assert position_for(positions, ("units", 0, "seats")) == (7, 12)
    assert position_for(positions, ("units", 0, "missing")) == (6, 5)
    assert position_for(positions, ("units", 0, "missing", "deeper", 3)) == (6, 5)
    assert position_for(positions, ("units", 7)) == (6, 3)
    assert position_for(positions, ("nope",)) == (1, 1)
    assert position_for(positions, ()) == (1, 1)
    # Only a prefix counts: a later component that happens to exist is ignored.
    assert position_for(positions, ("units", "x", 0)) == (6, 3)


def test_position_for_int_dict_keys() -> None:
    _, positions = load_yaml_with_positions("by_year:\n  2025: 3\n  2030: x\n")
    assert position_for(positions, ("by_year", 2030)) == (3, 9)
    assert position_for(positions, ("by_year", "2030")) == (3, 9)


class Unit(BaseModel):
    id: str
    seats: int


class Scenario(BaseModel):
    name: str
    units: list[Unit]
    quotas: dict[int, float] = {}


def test_position_for_pydantic_error_locs() -> None:
    text = doc(
        """
        name: Baseline
        units:
          - id: a
            seats: 3
          - id: b
            seats: many
          - id: c
        quotas:
          2025: 0.3
          2030: lots
        """
    )
    data, positions = load_yaml_with_positions(text)
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    located = {err["loc"]: position_for(positions, err["loc"]) for err in info.value.errors()}
    assert located == {
        ("units", 1, "seats"): (6, 12),
        ("units", 2, "seats"): (7, 5),  # missing field: the unit's own position
        ("quotas", 2030): (10, 9),
    }


# --- files --------------------------------------------------------------------------


def test_load_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "quang_binh.yaml"
    path.write_text("tỉnh: Quảng Bình\nmã: 44\n", encoding="utf-8")
    data, positions = load_yaml_file(path)
    assert data == {"tỉnh": "Quảng Bình", "mã": 44}
    assert positions[("mã",)] == (2, 5)
    assert load_yaml_file(str(path))[0] == data


def test_load_yaml_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("a: 1\nb: c: d\n", encoding="utf-8")
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_file(path)
    assert str(info.value) == f"{path}:2:5: mapping values are not allowed here"


def test_load_yaml_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(FileNotFoundError) as info:
        load_yaml_file(path)
    assert "absent.yaml" in str(info.value)


def test_load_yaml_file_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("tỉnh: ok\nname: Quảng Bình\n".encode() + "ghi chu: é\n".encode("latin-1"))
    with pytest.raises(YamlSyntaxError) as info:
        load_yaml_file(path)
    error = info.value
    assert (error.file, error.line, error.column) == (str(path), 3, 10)
    assert "UTF-8" in error.problem


def test_merge_precedence_follows_the_yaml_specification_whatever_pyyaml_does() -> None:
    """Of merged mappings, the first listed wins; keys written in the mapping win over all.
    Long key names (not interned by Python) are the case PyYAML 6.0.4 gets wrong."""
    text = doc(
        """
        a: &a {retirement_schedule_key: first, only_a: 1}
        b: &b {retirement_schedule_key: second, only_b: 2}
        c: &c {retirement_schedule_key: third, written_here: 0}
        unit:
          <<: [*a, *b, *c]
          written_here: 3
        """
    )
    data, _ = load_yaml_with_positions(text)
    assert data["unit"] == {
        "retirement_schedule_key": "first",
        "only_a": 1,
        "only_b": 2,
        "written_here": 3,
    }
