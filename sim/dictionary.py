"""The data dictionary: every column of every table cadresim writes, with its meaning, unit
and how it aggregates the replications. One source for ``metadata.json`` (the ``columns`` of
each study's folder), for docs/OUTPUTS.md (``python -m sim.dictionary > docs/OUTPUTS.md``)
and for the test that no column is written undescribed (tests/functional/test_dictionary.py).

A column is named exactly, or by a pattern for the columns a scenario decides: ``exits_*``
(one a cause of exit), ``training_*`` (one a course and stage), or a setting's dotted path
(the swept and sampled settings).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The pattern of a column named by a study's lever or uncertainty: any name the study gives.
PARAMS = "<params>"


@dataclass(frozen=True)
class Column:
    """One column: its ``name`` (or a ``pattern``, a regular expression on the name), what it
    means, its unit and how the replications are aggregated into it."""

    name: str
    meaning: str
    unit: str
    aggregation: str = "-"
    pattern: str = ""

    def matches(self, column: str, params: frozenset[str] = frozenset()) -> bool:
        """Whether this describes ``column``; a study's parameters (:data:`PARAMS`) match only
        the names in ``params``."""
        if self.pattern == PARAMS:
            return column in params
        return bool(re.fullmatch(self.pattern, column)) if self.pattern else column == self.name


@dataclass(frozen=True)
class TableInfo:
    """A table: what one row is, which commands write it, and its columns."""

    row: str
    written_by: str
    columns: tuple[Column, ...]


P = "probability (0-1)"
SHARE = "share (0-1)"
MEAN = "mean a replication"
FRACTION = "fraction of replications"
SETTING = Column(
    "<setting path>",
    "The value of a swept or sampled setting at this point (its dotted path, as in --set)",
    "the setting's own",
    "-",
    pattern=r"[a-z_0-9]+(\.[A-Za-z_0-9-]+)+",
)
TARGET = Column("target", "The target's id in the scenario file", "text")
BY = Column("by", "The target's deadline (year)", "year")
POINT = Column("point", "Design point (0, 1, ...): one setting of the swept values", "index")
CI_LOW = Column("ci_low", "Lower end of the 95% Wilson interval of the probability", P)
CI_HIGH = Column("ci_high", "Upper end of the 95% Wilson interval of the probability", P)
P_MET = Column(
    "p_met",
    "Probability that the target is met: the fraction of replications meeting it",
    P,
    FRACTION,
)
#: The metric's quantiles at the deadline (targets, sweeps, explorations).
METRIC = (
    Column(
        "metric_median",
        "The metric at the deadline, median over replications",
        "the metric's own",
        "median over replications",
    ),
    Column(
        "metric_p5",
        "5th percentile of the metric over replications",
        "the metric's own",
        "5th percentile over replications",
    ),
    Column(
        "metric_p95",
        "95th percentile of the metric over replications",
        "the metric's own",
        "95th percentile over replications",
    ),
)
#: The joint P of a deadline's targets (run, sweep, explore), after the row's keys.
JOINT = (
    BY,
    Column("targets", "The modelled targets of that deadline (their ids, space-separated)", "text"),
    Column(
        "p_all_met",
        "Probability that every target of the deadline is met in the same replication",
        P,
        FRACTION,
    ),
    CI_LOW,
    CI_HIGH,
)
REP = Column("rep", "Replication number (its random numbers depend on seed and rep only)", "index")
VALUE = Column(
    "value",
    "The target's metric in this replication (a share, or a count for some targets)",
    "the metric's own (mostly a share 0-1)",
    "per replication",
)
MET = Column(
    "met", "Whether the target is met in this replication", "true/false", "per replication"
)


#: The province of an event (the event logs of a merged province's runs).
PROVINCE = Column(
    "province",
    "A merged province's runs only: the province the event happened in (a source province "
    "before the merger date, the merged one from it); post, unit and person indices are that "
    "province's model's",
    "text",
)

TABLES: dict[str, TableInfo] = {
    "targets": TableInfo(
        "target",
        "run",
        (
            TARGET,
            Column(
                "kind",
                "How the metric is measured: stock, flow, committee, pool, women_staff_rule, ...",
                "text",
            ),
            BY,
            Column("op", "The comparison of the goal: >=, >, <=, <, or range", "text"),
            Column("value", "The goal (the lower end of a range)", "the metric's own"),
            Column("upper", "The upper end of a range goal (empty otherwise)", "the metric's own"),
            Column("baseline_year", "For a goal relative to a year: that year", "year"),
            Column(
                "baseline_reading",
                "How a relative goal is read: absolute (+ points) or relative (x factor)",
                "text",
            ),
            Column(
                "threshold_median",
                "For a relative goal: the threshold it implies, median over replications",
                "the metric's own",
                "median over replications",
            ),
            P_MET,
            CI_LOW,
            CI_HIGH,
            Column(
                "p_upper_met", "For a range goal: probability that the upper end holds", P, FRACTION
            ),
            Column("upper_ci_low", "Lower end of the 95% interval of p_upper_met", P),
            Column("upper_ci_high", "Upper end of the 95% interval of p_upper_met", P),
            *METRIC,
            Column(
                "undefined_reps",
                "Replications in which the metric is undefined (no one "
                "to count: counted as not met)",
                "replications",
                "count",
            ),
            Column("status", "modelled, or 'not modelled: <reason>'", "text"),
            Column("source", "Where the target is in the source documents", "text"),
            Column("text_en", "The target in English", "text"),
            Column("text_vi", "The target in Vietnamese", "text"),
            Column(
                "empty_year_rule",
                "Each-year flow target: how a year with no appointment counts (fail or skip)",
                "text",
            ),
            Column(
                "empty_years_mean",
                "Each-year flow target: years without an appointment to its posts",
                "years",
                MEAN,
            ),
            Column(
                "empty_years_share",
                "Each-year flow target: replications with at least one such year",
                SHARE,
                FRACTION,
            ),
            Column(
                "complying_of",
                "'All comply' target: what complies (units, leaders, pool members)",
                "text",
            ),
            Column(
                "complying_median",
                "'All comply' target: share that complies, median",
                SHARE,
                "median over replications",
            ),
            Column(
                "complying_p5",
                "'All comply' target: share that complies, 5th percentile",
                SHARE,
                "5th percentile over replications",
            ),
            Column(
                "complying_p95",
                "'All comply' target: share that complies, 95th percentile",
                SHARE,
                "95th percentile over replications",
            ),
        ),
    ),
    "joint": TableInfo(
        "deadline",
        "run",
        JOINT,
    ),
    "trajectories": TableInfo(
        "target and year",
        "run",
        (
            TARGET,
            Column("year", "Year (the metric on 31 December, or at a congress)", "year"),
            Column(
                "n",
                "Replications in which the metric is defined that year",
                "replications",
                "count",
            ),
            Column(
                "mean",
                "The metric, mean over replications",
                "the metric's own",
                "mean over replications",
            ),
            Column("p5", "5th percentile", "the metric's own", "over replications"),
            Column("p25", "25th percentile", "the metric's own", "over replications"),
            Column("median", "Median", "the metric's own", "over replications"),
            Column("p75", "75th percentile", "the metric's own", "over replications"),
            Column("p95", "95th percentile", "the metric's own", "over replications"),
            Column("threshold", "The goal the metric is compared with", "the metric's own"),
            BY,
        ),
    ),
    "flows": TableInfo(
        "year and tier (l1: posts managed by the provincial standing committee; l2: division "
        "level)",
        "run",
        (
            Column("year", "Calendar year", "year"),
            Column("tier", "l1 or l2", "text"),
            Column(
                "appointments_mean",
                "Appointments to the tier's posts in the year",
                "appointments",
                MEAN,
            ),
            Column(
                "women_share",
                "Share of women among the year's appointments",
                SHARE,
                "pooled: appointments of women over all appointments, all replications",
            ),
            Column(
                "young_share",
                "Share of under-40s among the year's appointments",
                SHARE,
                "pooled over replications",
            ),
            Column(
                "young_women_share",
                "Share of women under 40 among the year's appointments",
                SHARE,
                "pooled over replications",
            ),
            Column(
                "stock_women_share",
                "Share of women among the tier's holders on 31 December",
                SHARE,
                "pooled over replications",
            ),
            Column(
                "stock_young_share",
                "Share of under-40s among the tier's holders on 31 December",
                SHARE,
                "pooled over replications",
            ),
            Column("holders_mean", "Holders of the tier's posts on 31 December", "people", MEAN),
        ),
    ),
    "costs": TableInfo(
        "year",
        "run",
        (
            Column("year", "Calendar year", "year"),
            Column(
                "vacancy_months_l1",
                "Months L1 posts stood empty in the year (summed over posts)",
                "post-months",
                MEAN,
            ),
            Column(
                "reserved_months_l1",
                "Of those, months held for a woman or young candidate (vacancy reservation)",
                "post-months",
                MEAN,
            ),
            Column(
                "vacancy_months_l2", "Months L2 posts stood empty in the year", "post-months", MEAN
            ),
            Column(
                "reserved_months_l2",
                "Of those, months held for a woman or young candidate",
                "post-months",
                MEAN,
            ),
            Column(
                "exits_<cause>",
                "Leaders leaving their post in the year for this cause "
                "(retirement, other_exit, death_illness, not_reappointed, removed, "
                "below_standard, restructured)",
                "people",
                MEAN,
                pattern=r"exits_[a-z_]+",
            ),
            Column("rotations", "Rotations (luân chuyển) started in the year", "people", MEAN),
            Column(
                "young_to_districts", "Young cadres sent to districts in the year", "people", MEAN
            ),
            Column(
                "training_<course>_<stage>",
                "People nominated to, starting or completing "
                "the course in the year (stage: nominated, started, completed)",
                "people",
                MEAN,
                pattern=r"training_[a-z_0-9]+_(nominated|started|completed)",
            ),
        ),
    ),
    "committee": TableInfo(
        "congress (empty, with its columns, when the scenario has none)",
        "run",
        (
            Column("congress", "Date of the provincial Party congress", "date (ISO)"),
            Column("size_mean", "Members of the committee chosen", "people", MEAN),
            Column(
                "women_share_mean", "Share of women among them", SHARE, "pooled over replications"
            ),
            Column(
                "young_share_mean",
                "Share of under-40s among them",
                SHARE,
                "pooled over replications",
            ),
            Column(
                "new_share_mean",
                "Share of members new to the committee",
                SHARE,
                "pooled over replications",
            ),
        ),
    ),
    "pool": TableInfo(
        "year (empty, with its columns, when the succession pool is off)",
        "run",
        (
            Column("year", "Calendar year (the pool at the yearly review)", "year"),
            Column("members_mean", "Members of the succession pool (quy hoạch)", "people", MEAN),
            Column("women_mean", "Share of women among the members", SHARE, MEAN),
            Column("young_mean", "Share of under-40s among the members", SHARE, MEAN),
            Column(
                "at_standard_mean",
                "Share of members meeting the standard of the highest post they are planned for",
                SHARE,
                MEAN,
            ),
            Column(
                "ready_per_post_mean",
                "Members ready now (eligible and at standard) per planned post",
                "people a post",
                MEAN,
            ),
            Column(
                "posts_covered_mean",
                "Share of planned posts with at least one ready member",
                SHARE,
                MEAN,
            ),
        ),
    ),
    "merger": TableInfo(
        "count of the merger date (empty, with its columns, for a province that did not merge)",
        "run",
        (
            Column(
                "item",
                "What is counted on the merger date: holders, pool, posts_cut, early_retired, "
                "reassigned, retired_surplus, waiting, in_post, grace_reassigned, grace_left, "
                "retiring (sim/merger.py LEDGER)",
                "text",
            ),
            Column("mean", "The count, averaged over the replications", "people or posts", MEAN),
            Column("meaning", "What the item counts, in words", "text"),
        ),
    ),
    "replications": TableInfo("replication and target", "run", (REP, TARGET, VALUE, MET)),
    "events_appointments": TableInfo(
        "appointment in replication 0 (run --log)",
        "run --log",
        (
            PROVINCE,
            Column("month", "When (YYYY-MM)", "month"),
            Column("t", "When, in months since January of year 0", "months"),
            Column("post", "The post's index", "index"),
            Column("unit", "The unit's index", "index"),
            Column("block", "The block's id in the scenario", "text"),
            Column("rank", "The post's rank", "text"),
            Column("from_rank", "The appointee's rank before (empty from the pool)", "text"),
            Column("person", "The appointee's index", "index"),
            Column("female", "Whether the appointee is a woman", "true/false"),
            Column("young", "Whether the appointee is under 40", "true/false"),
            Column("age", "The appointee's age", "years"),
            Column("first_time", "A first appointment to this rank", "true/false"),
            Column("service_left_years", "Years of service left before retirement age", "years"),
            Column("vacant_months", "How long the post stood empty before", "months"),
            Column("reserved_months", "Of which held for a woman or young candidate", "months"),
        ),
    ),
    "events_exits": TableInfo(
        "exit from a post in replication 0 (run --log)",
        "run --log",
        (
            PROVINCE,
            Column("month", "When (YYYY-MM)", "month"),
            Column("t", "When, in months since January of year 0", "months"),
            Column("post", "The post's index", "index"),
            Column("rank", "The post's rank", "text"),
            Column("person", "The leaver's index", "index"),
            Column("female", "Whether the leaver is a woman", "true/false"),
            Column("age", "The leaver's age", "years"),
            Column("cause", "Why they left (see exits_<cause>)", "text"),
        ),
    ),
    "robustness": TableInfo(
        "target and end of an assumption's range (the scenario's own values first, end 'base')",
        "robustness, run --robustness",
        (
            TARGET,
            BY,
            Column("assumption", "The assumption (or group) moved; empty for the base row", "text"),
            Column("end", "base, low or high", "text"),
            Column("value", "The assumption's value at that end", "the setting's own"),
            P_MET,
            CI_LOW,
            CI_HIGH,
            Column("p_base", "P(met) at the scenario's own values", P, FRACTION),
            Column("delta", "p_met - p_base", "probability difference", "-"),
        ),
    ),
    "robustness_summary": TableInfo(
        "target",
        "robustness",
        (
            TARGET,
            BY,
            Column("p_met", "P(met) at the scenario's own values", P, FRACTION),
            Column("p_lowest", "Lowest P(met) over the scenario and every end", P),
            Column("p_highest", "Highest P(met) over the scenario and every end", P),
            Column("robust", "Whether that range stays on one side of 50%", "true/false"),
            Column("moved_most", "The assumption that moves P(met) most", "text"),
            Column("top", "The assumptions that move it most, with their changes", "text"),
        ),
    ),
    "sweep_points": TableInfo(
        "design point and target",
        "sweep",
        (
            POINT,
            SETTING,
            TARGET,
            BY,
            P_MET,
            CI_LOW,
            CI_HIGH,
            *METRIC,
        ),
    ),
    "sweep_design": TableInfo("design point", "sweep", (POINT, SETTING)),
    "sweep_replications": TableInfo(
        "design point, replication and target", "sweep", (POINT, REP, TARGET, VALUE, MET)
    ),
    "sensitivity_indices": TableInfo(
        "setting (most influential first)",
        "sensitivity",
        (
            Column("parameter", "The setting's dotted path", "text"),
            Column(
                "S1",
                "First-order index: the share of the output's variance due to this setting alone",
                "share of variance (0-1)",
            ),
            Column(
                "S1_conf", "Half-width of the 95% confidence interval of S1", "share of variance"
            ),
            Column(
                "ST",
                "Total index: the share due to this setting with all its interactions",
                "share of variance (0-1)",
            ),
            Column(
                "ST_conf", "Half-width of the 95% confidence interval of ST", "share of variance"
            ),
            Column(
                "mu_star", "Morris: mean absolute elementary effect", "output units per unit range"
            ),
            Column(
                "mu_star_conf",
                "Morris: half-width of the 95% interval of mu_star",
                "output units per unit range",
            ),
            Column(
                "sigma",
                "Morris: standard deviation of the elementary effects (interaction "
                "or non-linearity)",
                "output units per unit range",
            ),
            Column(
                "delta",
                "delta: the moment-independent index (Borgonovo): how far the "
                "output's distribution moves when this setting is known",
                "0-1",
            ),
            Column("delta_conf", "delta: half-width of its 95% bootstrap interval", "0-1"),
            Column(
                "minimum",
                "PAWN: smallest Kolmogorov-Smirnov distance between the output "
                "with this setting in one slice and the output overall",
                "KS statistic 0-1",
                "over the slices",
            ),
            Column(
                "mean",
                "PAWN: mean KS distance over the slices",
                "KS statistic 0-1",
                "over the slices",
            ),
            Column(
                "median",
                "PAWN: median KS distance (its main index)",
                "KS statistic 0-1",
                "over the slices",
            ),
            Column("maximum", "PAWN: largest KS distance", "KS statistic 0-1", "over the slices"),
            Column(
                "CV",
                "PAWN: coefficient of variation of the KS distances",
                "ratio",
                "over the slices",
            ),
        ),
    ),
    "sensitivity_samples": TableInfo(
        "sample point",
        "sensitivity",
        (
            SETTING,
            Column(
                "output",
                "P(target met) (or the metric's mean) at the point",
                P,
                "fraction (or mean) over the point's replications",
            ),
        ),
    ),
    "sensitivity_convergence": TableInfo(
        "setting and subsample (the method's main index recomputed on the first 25%, 50%, 75% "
        "and 100% of the sample)",
        "sensitivity",
        (
            Column("parameter", "The setting's dotted path", "text"),
            Column("fraction", "The share of the sample used", "share (0-1)"),
            Column(
                "size",
                "The subsample in the method's units (base samples, trajectories, points)",
                "count",
            ),
            Column("points", "The sample points it holds", "points"),
            Column(
                "index",
                "The index recomputed (the method's main one: ST, mu_star, delta, median)",
                "text",
            ),
            Column("value", "Its value on the subsample", "the index's own"),
            Column(
                "conf",
                "Half-width of its 95% bootstrap interval (empty for PAWN)",
                "the index's own",
            ),
            Column(
                "rank",
                "The setting's rank by that index on the subsample (1 = most influential)",
                "rank",
            ),
        ),
    ),
    "sensitivity_checks": TableInfo(
        "setting: whether its index has converged",
        "sensitivity",
        (
            Column("parameter", "The setting's dotted path", "text"),
            Column("value", "The main index on the whole sample", "the index's own"),
            Column("previous", "The main index on the next-smaller subsample", "the index's own"),
            Column("change", "|value - previous|", "the index's own"),
            Column(
                "conf",
                "Half-width of the 95% bootstrap interval on the whole sample",
                "the index's own",
            ),
            Column(
                "rank_stable",
                "Whether no other setting swaps rank with it by more than the "
                "tolerance (empty where not judged, e.g. FAST)",
                "true/false",
            ),
            Column("converged", "change within the tolerance (0.05) and rank stable", "true/false"),
            Column("verdict", "The check in words", "text"),
        ),
    ),
    "compare": TableInfo(
        "target",
        "compare",
        (
            TARGET,
            BY,
            Column("p_met_a", "P(met) under A", P, FRACTION),
            Column("p_met_b", "P(met) under B", P, FRACTION),
            Column(
                "difference",
                "p_met_b - p_met_a, on the same replications",
                "probability difference",
                "paired over replications",
            ),
            Column(
                "ci_low",
                "Lower end of the 95% interval of the difference",
                "probability difference",
            ),
            Column(
                "ci_high",
                "Upper end of the 95% interval of the difference",
                "probability difference",
            ),
            Column(
                "only_a",
                "Replications in which the target is met under A only",
                "replications",
                "count",
            ),
            Column(
                "only_b",
                "Replications in which the target is met under B only",
                "replications",
                "count",
            ),
            Column(
                "variance_reduction",
                "1 - Var(paired difference) / (Var A + Var B): what "
                "common random numbers save against independent runs (negative: pairing "
                "widened the interval; empty: met in all or none)",
                "share (may be < 0)",
            ),
        ),
    ),
    "solve_steps": TableInfo(
        "lever value tried by the search",
        "solve",
        (
            Column("order", "The order in which the search tried the value", "index"),
            Column("value", "The lever's value", "the setting's own"),
            P_MET,
            CI_LOW,
            CI_HIGH,
            Column("reaches", "Whether P(met) reaches --prob at this value", "true/false"),
        ),
    ),
}

#: A lever or uncertainty of an exploratory study: a setting path, ``path+shift`` or
#: ``path*scale`` (an assumed share moved), or an assumption group's name (a position).
STUDY_PARAM = Column(
    "<lever or uncertainty>",
    "A lever or uncertainty of the study at this point: a setting's value (its dotted path); "
    "for 'path+shift' or 'path*scale' the amount added to (or factor on) an assumed share; for "
    "an assumption group's name, a position from 0 (every member at its low end) to 1 (high)",
    "the setting's own, or 0-1",
    pattern=PARAMS,
)
IDS = (
    POINT,
    Column("lever_id", "The lever setting (0, 1, ...): the same at every state", "index"),
    Column(
        "state_id", "The state of the world (0, 1, ...): the same for every lever setting", "index"
    ),
)
BOX = (
    TARGET,
    Column("box", "The box (1 = found first, the densest of enough coverage)", "index"),
    Column("coverage", "Share of the failing points that fall in the box", SHARE),
    Column("density", "Share of the points in the box that fail", SHARE),
    Column("mass", "Share of all points in the box", SHARE),
    Column("n", "Points in the box", "points", "count"),
    Column("k", "Failing points in the box", "points", "count"),
    Column("res_dim", "Dimensions the box restricts", "count"),
    Column("dimension", "A restricted dimension (an uncertainty, or a lever)", "text"),
    Column("low", "The box's lower bound on it (inclusive)", "the dimension's own"),
    Column("high", "The box's upper bound on it (inclusive)", "the dimension's own"),
    Column("data_low", "The dimension's lowest value in the design", "the dimension's own"),
    Column("data_high", "The dimension's highest value in the design", "the dimension's own"),
    Column("categories", "For a word-valued dimension: the values kept in the box", "text"),
    Column(
        "qp_low",
        "PRIM quasi-p-value of the lower bound (small: the restriction is "
        "unlikely by chance; empty for CART)",
        P,
    ),
    Column("qp_high", "PRIM quasi-p-value of the upper bound", P),
)
#: The columns of a point's flows and costs over the horizon (sim.explore.horizon_totals).
FLOWS_COSTS = (
    Column(
        "appointments_<tier>",
        "Appointments to the tier's posts (l1, l2) over the horizon",
        "appointments",
        MEAN,
        pattern=r"appointments_l[12]",
    ),
    Column(
        "<group>_share_<tier>",
        "Share of women, under-40s or young women among the tier's appointments over the horizon",
        SHARE,
        "pooled over years and replications",
        pattern=r"(women|young|young_women)_share_l[12]",
    ),
    Column(
        "stock_<group>_share_<tier>_end",
        "Share of women or under-40s among the tier's holders at the end",
        SHARE,
        "pooled over replications",
        pattern=r"stock_(women|young)_share_l[12]_end",
    ),
    Column(
        "holders_<tier>_end",
        "Holders of the tier's posts at the end",
        "people",
        MEAN,
        pattern=r"holders_l[12]_end",
    ),
    Column(
        "<cost>",
        "A column of the costs table (vacancy- and reserved-months, "
        "exits by cause, rotations, training) summed over the horizon",
        "as in costs",
        MEAN,
        pattern=r"(vacancy|reserved)_months_l[12]|exits_[a-z_]+|rotations|"
        r"young_to_districts|training_[a-z_0-9]+_(nominated|started|completed)",
    ),
)
TABLES.update(
    {
        "explore_design": TableInfo(
            "point: a lever setting in a state of the world", "explore", (*IDS, STUDY_PARAM)
        ),
        "explore_points": TableInfo(
            "point and target",
            "explore",
            (
                *IDS,
                TARGET,
                BY,
                P_MET,
                CI_LOW,
                CI_HIGH,
                *METRIC,
                STUDY_PARAM,
            ),
        ),
        "explore_joint": TableInfo(
            "point and deadline",
            "explore",
            (*IDS, *JOINT),
        ),
        "explore_flows_costs": TableInfo(
            "point: flows and costs over the whole horizon", "explore", (*IDS, *FLOWS_COSTS)
        ),
        "explore_robustness": TableInfo(
            "target (or 'all targets by YEAR') and lever setting",
            "explore",
            (
                TARGET,
                BY,
                Column("lever_id", "The lever setting", "index"),
                Column("states", "States of the world it met", "count"),
                Column("p_mean", "P(met), mean over the states", P, "mean over states"),
                Column("p_worst", "P(met) in the worst state", P, "minimum over states"),
                Column(
                    "p10",
                    "10th percentile of P(met) over the states",
                    P,
                    "10th percentile over states",
                ),
                Column("p_best", "P(met) in the best state", P, "maximum over states"),
                Column("worst_state", "The state in which it does worst", "index"),
                Column(
                    "max_regret",
                    "Largest shortfall against the best lever setting of each "
                    "state (best P(met) in that state minus this one's)",
                    "probability difference",
                    "maximum over states",
                ),
                Column(
                    "mean_regret",
                    "Mean shortfall against the best setting of each state",
                    "probability difference",
                    "mean over states",
                ),
                Column(
                    "rank_regret",
                    "Rank by max_regret (1 = most robust; ties: higher worst case, then mean)",
                    "rank",
                ),
                Column("rank_worst", "Rank by the worst case (1 = highest p_worst)", "rank"),
                STUDY_PARAM,
            ),
        ),
        "explore_prim": TableInfo(
            "target, box and restricted dimension (scenario discovery: where P(met) < "
            "threshold; EMA Workbench's PRIM)",
            "explore",
            BOX,
        ),
        "explore_cart": TableInfo(
            "target, leaf and restricted dimension (a classification tree's leaves where most "
            "points fail)",
            "explore",
            BOX,
        ),
        "explore_discovery_notes": TableInfo(
            "target and method without a box",
            "explore",
            (
                TARGET,
                Column("method", "prim or cart", "text"),
                Column(
                    "reason",
                    "Why no box (never fails, always fails, too few points, none dense enough)",
                    "text",
                ),
            ),
        ),
        "sweep_joint": TableInfo(
            "design point and deadline",
            "sweep",
            (POINT, *JOINT),
        ),
        "sweep_flows_costs": TableInfo(
            "design point: flows and costs over the whole horizon",
            "sweep",
            (POINT, *FLOWS_COSTS),
        ),
        "explore_replications": TableInfo(
            "point, replication and target", "explore", (*IDS, REP, TARGET, VALUE, MET)
        ),
    }
)


def describe(table: str, column: str, params: Iterable[str] = ()) -> Column | None:
    """The description of ``column`` of ``table`` (None when it has none); ``params`` are
    the levers and uncertainties of an exploratory study (their columns' names)."""
    info = TABLES.get(table)
    if info is None:
        return None
    names = frozenset(params)
    exact = next((c for c in info.columns if not c.pattern and c.name == column), None)
    return exact or next((c for c in info.columns if c.pattern and c.matches(column, names)), None)


def undescribed(table: str, columns: list[str], params: Iterable[str] = ()) -> list[str]:
    """The columns of ``table`` the dictionary does not describe."""
    return [c for c in columns if describe(table, c, params) is None]


def for_metadata(tables: dict[str, Any], params: Iterable[str] = ()) -> dict[str, Any]:
    """The ``columns`` entry of ``metadata.json``: for each table written (name -> frame),
    what a row is and each of its columns (meaning, unit, aggregation)."""
    names = list(params)
    out: dict[str, Any] = {}
    for name, frame in tables.items():
        info = TABLES.get(name)
        cols = {}
        for col in frame.columns:
            c = describe(name, str(col), names)
            cols[str(col)] = (
                {"meaning": c.meaning, "unit": c.unit, "aggregation": c.aggregation}
                if c is not None
                else {"meaning": "(not described)", "unit": "", "aggregation": ""}
            )
        out[name] = {"row": info.row if info else "", "columns": cols}
    return out


def markdown() -> str:
    """docs/OUTPUTS.md: every table and column."""
    lines = [
        "# Output tables: the data dictionary",
        "",
        "Every table cadresim writes (as `NAME.csv` and `NAME.parquet` in the `--out` folder),",
        "with each column's meaning, unit and how the replications are aggregated into it. The",
        "same descriptions are in each folder's `metadata.json` (`columns`). Generated from",
        "`sim/dictionary.py` by `python -m sim.dictionary > docs/OUTPUTS.md`; a test checks that",
        "every column written is described and that this page is up to date.",
        "",
        "Shares and probabilities are fractions (0.25 = 25%). *Pooled* shares divide the totals",
        "of all replications (appointments of women over all appointments); *mean a",
        "replication* is the mean over replications of a per-replication count.",
        "",
    ]
    for name, info in TABLES.items():
        lines += [
            f"## `{name}`",
            "",
            f"One row a {info.row}. Written by `cadresim {info.written_by}`.",
            "",
            "| column | meaning | unit | aggregation |",
            "|---|---|---|---|",
        ]
        for c in info.columns:
            lines.append(f"| `{c.name}` | {c.meaning} | {c.unit} | {c.aggregation} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a documented command
    sys.stdout.write(markdown())
