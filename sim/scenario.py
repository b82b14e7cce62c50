"""The scenario: a typed, validated, immutable description of a province's leadership."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    model_validator,
)
from scipy import special

from sim import rules
from sim.yamlpos import YamlSyntaxError, load_yaml_with_positions, location, position_for

# --------------------------------------------------------------------------- #
# Vocabulary
# --------------------------------------------------------------------------- #

#: Ranks from the bottom of the ladder to the top. The order is the promotion order.
RANKS: tuple[str, ...] = ("pool", "l2_deputy", "l2_head", "l1_deputy", "l1_head")
RANK_CODE: dict[str, int] = {r: i for i, r in enumerate(RANKS)}
#: The tier each rank belongs to.
RANK_TIER: dict[str, str] = {
    "pool": "pool",
    "l2_deputy": "l2",
    "l2_head": "l2",
    "l1_deputy": "l1",
    "l1_head": "l1",
}
TIERS: tuple[str, ...] = ("pool", "l2", "l1")
LEADER_RANKS: tuple[str, ...] = RANKS[1:]

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Rank = Literal["pool", "l2_deputy", "l2_head", "l1_deputy", "l1_head"]
LeaderRank = Literal["l2_deputy", "l2_head", "l1_deputy", "l1_head"]
Tier = Literal["pool", "l2", "l1"]
Group = Literal[
    "at_standard",
    "rotated",
    "women",
    "young",
    "long_service",
    "theory_intermediate",
    "theory_advanced",
    "language_b1",
    "it_basic",
    "it_advanced",
    "degree",
    "knowledge_update",
    "ethnic_minority",
    "international",
    "local",
]
#: Groups a flow target (a share of appointments) can count.
FLOW_GROUPS = ("women", "young", "long_service")


class FieldError(ValueError):
    """A check of a whole model that fails because of one of its fields.

    ``loc`` is the field's location below the model (e.g. ``("targets", 2, "by")``); it is
    added to the error's location so that the report names the field and its line.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _Frozen(BaseModel):
    # No NaN or infinity anywhere: ``.inf`` or ``.nan`` in a scenario is always a mistake, and
    # the model cannot run with them (e.g. an infinite pool size or age spread).
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class Text(_Frozen):
    """A label in both working languages."""

    en: str
    vi: str


# --------------------------------------------------------------------------- #
# Structure
# --------------------------------------------------------------------------- #


class Block(_Frozen):
    """A block of similar units (e.g. People's Committee departments) with its post counts."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    district: bool = Field(False, description="True for district-level units (huyện).")
    side: Literal["party", "government", "front", "council", "district"] | None = Field(
        None,
        description="Side of the political system, for rotations party <-> government "
        "(default: district for district blocks, government otherwise).",
    )
    units: Annotated[int, Field(ge=1)]
    heads: Count = Field(description="Number of L1 head posts in the block (cấp trưởng).")
    deputies: Count = Field(
        description="Number of L1 deputy and other L1 posts (cấp phó, ủy viên)."
    )
    l2_divisions_per_unit: Count = Field(
        description="Divisions (phòng) per unit, each with one L2 head post."
    )
    l2_deputies_per_division: Count = Field(1, description="L2 deputy posts per division.")
    women_staff_share: Share | list[Share] = Field(
        0.0,
        description="Share of women among unit staff: one value for all units, or one per unit.",
    )
    assumption: str | None = Field(None, description="What in this block is assumed, not sourced.")

    @model_validator(mode="after")
    def _check(self) -> Block:
        if self.heads > self.units:
            raise FieldError(("heads",), f"heads ({self.heads}) cannot exceed units ({self.units})")
        if isinstance(self.women_staff_share, list) and len(self.women_staff_share) != self.units:
            raise FieldError(
                ("women_staff_share",),
                f"women_staff_share lists {len(self.women_staff_share)} values "
                f"for {self.units} units",
            )
        return self

    def staff_share(self, unit_index: int) -> float:
        """The women-staff share of the block's unit number ``unit_index``."""
        if isinstance(self.women_staff_share, list):
            return self.women_staff_share[unit_index]
        return self.women_staff_share


#: Most units (and most posts), and most specialists in the pool, a scenario may plan: far
#: above any province (the bundled scenarios have about 1,000-1,500 posts). Beyond them a typo
#: such as ``units: 100000000`` would exhaust the memory instead of being reported.
MAX_POSTS = 100_000
MAX_POOL = 100_000


class Structure(_Frozen):
    """Blocks, units and posts of the province, and the size of the specialist pool."""

    blocks: Annotated[list[Block], Field(min_length=1)]
    l1_total: Count | None = Field(
        None, description="If given, the number of L1 posts must add up to it (seed figure)."
    )
    pool_per_l2_deputy: NonNegFloat = Field(
        2.0, description="Promotable specialists kept in the pool per L2 deputy post."
    )

    @model_validator(mode="after")
    def _check(self) -> Structure:
        ids = [b.id for b in self.blocks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            again = next(k for k, i in enumerate(ids) if i in dupes and ids.index(i) < k)
            raise FieldError(
                ("blocks", again, "id"), f"block ids must be unique; repeated: {', '.join(dupes)}"
            )
        total = sum(b.heads + b.deputies for b in self.blocks)
        if self.l1_total is not None and total != self.l1_total:
            raise FieldError(
                ("l1_total",), f"the blocks hold {total} L1 posts but l1_total says {self.l1_total}"
            )
        if total == 0:
            raise FieldError(("blocks",), "the structure has no L1 posts")
        units = sum(b.units for b in self.blocks)
        if units > MAX_POSTS:
            raise FieldError(
                ("blocks",), f"the blocks have {units:,} units; at most {MAX_POSTS:,} are supported"
            )
        posts = sum(
            b.heads
            + b.deputies
            + b.units * b.l2_divisions_per_unit * (1 + b.l2_deputies_per_division)
            for b in self.blocks
        )
        if posts > MAX_POSTS:
            raise FieldError(
                ("blocks",), f"the blocks hold {posts:,} posts; at most {MAX_POSTS:,} are supported"
            )
        l2_deputies = sum(
            b.units * b.l2_divisions_per_unit * b.l2_deputies_per_division for b in self.blocks
        )
        pool = self.pool_per_l2_deputy * max(l2_deputies, 1)
        if pool > MAX_POOL:
            size = f"{pool:,.0f}" if pool < 1e12 else f"{pool:.3g}"
            raise FieldError(
                ("pool_per_l2_deputy",),
                f"{self.pool_per_l2_deputy:g} a post for {l2_deputies:,} L2 deputy posts plans "
                f"a pool of {size} specialists; at most {MAX_POOL:,} are supported",
            )
        return self

    def block(self, block_id: str) -> Block:
        for b in self.blocks:
            if b.id == block_id:
                return b
        raise KeyError(block_id)


# --------------------------------------------------------------------------- #
# Starting population
# --------------------------------------------------------------------------- #


class AgeDist(_Frozen):
    """Ages (years) of people aged 40 or over: a normal law truncated to [min, retirement age)."""

    mean: Annotated[float, Field(ge=18, le=70)]
    sd: PosFloat
    min: Annotated[float, Field(ge=18, le=70)] = 40.0


# Age laws by sex, and the law of the under-40s ---------------------------------------------


class AgeBySex(_Frozen):
    """Separate age laws for men and women of the same rank or tier (e.g. women leaders
    younger than men, since they retire earlier)."""

    men: AgeDist
    women: AgeDist


#: Tags of the two forms of an age law (never field names, so dropped from error locations).
ONE_LAW, BY_SEX = "one-law", "by-sex"


def _law_form(value: Any) -> str:
    if isinstance(value, AgeBySex | YoungAgeBySex):
        return BY_SEX
    if isinstance(value, dict) and ("men" in value or "women" in value):
        return BY_SEX
    return ONE_LAW


#: An age law of the people aged 40 or over: one law for both sexes, or one for each.
AgeLaw = Annotated[
    Annotated[AgeDist, Tag(ONE_LAW)] | Annotated[AgeBySex, Tag(BY_SEX)],
    Discriminator(_law_form),
]


#: The top of the under-40s' law (years): two months below 40, so that a birth month rounded
#: down (sim.population.ages_to_birth) never makes an under-40 of the law 40 on the start date
#: and the seed's count of under-40s is kept exactly.
YOUNG_LAW_TOP = 40.0 - 2.0 / 12.0


class YoungAgeDist(_Frozen):
    """Ages (years) of the under-40s: a normal law truncated to [young_min_age, 40 - 2 months).

    A mean near 40 concentrates them in their late 30s (appointees often are); a large ``sd``
    approaches the uniform law used when no law is given.
    """

    mean: Annotated[float, Field(ge=18, le=60)] = Field(
        description="Mean of the untruncated normal law (years); 40 or above is allowed."
    )
    sd: Annotated[float, Field(gt=0.0, le=30.0)]


class YoungAgeBySex(_Frozen):
    """Separate under-40 age laws for men and women."""

    men: YoungAgeDist
    women: YoungAgeDist


#: The law of the under-40s: one for both sexes, or one for each (None: uniform from
#: ``young_min_age`` to 40).
YoungAgeLaw = Annotated[
    Annotated[YoungAgeDist, Tag(ONE_LAW)] | Annotated[YoungAgeBySex, Tag(BY_SEX)],
    Discriminator(_law_form),
]

#: Least probability an age law must put on the ages it can draw; below it the law describes
#: nobody (e.g. a mean of 70 with an SD of 1 for ages 40-60) and its draws would be undefined.
MIN_LAW_MASS = 1e-6


def law_for(law: Any, female: bool) -> Any:
    """The law of one sex from a law given for both sexes or for each."""
    if isinstance(law, AgeBySex | YoungAgeBySex):
        return law.women if female else law.men
    return law


def _window_mass(mean: float, sd: float, lo: float, hi: float) -> float:
    return float(special.ndtr((hi - mean) / sd) - special.ndtr((lo - mean) / sd))


def check_age_laws(old: Sequence[tuple[str, Any]], young: Any, young_min: float) -> None:
    """Reject age laws that put (almost) no probability on the ages they can draw.

    ``old`` lists (field name, law) pairs of the laws of people aged 40 or over: they are
    truncated to [max(min, 40), the retirement age], whose lowest values are those before
    2021 (60 for men, 55 for women: sim.rules); ``young`` is the under-40 law, truncated to
    [young_min, 40). Raises :class:`FieldError` naming the offending field.
    """
    for name, law in old:
        for sex, female in (("men", False), ("women", True)):
            dist = law_for(law, female)
            hi = rules.retirement_age_months(female, 2020) / 12.0 - 1.0 / 12.0
            lo = min(max(dist.min, 40.0), hi - 0.5)
            if _window_mass(dist.mean, dist.sd, lo, hi) < MIN_LAW_MASS:
                loc = (name, sex, "mean") if isinstance(law, AgeBySex) else (name, "mean")
                raise FieldError(
                    loc,
                    f"{name}: a normal law of mean {dist.mean:g} and SD {dist.sd:g} puts almost "
                    f"no weight on the ages {lo:g}-{hi:.1f} at which {sex} can be at work",
                )
    if young is None:
        return
    if young_min > YOUNG_LAW_TOP - 0.1:
        raise FieldError(
            ("young_min_age",),
            f"with a young_age law the youngest age of the under-40s must be at most "
            f"{YOUNG_LAW_TOP - 0.1:.2f} (the law draws below {YOUNG_LAW_TOP:.2f})",
        )
    for sex, female in (("men", False), ("women", True)):
        dist = law_for(young, female)
        if _window_mass(dist.mean, dist.sd, young_min, YOUNG_LAW_TOP) < MIN_LAW_MASS:
            loc = (
                ("young_age", sex, "mean")
                if isinstance(young, YoungAgeBySex)
                else (
                    "young_age",
                    "mean",
                )
            )
            raise FieldError(
                loc,
                f"young_age: a normal law of mean {dist.mean:g} and SD {dist.sd:g} puts almost "
                f"no weight on the under-40 ages {young_min:g}-40"
                + (f" ({sex})" if isinstance(young, YoungAgeBySex) else ""),
            )


class AreaCounts(_Frozen):
    """Counts split between provincial units and district units."""

    provincial: Count
    district: Count


#: The highest youngest age of the under-40s: their ages are drawn in [young_min_age, 40 - 1e-6)
#: (sim/population.py), so a larger value leaves no age to draw.
YOUNG_MIN_AGE_MAX = 40.0 - 1e-6


def _below_young_age(value: float) -> float:
    if value > YOUNG_MIN_AGE_MAX:
        raise ValueError(
            f"the youngest age of the under-40s must be below 40 (at most {YOUNG_MIN_AGE_MAX:.6f})"
        )
    return value


YoungMinAge = Annotated[float, Field(ge=18, le=40), AfterValidator(_below_young_age)]


class L1Stock(_Frozen):
    """The L1 stock at the start, given as exact counts (seed figures)."""

    women: AreaCounts
    young: AreaCounts
    young_women: Count
    young_min_age: YoungMinAge = 30.0
    age_heads: AgeLaw = Field(description="Ages of heads aged 40 or over (one law, or by sex).")
    age_deputies: AgeLaw = Field(
        description="Ages of deputies aged 40 or over (one law, or by sex)."
    )
    young_age: YoungAgeLaw | None = Field(
        None,
        description="Ages of the under-40 leaders (one law, or by sex); none: uniform from "
        "young_min_age to 40.",
    )

    @model_validator(mode="after")
    def _check_ages(self) -> L1Stock:
        check_age_laws(
            (("age_heads", self.age_heads), ("age_deputies", self.age_deputies)),
            self.young_age,
            self.young_min_age,
        )
        return self


class TierStock(_Frozen):
    """The stock of a tier at the start, as shares (assumptions where the seeds are silent)."""

    women_share: Share
    young_share: Share
    young_min_age: YoungMinAge = 25.0
    age: AgeLaw = Field(description="Ages of those aged 40 or over (one law, or by sex).")
    young_age: YoungAgeLaw | None = Field(
        None,
        description="Ages of the under-40s (one law, or by sex); none: uniform from "
        "young_min_age to 40.",
    )

    @model_validator(mode="after")
    def _check_ages(self) -> TierStock:
        check_age_laws((("age", self.age),), self.young_age, self.young_min_age)
        return self


class Qualifications(_Frozen):
    """Shares of a group of people holding each qualification or attribute.

    Levels are nested: ``theory_advanced`` is part of ``theory_intermediate`` (intermediate or
    higher), ``it_advanced`` part of ``it_basic``. Draws are independent across items.
    """

    theory_intermediate: Share = Field(
        0.0, description="Political theory at intermediate level or higher (trung cấp LLCT)."
    )
    theory_advanced: Share = Field(0.0, description="Advanced political theory (cao cấp LLCT).")
    language_b1: Share = Field(0.0, description="Foreign language at level 3 (B1) or higher.")
    it_basic: Share = Field(0.0, description="Basic IT skills or higher (tin học cơ bản).")
    it_advanced: Share = Field(0.0, description="Advanced IT skills (tin học nâng cao).")
    degree: Share = Field(1.0, description="University degree (trình độ đại học).")
    knowledge_update: Share = Field(
        0.0,
        description="Knowledge update (bồi dưỡng cập nhật kiến thức) done within its validity "
        "period at the start.",
    )
    ethnic_minority: Share = Field(0.0, description="Ethnic minority (người dân tộc thiểu số).")
    international: Share = Field(0.0, description="Able to work in an international environment.")
    local: Share = Field(1.0, description="Local origin (người địa phương).")

    @model_validator(mode="after")
    def _check(self) -> Qualifications:
        for high, low in (("theory_advanced", "theory_intermediate"), ("it_advanced", "it_basic")):
            if getattr(self, high) > getattr(self, low) + 1e-12:
                raise FieldError(
                    (high,),
                    f"{high} ({getattr(self, high)}) cannot exceed {low} ({getattr(self, low)}): "
                    "the higher level is part of the lower",
                )
        return self


class TierQualifications(_Frozen):
    """Starting qualifications by tier (assumptions unless the scenario cites a source)."""

    l1: Qualifications = Qualifications()
    l2: Qualifications = Qualifications()
    pool: Qualifications = Qualifications()


class Population(_Frozen):
    """The starting population of every tier."""

    l1: L1Stock
    l2: TierStock
    pool: TierStock
    qualifications: TierQualifications = Field(
        TierQualifications(), description="Qualifications and attributes at the start, by tier."
    )


# --------------------------------------------------------------------------- #
# Dynamics and policies
# --------------------------------------------------------------------------- #


class Hazards(_Frozen):
    """Yearly hazards of leaving for reasons other than retirement, by tier."""

    l1: Share
    l2: Share
    pool: Share


class Recruitment(_Frozen):
    """Yearly replenishment of the specialist pool to its planned size."""

    month: Annotated[int, Field(ge=1, le=12)] = 7
    women_share: Share
    young_share: Share = Field(description="Share of recruits under 40.")
    young_min_age: YoungMinAge = 25.0
    age: AgeLaw = Field(description="Ages of recruits aged 40 or over (one law, or by sex).")
    young_age: YoungAgeLaw | None = Field(
        None,
        description="Ages of the under-40 recruits (one law, or by sex); none: uniform from "
        "young_min_age to 40.",
    )
    qualifications: Qualifications = Field(
        Qualifications(), description="Qualifications and attributes of recruits."
    )

    @model_validator(mode="after")
    def _check_ages(self) -> Recruitment:
        check_age_laws((("age", self.age),), self.young_age, self.young_min_age)
        return self


class Removal(_Frozen):
    """Removal of weak cadres from leadership posts before their term ends (seed 003)."""

    yearly_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0,
        description="Yearly probability of removal for a leader of average merit (0: none).",
    )
    merit_slope: Annotated[float, Field(ge=-5.0, le=5.0)] = Field(
        -0.7,
        description="Change of the log-hazard per SD of latent merit (negative: the weaker "
        "are more at risk).",
    )


class Dynamics(_Frozen):
    """How people move when no policy intervenes."""

    exit_hazard: Hazards = Field(description="Transfers out, resignation: yearly probability.")
    death_illness_hazard: Share = Field(
        0.003, description="Death or ill-health: yearly probability."
    )
    reappointment_probability: Share = Field(
        description="Probability that a term ending with 2+ years to retirement is renewed."
    )
    max_consecutive_terms: dict[LeaderRank, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, description="Posts limited to a number of consecutive terms."
    )
    selection_delay_months: Annotated[float, Field(ge=0.0, le=36.0)] = Field(
        3.0, description="Mean time from a vacancy to an appointment (gamma law)."
    )
    selection_delay_shape: PosFloat = 2.0
    evaluation_noise_sd: NonNegFloat = Field(
        0.5, description="Noise of the yearly evaluation around a person's latent merit (SD units)."
    )
    promotion_sources: dict[LeaderRank, Annotated[list[Rank], Field(min_length=1)]] = Field(
        default_factory=lambda: dict[LeaderRank, list[Rank]](
            {
                "l2_deputy": ["pool"],
                "l2_head": ["l2_deputy"],
                "l1_deputy": ["l2_head"],
                "l1_head": ["l1_deputy"],
            }
        ),
        description="For each rank, the ranks its candidates come from.",
    )
    pool_min_months: Annotated[float, Field(ge=0.0, le=240.0)] = Field(
        36.0, description="Months a specialist spends in the pool before a first appointment."
    )
    same_unit_bonus: NonNegFloat = Field(
        0.0, description="Score bonus (SD units) for candidates from the unit of the vacancy."
    )
    knowledge_update_months: Annotated[float, Field(gt=0.0, le=240.0)] = Field(
        60.0,
        description="How long a knowledge update (bồi dưỡng cập nhật kiến thức) stays current.",
    )
    removal: Removal = Field(
        Removal(), description="Removal of leaders before their term ends (miễn nhiệm)."
    )
    recruitment: Recruitment

    @model_validator(mode="after")
    def _check(self) -> Dynamics:
        for rank, sources in self.promotion_sources.items():
            for k, src in enumerate(sources):
                if RANK_CODE[src] > RANK_CODE[rank]:
                    raise FieldError(
                        ("promotion_sources", rank, k),
                        f"promotion_sources.{rank}: {src} is above {rank}; candidates come from "
                        "the same rank or below",
                    )
        missing = [r for r in LEADER_RANKS if r not in self.promotion_sources]
        if missing:
            raise FieldError(
                ("promotion_sources",), f"promotion_sources has no entry for {', '.join(missing)}"
            )
        return self


class Reading(StrEnum):
    """How a yearly appointment share is enforced (SPEC §5.1)."""

    EXPECTED = "expected"
    FLOOR = "floor"
    NONE = "none"


class AppointmentShare(_Frozen):
    """Yearly shares of appointments for women and under-40s (seed 001 §II.4)."""

    women: Share
    young: Share
    reading: Reading = Field(
        Reading.EXPECTED,
        description="expected: each appointment is reserved for a group with the probability "
        "that makes the group's expected share equal its share, learnt from what recent open "
        "and reserved contests delivered (other rules' appointments of the group count); "
        "floor: every year at least ceil(share x appointments so far) go to each group "
        "whenever one of it is eligible; none: merit only. Each group is served on its own "
        "account: an appointment owing both with nobody in both serves the one further "
        "behind and owes the other at the next appointment.",
    )
    tiers: Annotated[list[Literal["l1", "l2"]], Field(min_length=1)] = Field(
        default_factory=lambda: list[Literal["l1", "l2"]](["l1"]),
        description="Tiers whose appointments the shares apply to.",
    )


class AfterHold(StrEnum):
    """What happens to a reserved post when the holding time runs out."""

    OPEN = "open"  # fill it on merit
    RELAX = "relax"  # waive the 24-month rule for the group once, then fill on merit


class VacancyReservation(_Frozen):
    """Keep a post vacant until a woman or young candidate is ready (seed 001 §II.4)."""

    enabled: bool = False
    max_hold_months: Annotated[float, Field(ge=0.0, le=120.0)] = 12.0
    recheck_months: Annotated[float, Field(gt=0.0, le=12.0)] = 1.0
    after: AfterHold = AfterHold.OPEN


class WomenStaffRule(_Frozen):
    """Units with over 30% women staff must have women among their leaders (seed 001 §II.4)."""

    enabled: bool = True
    threshold: Share = 0.30
    tiers: list[Literal["l1", "l2"]] = Field(
        default_factory=lambda: list[Literal["l1", "l2"]](["l1", "l2"])
    )


class LongService(_Frozen):
    """65% of first-time heads with 2 terms of service left, deputies with 3 (seed 001 §II.8)."""

    enabled: bool = True
    share: Share = 0.65
    head_months: Annotated[int, Field(ge=0, le=480)] = 120
    deputy_months: Annotated[int, Field(ge=0, le=480)] = 180
    reading: Reading = Reading.EXPECTED


Grant = Literal[
    "international",
    "theory_intermediate",
    "theory_advanced",
    "language_b1",
    "it_basic",
    "it_advanced",
    "degree",
    "knowledge_update",
]
#: Qualifications a post's standard can require (Grant, without the degree-only items).
Requirement = Grant


class Course(_Frozen):
    """A training course: nominees queue for its seats, first come first served."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    grants: Grant = Field(description="The qualification a graduate holds.")
    months: Annotated[float, Field(gt=0.0, le=60.0)] = Field(
        description="Duration (full-time about 8 months for advanced theory, part-time 16-24)."
    )
    seats: Annotated[int, Field(ge=1, le=10000)] = Field(
        description="Places open at once; nominees beyond them wait for a place."
    )
    intake_per_year: Annotated[int, Field(ge=0, le=10000)] = Field(
        description="People nominated at each yearly training plan."
    )
    tiers: Annotated[list[Tier], Field(min_length=1)] = Field(
        default_factory=lambda: list[Tier](["pool", "l2", "l1"]), description="Who may be sent."
    )
    priority: Literal["standard_first", "merit_first", "youngest_first"] | None = Field(
        None, description="Who is sent first to this course (default: the plan's priority)."
    )


class Training(_Frozen):
    """Yearly training plans (seeds 000, 002, 004) over courses with limited seats."""

    enabled: bool = False
    month: Annotated[int, Field(ge=1, le=12)] = Field(
        3, description="Month of the yearly training plan."
    )
    priority: Literal["standard_first", "merit_first", "youngest_first"] = Field(
        "standard_first",
        description="Who is sent first: standard_first (succession-pool members below the "
        "standard of their planned post, then post holders below the standard of their post, "
        "then leaders before specialists, then merit), merit_first, youngest_first.",
    )
    courses: list[Course] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Training:
        seen: set[str] = set()
        for k, c in enumerate(self.courses):
            if c.id in seen:
                raise FieldError(("courses", k, "id"), f"course id {c.id!r} is used twice")
            seen.add(c.id)
        return self


class Standards(_Frozen):
    """Qualification standards of posts, and how they are enforced at appointment."""

    enforcement: Literal["none", "block", "train_after"] = Field(
        "none",
        description="none: standards are measured only; block: a candidate below the standard "
        "cannot be appointed; train_after: appoint, then train first within a deadline.",
    )
    train_within_months: Annotated[float, Field(gt=0.0, le=120.0)] = 24.0
    l1_head: list[Requirement] = Field(default_factory=list)
    l1_deputy: list[Requirement] = Field(default_factory=list)
    l2_head: list[Requirement] = Field(default_factory=list)
    l2_deputy: list[Requirement] = Field(default_factory=list)


class SuccessionPool(_Frozen):
    """The succession pool (quy hoạch, Quy định 50-QĐ/TW 2021): planned successors of posts."""

    enabled: bool = False
    ranks: Annotated[list[LeaderRank], Field(min_length=1)] = Field(
        default_factory=lambda: list[LeaderRank](["l1_head", "l1_deputy"]),
        description="Posts that are planned.",
    )
    per_post: Annotated[int, Field(ge=1, le=3)] = Field(3, description="At most 3 a post.")
    posts_per_person: Annotated[int, Field(ge=1, le=3)] = Field(
        3, description="A person is planned for at most 3 posts."
    )
    women_floor: Share = Field(0.25, description="At least 25% women in the pool.")
    young_floor: Share = Field(0.15, description="At least 15% under 40 in the pool.")
    min_service_months: Annotated[float, Field(ge=0.0, le=240.0)] = Field(
        60.0, description="Service left to be planned: one full term."
    )
    replan_years: list[int] = Field(
        default_factory=lambda: [2021, 2026],
        description="Years of a full re-plan (a new term); other years have a review.",
    )
    review_month: Annotated[int, Field(ge=1, le=12)] = Field(
        12, description="Month of the yearly review (and of a re-plan)."
    )
    appoint_from_pool: bool = Field(
        True,
        description="Pool first: a vacancy goes to one of the post's planned successors when "
        "one is eligible (within the quota rules).",
    )


class Rotation(_Frozen):
    """Yearly rotation plans (luân chuyển: Quy định 65-QĐ/TW 2022; seeds 001 §II.6, 002, 004).

    A rotation moves a leader to an equivalent post that is vacant in another unit (no post is
    created for it); the post left behind opens a vacancy chain like any other move.
    """

    enabled: bool = False
    month: Annotated[int, Field(ge=1, le=12)] = Field(3, description="Month of the yearly plan.")
    ranks: Annotated[list[LeaderRank], Field(min_length=1)] = Field(
        default_factory=lambda: list[LeaderRank](["l1_deputy", "l2_head"]),
        description="Ranks that are rotated.",
    )
    share_per_year: Share = Field(
        0.1, description="Share of the leaders in rotation age rotated each year."
    )
    min_service_months: Annotated[float, Field(ge=0.0, le=480.0)] = Field(
        120.0, description="In rotation age: at least 10 years of service left."
    )
    min_stay_months: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        36.0, description="A rotation lasts at least 3 years: no new rotation before."
    )
    pool_members_only: bool = Field(
        True, description="Rotate succession-pool members only (when the pool is on)."
    )
    across: Literal["unit", "side", "area"] = Field(
        "unit",
        description="Destination: another unit; another side (party <-> government); another "
        "area (province <-> district).",
    )
    young_to_districts: Annotated[int, Field(ge=0, le=5)] = Field(
        0,
        description="Provincial division leaders aged up to young_max_age sent to each "
        "district each year (seed 001 §II.6: 1-2).",
    )
    young_max_age: Annotated[float, Field(ge=18, le=60)] = 35.0
    nonlocal_district_heads: bool = Field(
        False,
        description="District secretaries (district L1 heads) are not local: non-local "
        "candidates come first.",
    )


class Merge(_Frozen):
    """Merge the units of a block into fewer units (e.g. departments capped at 14)."""

    block: str
    into_units: Annotated[int, Field(ge=1)]


class EarlyRetirementBand(_Frozen):
    """Uptake of early retirement among leaders this many years from retirement."""

    min_years: Annotated[float, Field(ge=0.0, le=20.0)]
    max_years: Annotated[float, Field(gt=0.0, le=20.0)]
    uptake: Share

    @model_validator(mode="after")
    def _check(self) -> EarlyRetirementBand:
        if self.max_years <= self.min_years:
            raise FieldError(("max_years",), "max_years must be above min_years")
        return self


class Restructuring(_Frozen):
    """A restructuring shock on a date (SPEC §8: Resolution 60-NQ/TW, Resolution 202/2025/QH15,
    Decree 45/2025, Decree 178/2024): units abolished or merged, deputies capped, early
    retirement; the surplus absorbed by reassignment, attrition within a grace period, or
    early retirement."""

    enabled: bool = False
    date: dt.date = Field(dt.date(2025, 7, 1), description="The day it takes effect.")
    abolish_blocks: list[str] = Field(
        default_factory=list, description="Blocks whose units are abolished (the district level)."
    )
    merge: list[Merge] = Field(default_factory=list)
    deputy_cap: Annotated[int, Field(ge=0, le=20)] | None = Field(
        None, description="Most L1 deputies a unit keeps (None: no cap)."
    )
    grace_months: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        60.0, description="Surplus deputies may stay this long (Decree 45/2025: up to 5 years)."
    )
    surplus: Literal["reassign_or_wait", "reassign_or_retire"] = Field(
        "reassign_or_wait",
        description="What happens to a leader whose post goes: moved to a vacant post of the "
        "same rank, else kept as surplus until they leave or the grace period ends "
        "(reassign_or_wait) or retired early at once (reassign_or_retire).",
    )
    early_retirement: list[EarlyRetirementBand] = Field(
        default_factory=list,
        description="Uptake of early retirement by years to retirement (Decree 178/2024).",
    )


class PartnerScale(_Frozen):
    """A province without a source document, laid out as another province's structure scaled
    to its size (every number here is a public count or an assumption, said in the file)."""

    l1_posts: Annotated[int, Field(ge=10, le=5000)] = Field(
        description="L1 posts managed by the provincial standing committee."
    )
    district_units: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="District-level units before 1 July 2025 (public count)."
    )
    women_share: Share = Field(description="Women among L1 leaders at the start.")
    young_share: Share = Field(description="Under-40s among L1 leaders at the start.")


class MergerSource(_Frozen):
    """One of the provinces that merge: a bundled scenario (by name), or a province built from
    one (``scale``) when it has no source document."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    scenario: Annotated[str, Field(min_length=1)] = Field(
        description="Bundled scenario name (or path) the province is, or is built from."
    )
    name: Text | None = None
    variant: str | None = Field(None, description="A variant of that scenario to run.")
    scale: PartnerScale | None = Field(
        None,
        description="Build a province without a source document: the scenario's structure "
        "scaled to these counts, its targets dropped (it has no plan of its own here).",
    )
    set: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the source scenario (dotted paths)."
    )
    assumption: str | None = Field(None, description="What about this province is assumed.")


class BlockMap(_Frozen):
    """A block of the merged province and the blocks of each source province joined into it.

    By default unit k of a source block becomes unit k (modulo the merged block's units) of
    the merged block: the two Departments of Finance, listed at the same place, become one
    (``placement`` says otherwise)."""

    block: str
    sources: dict[str, list[str]] = Field(
        description="Source province id -> its blocks joined into this block."
    )
    placement: Literal["join", "spread", "stack"] = Field(
        "join",
        description="How source units find their merged unit: 'join' unit k of each source "
        "into unit k (modulo the merged units: the two Departments of Finance become one); "
        "'spread' each source unit's posts over its share of the merged units, rank by rank "
        "(a district into its communes); 'stack' the sources' units side by side, the next "
        "source's after the last one's (none joined).",
    )


class FirstCommittee(_Frozen):
    """The merged province's first Party committee: appointed, not elected (SPEC §8)."""

    appointed: bool = Field(
        True, description="Chosen by appointment at the first congress after the merger."
    )
    outsiders: Annotated[int, Field(ge=0, le=20)] = Field(
        0,
        description="Seats given to people outside the modelled leaders (a non-local secretary, "
        "the procurator, the military commissar): counted as men aged 40 or more.",
    )


class Merger(_Frozen):
    """Provinces merged into this one on a date (Resolution 60-NQ/TW, Resolution 202/2025/QH15).

    Each source province runs under its own plan until the date; then their leaders and posts
    become this province's (blocks joined as ``blocks`` says, posts above this file's
    structure cut, early retirement, the surplus reassigned, kept or retired as a
    restructuring does), which runs under this file's policy from then on."""

    enabled: bool = Field(True, description="False: the first source province alone, no merger.")
    date: dt.date = Field(dt.date(2025, 7, 1), description="The day the provinces merge.")
    sources: Annotated[list[MergerSource], Field(min_length=1)]
    blocks: list[BlockMap] = Field(default_factory=list)
    abolish: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Source province id -> its blocks abolished on the date (the districts).",
    )
    grace_months: Annotated[float, Field(ge=0.0, le=120.0)] = Field(
        60.0, description="Surplus leaders may stay this long (Decree 45/2025: up to 5 years)."
    )
    surplus: Literal["reassign_or_wait", "reassign_or_retire"] = "reassign_or_wait"
    early_retirement: list[EarlyRetirementBand] = Field(
        default_factory=list,
        description="Uptake of early retirement by years to retirement (Decree 178/2024).",
    )
    newcomer_blocks: list[str] = Field(
        default_factory=list,
        description="Merged blocks whose posts no source leader takes are filled on the date by "
        "people entering the provincial corps (e.g. commune leaders brought under the "
        "province's management), drawn from this file's population; elsewhere such posts "
        "start vacant.",
    )
    targets_after: str = Field(
        "merged",
        description="Whose targets apply after the merger date: 'merged' (this file's own) or a "
        "source province id (its targets carried to the merged province's blocks).",
    )
    first_committee: FirstCommittee = FirstCommittee()
    roster_start: dt.date = Field(
        dt.date(2026, 1, 1),
        description="The start date of a run from a roster of the merged province.",
    )


class Policy(_Frozen):
    """The levers an adviser can set."""

    appointment_share: AppointmentShare
    evaluation_bias: Annotated[float, Field(ge=-3.0, le=3.0)] = Field(
        0.0, description="Penalty (SD units) on women's evaluation scores; negative favours women."
    )
    vacancy_reservation: VacancyReservation = VacancyReservation()
    women_staff_rule: WomenStaffRule = WomenStaffRule()
    long_service: LongService = LongService()
    removal_multiplier: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.0,
        description="Strength of the drive to remove weak cadres before their term ends "
        "(seed 003): multiplies dynamics.removal (0: off, 1: current practice).",
    )
    training: Training = Training()
    standards: Standards = Standards()
    succession_pool: SuccessionPool = SuccessionPool()
    rotation: Rotation = Rotation()
    restructuring: Restructuring = Restructuring()
    # -- when the levers start ------------------------------------------------------------
    levers_from: dt.date | None = Field(
        None,
        description="The date the plan's levers start (e.g. the plan's adoption, 2022-05-06 "
        "for Hà Giang's Plan 130/KH-UBND); before it the run is business as usual: the "
        "appointment shares, vacancy reservation, women-staff rule and long-service "
        "preference are off and the first rotation plan waits for it. Baselines of relative "
        "targets are measured no later than this date. Default: the scenario's start.",
    )


class Congress(_Frozen):
    """Selection of the provincial Party committee at each congress (Chỉ thị 35-CT/TW, 2019)."""

    dates: list[dt.date] = Field(description="Dates of the provincial congresses in the horizon.")
    size: Annotated[int, Field(ge=1, le=200)]
    candidate_ranks: Annotated[list[LeaderRank], Field(min_length=1)] = Field(
        default_factory=lambda: list[LeaderRank](["l1_head", "l1_deputy"])
    )
    women_floor: Share = Field(0.15, description="Chỉ thị 35-CT/TW: women at least 15%.")
    young_floor: Share = Field(0.10, description="Chỉ thị 35-CT/TW: under-40s about 10%.")
    enforce_floors: bool = Field(
        False,
        description="True: the floors are met by construction whenever candidates exist (no "
        "list, no vote). False: the congress as it happens (list, compliance, vote; "
        "sim/congress.py).",
    )
    max_incumbent_share: Share = Field(
        0.67, description="At most this share re-elected: about a third new members."
    )
    incumbent_min_service_months: Annotated[int, Field(ge=0, le=120)] = 30
    new_member_min_service_months: Annotated[int, Field(ge=0, le=120)] = 60
    head_bonus: NonNegFloat = Field(
        1.0,
        description="Score bonus (SD units) for unit heads, who sit on the committee ex officio.",
    )
    # The congress as it happens (enforce_floors: false); sim/congress.py.
    list_surplus: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.15,
        description="The nominating list is longer than the seats by this share (số dư; Party "
        "election rules: 10-30%, from memory).",
    )
    compliance: Share = Field(
        1.0,
        description="Share of the gap between the list's women (under-40s) and the floor "
        "applied to the list that the nominating body closes: 0 ignores the floors, 1 puts "
        "them on the list. The vote may still elect fewer. Bundled scenarios carry the value "
        "fitted to the 2020 congresses by scripts/calibrate_congress.py.",
    )
    vote_noise: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.0,
        description="SD (in merit SD units) of the delegates' judgement added to each "
        "candidate's standing in the vote; 0: the vote follows standing exactly.",
    )
    incumbent_bonus: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5,
        description="Vote bonus (merit SD units) for members seeking re-election.",
    )

    @model_validator(mode="after")
    def _check(self) -> Congress:
        # Committees are recorded in time order and looked up by year: one congress a year,
        # listed in order.
        for k in range(1, len(self.dates)):
            if self.dates[k].year <= self.dates[k - 1].year:
                raise FieldError(
                    ("dates", k),
                    "congress dates must be in increasing order, at most one a year: "
                    f"{self.dates[k]} is listed after {self.dates[k - 1]}",
                )
        return self


# --------------------------------------------------------------------------- #
# Targets
# --------------------------------------------------------------------------- #


class Who(_Frozen):
    """Which posts a target looks at."""

    ranks: Annotated[list[LeaderRank], Field(min_length=1)]
    blocks: list[str] | None = Field(None, description="Block ids; all blocks when omitted.")
    service_left_at_start_months: float | None = Field(
        None,
        description="Only holders who had this much service left at the start of the run, "
        "e.g. 120 for leaders 'in rotation age' (10 years left, Quy định 65-QĐ/TW).",
    )
    under_age: AgeLimit | None = Field(
        None,
        description="Only holders younger than these ages (years) on the measurement date, "
        "e.g. men under 45 and women under 42 (seed 002).",
    )


class AgeLimit(_Frozen):
    """An age limit by sex, in years."""

    men: Annotated[float, Field(gt=18, le=70)]
    women: Annotated[float, Field(gt=18, le=70)]


class _TargetBase(_Frozen):
    id: Annotated[str, Field(min_length=1, max_length=40)]
    source: str = Field(description="The seed document and section the target comes from.")
    text: Text
    op: Literal[">=", ">", "<=", "<"] = ">="
    value: float
    upper: float | None = Field(
        None,
        description="Upper end of a range target (10-15%): P(met) is for reaching ``value``, "
        "and P(upper met) for reaching ``upper`` as well.",
    )
    by: Annotated[int, Field(ge=1990, le=2100)] = Field(description="Deadline year.")
    # Set by the loader of a merged province (sim/merging.py), never written by hand: the
    # source province a target comes from, and whether it is measured on that province up
    # to the merger date (a pre-merger target) rather than on the merged province.
    source_province: str | None = Field(
        None,
        description="Filled in by the loader of a merged province: the source province whose "
        "plan the target comes from (None: this file's own target).",
    )
    pre_merger: bool = Field(
        False,
        description="Filled in by the loader of a merged province: measured on the source "
        "province up to the merger date.",
    )

    @model_validator(mode="after")
    def _check_range(self) -> _TargetBase:
        if self.upper is not None:
            if self.op not in (">=", ">"):
                raise FieldError(("upper",), "a range target needs op '>=' or '>'")
            if self.upper <= self.value:
                raise FieldError(
                    ("upper",), f"upper ({self.upper}) must be above value ({self.value})"
                )
        return self


class Baseline(_Frozen):
    """The simulated value a relative target is measured against ("+5% vs 2021")."""

    year: int = Field(
        description="The year the target compares with. The baseline is the value on 31 "
        "December of that year or when the levers start (policy.levers_from, default the "
        "scenario's start), whichever comes first, so that no lever moves its own target's "
        "threshold; a year that begins after the levers start is refused."
    )
    reading: Literal["points", "relative"] = Field(
        "points",
        description="points: threshold = baseline + value (0.05 = 5 percentage points); "
        "relative: threshold = baseline x (1 + value).",
    )


class StockTarget(_TargetBase):
    """Share of a group among the holders of some posts on 31 December of the deadline year."""

    kind: Literal["stock"]
    who: Who
    group: Group | Annotated[list[Group], Field(min_length=1)] = Field(
        description="A group, or a list of groups combined by ``match``."
    )
    match: Literal["all", "any"] = Field(
        "all",
        description="For a list of groups: holders in every one (all) or in at least one (any).",
    )
    baseline: Baseline | None = Field(
        None, description="Set for a target relative to an earlier year's simulated value."
    )


class FlowTarget(_TargetBase):
    """Share of a group among appointments to some posts over a window of years."""

    kind: Literal["flow"]
    who: Who
    group: Group
    from_year: int
    aggregate: Literal["pooled", "each_year"] = "pooled"
    first_time_only: bool = False
    empty_year: Literal["fail", "skip"] = Field(
        "fail",
        description="With aggregate each_year: a year of the window with no appointment to "
        "the target's posts makes the target not met (fail), or is left out (skip). Such "
        "years are counted in the results either way.",
    )


class CommitteeTarget(_TargetBase):
    """Share of a group in the provincial Party committee chosen at the congress of year ``by``."""

    kind: Literal["committee"]
    group: Literal["women", "young"]


class PoolTarget(_TargetBase):
    """Share of a group among the succession-pool members planned for posts of some ranks,
    on 31 December of the deadline year (``at_standard``: the standard of their planned post)."""

    kind: Literal["pool"]
    ranks: Annotated[list[LeaderRank], Field(min_length=1)] = Field(
        description="Members planned for posts of these ranks."
    )
    blocks: list[str] | None = Field(
        None, description="Only posts of these blocks (block ids); all blocks when omitted."
    )
    group: Group | Annotated[list[Group], Field(min_length=1)] = Field(
        description="A group, or a list of groups combined by ``match``."
    )
    match: Literal["all", "any"] = "all"


class UnitRuleTarget(_TargetBase):
    """Share of units with more than the threshold of women staff that have a woman leader."""

    kind: Literal["women_staff_rule"]


Target = Annotated[
    StockTarget | FlowTarget | CommitteeTarget | PoolTarget | UnitRuleTarget,
    Field(discriminator="kind"),
]


class NotModelled(_Frozen):
    """A target from the seeds that the model cannot represent, kept visible with the reason."""

    id: str
    source: str
    text: Text
    reason: str


# --------------------------------------------------------------------------- #
# Assumptions: what is assumed, and how far it could plausibly be
# --------------------------------------------------------------------------- #

# --------------------------------------------------------------------------- #
# Exploration: the levers and uncertainties of an exploratory study
# --------------------------------------------------------------------------- #


class ExplorationSpec(_Frozen):
    """What ``cadresim explore`` varies by default for this scenario (XLRM): the province's
    levers, and the uncertainties beyond the scenario's own ``assumptions``. Each entry is a
    spec as on the command line: ``path=a:b`` (a range), ``path=a:b:step`` or
    ``path=v1,v2,...`` (values), ``path=word1,word2`` (words)."""

    levers: list[Annotated[str, Field(min_length=3)]] = Field(
        default_factory=list,
        description="What the province decides, e.g. policy.appointment_share.women=0.15,0.2,0.3",
    )
    uncertainties: list[Annotated[str, Field(min_length=3)]] = Field(
        default_factory=list,
        description="What nobody controls, beyond the assumptions, e.g. "
        "policy.evaluation_bias=0:0.3",
    )
    assumptions: list[str] | None = Field(
        None,
        description="Which of the scenario's assumptions (groups or paths) are uncertainties: "
        "all when omitted, none when empty.",
    )

    @model_validator(mode="after")
    def _check_specs(self) -> ExplorationSpec:
        from sim.explore import parse_param  # the parser of the command line's specs
        from sim.sweep import DesignError

        for name in ("levers", "uncertainties"):
            for k, text in enumerate(getattr(self, name)):
                try:
                    parse_param(text)
                except DesignError as exc:
                    raise FieldError((name, k), str(exc)) from None
        return self


#: The ways an assumption states its plausible range (exactly one is given).
ASSUMPTION_FORMS = ("range", "shift", "scale")


class Assumption(_Frozen):
    """An assumed number of the scenario, with the range it could plausibly take.

    ``path`` is a dotted setting path as in ``--set`` (list items by id or position). The
    range is given in one of three forms:

    - ``range: [low, high]``: the setting's value at the low and at the high end (a number;
      whole numbers for a whole-number setting). Normally ``low < high``; a member that must
      move against the rest of its group (e.g. deputies falling as heads rise, so that a seed
      total is kept) may list the larger value first.
    - ``shift: [low, high]``: for shares, one or a list (e.g. one women-staff share per unit):
      added to each share, the result clipped to [0, 1]; ``low <= 0 <= high``.
    - ``scale: [low, high]``: for shares, one or a list: each share multiplied by the factor,
      the result clipped to [0, 1]; ``0 <= low <= 1 <= high``.

    Assumptions with the same ``group`` move together: all to their low end, or all to their
    high end (``cadresim robustness``).
    """

    path: Annotated[str, Field(min_length=1)] = Field(
        description="Dotted path of the setting, as in --set (list items by id or position)."
    )
    range: tuple[float, float] | None = Field(
        None, description="The setting's value at the low end and at the high end."
    )
    shift: tuple[float, float] | None = Field(
        None, description="For shares (one or a list): added to each share, clipped to [0, 1]."
    )
    scale: tuple[float, float] | None = Field(
        None, description="For shares (one or a list): each share multiplied, clipped to [0, 1]."
    )
    note: Annotated[str, Field(min_length=1)] = Field(description="Why this range is plausible.")
    group: Annotated[str, Field(min_length=1, max_length=80)] | None = Field(
        None, description="Assumptions of a group move together (default: on its own)."
    )

    @model_validator(mode="after")
    def _check(self) -> Assumption:
        given = [f for f in ASSUMPTION_FORMS if getattr(self, f) is not None]
        if len(given) != 1:
            raise FieldError(
                ("path",),
                f"{self.path}: give exactly one of range, shift or scale (got "
                f"{', '.join(given) or 'none'})",
            )
        form = given[0]
        low, high = getattr(self, form)
        if low == high:
            raise FieldError((form,), f"an empty {form}: both ends are {low:g}")
        if form == "shift" and not low <= 0.0 <= high:
            raise FieldError((form,), f"a shift needs low <= 0 <= high (got [{low:g}, {high:g}])")
        if form == "scale" and not 0.0 <= low <= 1.0 <= high:
            raise FieldError(
                (form,), f"a scale needs 0 <= low <= 1 <= high (got [{low:g}, {high:g}])"
            )
        return self

    @property
    def form(self) -> str:
        """``range``, ``shift`` or ``scale``."""
        return next(f for f in ASSUMPTION_FORMS if getattr(self, f) is not None)

    @property
    def label(self) -> str:
        """The name it moves under: its group, or its path when it has none."""
        return self.group or self.path

    def ends(self) -> tuple[float, float]:
        """The two ends as written (low end first)."""
        ends = getattr(self, self.form)
        return (float(ends[0]), float(ends[1]))

    def problem_with(self, value: Any) -> str | None:
        """Why ``value`` (the setting's current value) cannot carry this range, or None."""

        def number(x: Any) -> bool:
            return isinstance(x, int | float) and not isinstance(x, bool)

        low, high = self.ends()
        if self.form == "range":
            if not number(value):
                what = "a list" if isinstance(value, list) else f"{value!r}"
                hint = " (use shift or scale for a list of shares)" if what == "a list" else ""
                return f"{self.path} is {what}, not a number: a range needs a number{hint}"
            if isinstance(value, int) and not (low.is_integer() and high.is_integer()):
                return (
                    f"{self.path} is a whole number ({value}): the range [{low:g}, {high:g}] "
                    "needs whole-number ends"
                )
            if not min(low, high) - 1e-12 <= value <= max(low, high) + 1e-12:
                return f"{self.path} is {value:g}, outside its range [{low:g}, {high:g}]"
            return None
        values = value if isinstance(value, list) else [value]
        if not values or not all(number(x) and 0.0 <= x <= 1.0 for x in values):
            return (
                f"{self.path}: a {self.form} applies to shares (numbers in [0, 1]), not {value!r}"
            )
        return None

    def at(self, value: Any, end: Literal["low", "high"]) -> Any:
        """The setting's value at ``end``, from its current ``value``: the end of a range
        (an ``int`` for a whole-number setting), or each share shifted or scaled and clipped
        to [0, 1] (rounded to 6 decimals)."""
        x = self.ends()[0 if end == "low" else 1]
        if self.form == "range":
            return round(x) if isinstance(value, int) else x

        def move(v: float) -> float:
            moved = v + x if self.form == "shift" else v * x
            return round(min(1.0, max(0.0, moved)), 6)

        if isinstance(value, list):
            return [move(v) for v in value]
        return move(value)


# --------------------------------------------------------------------------- #
# The scenario
# --------------------------------------------------------------------------- #


class Scenario(_Frozen):
    """One province's leadership, rules and targets; immutable once validated."""

    schema_version: Literal[1] = 1
    province: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    start: dt.date = dt.date(2021, 1, 1)
    end: dt.date = dt.date(2030, 12, 31)
    structure: Structure
    population: Population
    dynamics: Dynamics
    policy: Policy
    congress: Congress | None = None
    targets: list[Target] = Field(default_factory=list)
    not_modelled: list[NotModelled] = Field(default_factory=list)
    variants: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named sets of dotted-path overrides, e.g. a business-as-usual variant.",
    )
    assumptions: list[Assumption] = Field(
        default_factory=list,
        description="The assumed numbers and their plausible ranges (cadresim robustness).",
    )
    merger: Merger | None = Field(
        None, description="Provinces merged into this one on a date (sim/merging.py)."
    )
    exploration: ExplorationSpec | None = Field(
        None,
        description="The exploratory study of this scenario (cadresim explore): its levers and "
        "uncertainties. Not part of the model: it changes no replication (nor the hash).",
    )

    # The source provinces of a merger, as scenarios (set by the check below).
    _sources: tuple[Scenario, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.end <= self.start:
            raise FieldError(("end",), f"end ({self.end}) must be after start ({self.start})")
        if self.start.day != 1:
            raise FieldError(("start",), f"start ({self.start}) must be the first day of a month")
        if self.merger is not None:
            self._set_up_merger()
        lf = self.policy.levers_from
        if lf is not None and not (self.start <= lf <= self.end):
            raise FieldError(
                ("policy", "levers_from"),
                f"policy.levers_from {lf} is outside the horizon {self.start} to {self.end}",
            )
        block_ids = {b.id for b in self.structure.blocks}
        ids: set[str] = set()
        for k, t in enumerate(self.targets):
            if t.id in ids:
                raise FieldError(("targets", k, "id"), f"target id {t.id!r} is used twice")
            ids.add(t.id)
            if not (self.start.year <= t.by <= self.end.year):
                raise FieldError(
                    ("targets", k, "by"),
                    f"target {t.id}: deadline {t.by} is outside the horizon "
                    f"{self.start.year}-{self.end.year}",
                )
            if t.pre_merger:
                continue  # measured on its source province (checked with it)
            if (
                self.merger is not None
                and isinstance(t, FlowTarget)
                and t.from_year < self.merger.date.year
            ):
                raise FieldError(
                    ("targets", k, "from_year"),
                    f"target {t.id}: the merged province counts appointments from the merger "
                    f"({self.merger.date.year}), not from {t.from_year}",
                )
            base_of_t = getattr(t, "baseline", None)
            if (
                self.merger is not None
                and base_of_t is not None
                and t.source_province is None
                and base_of_t.year < self.merger.date.year
            ):
                raise FieldError(
                    ("targets", k, "baseline", "year"),
                    f"target {t.id}: a baseline before the merger ({base_of_t.year}) is not "
                    "the merged province's; carry the target from a source province "
                    "(merger.targets_after) or use a later baseline year",
                )
            who = getattr(t, "who", None)
            if who is not None and who.blocks is not None:
                unknown = sorted(set(who.blocks) - block_ids)
                if unknown:
                    raise FieldError(
                        ("targets", k, "who", "blocks"),
                        f"target {t.id}: unknown block(s) {', '.join(unknown)}",
                    )
            if isinstance(t, PoolTarget):
                sp = self.policy.succession_pool
                unknown = sorted(set(t.blocks or []) - block_ids)
                if unknown:
                    raise FieldError(
                        ("targets", k, "blocks"),
                        f"target {t.id}: unknown block(s) {', '.join(unknown)}",
                    )
                if "long_service" in (t.group if isinstance(t.group, list) else [t.group]):
                    raise FieldError(
                        ("targets", k, "group"), f"target {t.id}: not a succession-pool group"
                    )
                missing = sorted(set(t.ranks) - set(sp.ranks))
                if missing:
                    raise FieldError(
                        ("targets", k, "ranks"),
                        f"target {t.id}: the succession pool does not plan {', '.join(missing)} "
                        "(policy.succession_pool.ranks)",
                    )
            if isinstance(t, FlowTarget) and t.group not in FLOW_GROUPS:
                raise FieldError(
                    ("targets", k, "group"),
                    f"target {t.id}: a flow target counts {', '.join(FLOW_GROUPS)}, not {t.group}",
                )
            if isinstance(t, FlowTarget) and not (self.start.year <= t.from_year <= t.by):
                raise FieldError(
                    ("targets", k, "from_year"),
                    f"target {t.id}: from_year {t.from_year} must lie between the start year "
                    f"{self.start.year} and the deadline {t.by}",
                )
            if isinstance(t, CommitteeTarget):
                years = [d.year for d in (self.congress.dates if self.congress else [])]
                if t.by not in years:
                    raise FieldError(
                        ("targets", k, "by"), f"target {t.id}: no congress is scheduled in {t.by}"
                    )
            if isinstance(t, FlowTarget) and t.aggregate == "pooled" and t.empty_year == "skip":
                raise FieldError(
                    ("targets", k, "empty_year"),
                    f"target {t.id}: empty_year applies to aggregate each_year only (a pooled "
                    "window without any appointment is undefined, so not met)",
                )
            base = getattr(t, "baseline", None)
            if base is not None:
                if not (self.start.year <= base.year < t.by):
                    raise FieldError(
                        ("targets", k, "baseline", "year"),
                        f"target {t.id}: baseline year {base.year} must lie between the start "
                        f"year {self.start.year} and the year before the deadline {t.by}",
                    )
                levers = self.levers_start
                if dt.date(base.year, 1, 1) > levers:
                    raise FieldError(
                        ("targets", k, "baseline", "year"),
                        f"target {t.id}: baseline year {base.year} begins after the levers "
                        f"start ({levers}, policy.levers_from): the plan's own levers would "
                        "move the threshold they are judged against; use a baseline year up "
                        f"to {levers.year}, or a later policy.levers_from",
                    )
                for name in ("value", "upper"):
                    x = getattr(t, name)
                    if x is not None and not -1.0 <= x <= 1.0:
                        raise FieldError(
                            ("targets", k, name),
                            f"target {t.id}: a change against the baseline needs a {name} "
                            "in [-1, 1] (0.05 = 5 points or 5%)",
                        )
            elif t.kind != "women_staff_rule":
                for name in ("value", "upper"):
                    x = getattr(t, name)
                    if x is not None and not 0.0 <= x <= 1.0:
                        raise FieldError(
                            ("targets", k, name),
                            f"target {t.id}: a share target needs a {name} in [0, 1]",
                        )
        rs = self.policy.restructuring
        if rs.enabled and not (self.start <= rs.date <= self.end):
            raise FieldError(
                ("policy", "restructuring", "date"),
                f"restructuring date {rs.date} is outside the horizon",
            )
        for k, b in enumerate(rs.abolish_blocks):
            if b not in block_ids:
                raise FieldError(
                    ("policy", "restructuring", "abolish_blocks", k), f"unknown block {b}"
                )
        for k, mg in enumerate(rs.merge):
            block = next((b for b in self.structure.blocks if b.id == mg.block), None)
            if block is None:
                raise FieldError(
                    ("policy", "restructuring", "merge", k, "block"), f"unknown block {mg.block}"
                )
            if mg.into_units > block.units:
                raise FieldError(
                    ("policy", "restructuring", "merge", k, "into_units"),
                    f"block {mg.block} has {block.units} units: cannot merge into {mg.into_units}",
                )
        if self.congress is not None:
            for k, d in enumerate(self.congress.dates):
                if not (self.start <= d <= self.end):
                    raise FieldError(
                        ("congress", "dates", k), f"congress date {d} is outside the horizon"
                    )
        l1 = self.population.l1
        prov = sum(b.heads + b.deputies for b in self.structure.blocks if not b.district)
        dist = sum(b.heads + b.deputies for b in self.structure.blocks if b.district)
        for label, counts in (("women", l1.women), ("young", l1.young)):
            if counts.provincial > prov or counts.district > dist:
                raise FieldError(
                    ("population", "l1", label),
                    f"population.l1.{label}: {counts.provincial} provincial / {counts.district} "
                    f"district exceed the posts ({prov} / {dist})",
                )
        if l1.young_women > min(
            l1.women.provincial + l1.women.district, l1.young.provincial + l1.young.district
        ):
            raise FieldError(
                ("population", "l1", "young_women"),
                "population.l1.young_women exceeds the women or the young",
            )
        # The young women must fit in the posts: x of them in district posts and the rest in
        # provincial ones, with each area's young men in posts held by men.
        yw, yp, yd = l1.young_women, l1.young.provincial, l1.young.district
        wp, wd = l1.women.provincial, l1.women.district
        lowest = max(0, yw - wp, yd - (dist - wd), yw - yp)
        highest = min(yw, yd, wd, (prov - wp) - (yp - yw))
        if lowest > highest:
            raise FieldError(
                ("population", "l1", "young_women"),
                f"population.l1: {yw} young women cannot be placed among {yp} provincial and "
                f"{yd} district young leaders with {wp} women in {prov} provincial posts and "
                f"{wd} women in {dist} district posts",
            )
        return self

    def _set_up_merger(self) -> None:
        """Load the source provinces of the merger, check the joining of their blocks, and
        set the targets the merged scenario reports (:mod:`sim.merging`)."""
        from sim import merging

        m = self.merger
        assert m is not None
        try:
            sources = merging.resolve_sources(m, self.start, self.end)
            merging.check_blocks(m, sources, {b.id for b in self.structure.blocks})
        except merging.MergerError as exc:
            raise FieldError(("merger", *exc.loc), str(exc)) from None
        targets = merging.merger_targets(list(self.targets), m, sources)
        object.__setattr__(self, "targets", targets)
        self._sources = sources

    @property
    def merger_sources(self) -> tuple[Scenario, ...]:
        """The source provinces of the merger as scenarios (empty without a merger)."""
        return self._sources

    @property
    def merged(self) -> bool:
        """Whether a replication runs a merger (a merger block that is switched on)."""
        return self.merger is not None and self.merger.enabled

    # ----------------------------------------------------------------- helpers
    @property
    def start_month(self) -> int:
        return 12 * self.start.year + self.start.month - 1

    @property
    def end_month(self) -> float:
        """The month index just after the last day of the horizon."""
        return 12 * self.end.year + self.end.month  # end of the end month

    @property
    def levers_start(self) -> dt.date:
        """When the levers start: ``policy.levers_from``, or the scenario's start."""
        lf = self.policy.levers_from
        return self.start if lf is None else lf

    def baseline_date(self, base: Baseline) -> dt.date:
        """When a relative target's baseline is measured (start of that day): 31 December of
        the baseline year (i.e. 1 January after it) or the levers' start, whichever is
        first. The loader makes sure no lever acts before it."""
        return min(dt.date(base.year + 1, 1, 1), self.levers_start)

    @property
    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))

    def digest(self) -> str:
        """A stable hash of the validated content (used for caching and metadata). The
        ``exploration`` block describes studies of the scenario, not the model: it is left out,
        so that declaring one does not make stored results look stale."""
        data = self.model_dump(mode="json", exclude={"exploration"})
        # Settings of mergers, at their defaults, are left out: a scenario that does not merge
        # keeps the hash it had before mergers existed (stored results stay valid).
        if data.get("merger") is None:
            data.pop("merger", None)
        for t in data["targets"]:
            if t.get("source_province") is None and not t.get("pre_merger"):
                t.pop("source_province", None)
                t.pop("pre_merger", None)
        if self._sources:  # a merged province rests on its sources' whole content
            data["merger_sources"] = [s.digest() for s in self._sources]
        payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def with_overrides(self, overrides: Mapping[str, Any] | Sequence[str]) -> Scenario:
        """A new validated scenario with dotted-path overrides applied; ``self`` is untouched."""
        return apply_overrides(self, overrides)

    def variant(self, name: str) -> Scenario:
        """The named variant: this scenario with the variant's overrides applied."""
        if name not in self.variants:
            known = ", ".join(sorted(self.variants)) or "none"
            raise ScenarioError([Issue(f"variant {name!r} is not defined (known: {known})")])
        return apply_overrides(self, self.variants[name], source=f"variants.{name}")


# --------------------------------------------------------------------------- #
# Errors, loading, overrides
# --------------------------------------------------------------------------- #


class Issue:
    """One problem in a scenario: where it is and what is wrong."""

    __slots__ = ("column", "file", "line", "message", "path")

    def __init__(
        self,
        message: str,
        path: str = "",
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = location(self.file, self.line, self.column)
        parts = [p for p in (where, self.path) if p]
        prefix = " ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class ScenarioError(ValueError):
    """A scenario that cannot be used, with every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _loc_to_path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _clean_loc(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Drop pydantic's discriminator tags (e.g. ``'stock'``) from a location."""
    kinds = {"stock", "flow", "committee", "women_staff_rule"}
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in kinds and i > 0 and isinstance(loc[i - 1], int):
            continue
        if isinstance(part, str) and (part.startswith("function-") or part in ("list[...]",)):
            continue
        if part in (ONE_LAW, BY_SEX):  # the form of an age law
            continue
        out.append(part)
    return tuple(out)


def _validation_issues(
    err: ValidationError, file: str | None, positions: Mapping[tuple, tuple[int, int]] | None
) -> list[Issue]:
    issues = []
    for e in err.errors(include_url=False):
        # A model check that names one of its fields: report that field, not the whole model.
        below = getattr(e.get("ctx", {}).get("error"), "loc", ())
        loc = _clean_loc((*e["loc"], *below))
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not part of the scenario schema)"
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif (
            "input" in e
            and e["type"] not in ("model_type",)
            and not isinstance(e["input"], dict | list)
        ):
            msg = f"{msg} (got {e['input']!r})"
        pos = position_for(positions, loc) if positions else None
        if e["type"] == "extra_forbidden" and positions is not None:
            # The key is what is wrong: point at it, not at a block value on the next line.
            pos = getattr(positions, "key_positions", {}).get(loc, pos)
        issues.append(
            Issue(msg, _loc_to_path(loc), file, pos[0] if pos else None, pos[1] if pos else None)
        )
    return issues


def scenario_from_dict(
    data: Any,
    file: str | None = None,
    positions: Mapping[tuple, tuple[int, int]] | None = None,
) -> Scenario:
    """Validate plain data into a :class:`Scenario`, or raise :class:`ScenarioError`."""
    if data is None:
        raise ScenarioError([Issue("the file is empty (no scenario in it)", "", file, 1)])
    if not isinstance(data, dict):
        raise ScenarioError([Issue("a scenario must be a mapping of keys to values", "", file, 1)])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_validation_issues(err, file, positions)) from None
    check_assumptions(scenario, file, positions)
    return scenario


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and validate a scenario YAML file."""
    p = Path(path)
    name = str(path)
    if p.is_dir():
        raise ScenarioError([Issue("this is a folder, not a scenario file", "", name)])
    if not p.is_file():
        bundled = ", ".join(sorted(q.stem for q in bundled_scenarios_dir().glob("*.yaml")))
        raise ScenarioError(
            [Issue(f"no such scenario file (bundled scenarios: {bundled})", "", name)]
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError([Issue(f"cannot read the file ({exc.strerror})", "", name)]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise ScenarioError(
            [
                Issue(
                    f"the file is not UTF-8 text ({exc.reason}, byte 0x{raw[exc.start]:02x})",
                    "",
                    name,
                    line,
                    column,
                )
            ]
        ) from None
    return load_scenario_text(text, name)


def load_scenario_text(text: str, file: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML given as text (e.g. an upload)."""
    try:
        data, positions = load_yaml_with_positions(text, file)
    except YamlSyntaxError as exc:
        raise ScenarioError([Issue(exc.problem, "", file, exc.line, exc.column)]) from None
    return scenario_from_dict(data, file, positions)


def bundled_scenarios_dir() -> Path:
    """The ``scenarios/`` folder shipped with the project."""
    env = os.environ.get("CADRESIM_SCENARIOS")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent / "scenarios"  # a source checkout
    return beside if beside.is_dir() else Path.cwd() / "scenarios"


DEFAULT_SCENARIO = "quang_binh"


def resolve_scenario_path(name_or_path: str | None) -> Path:
    """A bundled scenario by name (``quang_binh``) or a path to a YAML file."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return bundled_scenarios_dir() / f"{name_or_path}.yaml"


def parse_override(item: str) -> tuple[str, Any]:
    """Split ``path=value``; the value is read as YAML (numbers, booleans, lists)."""
    if "=" not in item:
        raise ScenarioError([Issue(f"override {item!r} must look like path=value", "--set")])
    path, raw = item.split("=", 1)
    path = path.strip()
    if not path:
        raise ScenarioError([Issue(f"override {item!r} has an empty path", "--set")])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def _set_path(data: Any, path: str, value: Any, source: str = "--set") -> None:
    parts = path.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            # An item is named by its position (targets.0) or, better, by its id
            # (targets.QB-AW), which survives a reordering of the list.
            ids = [item.get("id") for item in node if isinstance(item, dict)]
            if part in ids:
                idx = ids.index(part)
            else:
                try:
                    idx = int(part)
                    node[idx]
                except (ValueError, IndexError):
                    known = f" (ids: {', '.join(str(x) for x in ids)})" if any(ids) else ""
                    raise ScenarioError(
                        [
                            Issue(
                                f"{part!r} is neither an id nor a valid index into a list of "
                                f"{len(node)}{known}",
                                where,
                                source,
                            )
                        ]
                    ) from None
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if part not in node and not last:
                raise ScenarioError([Issue("no such setting in the scenario", where, source)])
            # A new key at the end is allowed (free-form mappings such as
            # max_consecutive_terms); validation rejects it where the schema has no such key.
            if last:
                node[part] = value
            else:
                if node[part] is None:
                    raise ScenarioError(
                        [
                            Issue(
                                "this setting is empty; set the whole section instead",
                                where,
                                source,
                            )
                        ]
                    )
                node = node[part]
        else:
            raise ScenarioError([Issue("this setting has no sub-settings", where, source)])


def apply_overrides(
    scenario: Scenario, overrides: Mapping[str, Any] | Sequence[str], source: str = "--set"
) -> Scenario:
    """Return a new validated scenario with dotted-path overrides applied.

    ``source`` names where the overrides come from in error messages (``--set`` or a variant).
    """
    if isinstance(overrides, str):
        overrides = [overrides]
    items = (
        list(overrides.items())
        if isinstance(overrides, Mapping)
        else [parse_override(o) for o in overrides]
    )
    if not items:
        return scenario
    data = scenario.model_dump(mode="json")
    for path, value in items:
        _set_path(data, path, value, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        issues = _validation_issues(err, source, None)
        raise ScenarioError(issues) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files."""
    return Scenario.model_json_schema()


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].split("/")[-1]
    if "enum" in prop:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return " or ".join(_type_of(p) for p in prop[key])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {}))}"
    extra = prop.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict):
        return f"mapping to {_type_of(extra)}"
    bounds = [
        f"{op} {prop[k]}"
        for k, op in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
        )
        if k in prop
    ]
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def schema_markdown() -> str:
    """A reference page of the scenario format, generated from the schema."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# Scenario file reference",
        "",
        "Generated by `cadresim schema --markdown` from the validated schema "
        "(`sim/scenario.py`); the JSON Schema itself is in `docs/scenario.schema.json`. "
        "Unknown keys are rejected. Shares are fractions in [0, 1]; ages are in years; "
        "durations in months unless the name says otherwise.",
        "",
    ]
    sections = [("Scenario", schema), *sorted(defs.items())]
    for name, body in sections:
        props = body.get("properties")
        if not props:
            continue
        lines += [f"## {name}", ""]
        if body.get("description"):
            lines += [" ".join(body["description"].split()), ""]
        required = set(body.get("required", []))
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for key, prop in props.items():
            default = (
                "required"
                if key in required
                else json.dumps(prop.get("default"), ensure_ascii=False, default=str)
            )
            desc = " ".join(str(prop.get("description", "")).split()).replace("|", "\\|")
            typ = _type_of(prop).replace("|", "\\|")
            lines.append(f"| `{key}` | {typ} | {default} | {desc} |")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Assumptions: their settings and values
# --------------------------------------------------------------------------- #


def get_setting(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a scenario's data (``model_dump(mode="json")``),
    found as ``--set`` finds it: list items by id or by position.

    Raises:
        KeyError: with a message naming the first part of the path that does not exist.
    """
    node = data
    parts = path.split(".")
    for i, part in enumerate(parts):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            ids = [item.get("id") for item in node if isinstance(item, dict)]
            if part in ids:
                node = node[ids.index(part)]
                continue
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                known = f" (ids: {', '.join(str(x) for x in ids)})" if any(ids) else ""
                raise KeyError(
                    f"{where}: {part!r} is neither an id nor a valid index into a list of "
                    f"{len(node)}{known}"
                ) from None
        elif isinstance(node, dict):
            if part not in node:
                raise KeyError(f"{where}: no such setting in the scenario")
            node = node[part]
        else:
            raise KeyError(f"{where}: {'.'.join(parts[:i])} has no sub-settings")
    return node


def check_assumptions(
    scenario: Scenario,
    file: str | None = None,
    positions: Mapping[tuple, tuple[int, int]] | None = None,
) -> None:
    """Check the scenario's ``assumptions``: each path names a setting of the scenario, at
    most once, and the setting's value lies inside its range (a number for ``range``, shares
    for ``shift`` and ``scale``).

    Raises:
        ScenarioError: every problem, each at its place in ``file``.
    """
    data = scenario.model_dump(mode="json")
    issues: list[Issue] = []
    first: dict[str, int] = {}
    for k, a in enumerate(scenario.assumptions):

        def report(message: str, field: str = "path", k: int = k) -> None:
            loc = ("assumptions", k, field)
            pos = position_for(positions, loc) if positions else None
            issues.append(
                Issue(
                    message,
                    _loc_to_path(loc),
                    file,
                    pos[0] if pos else None,
                    pos[1] if pos else None,
                )
            )

        if a.path in first:
            report(f"{a.path} is listed twice (first at assumptions[{first[a.path]}])")
            continue
        first[a.path] = k
        try:
            value = get_setting(data, a.path)
        except KeyError as exc:
            report(str(exc.args[0]))
            continue
        problem = a.problem_with(value)
        if problem is not None:
            report(problem, a.form)
    if issues:
        raise ScenarioError(issues)


def within_ranges(scenario: Scenario) -> Scenario:
    """``scenario`` without the assumptions whose setting has left its range (a what-if set
    it elsewhere), so that it can be written to a file that loads again. The simulation is
    the same: assumptions only say how far their settings are varied by robustness studies."""
    data = scenario.model_dump(mode="json")
    kept = []
    for a in scenario.assumptions:
        try:
            value = get_setting(data, a.path)
        except KeyError:
            continue
        if a.problem_with(value) is None:
            kept.append(a)
    if len(kept) == len(scenario.assumptions):
        return scenario
    return scenario.model_copy(update={"assumptions": kept})
