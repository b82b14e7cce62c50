"""Statutory rules on retirement, terms, promotion eligibility and appointment quotas."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXTENSION_THRESHOLD_MONTHS",
    "MIN_MONTHS_IN_POST",
    "PROMOTION_MIN_SERVICE_MONTHS",
    "QUOTA_MEMORY",
    "QUOTA_PRIOR_WEIGHT",
    "TERM_MONTHS",
    "YOUNG_AGE_MONTHS",
    "TermOutcome",
    "congress_floor_seats",
    "congress_list_length",
    "contest_rates",
    "early_retirement_uptake",
    "expected_share_probability",
    "floor_requires_group",
    "is_young",
    "meets_standard",
    "month_index",
    "month_to_year_month",
    "new_accounts",
    "pool_service_ok",
    "promotion_service_ok",
    "promotion_window",
    "quota_priority",
    "reappointment_allowed",
    "record_contest",
    "removal_rate",
    "retirement_age_months",
    "retirement_month",
    "retirement_months",
    "rotation_eligible",
    "share_to_aim",
    "term_end_outcome",
    "time_in_post_ok",
]

# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


def month_index(year: int, month: int) -> int:
    """Return the absolute month index of a calendar month.

    The engine measures time in months since January of year 0:
    ``month_index(year, month) = 12 * year + (month - 1)``.

    Args:
        year: Calendar year.
        month: Calendar month, 1 (January) to 12 (December).

    Returns:
        The absolute month index (e.g. 2021-01 is 24252).

    Raises:
        ValueError: If ``month`` is not in 1..12.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be in 1..12, got {month}")
    return 12 * year + (month - 1)


def month_to_year_month(m: float) -> tuple[int, int]:
    """Return the calendar (year, month) containing a possibly fractional month index.

    The index is floored first, so any instant inside a month maps to that month.

    Args:
        m: Absolute month index, integer or fractional.

    Returns:
        ``(year, month)`` with ``month`` in 1..12.
    """
    whole = math.floor(m)
    return whole // 12, whole % 12 + 1


# ---------------------------------------------------------------------------
# Retirement age and retirement month
# ---------------------------------------------------------------------------

_RAMP_START_YEAR = 2021
"""First calendar year of the gradual increase of the retirement age."""

_RAMP_END_YEAR = 2035
"""First calendar year from which both sexes have reached the final retirement age."""

_MALE_BASE_MONTHS = 720
_MALE_STEP_MONTHS = 3
_MALE_FINAL_MONTHS = 744
_FEMALE_BASE_MONTHS = 660
_FEMALE_STEP_MONTHS = 4
_FEMALE_FINAL_MONTHS = 720


def retirement_age_months(female: bool, year: int) -> int:
    """Return the normal retirement age, in months, applying in a calendar year.

    Legal source: Labour Code 2019 (Law 45/2019/QH14) art. 169(2) and
    Decree 135/2020/NĐ-CP art. 4 (normal working conditions).

    * Men: 60 years (720 months) up to 2020; 60 years 3 months in 2021, then
      3 more months each calendar year until 62 years (744 months) in 2028,
      constant afterwards.
    * Women: 55 years (660 months) up to 2020; 55 years 4 months in 2021,
      then 4 more months each calendar year until 60 years (720 months) in
      2035, constant afterwards.

    Args:
        female: True for a woman, False for a man.
        year: Calendar year in which the age is reached.

    Returns:
        The retirement age in months.
    """
    steps = max(0, year - (_RAMP_START_YEAR - 1))
    if female:
        return min(_FEMALE_BASE_MONTHS + _FEMALE_STEP_MONTHS * steps, _FEMALE_FINAL_MONTHS)
    return min(_MALE_BASE_MONTHS + _MALE_STEP_MONTHS * steps, _MALE_FINAL_MONTHS)


def retirement_month(female: bool, birth_year: int, birth_month: int) -> int:
    """Return the month index of the first month of retirement (pension start).

    Legal source: Decree 135/2020/NĐ-CP art. 6 ("thời điểm hưởng lương hưu")
    and its Appendix I table; ages from Labour Code 2019 art. 169 and
    Decree 135/2020/NĐ-CP art. 4.

    With ``b`` the birth month index, the person reaches the retirement age in
    the earliest month ``M`` such that
    ``M - b >= retirement_age_months(female, year of M)``; the pension starts
    in the following month, ``M + 1``. For instance a man born 01/1961
    reaches 60 years 3 months in 04/2021 and retires from 05/2021.

    Args:
        female: True for a woman, False for a man.
        birth_year: Calendar year of birth.
        birth_month: Calendar month of birth, 1..12.

    Returns:
        Month index of the first month of retirement.
    """
    birth = month_index(birth_year, birth_month)
    # No retirement age is below the pre-2021 base age, so the search can start there.
    reached = birth + retirement_age_months(female, _RAMP_START_YEAR - 1)
    while reached - birth < retirement_age_months(female, reached // 12):
        reached += 1
    return reached + 1


def retirement_months(
    female: npt.ArrayLike,
    birth_m: npt.ArrayLike,
) -> npt.NDArray[np.int64]:
    """Vectorised :func:`retirement_month` taking birth month indices.

    Legal source: as :func:`retirement_month` (Decree 135/2020/NĐ-CP art. 4
    and 6, Labour Code 2019 art. 169).

    Time is split into segments over which the retirement age is constant:
    everything before 2021, each calendar year 2021..2034, and everything from
    2035 on. In each segment the earliest month reaching the age is the
    segment start or ``birth + age``, whichever is later, provided it still
    lies in the segment; the overall answer is the minimum over segments.
    The loop runs over the ~16 segments, never over people.

    Args:
        female: Boolean array, True for women.
        birth_m: Array of birth month indices, broadcastable with ``female``.
            Integer arrays are expected; a float array is floored, so a
            fractional index counts as the calendar month containing it
            (as in :func:`month_to_year_month`).

    Returns:
        Integer (int64) array of month indices of the first month of
        retirement.

    Raises:
        ValueError: If ``birth_m`` holds a non-finite value.
    """
    fem = np.asarray(female, dtype=bool)
    birth = np.asarray(birth_m)
    if not np.issubdtype(birth.dtype, np.integer):
        if not np.all(np.isfinite(birth)):
            raise ValueError("birth_m must hold finite month indices")
        birth = np.floor(birth)
    fem, birth = np.broadcast_arrays(fem, birth.astype(np.int64))

    def age(year: int) -> npt.NDArray[np.int64]:
        return np.where(
            fem, retirement_age_months(True, year), retirement_age_months(False, year)
        ).astype(np.int64)

    # Segment before the ramp: months < January 2021.
    ramp_start = month_index(_RAMP_START_YEAR, 1)
    candidate = birth + age(_RAMP_START_YEAR - 1)
    reached = np.where(candidate < ramp_start, candidate, np.iinfo(np.int64).max)
    # One segment per ramp year.
    for year in range(_RAMP_START_YEAR, _RAMP_END_YEAR):
        start = month_index(year, 1)
        candidate = np.maximum(start, birth + age(year))
        reached = np.where(candidate <= start + 11, np.minimum(reached, candidate), reached)
    # Open segment after the ramp: the final age applies for ever.
    candidate = np.maximum(month_index(_RAMP_END_YEAR, 1), birth + age(_RAMP_END_YEAR))
    reached = np.minimum(reached, candidate)
    return reached + 1


# ---------------------------------------------------------------------------
# Terms of appointment
# ---------------------------------------------------------------------------

TERM_MONTHS = 60
"""Length of one appointment term: 5 years (Decree 138/2020/NĐ-CP art. 41)."""

EXTENSION_THRESHOLD_MONTHS = 24
"""Months left below which a term is extended to retirement (Decree 138/2020/NĐ-CP art. 41)."""


class TermOutcome(enum.Enum):
    """What happens when an appointment term ends (Decree 138/2020/NĐ-CP art. 41)."""

    EXTEND_TO_RETIREMENT = enum.auto()
    """Less than 2 years left: the term is extended until retirement."""

    DECIDE = enum.auto()
    """2 years or more left: reappointment is decided, it is not automatic."""


def term_end_outcome(months_to_retirement: float) -> TermOutcome:
    """Classify the end of an appointment term.

    Legal source: Decree 138/2020/NĐ-CP art. 41. An appointment lasts 5 years.
    At the end of the term, a holder with 2 years (24 months) or more left
    before retirement goes through a reappointment decision; a holder with
    less than 2 years left has the term extended until retirement.

    Args:
        months_to_retirement: Months from the term end to the first month of
            retirement.

    Returns:
        ``TermOutcome.DECIDE`` if ``months_to_retirement >= 24``, otherwise
        ``TermOutcome.EXTEND_TO_RETIREMENT``.
    """
    if months_to_retirement >= EXTENSION_THRESHOLD_MONTHS:
        return TermOutcome.DECIDE
    return TermOutcome.EXTEND_TO_RETIREMENT


def reappointment_allowed(consecutive_terms_done: int, max_consecutive_terms: int | None) -> bool:
    """Tell whether a post holder may be reappointed for one more consecutive term.

    Legal source: Decree 138/2020/NĐ-CP art. 41 (reappointment at term end);
    some posts allow at most two consecutive terms.

    Args:
        consecutive_terms_done: Consecutive terms already served in the post.
        max_consecutive_terms: Maximum consecutive terms allowed for the
            post, or None when there is no limit.

    Returns:
        True if one more term stays within the limit.

    Raises:
        ValueError: If a count is negative.
    """
    if consecutive_terms_done < 0:
        raise ValueError(f"consecutive_terms_done must be >= 0, got {consecutive_terms_done}")
    if max_consecutive_terms is None:
        return True
    if max_consecutive_terms < 0:
        raise ValueError(f"max_consecutive_terms must be >= 0, got {max_consecutive_terms}")
    return consecutive_terms_done < max_consecutive_terms


def removal_rate(
    yearly_rate: float,
    merit: npt.ArrayLike,
    merit_slope: float,
    multiplier: float = 1.0,
) -> npt.NDArray[np.float64]:
    """Monthly hazard of removal from a leadership post before the term ends.

    Legal source: Quy định 41-QĐ/TW (2021) on the dismissal ("miễn nhiệm") and resignation of
    cadres; Decree 138/2020/NĐ-CP on dismissal of appointed leaders. Seed 003 (Nghệ An, on
    Resolution 30/NQ-CP) asks provinces to dismiss, replace or let resign weak, ineffective or
    degraded cadres "không chờ hết nhiệm kỳ, hết thời gian bổ nhiệm" (without waiting for the
    end of their term).

    The hazard is proportional: ``yearly_rate`` is the yearly probability of removal for a
    leader of average latent merit (merit 0), each standard deviation of merit multiplies the
    hazard by ``exp(merit_slope)`` (a negative slope puts weaker cadres more at risk), and the
    policy ``multiplier`` scales the whole drive (0 switches it off, 1 is current practice).

    Args:
        yearly_rate: Yearly probability of removal at merit 0 and multiplier 1, in [0, 1).
        merit: Latent merit, in standard deviations (scalar or array).
        merit_slope: Change of the log-hazard per standard deviation of merit.
        multiplier: Strength of the removal policy, >= 0.

    Returns:
        The monthly hazard rate(s), same shape as ``merit``.

    Raises:
        ValueError: If ``yearly_rate`` is outside [0, 1) or ``multiplier`` is negative.
    """
    if not 0.0 <= yearly_rate < 1.0:
        raise ValueError(f"yearly_rate must be in [0, 1), got {yearly_rate}")
    if multiplier < 0:
        raise ValueError(f"multiplier must be >= 0, got {multiplier}")
    base = -math.log1p(-yearly_rate) / 12.0 * multiplier
    return base * np.exp(merit_slope * np.asarray(merit, dtype=float))


# ---------------------------------------------------------------------------
# Promotion eligibility
# ---------------------------------------------------------------------------

PROMOTION_MIN_SERVICE_MONTHS = 60
"""Service left required for a promotion: 5 years (Kết luận 08-KL/TW 2021, Quy định 50-QĐ/TW)."""

MIN_MONTHS_IN_POST = 24
"""Time in the current post required before a move (Quy định 80-QĐ/TW 2022, Decree 138/2020)."""


def pool_service_ok(months_to_retirement: Any, min_service_months: float = 60.0) -> Any:
    """Tell whether a person has enough service left to be in the succession pool.

    Legal source: Quy định 50-QĐ/TW (2021) on succession planning ("quy hoạch"): a person
    planned for a post must be of an age to serve at least one full term (60 months) in it;
    members past that age drop out at the yearly review.

    Args:
        months_to_retirement: Months from now to the person's retirement (a number, or an
            array for many people at once).
        min_service_months: Service required, 60 months (one term) by default.

    Returns:
        True if ``months_to_retirement >= min_service_months`` (elementwise for an array).
    """
    return months_to_retirement >= min_service_months


def rotation_eligible(
    months_to_retirement: float,
    months_since_last_rotation: float,
    min_service_months: float = 120.0,
    min_stay_months: float = 36.0,
) -> bool:
    """Tell whether a leader may be rotated now.

    Legal source: Quy định 65-QĐ/TW (2022) on the rotation of cadres ("luân chuyển"): the
    rotated person has at least 10 years (120 months) of service left (5 for rotations made
    for the non-local rule), and a rotation lasts at least 3 years, so nobody is rotated again
    within 36 months of the last rotation.

    Args:
        months_to_retirement: Months from now to the person's retirement.
        months_since_last_rotation: Months since their last rotation (``inf`` if never).
        min_service_months: Service left required.
        min_stay_months: Minimum stay after a rotation.

    Returns:
        True if both conditions hold.
    """
    return (
        months_to_retirement >= min_service_months and months_since_last_rotation >= min_stay_months
    )


def early_retirement_uptake(
    months_to_retirement: float, bands: Iterable[tuple[float, float, float]]
) -> float:
    """The probability that a leader takes early retirement in a restructuring.

    Legal source: Decree 178/2024/NĐ-CP (amended by Decree 67/2025/NĐ-CP) on policies for
    cadres leaving in the 2024-2025 streamlining: favourable early retirement for those a few
    years from retirement. The uptake by years to retirement is scenario data (``bands`` of
    ``(min_years, max_years, uptake)``, half-open ``[min, max)``); outside every band it is 0.

    Args:
        months_to_retirement: Months to the person's statutory retirement.
        bands: Uptake bands; the first containing the person applies.

    Returns:
        The uptake probability.
    """
    years = months_to_retirement / 12.0
    for lo, hi, uptake in bands:
        if lo <= years < hi:
            return uptake
    return 0.0


def promotion_service_ok(months_to_retirement: float, is_promotion: bool) -> bool:
    """Check the remaining-service condition for an appointment.

    Legal source: Kết luận 08-KL/TW (2021) and Quy định 50-QĐ/TW (2021): a
    person proposed for appointment to a higher post must have at least a
    full 5 years (60 months) of service left. Moving to an equal or lower
    post is exempt.

    Args:
        months_to_retirement: Months from the decision to the first month of
            retirement.
        is_promotion: True if the new post is higher than the current one.

    Returns:
        True if the condition holds (``months_to_retirement >= 60``) or does
        not apply.
    """
    return not is_promotion or months_to_retirement >= PROMOTION_MIN_SERVICE_MONTHS


def time_in_post_ok(months_in_post: float, first_appointment: bool) -> bool:
    """Check the minimum-time-in-post condition for an appointment.

    Legal source: Quy định 80-QĐ/TW (2022) and Decree 138/2020/NĐ-CP: a
    leader must have held the current post for at least 24 months before
    being appointed to another one. A first appointment to a leadership post
    is exempt.

    Args:
        months_in_post: Months since appointment to the current post.
        first_appointment: True if the person holds no leadership post yet.

    Returns:
        True if the condition holds (``months_in_post >= 24``) or does not
        apply.
    """
    return first_appointment or months_in_post >= MIN_MONTHS_IN_POST


def promotion_window(
    retire_m: npt.ArrayLike,
    since_m: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the half-open window of times at which each person may be promoted.

    Legal source: Kết luận 08-KL/TW (2021), Quy định 50-QĐ/TW (2021) (at
    least 60 months of service left), Quy định 80-QĐ/TW (2022) and
    Decree 138/2020/NĐ-CP (at least 24 months in the current post).

    Convention: a person is eligible at time ``t`` (a month index, integer or
    fractional) iff ``eligible_from <= t < eligible_until``, and this holds
    exactly when both scalar rules hold at ``t``::

        time_in_post_ok(t - since_m, False)      <=>  t >= since_m + 24
        promotion_service_ok(retire_m - t, True) <=>  t <= retire_m - 60

    The first condition is closed on the left, which the half-open window
    expresses directly: ``eligible_from = since_m + 24``. The second is
    closed on the right (exactly 60 months left is enough), so
    ``eligible_until`` is ``retire_m - 60`` moved up by one unit in the last
    place (``np.nextafter``): ``t = retire_m - 60`` is inside the window and
    any ``t > retire_m - 60`` is outside. In particular, at integer months,
    month ``retire_m - 60`` is the last eligible one and ``retire_m - 59`` the
    first ineligible one. The window is empty when
    ``eligible_from >= eligible_until``.

    The bounds are float64 and must not be cast to integers: truncation would
    turn ``eligible_until`` back into ``retire_m - 60`` and wrongly exclude
    the boundary month. ``month_to_year_month(eligible_until)`` gives the
    calendar month of the last eligible instant.

    Args:
        retire_m: Array of first months of retirement.
        since_m: Array of times of appointment to the current post,
            broadcastable with ``retire_m``.

    Returns:
        ``(eligible_from, eligible_until)`` float64 arrays of month indices.
    """
    retire = np.asarray(retire_m, dtype=np.float64)
    since = np.asarray(since_m, dtype=np.float64)
    eligible_from = since + MIN_MONTHS_IN_POST
    eligible_until = np.nextafter(retire - PROMOTION_MIN_SERVICE_MONTHS, np.inf)
    shape = np.broadcast_shapes(eligible_from.shape, eligible_until.shape)
    return np.broadcast_to(eligible_from, shape).copy(), np.broadcast_to(
        eligible_until, shape
    ).copy()


def promotion_bounds(retire_m: float, since_m: float) -> tuple[float, float]:
    """Scalar form of :func:`promotion_window` for one person (the engine's hot path).

    Same legal sources and the same half-open convention: eligible at ``t`` iff
    ``eligible_from <= t < eligible_until``.
    """
    return (
        since_m + MIN_MONTHS_IN_POST,
        math.nextafter(retire_m - PROMOTION_MIN_SERVICE_MONTHS, math.inf),
    )


# ---------------------------------------------------------------------------
# Age groups
# ---------------------------------------------------------------------------

YOUNG_AGE_MONTHS = 480
"""Upper age bound (exclusive) of young cadres: 40 years (Quy định 50-QĐ/TW 2021)."""


def meets_standard(
    held: Mapping[str, npt.NDArray[np.bool_]], required: Iterable[str], n: int
) -> npt.NDArray[np.bool_]:
    """Whether each of ``n`` people meets a post's qualification standard.

    Legal source: Decree 29/2024/NĐ-CP on the standards of leaders in state administrative
    agencies (a department director needs advanced political theory, a deputy director
    intermediate or higher, a division head intermediate); Decree 138/2020/NĐ-CP art. 39
    (the appointee must meet the standards of the post). A post's requirements are scenario
    data; this rule says that a standard is met when every requirement is held.

    Args:
        held: For each requirement name, a boolean array over the ``n`` people.
        required: The post's requirements (names of ``held``); none means no standard.
        n: Number of people.

    Returns:
        Boolean array of length ``n``.

    Raises:
        KeyError: If a requirement is not in ``held``.
    """
    ok = np.ones(n, dtype=bool)
    for name in required:
        ok &= held[name]
    return ok


@overload
def is_young(age_months: float) -> bool: ...
@overload
def is_young(age_months: npt.NDArray[np.generic]) -> npt.NDArray[np.bool_]: ...
def is_young(age_months: float | npt.NDArray[np.generic]) -> bool | npt.NDArray[np.bool_]:
    """Tell whether a person counts as a young cadre (under 40).

    Legal source: Quy định 50-QĐ/TW (2021): young cadres are those under 40,
    the age being measured at the date the target is measured.

    Args:
        age_months: Age in months at the measurement date, scalar or array.

    Returns:
        ``age_months < 480``: a ``bool`` for a scalar, a boolean array for an
        array.
    """
    result = np.less(age_months, YOUNG_AGE_MONTHS)
    if np.ndim(result) == 0:
        return bool(result)
    return result


# ---------------------------------------------------------------------------
# Appointment quotas
# ---------------------------------------------------------------------------

_CEIL_TOLERANCE = 1e-9


def floor_requires_group(share: float, appointments_including_this: int, group_so_far: int) -> bool:
    """Annual-floor reading of a quota: must this appointment go to the group?

    Legal source: Quảng Bình Scheme 01-ĐA/TU §II.4 ("about 15% of each
    year's appointments to women and 15% to under-40s"), read as a floor
    that holds at every point of the year: at least
    ``ceil(share * n)`` of the ``n`` appointments made so far this year,
    counting the current one, must go to the group.

    The product is reduced by 1e-9 before rounding up so that floating error
    does not add a seat: a 15% share computed as ``0.1 + 0.05`` times 20
    evaluates to ``3.0000000000000004`` (and ``0.07 * 100`` to
    ``7.000000000000001``), whose ceiling must be 3 (7), not 4 (8).

    Args:
        share: Target share of the group, in [0, 1].
        appointments_including_this: Appointments this year, counting the
            current one (>= 1).
        group_so_far: Appointments this year already given to the group,
            excluding the current one (0..``appointments_including_this - 1``).

    Returns:
        True if the floor would be broken unless this appointment goes to
        the group.

    Raises:
        ValueError: If an argument is out of range.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if appointments_including_this < 1:
        raise ValueError(
            f"appointments_including_this must be >= 1, got {appointments_including_this}"
        )
    if not 0 <= group_so_far < appointments_including_this:
        raise ValueError(
            f"group_so_far must be in 0..{appointments_including_this - 1}, got {group_so_far}"
        )
    required = math.ceil(share * appointments_including_this - _CEIL_TOLERANCE)
    return group_so_far < required


def expected_share_probability(
    target_share: float, open_rate: float, reserved_rate: float = 1.0
) -> float:
    """Expected-share reading of a quota: probability of reserving an appointment.

    Legal source: Quảng Bình Scheme 01-ĐA/TU §II.4 ("about 15% of each
    year's appointments to women and 15% to under-40s") and §II.8 (65% of
    first-time heads and deputies with two or three terms left), read as a
    target on the expected share (SPEC §5.1, reading a).

    Each appointment is reserved for the group independently with
    probability ``pi``. An unreserved appointment goes to the group at the
    ``open_rate``; a reserved one at the ``reserved_rate`` (below 1 when a
    reservation can find nobody in the group). ``pi`` solves
    ``pi * reserved_rate + (1 - pi) * open_rate == target``:
    ``pi = (target - open_rate) / (reserved_rate - open_rate)``, clipped to
    [0, 1]. So the expected share equals the target whenever it can, and is
    never capped: when ``target <= open_rate`` nothing is reserved.

    The rates are those *realised* in the recent contests of the run
    (:func:`contest_rates`), not the group's share of the candidates: within
    a year's ranking a reserved appointment takes the group's best, so the
    open contests that follow go to the group less often than its headcount
    says, and a headcount premise under-delivers (docs/VALIDATION.md).

    Args:
        target_share: Target share of the group.
        open_rate: Share of unreserved appointments that go to the group.
        reserved_rate: Share of reserved appointments that go to the group.

    Returns:
        The reservation probability in [0, 1]: 0.0 when the open contests
        already deliver the target, 1.0 when even reserving every
        appointment cannot.
    """
    if target_share <= open_rate:
        return 0.0
    if reserved_rate <= open_rate:
        return 1.0
    return min(1.0, (target_share - open_rate) / (reserved_rate - open_rate))


#: Weight, in contests, of the prior of the expected reading's accounts (:func:`new_accounts`).
QUOTA_PRIOR_WEIGHT = 4.0
#: Memory of the accounts, in contests: older contests fade by ``1 - 1/memory`` each.
QUOTA_MEMORY = 20.0


def new_accounts(open_prior: float, prior_weight: float = QUOTA_PRIOR_WEIGHT) -> list[float]:
    """The accounts the expected reading keeps for a group, before any contest.

    Legal source: none; the bookkeeping of the expected-share reading of
    Quảng Bình Scheme 01-ĐA/TU §II.4 and §II.8 (see
    :func:`expected_share_probability`).

    Six numbers: open contests won by the group, open contests, reserved
    contests won, reserved contests, all contests won, all contests. The
    first four start at ``prior_weight`` contests of each kind, the open ones
    won at ``open_prior`` (the group's share of the eligible candidates) and
    the reserved ones all won; the prior fades with the contests that follow
    (:func:`record_contest`). The last two start at zero.

    Args:
        open_prior: The open rate assumed before any contest, in [0, 1].
        prior_weight: How many contests the prior is worth (> 0).
    """
    if not 0.0 <= open_prior <= 1.0:
        raise ValueError(f"open_prior must be in [0, 1], got {open_prior}")
    if prior_weight <= 0:
        raise ValueError(f"prior_weight must be positive, got {prior_weight}")
    return [prior_weight * open_prior, prior_weight, prior_weight, prior_weight, 0.0, 0.0]


def record_contest(
    accounts: list[float], reserved: bool, hit: bool, memory: float = QUOTA_MEMORY
) -> None:
    """Add one contest to the accounts of :func:`new_accounts`, older contests fading.

    Legal source: none (bookkeeping of the expected reading, as
    :func:`new_accounts`). The candidates of a group deplete as the reading
    takes the best of them, so what a contest delivers drifts; a memory of
    about ``memory`` contests follows the drift, where a plain average over
    the whole run would lag behind it and under-deliver.

    Args:
        accounts: Changed in place.
        reserved: Whether the contest was reserved for the group.
        hit: Whether it went to the group.
        memory: How many contests the accounts remember (> 1).
    """
    keep = 1.0 - 1.0 / memory
    k = 2 if reserved else 0
    accounts[k] = accounts[k] * keep + hit
    accounts[k + 1] = accounts[k + 1] * keep + 1.0
    accounts[4] += hit  # the totals do not fade
    accounts[5] += 1.0


def contest_rates(accounts: list[float]) -> tuple[float, float]:
    """The open and the reserved rate of the accounts of :func:`new_accounts`.

    Legal source: none (bookkeeping of the expected reading, as
    :func:`new_accounts`); they feed :func:`expected_share_probability`.
    """
    return accounts[0] / accounts[1], accounts[2] / accounts[3]


def share_to_aim(target: float, accounts: list[float], memory: float = QUOTA_MEMORY) -> float:
    """The share the next contests aim at so that the recent ones average ``target``.

    Legal source: Quảng Bình Scheme 01-ĐA/TU §II.4 and §II.8, read as a
    target on the expected share (see :func:`expected_share_probability`).
    The rates of :func:`contest_rates` are estimates and lag behind a
    depleting group, so the reading also looks at what the recent contests
    delivered in all (fading as :func:`record_contest`): a shortfall of
    ``target * n - won`` over them is made up over the next ``memory``
    contests, an excess likewise given back.

    Returns:
        ``target + (target * n - won) / memory``, clipped to [0, 1].
    """
    won, n = accounts[4], accounts[5]
    return min(1.0, max(0.0, target + (target * n - won) / memory))


def quota_priority(
    shares: Sequence[float], appointments_including_this: int, group_so_far: Sequence[int]
) -> tuple[int, ...]:
    """Which group an appointment serves first when it owes several and nobody is in all.

    Legal source: Quảng Bình Scheme 01-ĐA/TU §II.4 sets the women's and the
    under-40s' shares of each year's appointments separately; SPEC §5.1 reads
    them on their own accounts: a young woman counts for both, but no
    appointment waits for someone in both groups at once. When an appointment
    owes both groups and no candidate is in both, it serves the group
    further behind its share this year, and the other group is owed again at
    the next appointment.

    "Further behind" is the larger shortfall ``share * n - so_far`` (``n``
    counting this appointment); then the smaller ratio ``so_far / share``;
    then the order the groups are given in.

    Args:
        shares: Each group's share.
        appointments_including_this: Appointments this year, counting this one.
        group_so_far: Each group's appointments this year so far.

    Returns:
        The indices of the groups, the one to serve first first.
    """
    if len(shares) != len(group_so_far):
        raise ValueError("shares and group_so_far must have the same length")

    def key(g: int) -> tuple[float, float, int]:
        q, got = shares[g], group_so_far[g]
        return (got - q * appointments_including_this, got / q if q > 0 else math.inf, g)

    return tuple(sorted(range(len(shares)), key=key))


# ---------------------------------------------------------------------------
# Party congress
# ---------------------------------------------------------------------------


def congress_floor_seats(share: float, seats: int) -> int:
    """The seats a composition floor asks for: ``ceil(share * seats)``.

    Legal source: Chỉ thị 35-CT/TW (2019) on the Party congresses of the
    2020-2025 term: women at least 15% of the Party committee, under-40s
    about 10% (SPEC §4). The directive states these as aims ("phấn đấu");
    whether they are met is up to the nominating list and the vote
    (:mod:`sim.congress`). The same count applied to the nominating list
    instead of the committee is what a nominating body that follows the
    directive puts on the list.

    The product is reduced by 1e-9 before rounding up so that floating error
    does not add a seat (0.15 * 20 must ask for 3, not 4).

    Args:
        share: The floor, in [0, 1].
        seats: Seats (or places on a list) it applies to, >= 0.

    Returns:
        The smallest count of the group that meets the floor.

    Raises:
        ValueError: If an argument is out of range.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if seats < 0:
        raise ValueError(f"seats must be >= 0, got {seats}")
    return math.ceil(share * seats - _CEIL_TOLERANCE)


def congress_list_length(seats: int, surplus: float) -> int:
    """Candidates on a congress's nominating list: ``ceil(seats * (1 + surplus))``.

    Legal source: the Party's election rules (Quy chế bầu cử trong Đảng,
    Quyết định 244-QĐ/TW, 2014; from memory, unverified: the list must be
    longer than the seats, "số dư", by at least 10% and at most 30%). The
    rules bound the surplus; the scenario chooses it.

    Args:
        seats: Seats to fill, >= 0.
        surplus: Extra candidates as a share of the seats, in [0, 1].

    Returns:
        The length of the list (before it is capped by the candidates who exist).

    Raises:
        ValueError: If an argument is out of range.
    """
    if seats < 0:
        raise ValueError(f"seats must be >= 0, got {seats}")
    if not 0.0 <= surplus <= 1.0:
        raise ValueError(f"surplus must be in [0, 1], got {surplus}")
    return math.ceil(seats * (1.0 + surplus) - _CEIL_TOLERANCE)
