"""Tests for sim.scenario: loading, digests, overrides, variants and error reports."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUNDLED, Edited, edit_text
from pydantic import ValidationError

from sim.scenario import (
    Issue,
    Scenario,
    ScenarioError,
    apply_overrides,
    json_schema,
    load_scenario,
    load_scenario_text,
    parse_override,
)

WOMEN_SHARE = "    women: 0.15\n    young: 0.15\n    reading"  # policy.appointment_share


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


def reject(path: Path) -> ScenarioError:
    """Load ``path``, expecting a ScenarioError; check the report's general shape."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    text = str(err)
    assert err.issues, "a ScenarioError must list its issues"
    assert "Traceback" not in text
    assert str(path) in text, f"the file is not named in: {text}"
    return err


def only_issue(err: ScenarioError, path: str) -> Issue:
    """The issue about field ``path`` (there must be exactly one)."""
    found = [i for i in err.issues if i.path == path]
    assert len(found) == 1, f"expected one issue at {path!r}, got {[str(i) for i in err.issues]}"
    return found[0]


# --------------------------------------------------------------------------- #
# The bundled scenario
# --------------------------------------------------------------------------- #


def test_bundled_scenario_loads(qb: Scenario) -> None:
    assert qb.province == "quang_binh"
    assert qb.structure.l1_total == sum(b.heads + b.deputies for b in qb.structure.blocks)
    assert qb.policy.appointment_share.women == pytest.approx(0.15)
    assert len(qb.targets) >= 1
    assert len({t.id for t in qb.targets}) == len(qb.targets)
    assert {"bau", "floor", "merit_only"} <= set(qb.variants)


def test_load_scenario_text_gives_the_same_scenario(qb: Scenario, bundled_text: str) -> None:
    assert load_scenario_text(bundled_text, "upload.yaml") == qb


@pytest.mark.parametrize("name", sorted(load_scenario(BUNDLED).variants))
def test_every_variant_applies(qb: Scenario, name: str) -> None:
    v = qb.variant(name)
    assert isinstance(v, Scenario)
    assert v is not qb
    assert v.digest() != qb.digest(), f"variant {name} changes nothing"
    dumped = v.model_dump(mode="json")
    for dotted, value in qb.variants[name].items():
        node = dumped
        for part in dotted.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        expected = json.loads(json.dumps(value, default=lambda o: o.isoformat()))  # dates
        assert node == expected, f"variant {name}: {dotted} is {node!r}, expected {value!r}"
    # The base scenario is untouched.
    assert qb == load_scenario(BUNDLED)


def test_bau_variant_values(qb: Scenario) -> None:
    bau = qb.variant("bau")
    # Merit only: the observed 2016-2020 shares are predictions, not quotas.
    assert bau.policy.appointment_share.reading == "none"
    assert bau.policy.vacancy_reservation.enabled is False
    assert qb.policy.vacancy_reservation.enabled is True


def test_unknown_variant_is_rejected_with_the_known_ones(qb: Scenario) -> None:
    with pytest.raises(ScenarioError, match="nosuch") as info:
        qb.variant("nosuch")
    assert "bau" in str(info.value)


# --------------------------------------------------------------------------- #
# Digest
# --------------------------------------------------------------------------- #


def test_digest_is_stable_across_loads(qb: Scenario, bundled_text: str) -> None:
    again = load_scenario(BUNDLED)
    assert again is not qb
    assert again.digest() == qb.digest()
    assert load_scenario_text(bundled_text).digest() == qb.digest()
    assert re.fullmatch(r"[0-9a-f]{16}", qb.digest())


def test_digest_ignores_comments_and_layout(
    tmp_path: Path, bundled_text: str, qb: Scenario
) -> None:
    text = "# a new comment\n" + bundled_text.replace("l1_total: 338 ", "l1_total:    338 ")
    p = tmp_path / "relaid.yaml"
    p.write_text(text, encoding="utf-8")
    assert load_scenario(p).digest() == qb.digest()


def test_digest_changes_when_a_value_changes(qb: Scenario, edited: Callable[..., Edited]) -> None:
    e = edited(WOMEN_SHARE, WOMEN_SHARE.replace("0.15", "0.16", 1))
    changed = load_scenario(e.path)
    assert changed.policy.appointment_share.women == pytest.approx(0.16)
    assert changed.digest() != qb.digest()
    assert qb.with_overrides(["policy.appointment_share.women=0.16"]).digest() == changed.digest()
    assert qb.with_overrides({"dynamics.same_unit_bonus": 0.31}).digest() != qb.digest()


def test_overriding_with_the_same_value_keeps_the_digest(qb: Scenario) -> None:
    same = qb.with_overrides({"policy.appointment_share.women": 0.15})
    assert same.digest() == qb.digest()


# --------------------------------------------------------------------------- #
# Overrides
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "overrides",
    [["policy.appointment_share.women=0.2"], {"policy.appointment_share.women": 0.2}],
    ids=["strings", "mapping"],
)
def test_override_makes_a_new_scenario_and_keeps_the_original(
    qb: Scenario, overrides: list[str] | dict[str, float]
) -> None:
    before = qb.model_dump()
    new = qb.with_overrides(overrides)
    assert new is not qb
    assert new.policy.appointment_share.women == pytest.approx(0.2)
    assert qb.policy.appointment_share.women == pytest.approx(0.15)
    assert qb.model_dump() == before
    assert new.digest() != qb.digest()
    # The function form gives the same result.
    assert apply_overrides(qb, overrides) == new


def test_several_overrides_and_yaml_values(qb: Scenario) -> None:
    new = qb.with_overrides(
        [
            "policy.appointment_share.reading=floor",
            "policy.vacancy_reservation.enabled=false",
            "policy.appointment_share.tiers=[l1, l2]",
            "structure.blocks.0.deputies=21",
            "structure.l1_total=339",
        ]
    )
    assert new.policy.appointment_share.reading.value == "floor"
    assert new.policy.vacancy_reservation.enabled is False
    assert new.policy.appointment_share.tiers == ["l1", "l2"]
    assert new.structure.blocks[0].deputies == 21
    assert qb.structure.blocks[0].deputies == 20


def test_no_overrides_returns_the_scenario(qb: Scenario) -> None:
    assert qb.with_overrides([]) == qb
    assert qb.with_overrides({}) == qb


def test_scenarios_are_frozen(qb: Scenario) -> None:
    with pytest.raises(ValidationError):
        qb.province = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        qb.policy.appointment_share.women = 0.5  # type: ignore[misc]
    assert qb.policy.appointment_share.women == pytest.approx(0.15)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("nosuch.path=1", "nosuch"),
        ("policy.appointment_share.nosuch=1", "policy.appointment_share.nosuch"),
        ("policyy.appointment_share.women=0.2", "policyy"),
        ("policy.appointment_share.women.deeper=1", "policy.appointment_share.women.deeper"),
        ("structure.blocks.99.heads=1", "structure.blocks.99"),
    ],
)
def test_unknown_override_path_is_rejected_naming_the_path(
    qb: Scenario, override: str, named: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        qb.with_overrides([override])
    text = str(info.value)
    assert named in text
    assert "Traceback" not in text
    path, value = parse_override(override)
    with pytest.raises(ScenarioError, match=re.escape(named)):
        qb.with_overrides({path: value})


@pytest.mark.parametrize("bad", ["policy.appointment_share.women", "=0.2", "  =1"])
def test_malformed_override_is_rejected(qb: Scenario, bad: str) -> None:
    with pytest.raises(ScenarioError, match="path"):
        qb.with_overrides([bad])


@pytest.mark.parametrize(
    ("overrides", "path", "words"),
    [
        (["policy.appointment_share.women=1.5"], "policy.appointment_share.women", "less than"),
        ({"policy.appointment_share.women": 1.5}, "policy.appointment_share.women", "less than"),
        (["structure.blocks.0.deputies=-3"], "structure.blocks[0].deputies", "greater than"),
        (["structure.blocks.0.units=six"], "structure.blocks[0].units", "integer"),
        (["end=2020-06-30"], "end", "after start"),
        (["structure.l1_total=1"], "structure.l1_total", "l1_total says 1"),
    ],
)
def test_override_that_breaks_the_scenario_is_rejected(
    qb: Scenario, overrides: list[str] | dict[str, float], path: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        qb.with_overrides(overrides)
    issue = only_issue(info.value, path)
    assert words in issue.message
    assert issue.file == "--set"
    assert "--set" in str(info.value)
    assert qb.policy.appointment_share.women == pytest.approx(0.15)


def test_bad_variant_in_the_file_is_reported_as_that_variant(edited: Callable[..., Edited]) -> None:
    e = edited(
        "    policy.long_service.enabled: false\n",
        "    policy.long_service.enabled: false\n    policy.long_service.share: 2\n",
    )
    sc = load_scenario(e.path)  # variants are applied on demand
    with pytest.raises(ScenarioError) as info:
        sc.variant("bau")
    issue = only_issue(info.value, "policy.long_service.share")
    assert issue.file == "variants.bau"
    assert "--set" not in str(info.value)


# --------------------------------------------------------------------------- #
# Bad files: each names the file, the field path and the line
# --------------------------------------------------------------------------- #

# (id, old text, new text, offending mark in the new text, field path, words of the message)
BAD_VALUES = [
    (
        "share_above_one",
        WOMEN_SHARE,
        WOMEN_SHARE.replace("0.15", "1.5", 1),
        "1.5",
        "policy.appointment_share.women",
        "less than or equal to 1",
    ),
    (
        "negative_count",
        "deputies: 20 ",
        "deputies: -3 ",
        "-3",
        "structure.blocks[0].deputies",
        "greater than or equal to 0",
    ),
    (
        "unknown_rank",
        "who: {ranks: [l1_head]}",
        "who: {ranks: [l3_head]}",
        "l3_head",
        "targets[4].who.ranks[0]",
        "'l3_head'",
    ),
    (
        "unknown_block",
        "who: {ranks: [l1_head]}",
        "who: {ranks: [l1_head], blocks: [nosuch]}",
        "[nosuch]",
        "targets[4].who.blocks",
        "unknown block(s) nosuch",
    ),
    (
        "end_before_start",
        "end: 2030-12-31",
        "end: 2020-12-31",
        "2020-12-31",
        "end",
        "must be after start",
    ),
    ("unknown_top_level_key", "\npolicy:\n", "\npolicyy:\n", "policyy", "policyy", "unknown key"),
    (
        "unknown_key_in_block",
        "      units: 3 ",
        "      colour: red\n      units: 3 ",
        "colour",
        "structure.blocks[1].colour",
        "unknown key",
    ),
    (
        "wrong_type",
        "      units: 3 ",
        '      units: "six" ',
        '"six"',
        "structure.blocks[1].units",
        "valid integer",
    ),
    (
        "l1_total_mismatch",
        "l1_total: 338",
        "l1_total: 339",
        "339",
        "structure.l1_total",
        "the blocks hold 338 L1 posts but l1_total says 339",
    ),
    (
        "heads_above_units",
        "heads: 2             # seed 001 §II.I (one",
        "heads: 4             # seed 001 §II.I (one",
        "4",
        "structure.blocks[1].heads",
        "cannot exceed units",
    ),
    (
        "staff_shares_per_unit",
        "[0.30, 0.45]",
        "[0.30, 0.45, 0.5]",
        "[0.30",
        "structure.blocks[6].women_staff_share",
        "3 values for 2 units",
    ),
    (
        "duplicate_block_id",
        "    - id: party_service",
        "    - id: party_advisory",
        "party_advisory",
        "structure.blocks[1].id",
        "repeated: party_advisory",
    ),
    (
        "deadline_outside_horizon",
        "    value: 1.0\n    by: 2025",
        "    value: 1.0\n    by: 2031",
        "2031",
        "targets[6].by",
        "outside the horizon",
    ),
    (
        "congress_outside_horizon",
        "dates: [2025-10-15, 2030-10-15]",
        "dates: [2025-10-15, 2031-10-15]",
        "2031-10-15",
        "congress.dates[1]",
        "outside the horizon",
    ),
    (
        "bad_enum",
        "    reading: expected           #",
        "    reading: sometimes          #",
        "sometimes",
        "policy.appointment_share.reading",
        "'sometimes'",
    ),
    (
        "women_above_posts",
        "young_women: 2 ",
        "young_women: 9 ",
        "9",
        "population.l1.young_women",
        "exceeds",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "mark", "field", "words"),
    [case[1:] for case in BAD_VALUES],
    ids=[case[0] for case in BAD_VALUES],
)
def test_bad_value_names_file_field_and_line(
    edited: Callable[..., Edited], old: str, new: str, mark: str, field: str, words: str
) -> None:
    e = edited(old, new, mark)
    err = reject(e.path)
    issue = only_issue(err, field)
    assert words in issue.message, issue.message
    assert issue.file == str(e.path)
    assert issue.line == e.line, f"{issue} (the offending value is on line {e.line})"
    assert issue.column == e.column, f"{issue} (the offending value is at column {e.column})"
    assert f"{e.path}:{e.line}:{e.column} {field}: " in str(err)


def test_typo_in_a_section_name_also_reports_the_missing_section(
    edited: Callable[..., Edited],
) -> None:
    e = edited("\npolicy:\n", "\npolicyy:\n", "policyy")
    err = reject(e.path)
    assert only_issue(err, "policyy").line == e.line
    assert "missing" in only_issue(err, "policy").message


def test_every_problem_is_reported(tmp_path: Path, bundled_text: str) -> None:
    text, share_line, _ = edit_text(
        bundled_text, WOMEN_SHARE, WOMEN_SHARE.replace("0.15", "1.5", 1), "1.5"
    )
    text, deputies_line, _ = edit_text(text, "deputies: 20 ", "deputies: -3 ", "-3")
    p = tmp_path / "two.yaml"
    p.write_text(text, encoding="utf-8")
    err = reject(p)
    lines = {i.path: i.line for i in err.issues}
    assert lines == {
        "policy.appointment_share.women": share_line,
        "structure.blocks[0].deputies": deputies_line,
    }
    assert len(str(err).splitlines()) == 2


def test_yaml_syntax_error_gives_file_line_and_column(edited: Callable[..., Edited]) -> None:
    e = edited("province: quang_binh", "province: quang_binh: x", ": x")
    err = reject(e.path)
    (issue,) = err.issues
    assert issue.line == e.line
    assert issue.column == e.column
    assert "mapping values are not allowed" in issue.message
    assert str(err).startswith(f"{e.path}:{e.line}:{e.column}: ")


def test_unclosed_bracket_points_at_or_after_the_bracket(edited: Callable[..., Edited]) -> None:
    e = edited("  size: 50 ", "  size: [50 ", "[50")
    err = reject(e.path)
    (issue,) = err.issues
    assert issue.line in (e.line, e.line + 1)
    assert issue.column is not None
    assert re.search(rf"{re.escape(str(e.path))}:{issue.line}:\d+: ", str(err))


def test_duplicate_keys_are_rejected(edited: Callable[..., Edited]) -> None:
    e = edited("  size: 50 ", "  size: 50\n  size: 40 ", "size: 40")
    err = reject(e.path)
    (issue,) = err.issues
    assert "duplicate key 'size'" in issue.message
    assert f"first defined on line {e.line - 1}" in issue.message
    assert issue.line == e.line
    assert f"{e.path}:{e.line}:" in str(err)


def test_duplicate_keys_inside_a_block(edited: Callable[..., Edited]) -> None:
    e = edited("      units: 3 ", "      units: 3\n      units: 4 ", "units: 4")
    err = reject(e.path)
    assert err.issues[0].line == e.line
    assert "duplicate key 'units'" in str(err)


def test_non_utf8_file_is_rejected(tmp_path: Path, bundled_text: str) -> None:
    text, line, column = edit_text(bundled_text, "  size: 50 ", "  size: 50 # X", "X")
    raw = text.encode("utf-8").replace(b"# X", b"# \xff", 1)
    p = tmp_path / "latin.yaml"
    p.write_bytes(raw)
    err = reject(p)
    (issue,) = err.issues
    assert "not UTF-8" in issue.message
    assert issue.line == line
    assert issue.column == column
    assert f"{p}:{line}:{column}: " in str(err)


def test_utf8_with_bom_and_crlf_loads(tmp_path: Path, bundled_text: str, qb: Scenario) -> None:
    p = tmp_path / "windows.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + bundled_text.replace("\n", "\r\n").encode("utf-8"))
    assert load_scenario(p) == qb


def test_crlf_line_numbers(tmp_path: Path, bundled_text: str) -> None:
    text, line, _ = edit_text(bundled_text, "l1_total: 338", "l1_total: 339", "339")
    p = tmp_path / "crlf.yaml"
    p.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert only_issue(reject(p), "structure.l1_total").line == line


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nowhere" / "missing.yaml"
    err = reject(p)
    assert err.issues[0].message.startswith("no such scenario file")
    assert "quang_binh" in err.issues[0].message  # the bundled scenarios are listed


def test_folder_instead_of_a_file(tmp_path: Path) -> None:
    err = reject(tmp_path)
    assert "folder" in err.issues[0].message


@pytest.mark.parametrize(
    "content",
    ["", "\n\n", "# only a comment\n", "---\n"],
    ids=["empty", "blank", "comment", "bare-document"],
)
def test_empty_file(tmp_path: Path, content: str) -> None:
    p = tmp_path / "empty.yaml"
    p.write_text(content, encoding="utf-8")
    err = reject(p)
    (issue,) = err.issues
    assert "empty" in issue.message


@pytest.mark.parametrize("content", ["- a\n- b\n", "just a string\n", "42\n"])
def test_not_a_mapping(tmp_path: Path, content: str) -> None:
    p = tmp_path / "scalar.yaml"
    p.write_text(content, encoding="utf-8")
    err = reject(p)
    (issue,) = err.issues
    assert "must be a mapping" in issue.message
    assert f"{p}:1" in str(err)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/apply:subprocess.check_call",
        "!!python/object/new:os.system",
    ],
)
def test_python_tags_are_rejected_and_never_executed(
    tmp_path: Path, edited: Callable[..., Edited], tag: str
) -> None:
    marker = tmp_path / "executed"
    payload = (
        f'{tag} ["touch {marker}"]'
        if "subprocess" not in tag
        else (f'{tag} [["touch", "{marker}"]]')
    )
    e = edited("  size: 50 ", f"  size: {payload} ", tag)
    err = reject(e.path)
    (issue,) = err.issues
    assert not marker.exists(), "a python tag was executed"
    assert "python/object" in issue.message
    assert issue.line == e.line
    assert f"{e.path}:{e.line}:" in str(err)


def test_python_object_tag_is_rejected(edited: Callable[..., Edited]) -> None:
    e = edited(
        'name:\n  en: "', 'name: !!python/object:sim.scenario.Text\n  en: "', "!!python/object"
    )
    err = reject(e.path)
    assert err.issues[0].line == e.line
    assert "constructor" in str(err)


def test_load_scenario_text_names_the_given_file(bundled_text: str) -> None:
    text, line, _ = edit_text(bundled_text, "l1_total: 338", "l1_total: 339", "339")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "upload.yaml")
    assert f"upload.yaml:{line}:" in str(info.value)


def test_error_is_a_value_error_with_plain_text() -> None:
    err = ScenarioError([Issue("went wrong", "a.b", "f.yaml", 3, 4), Issue("also")])
    assert isinstance(err, ValueError)
    assert str(err) == "f.yaml:3:4 a.b: went wrong\nalso"


# --------------------------------------------------------------------------- #
# Schema
# --------------------------------------------------------------------------- #


def test_json_schema_has_the_top_level_properties() -> None:
    schema = json_schema()
    assert isinstance(schema, dict)
    props = schema["properties"]
    for key in (
        "schema_version",
        "province",
        "name",
        "start",
        "end",
        "structure",
        "population",
        "dynamics",
        "policy",
        "congress",
        "targets",
        "not_modelled",
        "variants",
    ):
        assert key in props, key
    assert set(schema["required"]) >= {"province", "structure", "population", "dynamics", "policy"}
    assert json.loads(json.dumps(schema)) == schema


def test_list_items_can_be_named_by_id(qb: Scenario) -> None:
    by_id = qb.with_overrides({"targets.QB-AW.value": 0.2})
    by_index = qb.with_overrides({"targets.2.value": 0.2})
    assert by_id == by_index
    assert by_id.targets[2].id == "QB-AW" and by_id.targets[2].value == 0.2
    with pytest.raises(ScenarioError) as info:
        qb.with_overrides({"targets.QB-NOPE.value": 0.2})
    assert "'QB-NOPE' is neither an id nor a valid index into a list of 7" in str(info.value)
    assert "QB-W-PC-25" in str(info.value)  # the known ids are listed
