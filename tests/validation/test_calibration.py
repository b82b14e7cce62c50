"""Age laws by sex and of the under-40s, business as usual without quotas, and the calibration
of Quảng Bình (scripts/calibrate.py) against the facts it was fitted to."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.population import build_layout, build_people, young_age_ppf
from sim.results import Collector
from sim.runner import make_runner, run_many
from sim.scenario import (
    YOUNG_LAW_TOP,
    AgeBySex,
    AgeDist,
    Issue,
    Scenario,
    ScenarioError,
    YoungAgeDist,
    bundled_scenarios_dir,
    load_scenario,
    load_scenario_text,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import calibrate  # noqa: E402


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(bundled_scenarios_dir() / "quang_binh.yaml")


def _people(sc: Scenario, seed: int = 3):  # type: ignore[no-untyped-def]
    layout = build_layout(sc)
    return layout, build_people(np.random.default_rng(seed), sc, layout)


def _ages_at_start(sc: Scenario, people) -> np.ndarray:  # type: ignore[no-untyped-def]
    return (sc.start_month - people.birth) / 12.0


def _one_law(qb: Scenario) -> Scenario:
    """Quảng Bình with one age law for both sexes (men's) and the uniform under-40 law."""
    pop = qb.population
    men = {
        "age_heads": AgeDist.model_validate(_men(pop.l1.age_heads)),
        "age_deputies": AgeDist.model_validate(_men(pop.l1.age_deputies)),
    }
    return qb.with_overrides(
        {
            "population.l1.age_heads": men["age_heads"].model_dump(),
            "population.l1.age_deputies": men["age_deputies"].model_dump(),
            "population.l1.young_age": None,
            "population.l2.age": _men(pop.l2.age),
            "population.l2.young_age": None,
        }
    )


def _men(law) -> dict:  # type: ignore[no-untyped-def]
    return (law.men if isinstance(law, AgeBySex) else law).model_dump()


# --------------------------------------------------------------------------- #
# Age laws by sex
# --------------------------------------------------------------------------- #


def _head_means(sc: Scenario) -> tuple[float, float]:
    """Mean ages of women and of men among L1 heads aged 40 or over at the start."""
    layout, people = _people(sc)
    heads = (people.post >= 0) & (layout.post_rank[np.maximum(people.post, 0)] == 4)
    ages = _ages_at_start(sc, people)
    old = heads & (ages >= 40)
    return float(ages[old & people.female].mean()), float(ages[old & ~people.female].mean())


def test_women_are_younger_when_their_law_says_so(qb: Scenario) -> None:
    base = _one_law(qb)
    law = {"mean": 54.0, "sd": 4.0, "min": 40.0}
    younger = base.with_overrides(
        {"population.l1.age_heads": {"men": law, "women": {**law, "mean": 47.0}}}
    )
    women_same, men_same = _head_means(base)
    women_younger, men_younger = _head_means(younger)
    # Same random numbers: men's ages do not move; women heads are several years younger.
    assert men_younger == pytest.approx(men_same)
    assert women_younger < women_same - 3.0
    # Without the offset, women's ages are men's law truncated at their retirement age (~55).
    assert women_same < men_same


def test_one_law_equals_the_same_law_given_for_both_sexes(qb: Scenario) -> None:
    """Backward compatibility: the old form and a by-sex form with equal laws draw the same
    people from the same random numbers."""
    base = _one_law(qb)
    law = base.population.l1.age_heads
    assert isinstance(law, AgeDist)  # the old form parses to one law
    both = base.with_overrides(
        {"population.l1.age_heads": {"men": law.model_dump(), "women": law.model_dump()}}
    )
    assert isinstance(both.population.l1.age_heads, AgeBySex)
    _, a = _people(base)
    _, b = _people(both)
    np.testing.assert_array_equal(a.birth, b.birth)
    np.testing.assert_array_equal(a.female, b.female)


def test_under_40_law_has_its_range_and_truncated_mean() -> None:
    law = YoungAgeDist(mean=38.0, sd=2.5)
    u = (np.arange(20_000) + 0.5) / 20_000
    ages = young_age_ppf(u, law, 32.0, np.zeros(len(u), dtype=bool))
    # Two months short of 40, so that a birth month rounded down never makes them 40.
    assert ages.min() >= 32.0 and ages.max() <= YOUNG_LAW_TOP < 40.0
    a, b = (32.0 - 38.0) / 2.5, (YOUNG_LAW_TOP - 38.0) / 2.5
    assert ages.mean() == pytest.approx(stats.truncnorm(a, b, 38.0, 2.5).mean(), abs=0.01)
    # Concentrated in the late 30s, unlike the uniform law (mean 36).
    uniform = young_age_ppf(u, None, 32.0, np.zeros(len(u), dtype=bool))
    assert uniform.mean() == pytest.approx(36.0, abs=0.01)
    assert ages.mean() > uniform.mean() + 0.5


def test_under_40_leaders_of_the_starting_population_follow_the_law(qb: Scenario) -> None:
    sc = qb.with_overrides(
        {
            "population.l2.young_share": 0.5,
            "population.l2.young_age": {"mean": 39.0, "sd": 1.5},
            "population.l2.young_min_age": 30,
        }
    )
    young = []
    for seed in range(4):
        _, people = _people(sc, seed)
        ages = _ages_at_start(sc, people)
        young.append(ages[np.isin(people.rank, (1, 2)) & (ages < 40)])
    drawn = np.concatenate(young)
    a, b = (30.0 - 39.0) / 1.5, (YOUNG_LAW_TOP - 39.0) / 1.5
    expected = stats.truncnorm(a, b, 39.0, 1.5).mean()
    assert drawn.min() >= 30.0
    # Birth months are whole months rounded down from a jittered date: ages on the start
    # date are the drawn ones plus a month on average.
    assert drawn.mean() == pytest.approx(expected + 1 / 12, abs=0.1)


# --------------------------------------------------------------------------- #
# Schema errors, located
# --------------------------------------------------------------------------- #


def _edit(text: str, pattern: str, new: str, mark: str) -> tuple[str, int]:
    edited, n = re.subn(pattern, new, text, count=1, flags=re.M)
    assert n == 1, pattern
    at = edited.index(mark)
    return edited, edited.count("\n", 0, at) + 1


def _issue(err: ScenarioError, path: str) -> Issue:
    found = [i for i in err.issues if i.path == path]
    assert len(found) == 1, [str(i) for i in err.issues]
    return found[0]


def test_a_by_sex_law_without_women_names_the_field_and_line(bundled_text: str) -> None:
    text, line = _edit(
        bundled_text,
        r"^    age_heads:\n      men: (.*)\n      women: .*\n",
        "    age_heads:\n      men: \\1\n",
        "      men: ",  # a missing key is reported at the start of its mapping
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "qb.yaml")
    issue = _issue(info.value, "population.l1.age_heads.women")
    assert "missing" in issue.message
    assert issue.file == "qb.yaml" and issue.line == line


def test_a_law_with_no_weight_on_working_ages_is_refused_at_its_line(bundled_text: str) -> None:
    text, line = _edit(
        bundled_text,
        r"^(    age_deputies:\n      men: .*\n)      women: .*\n",
        "\\1      women: {mean: 69, sd: 0.5, min: 40}\n",
        "women: {mean: 69",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "qb.yaml")
    issue = _issue(info.value, "population.l1.age_deputies.women.mean")
    assert "no weight" in issue.message and "women" in issue.message
    assert issue.line == line


@pytest.mark.parametrize(
    ("law", "words"),
    [
        ("{mean: 20, sd: 0.3}", "no weight"),  # all its weight below young_min_age
        ("{mean: 38, sd: 0}", "greater than 0"),
        ("{mean: 38}", "missing"),
        ("{mean: 38, sd: 2, min: 30}", "unknown key"),
    ],
)
def test_impossible_under_40_laws_are_refused(qb: Scenario, law: str, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        qb.with_overrides([f"population.l2.young_age={law}"])
    assert any(
        i.path.startswith("population.l2.young_age") and words in i.message
        for i in info.value.issues
    ), str(info.value)


# --------------------------------------------------------------------------- #
# Business as usual imposes no quota
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", ["quang_binh", "ha_giang", "cao_bang", "nghe_an", "ha_noi"])
def test_business_as_usual_has_no_appointment_quota(name: str) -> None:
    bau = load_scenario(bundled_scenarios_dir() / f"{name}.yaml").variant("bau")
    pol = bau.policy
    assert pol.appointment_share.reading == "none"
    assert not pol.vacancy_reservation.enabled


def test_quang_binh_bau_keeps_none_of_the_scheme_rules(qb: Scenario) -> None:
    pol = qb.variant("bau").policy
    assert not pol.women_staff_rule.enabled
    assert not pol.long_service.enabled


# --------------------------------------------------------------------------- #
# The calibration
# --------------------------------------------------------------------------- #


def test_fit_and_held_out_facts_are_disjoint() -> None:
    fitted = {p.fact for p in calibrate.PARAMETERS}
    assert fitted == set(calibrate.FIT_FACTS)
    assert not fitted & set(calibrate.HELD_OUT_FACTS)
    # Every parameter is fitted to a fact of its own.
    assert len({p.fact for p in calibrate.PARAMETERS}) == len(calibrate.PARAMETERS)


@pytest.mark.slow
def test_the_objective_is_deterministic_and_monotone(qb: Scenario) -> None:
    """Common random numbers: the same evaluation twice gives the same figure, and a higher
    exit hazard gives more appointments."""
    with make_runner(1) as runner:
        cal = calibrate.Calibration(qb, runner, reps=4, confirm_reps=4, seed=11)
        calibrate.stage_start(cal)
        a = cal.run(4, exit_hazard_l1=0.03)["appointments"]
        b = cal.run(4, exit_hazard_l1=0.03)["appointments"]
        c = cal.run(4, exit_hazard_l1=0.09)["appointments"]
    np.testing.assert_array_equal(a, b)
    assert c.mean() > a.mean() + 20


@pytest.mark.slow
def test_the_fitted_scenario_reproduces_the_fit_facts(qb: Scenario) -> None:
    """The bundled Quảng Bình, back-cast from 2016 on 60 replications, is within tolerance of
    the three facts it was fitted to (tolerances: about two standard errors of the mean plus
    the fit's own Monte Carlo error)."""
    sc = calibrate.backcast(qb)
    with make_runner(1) as runner:
        c = Collector(sc, 60, keep=("appointments", "headcount")).extend(
            run_many(sc, 77, 60, runner)
        )
    m = calibrate.moments(c)
    assert m["appointments"].mean() == pytest.approx(245, abs=10)
    assert m["stock_women"].mean() == pytest.approx(45 / 338, abs=0.012)
    assert m["stock_young"].mean() == pytest.approx(8 / 338, abs=0.006)


@pytest.mark.slow
def test_the_calibrate_script_runs_at_tiny_size(tmp_path: Path) -> None:
    scenario = tmp_path / "qb.yaml"
    scenario.write_text(
        (bundled_scenarios_dir() / "quang_binh.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    record = tmp_path / "record.json"
    args = ["--reps", "2", "--confirm-reps", "4", "--sweeps", "1", "--workers", "1"]
    args += ["--write", "--scenario", str(scenario), "--record", str(record)]
    assert calibrate.main(args) == 0
    text = scenario.read_text(encoding="utf-8")
    assert text.count("fitted by scripts/calibrate.py") >= 4
    fitted = load_scenario(scenario)  # still a valid scenario
    assert isinstance(fitted.population.l1.age_heads, AgeBySex)
    assert record.exists()


def test_the_expected_value_model_uses_the_same_laws(qb: Scenario) -> None:
    """The cohort model starts from the same age laws: its mean ages of under-40 L1 leaders and
    of women L1 heads match the engine's starting population."""
    from sim.expected import ExpectedModel

    sc = qb.with_overrides(
        {
            "population.l1.young_age": {"mean": 39.0, "sd": 1.5},
            "population.l1.age_heads": {
                "men": {"mean": 54.0, "sd": 4.0, "min": 40.0},
                "women": {"mean": 48.0, "sd": 4.0, "min": 40.0},
            },
        }
    )
    model = ExpectedModel(sc)
    n = model.initial_state()
    years = model.ages / 12.0
    young = years < 40
    l1 = n[3].sum(axis=(0, 2)) + n[4].sum(axis=(0, 2))  # by age, both sexes
    ev_young = float((l1 * years)[young].sum() / l1[young].sum())
    women_heads = n[4][1].sum(axis=1)
    ev_women_heads = float((women_heads * years)[~young].sum() / women_heads[~young].sum())
    means = []
    for seed in range(8):
        layout, people = _people(sc, seed)
        ages = _ages_at_start(sc, people)
        held = people.post >= 0
        rank = np.where(held, layout.post_rank[np.maximum(people.post, 0)], -1)
        l1_young = (rank >= 3) & (ages < 40)
        heads_w = (rank == 4) & people.female & (ages >= 40)
        means.append((ages[l1_young].mean(), ages[heads_w].mean()))
    mc_young, mc_women = np.mean(means, axis=0)
    assert ev_young == pytest.approx(mc_young, abs=0.35)  # 8 people a draw, 8 draws
    assert ev_women_heads == pytest.approx(mc_women, abs=0.6)
