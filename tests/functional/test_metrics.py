"""What the outputs show: years without appointments of each-year flow targets, the share of
units that comply next to P(all comply), baselines measured before the levers act, and
scenarios without targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import BUNDLED
from test_cli import invoke

from sim import api, rules
from sim.codes import APPOINTMENT
from sim.model import Model
from sim.results import TARGET_COLUMNS, Collector
from sim.scenario import (
    RANK_CODE,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    resolve_scenario_path,
)
from sim.store import FORMAT, ResultStore, StoreError, identity

ROOT = Path(__file__).resolve().parents[2]
HG = ROOT / "scenarios" / "ha_giang.yaml"
FLOW_STOCK = ROOT / "validation" / "flow_stock.yaml"
MLE = ROOT / "validation" / "martell_lane_emrich.yaml"

# Two flow targets on the two heads of Quảng Bình's internal-affairs departments: with two
# posts and five-year terms, most years of 2021-2025 see no appointment to them. A share of
# at least 0% is met by any year with appointments, so only empty years can fail it.
EMPTY_TARGETS = "".join(
    f"""  - id: {tid}
    source: "test"
    text: {{en: "test target", vi: "chỉ tiêu thử"}}
    kind: flow
    who: {{ranks: [l1_head], blocks: [dept_internal]}}
    group: women
    from_year: 2021
    aggregate: each_year
{extra}    op: ">="
    value: 0.0
    by: 2025
"""
    for tid, extra in (("EMPTY-FAIL", ""), ("EMPTY-SKIP", "    empty_year: skip\n"))
)


def with_targets(extra: str, base: Path = BUNDLED) -> str:
    text = base.read_text(encoding="utf-8")
    return text.replace("\nvariants:", "\n" + extra + "\nvariants:", 1)


@pytest.fixture(scope="module")
def empty_runs():  # type: ignore[no-untyped-def]
    sc = load_scenario_text(with_targets(EMPTY_TARGETS), "empty.yaml")
    models = [Model(sc, seed=3, rep=r, keep_log=True) for r in range(6)]
    return sc, models, [m.run() for m in models]


# ------------------------------------------------------------------ each-year flow targets
def test_a_year_without_appointments_is_counted_and_not_met(empty_runs) -> None:  # type: ignore[no-untyped-def]
    sc, models, results = empty_runs
    ids = [t.id for t in sc.targets]
    k_fail, k_skip = ids.index("EMPTY-FAIL"), ids.index("EMPTY-SKIP")
    counts = []
    for model, res in zip(models, results, strict=True):
        lay = model.layout
        posts = (lay.post_rank == RANK_CODE["l1_head"]) & (
            lay.post_block == lay.block_ids.index("dept_internal")
        )
        a = res.log["appointments"]
        a = a[posts[a["post"]] & (a["move"] == APPOINTMENT)]
        years = set((a["t"] // 12).astype(int).tolist()) & set(range(2021, 2026))
        empty = 5 - len(years)  # from the event log, independently of the metric
        counts.append(empty)
        assert res.target_empty_years[k_fail] == empty
        assert res.target_empty_years[k_skip] == empty
        assert res.target_met[k_fail] == (empty == 0)
        assert res.target_met[k_skip] == (empty < 5)
        # The each-year metric is the lowest share over the years that had appointments.
        assert np.isnan(res.target_value[k_fail]) == (empty == 5)
    assert any(counts), "the scenario is built so that some year has no appointment"
    assert any(0 < c < 5 for c in counts)
    # Other targets carry no count.
    others = [k for k, t in enumerate(sc.targets) if t.kind != "flow" or t.aggregate != "each_year"]
    assert all(res.target_empty_years[others].sum() == 0 for res in results)


def test_empty_year_counts_reach_the_summary(empty_runs) -> None:  # type: ignore[no-untyped-def]
    sc, _, results = empty_runs
    summary = Collector(sc, len(results)).extend(results).summary()
    df = summary.targets.set_index("target")
    k = [t.id for t in sc.targets].index("EMPTY-FAIL")
    counts = np.array([r.target_empty_years[k] for r in results])
    row = df.loc["EMPTY-FAIL"]
    assert row["empty_year_rule"] == "fail"
    assert row["empty_years_mean"] == pytest.approx(counts.mean())
    assert row["empty_years_share"] == pytest.approx((counts > 0).mean())
    assert row["p_met"] == pytest.approx((counts == 0).mean())
    assert df.loc["EMPTY-SKIP", "empty_year_rule"] == "skip"
    # QB-AW is an each-year target too; a stock or committee target has no such column.
    assert df.loc["QB-AW", "empty_year_rule"] == "fail"
    assert np.isnan(df.loc["QB-W-PC-25", "empty_years_mean"])
    assert df.loc["QB-W-PC-25", "empty_year_rule"] == "-"


def test_cli_table_store_and_resume_carry_the_empty_years(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(with_targets(EMPTY_TARGETS), encoding="utf-8")
    out = tmp_path / "o"
    args = ["run", str(path), "--workers", "1", "--seed", "3"]
    first = invoke([*args, "--reps", "3", "--out", str(out)])
    assert first.exit_code == 0, first.stdout
    text = " ".join(first.stdout.split())
    assert "EMPTY-FAIL: a year without any appointment to its posts in" in text
    assert "each counts as not met" in text
    assert "left out (empty_year: skip)" in text
    # More replications on top of the stored ones (read back from the chunks) ...
    resumed = invoke([*args, "--reps", "6", "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.stdout
    # ... give the tables of a fresh run of 6.
    fresh = invoke([*args, "--reps", "6", "--out", str(tmp_path / "f")])
    assert fresh.exit_code == 0, fresh.stdout
    a = pd.read_csv(out / "targets.csv").set_index("target")
    b = pd.read_csv(tmp_path / "f" / "targets.csv").set_index("target")
    cols = ["empty_years_mean", "empty_years_share", "p_met"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a.loc["EMPTY-FAIL", "empty_years_share"] > 0
    chunk = pd.read_parquet(sorted((out / "chunks").glob("*.parquet"))[0])
    assert "empty_years[EMPTY-FAIL]" in chunk.columns


def test_a_store_of_the_older_chunk_format_is_refused(tmp_path: Path) -> None:
    sc = load_scenario(BUNDLED)
    ident = identity("run", sc, 5)
    ids = [t.id for t in sc.targets]
    store = ResultStore.open(tmp_path, ident, ids)
    for r in range(2):
        store.add(Model(sc, 5, r).run())
    store.flush()
    # A chunk written by the older format (no empty_years columns): refused on resume.
    [chunk] = list((tmp_path / "chunks").glob("*.parquet"))
    table = pq.read_table(chunk)
    meta = json.loads(table.schema.metadata[b"cadresim"])
    meta["study"]["format"] = FORMAT - 1
    old = table.drop([c for c in table.column_names if c.startswith("empty_years[")])
    pq.write_table(old.replace_schema_metadata({"cadresim": json.dumps(meta)}), chunk)
    with pytest.raises(StoreError, match=f"chunk format {FORMAT - 1}"):
        ResultStore.open(tmp_path, ident, ids, resume=True)
    # And a folder whose run.json says so, before any chunk is read.
    run = json.loads((tmp_path / "run.json").read_text())
    run["format"] = FORMAT - 1
    (tmp_path / "run.json").write_text(json.dumps(run))
    with pytest.raises(StoreError, match="another folder"):
        ResultStore.open(tmp_path, ident, ids, resume=True)


def test_empty_year_skip_needs_each_year(tmp_path: Path) -> None:
    bad = EMPTY_TARGETS.replace("aggregate: each_year", "aggregate: pooled")
    path = tmp_path / "bad.yaml"
    path.write_text(with_targets(bad), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [issue] = [i for i in info.value.issues if i.path.endswith("empty_year")]
    assert "each_year only" in issue.message and issue.line is not None


# --------------------------------------------------------------- "all units comply" targets
def test_share_of_complying_units_sits_next_to_p_met(tmp_path: Path) -> None:
    sc = load_scenario(BUNDLED)
    results = [Model(sc, 9, r).run() for r in range(4)]
    df = Collector(sc, 4).extend(results).summary().targets.set_index("target")
    row = df.loc["QB-30W"]
    assert row["complying_of"] == "units"
    k = [t.id for t in sc.targets].index("QB-30W")
    shares = np.array([r.target_value[k] for r in results])
    assert row["complying_median"] == pytest.approx(np.median(shares))
    assert row["complying_p5"] == pytest.approx(np.quantile(shares, 0.05))
    assert row["complying_p95"] == pytest.approx(np.quantile(shares, 0.95))
    assert 0 < row["complying_median"] < 1  # most units comply, not every one
    assert df.loc["QB-AW", "complying_of"] == "-"
    assert np.isnan(df.loc["QB-AW", "complying_median"])
    out = invoke(["run", "quang_binh", "--reps", "4", "--seed", "9", "--workers", "1"])
    assert out.exit_code == 0, out.stdout
    text = " ".join(out.stdout.split())
    p = f"{100 * row['p_met']:.1f}%"
    typical = f"{100 * row['complying_median']:.1f}%"
    assert f"QB-30W: {p} chance that all units comply; typically {typical} of units comply" in (
        text
    )


def test_hundred_percent_targets_count_leaders() -> None:
    sc = load_scenario(HG)
    summary = Collector(sc, 1).extend([Model(sc, 1, 0).run()]).summary()
    df = summary.targets.set_index("target")
    assert df.loc["HG-PT-25", "complying_of"] == "leaders"  # "100% of leaders ..."
    assert df.loc["HG-W1-25", "complying_of"] == "-"  # a share target, not "all comply"


# ---------------------------------------------------------------- baselines and levers_from
RELATIVE = ("HG-Y2-25", "HG-Y2-30", "HG-W2-25", "HG-W2-30")


def _group_share(model: Model, target, t: float) -> float:  # type: ignore[no-untyped-def]
    """A stock share computed from the layout and the people, without the model's metric."""
    lay = model.layout
    posts = np.isin(lay.post_rank, [RANK_CODE[r] for r in target.who.ranks])
    posts &= np.isin(lay.post_block, [lay.block_ids.index(b) for b in target.who.blocks])
    h = model.post_holder[posts]
    h = h[h >= 0]
    if target.group == "women":
        return float(model.female[h].mean())
    return float(((t - model.birth[h]) < rules.YOUNG_AGE_MONTHS).mean())


def test_baseline_is_the_starting_stock_when_the_levers_start_at_the_start() -> None:
    sc = load_scenario(HG).with_overrides({"policy.levers_from": "2021-01-01"})
    for rep in range(2):
        model = Model(sc, 11, rep)
        start = {t.id: _group_share(model, t, model.t0) for t in sc.targets if t.id in RELATIVE}
        res = model.run()
        for k, t in enumerate(sc.targets):
            if t.id in RELATIVE:
                assert res.target_threshold[k] == pytest.approx(start[t.id] + t.value, abs=1e-12)


def test_no_lever_moves_its_own_targets_threshold() -> None:
    """Hà Giang as bundled (levers from 06/05/2022): the baseline is the 31/12/2021 value,
    the same whatever the women's and young shares (they act only later), while the stocks
    themselves do move."""
    base = load_scenario(HG).variant("qb_shares")  # shares on (expected), reservation on
    ks = [k for k, t in enumerate(base.targets) if t.id in RELATIVE]
    runs = {}
    for q in (0.15, 0.30):
        sc = base.with_overrides(
            {"policy.appointment_share.women": q, "policy.appointment_share.young": q}
        )
        runs[q] = [Model(sc, 13, r).run() for r in range(2)]
    for low, high in zip(runs[0.15], runs[0.30], strict=True):
        assert np.array_equal(low.target_threshold[ks], high.target_threshold[ks])
        for k in ks:  # the value on 31 December 2021 (trajectory year 0), plus the change
            t = base.targets[k]
            assert low.target_threshold[k] == pytest.approx(low.trajectory[k, 0] + t.value)
    assert any(
        not np.array_equal(a.target_value[ks], b.target_value[ks])
        for a, b in zip(runs[0.15], runs[0.30], strict=True)
    )


def test_before_levers_from_the_run_is_business_as_usual() -> None:
    """Quảng Bình with its levers from 2023: up to then, the same appointments as a run with
    the four levers off (common random numbers); no post held for a group before the date."""
    qb = load_scenario(BUNDLED)
    later = qb.with_overrides({"policy.levers_from": "2023-01-01"})
    off = qb.with_overrides(
        {
            "policy.appointment_share.reading": "none",
            "policy.vacancy_reservation.enabled": False,
            "policy.women_staff_rule.enabled": False,
            "policy.long_service.enabled": False,
        }
    )
    cut = 12 * 2023
    held_after = 0.0
    for rep in range(3):
        a = Model(later, 2, rep, keep_log=True).run()
        b = Model(off, 2, rep, keep_log=True).run()
        la, lb = a.log["appointments"], b.log["appointments"]
        la, lb = la[la["t"] < cut], lb[lb["t"] < cut]
        assert len(la) > 100
        assert np.array_equal(la, lb)
        assert a.reserved_months[:2].sum() == 0  # 2021 and 2022
        held_after += a.reserved_months[2:].sum()
    assert held_after > 0  # reservation is on from 2023


def test_rotation_waits_for_the_levers() -> None:
    sc = load_scenario(HG)  # rotation each March; levers from 06/05/2022
    res = Model(sc, 1, 0).run()
    assert res.rotations[:2, 0].sum() == 0  # no plan in March 2021 or March 2022
    assert res.rotations[2:, 0].sum() > 0


@pytest.mark.parametrize(
    ("policy", "target_year", "field", "words"),
    [
        ("", 2022, "baseline.year", "begins after the levers start"),
        ("  levers_from: 2022-03-01\n", 2023, "baseline.year", "begins after the levers start"),
        ("  levers_from: 2031-01-01\n", 2021, "policy.levers_from", "outside the horizon"),
    ],
    ids=["baseline_after_start", "baseline_after_levers_from", "levers_from_outside"],
)
def test_loader_refuses_a_baseline_after_the_levers_start(
    tmp_path: Path, policy: str, target_year: int, field: str, words: str
) -> None:
    target = f"""  - id: LATE
    source: "test"
    text: {{en: "test target", vi: "chỉ tiêu thử"}}
    kind: stock
    who: {{ranks: [l1_head, l1_deputy]}}
    group: women
    baseline: {{year: {target_year}}}
    op: ">="
    value: 0.05
    by: 2025
"""
    text = with_targets(target).replace("\ncongress:", "\n" + policy + "\ncongress:", 1)
    path = tmp_path / "late.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    issues = [i for i in info.value.issues if i.path.endswith(field)]
    assert issues, str(info.value)
    assert words in issues[0].message, issues[0].message
    assert issues[0].line is not None and issues[0].file == str(path)


def test_a_baseline_up_to_the_levers_start_loads(tmp_path: Path) -> None:
    target = """  - id: EARLY
    source: "test"
    text: {en: "test target", vi: "chỉ tiêu thử"}
    kind: stock
    who: {ranks: [l1_head, l1_deputy]}
    group: women
    baseline: {year: 2022}
    op: ">="
    value: 0.05
    by: 2025
"""
    text = with_targets(target).replace(
        "\ncongress:", "\n  levers_from: 2022-03-01\n\ncongress:", 1
    )
    sc = load_scenario_text(text, "early.yaml")
    [t] = [t for t in sc.targets if t.id == "EARLY"]
    assert str(sc.baseline_date(t.baseline)) == "2022-03-01"  # the levers' start comes first


# -------------------------------------------------------------- scenarios without targets
def test_a_scenario_without_targets_runs_in_the_cli(tmp_path: Path) -> None:
    out = invoke(["run", str(FLOW_STOCK), "--reps", "3", "--workers", "1", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.stdout
    assert "has no targets" in out.stdout
    targets = pd.read_csv(tmp_path / "targets.csv")
    assert list(targets.columns) == list(TARGET_COLUMNS) and targets.empty
    assert not pd.read_csv(tmp_path / "flows.csv").empty


def test_the_validation_scenarios_run_in_the_cli() -> None:
    out = invoke(["run", str(MLE), "--reps", "3", "--workers", "1"])
    assert out.exit_code == 0, out.stdout
    assert "W-L1-HEAD" in out.stdout


def test_a_scenario_without_targets_runs_through_the_api() -> None:
    sc = load_scenario(resolve_scenario_path(str(FLOW_STOCK)))
    assert not sc.targets
    study = api.run_study(sc, 2021, 3)
    summary = study.summary
    assert study.done == 3
    assert summary.targets.empty and list(summary.targets.columns) == list(TARGET_COLUMNS)
    assert summary.joint.empty
    assert summary.flows["appointments_mean"].sum() > 0
    assert api.compare(sc, sc, 2021, 2).empty


# --------------------------------------------------------------------- metamorphic relation
# Hà Giang without the mechanisms a share cannot act through (training, standards, the
# succession pool, rotation: off, for speed), shares in the expected reading.
HG_CORE = {
    "policy.training.enabled": False,
    "policy.succession_pool.enabled": False,
    "policy.rotation.enabled": False,
    "policy.standards.enforcement": "none",
    "policy.appointment_share.reading": "expected",
}
METAMORPHIC_REPS = 40


@pytest.mark.slow
@pytest.mark.parametrize(
    ("group", "tier", "targets"),
    [
        ("women", "l2", ("HG-W2-25", "HG-W2-30")),
        ("women", "l1", ("HG-W1-25", "HG-W1-30")),
        ("young", "l2", ("HG-Y2-25", "HG-Y2-30")),
        ("young", "l1", ("HG-Y1-25", "HG-Y1-30")),
    ],
)
def test_a_larger_share_never_lowers_p_met_of_the_groups_targets(
    group: str, tier: str, targets: tuple[str, ...]
) -> None:
    """Raising a group's share of the appointments to a tier from 15% to 30% never lowers
    P(met) of that group's targets on the tier, relative ones ("+5 points on 2021") included,
    beyond Monte Carlo noise (same seeds: the paired difference's standard error is
    sqrt(discordant replications) / n; allowed: 3 points or twice that, whichever is more).

    The share applies to the target's own tier: a share of L1 appointments promotes the
    group out of L2 faster, which can lower an L2 target (a cross-tier effect, not an error).
    """
    base = load_scenario(HG).with_overrides({**HG_CORE, "policy.appointment_share.tiers": [tier]})
    ks = [[t.id for t in base.targets].index(x) for x in targets]
    met = {}
    for q in (0.15, 0.30):
        sc = base.with_overrides({f"policy.appointment_share.{group}": q})
        met[q] = np.array(
            [Model(sc, 2021, r).run().target_met[ks] for r in range(METAMORPHIC_REPS)]
        )
    low, high = met[0.15], met[0.30]
    n = METAMORPHIC_REPS
    for j, tid in enumerate(targets):
        discordant = int((low[:, j] != high[:, j]).sum())
        allowed = max(0.03, 2 * np.sqrt(discordant) / n)
        p_low, p_high = low[:, j].mean(), high[:, j].mean()
        assert p_high >= p_low - allowed, f"{tid}: P(met) {p_low:.2f} -> {p_high:.2f}"
