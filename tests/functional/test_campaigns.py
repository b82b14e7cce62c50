"""Property-based campaigns (Hypothesis): random valid scenarios keep every invariant, and
random malformed scenarios and rosters are refused with a clear message, never a traceback.

The strategies and the checks are in ``tests/strategies.py``, shared with
``scripts/campaigns.py``, which runs the same properties on thousands of examples and tallies
them. Here each property runs ``CADRESIM_CAMPAIGN_EXAMPLES`` examples (default 40; the
malformed inputs that many for every kind of damage, in smaller batches). The regression tests
at the end pin the bugs the campaigns found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, edit_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    MALFORMED_ROSTER_KINDS,
    MALFORMED_SCENARIO_KINDS,
    Malformed,
    MergerCase,
    ValidCase,
    check_cli_rejects,
    check_merger_case,
    check_rejected_roster,
    check_rejected_scenario,
    check_valid_case,
    check_valid_roster,
    cli_roster_args,
    cli_scenario_args,
    malformed_rosters,
    malformed_scenario_texts,
    roster_scenario,
    valid_mergers,
    valid_rosters,
    valid_scenarios,
    write_case,
)

from sim.model import run_model
from sim.roster import RosterError, load_roster
from sim.scenario import ScenarioError, load_scenario, load_scenario_text

EXAMPLES = max(1, int(os.environ.get("CADRESIM_CAMPAIGN_EXAMPLES", "40")))
#: Examples for each kind of damage (there are about 30 kinds of scenario damage).
PER_KIND = max(1, EXAMPLES // 5)

CAMPAIGN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder: a failure prints its example instead
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the files of the examples (module-scoped: Hypothesis reuses it)."""
    return tmp_path_factory.mktemp("campaigns")


def report(problems: list[str], what: str) -> str:
    return f"{what}\n--- problems:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- #
# The properties
# --------------------------------------------------------------------------- #


@CAMPAIGN
@given(valid_scenarios())
def test_valid_scenarios_keep_every_invariant(case: ValidCase) -> None:
    """One replication with its event log: no invariant violated, every result plausible."""
    problems = check_valid_case(case)
    assert not problems, report(problems, case.describe())


@settings(CAMPAIGN, max_examples=max(1, EXAMPLES // 4))
@given(valid_mergers())
def test_valid_mergers_keep_every_invariant(case: MergerCase) -> None:
    """A merged province with other merger settings (date, grace, surplus, early retirement,
    newcomers, first committee): every part's invariants, people conserved across the date,
    every result plausible."""
    problems = check_merger_case(case)
    assert not problems, report(problems, case.describe())


@settings(CAMPAIGN, max_examples=max(1, EXAMPLES // 4))
@given(roster=valid_rosters(), seed=st.integers(0, 2**32 - 1))
def test_valid_rosters_load_and_keep_every_invariant(
    roster: tuple[list[str], list[dict[str, str]]], seed: int, workdir: Path
) -> None:
    """The rosters the malformed ones are made from are valid: the damage is what is refused."""
    columns, rows = roster
    problems = check_valid_roster(columns, rows, seed, workdir)
    assert not problems, report(problems, f"columns {columns}\nrows {rows}")


@pytest.mark.parametrize("kind", MALFORMED_SCENARIO_KINDS)
def test_malformed_scenarios_are_refused_clearly(kind: str, workdir: Path) -> None:
    @settings(CAMPAIGN, max_examples=PER_KIND)
    @given(malformed_scenario_texts(kinds=(kind,)))
    def refused(case: Malformed) -> None:
        problems = check_rejected_scenario(case, workdir)
        assert not problems, report(problems, case.describe())

    refused()


@pytest.mark.parametrize("kind", MALFORMED_ROSTER_KINDS)
def test_malformed_rosters_are_refused_clearly(kind: str, workdir: Path) -> None:
    @settings(CAMPAIGN, max_examples=PER_KIND)
    @given(malformed_rosters(kinds=(kind,)))
    def refused(case: Malformed) -> None:
        problems = check_rejected_roster(case, workdir)
        assert not problems, report(problems, case.describe())

    refused()


@settings(CAMPAIGN, max_examples=max(1, EXAMPLES // 2))
@given(case=malformed_scenario_texts())
def test_cli_refuses_malformed_scenarios(case: Malformed, workdir: Path) -> None:
    """``cadresim run BAD.yaml``: exit code 2 and a message, no traceback."""
    path = write_case(case, workdir, "cli_scenario")
    problems = check_cli_rejects(cli_scenario_args(path), str(path))
    assert not problems, report(problems, case.describe())


@settings(CAMPAIGN, max_examples=max(1, EXAMPLES // 2))
@given(case=malformed_rosters())
def test_cli_refuses_malformed_rosters(case: Malformed, workdir: Path) -> None:
    """``cadresim run SCENARIO --roster BAD.csv``: exit code 2 and a message, no traceback."""
    path = write_case(case, workdir, "cli_roster")
    problems = check_cli_rejects(cli_roster_args(path), str(path))
    assert not problems, report(problems, case.describe())


@settings(CAMPAIGN, max_examples=1)
@given(scenario=malformed_scenario_texts(), roster=malformed_rosters())
def test_real_command_refuses_malformed_input(
    scenario: Malformed, roster: Malformed, workdir: Path
) -> None:
    """The real ``python -m sim`` in a subprocess: exit code 2, no traceback on stderr."""
    env = {k: v for k, v in os.environ.items() if k != "CADRESIM_DEBUG"}
    bad_scenario = write_case(scenario, workdir, "proc_scenario")
    bad_roster = write_case(roster, workdir, "proc_roster")
    for args, what in (
        (cli_scenario_args(bad_scenario), scenario),
        (cli_roster_args(bad_roster), roster),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert proc.returncode == 2, report([proc.stderr], what.describe())
        assert "Traceback" not in proc.stderr + proc.stdout, what.describe()
        assert "error" in proc.stderr


# --------------------------------------------------------------------------- #
# Regressions: the bugs the campaigns found
# --------------------------------------------------------------------------- #


def bundled_text() -> str:
    return BUNDLED.read_text(encoding="utf-8")


def refusal(text: str) -> str:
    """The message of the ScenarioError ``text`` raises (and only a ScenarioError)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "bad.yaml")
    message = str(info.value)
    assert "bad.yaml:" in message
    return message


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        # Crashed the run: round(inf) (OverflowError).
        ("pool_per_l2_deputy: 2.0", "pool_per_l2_deputy: .inf", "structure.pool_per_l2_deputy"),
        # Infinite ages: people with a retirement date of -9e18 months, invariants broken.
        ("age: {mean: 45, sd: 4.5, min: 40}", "age: {mean: 45, sd: .inf, min: 40}", "sd"),
        # An infinite gamma shape: the run never ended.
        ("selection_delay_shape: 2 ", "selection_delay_shape: .inf ", "selection_delay_shape"),
        ("evaluation_bias: 0.0", "evaluation_bias: .nan", "policy.evaluation_bias"),
        ("    value: 1.0\n", "    value: .nan\n", "targets[6].value"),
    ],
)
def test_infinity_and_nan_are_refused(old: str, new: str, path: str) -> None:
    text, line, _ = edit_text(bundled_text(), old, new)
    message = refusal(text)
    assert "finite number" in message
    assert f"bad.yaml:{line}:" in message
    assert path in message


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        # units beyond memory with a single women-staff share: build_layout never returned.
        ("      units: 14            # assumption: the", "      units: 100000000 #", "units"),
        (
            "      l2_divisions_per_unit: 3       # assumption\n      women_staff_share: 0.30",
            "      l2_divisions_per_unit: 10000000000\n      women_staff_share: 0.30",
            "posts",
        ),
        # The pool is sized from pool_per_l2_deputy: numpy could not allocate it.
        ("pool_per_l2_deputy: 2.0", "pool_per_l2_deputy: 1.0e300", "a pool of 4.07e+302"),
    ],
)
def test_structures_beyond_any_province_are_refused(old: str, new: str, says: str) -> None:
    text, _, _ = edit_text(bundled_text(), old, new)
    message = refusal(text)
    assert "are supported" in message
    assert says in message


@pytest.mark.parametrize(
    "dates", ["[2030-10-15, 2025-10-15]", "[2025-10-15, 2025-11-20]", "[2025-10-15, 2025-10-15]"]
)
def test_congress_dates_must_increase_one_a_year(dates: str) -> None:
    """Committees are recorded in time order but were looked up by list position: with the
    dates reversed, the 2025 target read the 2030 committee."""
    text, _, _ = edit_text(bundled_text(), "dates: [2025-10-15, 2030-10-15]", f"dates: {dates}")
    message = refusal(text)
    assert "congress.dates[1]" in message
    assert "increasing order, at most one a year" in message


def test_congress_in_order_is_accepted() -> None:
    text, _, _ = edit_text(
        bundled_text(), "dates: [2025-10-15, 2030-10-15]", "dates: [2024-01-10, 2025-10-15]"
    )
    assert [d.year for d in load_scenario_text(text).congress.dates] == [2024, 2025]


L1_COUNTS = (
    "    women: {provincial: 27, district: 18}",
    "    young: {provincial: 7, district: 1} ",
    "    young_women: 2 ",
)


def with_l1_counts(women: str, young: str, young_women: int) -> str:
    text = bundled_text()
    for old, new in zip(
        L1_COUNTS,
        (f"    women: {women}", f"    young: {young} ", f"    young_women: {young_women} "),
        strict=True,
    ):
        text, _, _ = edit_text(text, old, new)
    return text


def test_young_women_who_cannot_be_placed_are_refused() -> None:
    """Women only in district posts and the young only in provincial ones leave no post for a
    young woman: the loader accepted it and the run raised a ValueError."""
    text = with_l1_counts("{provincial: 0, district: 5}", "{provincial: 5, district: 0}", 1)
    message = refusal(text)
    assert "population.l1.young_women" in message
    assert "cannot be placed" in message


def test_young_women_who_fit_are_accepted_and_run() -> None:
    text = with_l1_counts("{provincial: 1, district: 5}", "{provincial: 5, district: 0}", 1)
    sc = load_scenario_text(text).with_overrides(
        {"end": "2022-12-31", "congress": None, "targets": []}
    )
    assert run_model(sc, 1, 0).headcount[0, 2, 0] > 0


@pytest.mark.parametrize("value", ["40", "39.99999999999999"])
@pytest.mark.parametrize(
    ("old", "path"),
    [
        ("    young_min_age: 32                       # assumption: youngest", "l1"),
        ("    young_min_age: 30     # assumption", "l2"),
        ("    young_min_age: 27     # assumption\n    age: {mean: 45", "pool"),
        ("    young_min_age: 27           # assumption\n    age: {mean: 43", "recruitment"),
    ],
)
def test_youngest_age_of_the_young_is_below_40(old: str, path: str, value: str) -> None:
    """young_min_age 40 passed the schema (<= 40) and crashed the run: numpy cannot draw the
    ages of the under-40s from [40, 40)."""
    new = old.replace(old.split(":")[1].split()[0], value, 1)
    text, line, _ = edit_text(bundled_text(), old, new)
    message = refusal(text)
    assert f"bad.yaml:{line}:" in message
    assert f"{path}.young_min_age" in message
    assert "must be below 40" in message


def test_committee_never_exceeds_its_size() -> None:
    """With floors of 100% for women and for the young, each floor picked up to the full
    size: the committee had more members than seats."""
    sc = load_scenario(BUNDLED).with_overrides(
        {
            "congress.size": 5,
            "congress.women_floor": 1.0,
            "congress.young_floor": 1.0,
            "congress.max_incumbent_share": 1.0,
        }
    )
    for seed in range(3):
        committee = run_model(sc, seed, 0).committee
        assert len(committee) == 2
        assert (committee[:, 0] <= 5).all(), committee
        assert (committee[:, 1:] <= committee[:, :1]).all()


@pytest.fixture(scope="module")
def roster_rows() -> list[list[str]]:
    """A small valid roster of the bundled scenario: a head, a deputy and a specialist."""
    return [
        ["person_id", "rank", "block", "unit", "sex", "birth_month", "in_post_since"],
        ["A1", "l1_head", "party_advisory", "1", "M", "1968-08", "2016-10"],
        ["A2", "l1_deputy", "party_advisory", "1", "F", "1970-05", "2018-02"],
        ["A3", "pool", "dept_culture_social", "7", "M", "1980-11", "2020-07"],
    ]


def roster_problems(rows: list[list[str]], path: Path) -> list[str]:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    sc, layout = roster_scenario()
    with pytest.raises(RosterError) as info:
        load_roster(path, sc, layout)
    assert str(info.value).startswith(f"{path}: the roster was not imported")
    return info.value.problems


def test_the_small_roster_is_valid(roster_rows: list[list[str]], tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("\n".join(",".join(r) for r in roster_rows) + "\n", encoding="utf-8")
    sc, layout = roster_scenario()
    roster = load_roster(path, sc, layout)
    assert roster.ids == ("A1", "A2", "A3")
    block = layout.block_ids.index("dept_culture_social")
    assert roster.people.unit[2] == np.flatnonzero(layout.unit_block == block)[6]  # unit 7


@pytest.mark.parametrize(
    ("block", "unit", "problem"),
    [
        # Was accepted and placed the specialist in a unit of another block (or past the end).
        (
            "dept_culture_social",
            "99",
            "unit 99 is not in block dept_culture_social, which has 9 units",
        ),
        (
            "dept_culture_social",
            "0",
            "unit 0 is not in block dept_culture_social, which has 9 units",
        ),
        # Were silently ignored.
        ("nosuch", "1", "block 'nosuch' is not a block of scenario quang_binh"),
        ("", "3", "unit '3' is given without a block"),
        ("dept_culture_social", "①", "unit '①' is not a unit number (1, 2, ...)"),
    ],
)
def test_a_specialists_unit_must_exist(
    roster_rows: list[list[str]], tmp_path: Path, block: str, unit: str, problem: str
) -> None:
    rows = [list(r) for r in roster_rows]
    rows[3][2:4] = [block, unit]
    assert roster_problems(rows, tmp_path / "bad.csv") == [f"row 4: {problem}"]


def test_a_unit_in_other_digits_is_refused_not_a_crash(
    roster_rows: list[list[str]], tmp_path: Path
) -> None:
    """'①'.isdigit() is true but int('①') raises: load_roster raised a bare ValueError."""
    rows = [list(r) for r in roster_rows]
    rows[1][3] = "①"
    assert roster_problems(rows, tmp_path / "bad.csv") == [
        "row 2: unit '①' is not a unit number (1, 2, ...)"
    ]


def test_a_column_given_twice_is_refused(roster_rows: list[list[str]], tmp_path: Path) -> None:
    """'rank' and 'RANK' are the same column once lower-cased: one of them was dropped."""
    rows = [[*r, r[1]] for r in roster_rows]
    rows[0][-1] = "RANK"
    assert roster_problems(rows, tmp_path / "bad.csv") == ["column(s) given more than once: rank"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1970-02-30", "'1970-02-30' has no day 30"),
        ("1970-01-xx", "'1970-01-xx' is not a month (YYYY-MM) or a date (YYYY-MM-DD)"),
        ("1970-01-01-01", "'1970-01-01-01' is not a month (YYYY-MM)"),
    ],
)
def test_a_date_with_an_impossible_day_is_refused(
    roster_rows: list[list[str]], tmp_path: Path, value: str, problem: str
) -> None:
    rows = [list(r) for r in roster_rows]
    rows[2][5] = value
    assert roster_problems(rows, tmp_path / "bad.csv") == [f"row 3: birth_month: {problem}"]


def test_a_full_date_with_a_time_is_read_as_its_month(
    roster_rows: list[list[str]], tmp_path: Path
) -> None:
    rows = [list(r) for r in roster_rows]
    rows[2][5] = "1970-05-31 00:00:00"
    path = tmp_path / "ok.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    sc, layout = roster_scenario()
    assert load_roster(path, sc, layout).ids == ("A1", "A2", "A3")


def test_a_roster_that_is_not_csv_or_excel_says_so(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    path.write_text("{}", encoding="utf-8")
    sc, layout = roster_scenario()
    with pytest.raises(RosterError) as info:
        load_roster(path, sc, layout)
    assert info.value.problems == ["a roster is a .csv or .xlsx file"]
