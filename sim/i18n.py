"""The app's text catalogue: every word the page shows, in Vietnamese and English.

The words live in ``sim/catalogue.yaml`` (one entry per key, ``vi`` and ``en``), not in the
page's code, so that a translator edits one file. :func:`section` reads a section as a dict of
``key -> (vi, en)``; :func:`variant_name` names a variant for the page, and
:func:`lever_phrase` names a moved lever for the page heading.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

#: The catalogue's sections.
SECTIONS = (
    "text",
    "columns",
    "help",
    "teach",
    "variants",
    "ranks",
    "causes",
    "charts",
    "heading",
    "values",
)


class CatalogueError(ValueError):
    """The catalogue file is malformed (a missing language, an unknown section)."""


@functools.cache
def catalogue() -> dict[str, dict[str, tuple[str, str]]]:
    """Every section of the catalogue, checked: each entry has a Vietnamese and an English
    text."""
    raw = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise CatalogueError(f"{CATALOGUE_PATH}: not a mapping of sections")
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for name in SECTIONS:
        entries = raw.get(name)
        if not isinstance(entries, dict):
            raise CatalogueError(f"{CATALOGUE_PATH}: section {name!r} is missing")
        section: dict[str, tuple[str, str]] = {}
        for key, entry in entries.items():
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) and entry[k] for k in ("vi", "en")
            ):
                raise CatalogueError(
                    f"{CATALOGUE_PATH}: {name}.{key} needs a non-empty 'vi' and 'en' text"
                )
            section[str(key)] = (entry["vi"], entry["en"])
        out[name] = section
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise CatalogueError(f"{CATALOGUE_PATH}: unknown sections {sorted(unknown)}")
    return out


def section(name: str) -> dict[str, tuple[str, str]]:
    """One section of the catalogue: key -> (Vietnamese, English)."""
    return catalogue()[name]


def variant_name(variant: str, lang: int) -> str:
    """A variant's name in language ``lang`` (0 Vietnamese, 1 English); a variant the
    catalogue does not know (an uploaded scenario's) is named by its id in quotes."""
    names = section("variants")
    if variant in names:
        return names[variant][lang]
    return ("phương án «{}»", "variant “{}”")[lang].format(variant)


# ------------------------------------------------------------------ problem messages
#: Vietnamese forms of the problems the loaders report (English in the code, one pattern
#: each; ``{0}``, ``{1}``, ... are the pattern's groups, translated in turn where they are
#: messages themselves). Checked in order; the first match wins.
_PROBLEMS_VI: tuple[tuple[str, str], ...] = (
    (r"row (\d+): (.*)", "dòng {0}: {1*}"),
    (r"line (\d+), column (\d+): (.*)", "dòng {0}, cột {1}: {2*}"),
    (r"line (\d+): (.*)", "dòng {0}: {1*}"),
    (r"column\(s\) given more than once: (.*)", "cột bị lặp: {0}"),
    (r"missing column\(s\): (.*)", "thiếu cột: {0}"),
    (
        r"unknown column\(s\): (.*) \(see docs/ROSTER\.md for the columns\)",
        "cột không có trong mẫu: {0} (xem docs/ROSTER.md)",
    ),
    (r"the roster has no rows", "danh sách không có dòng nào"),
    (r"person_id is empty", "mã cán bộ (person_id) bị trống"),
    (r"person_id (.*) already used in row (\d+)", "mã cán bộ {0} đã dùng ở dòng {1}"),
    (r"rank (.*) is not one of (.*)", "chức vụ (rank) {0} không thuộc danh sách: {1}"),
    (r"sex (.*) is not F or M", "giới tính (sex) {0} phải là F (nữ) hoặc M (nam)"),
    (r"birth_month is empty", "tháng sinh (birth_month) bị trống"),
    (r"birth month (\S+) is before (.*)", "tháng sinh {0} sớm hơn {1}"),
    (
        r"birth month (\S+): under 18 on the start date (.*)",
        "tháng sinh {0}: chưa đủ 18 tuổi vào ngày bắt đầu {1}",
    ),
    (r"birth_month: (.*)", "tháng sinh (birth_month): {0*}"),
    (r"in_post_since is empty", "ngày giữ chức vụ (in_post_since) bị trống"),
    (
        r"in_post_since (\S+) is after the start date (.*)",
        "ngày giữ chức vụ {0} muộn hơn ngày bắt đầu {1}",
    ),
    (
        r"in_post_since (\S+) is before the person was 18",
        "ngày giữ chức vụ {0} khi người đó chưa đủ 18 tuổi",
    ),
    (r"in_post_since: (.*)", "ngày giữ chức vụ (in_post_since): {0*}"),
    (r"retired in (\S+), before the start date (.*)", "đã nghỉ hưu từ {0}, trước ngày bắt đầu {1}"),
    (r"block (.*) is not a block of scenario (.*)", "khối {0} không có trong kịch bản {1}"),
    (
        r"unit (.*) is not a unit number \(1, 2, \.\.\.\)",
        "đơn vị {0} không phải số thứ tự đơn vị (1, 2, ...)",
    ),
    (
        r"unit (.*) is not in block (.*), which has (\d+) units",
        "đơn vị {0} không thuộc khối {1} (khối có {2} đơn vị)",
    ),
    (r"unit (.*) is given without a block", "có đơn vị {0} nhưng không ghi khối"),
    (
        r"block (.*) unit (.*) has (\d+) (.*) post\(s\), all taken by earlier rows",
        "khối {0} đơn vị {1} chỉ có {2} vị trí {3}, đã được các dòng trước nhận hết",
    ),
    (
        r"'(.*)' is not a month \(YYYY-MM\)( or a date \(YYYY-MM-DD\))?",
        "'{0}' không phải tháng dạng YYYY-MM",
    ),
    (r"'(.*)' has no month (.*)", "'{0}' không có tháng {1}"),
    (r"'(.*)' has no day (.*)", "'{0}' không có ngày {1}"),
    (
        r"(.*): (\d+(?:\.\d+)?) MB is more than the (\d+) MB the app accepts",
        "{0}: tệp {1} MB, vượt giới hạn {2} MB",
    ),
    (r"(.*): not a UTF-8 text file", "{0}: không phải tệp văn bản UTF-8"),
    (
        r"(.*): the roster was not imported \((\d+) problems?\):?",
        "{0}: chưa nhập được danh sách ({1} lỗi)",
    ),
    (
        r"starts on (\S+) from the roster: the merger and the years before it are not simulated "
        r"\(merger\.roster_start\)",
        "bắt đầu từ {0} theo danh sách: việc sáp nhập và các năm trước đó không được mô phỏng "
        "(merger.roster_start)",
    ),
    (
        r"left out, not measurable from (\S+): (.*) \(due before it, measured on a source "
        r"province, or against an earlier baseline\)",
        "không tính các chỉ tiêu không đo được từ {0}: {1} (đến hạn trước ngày đó, đo trên một "
        "tỉnh cũ trước sáp nhập, hoặc so với mốc trước ngày đó)",
    ),
    (r"group must be women or young", "nhóm phải là nữ hoặc trẻ"),
    (r"tier must be L1 or L2", "cấp phải là L1 hoặc L2"),
    (
        r"measure must be stock \(share of holders\) or flow \(share of appointments\)",
        "loại tỷ lệ phải là tỷ lệ trong đội ngũ hoặc tỷ lệ trong số bổ nhiệm",
    ),
    (r"share and year must be numbers", "mức % và năm phải là số"),
    (r"share (\S+)% must be above 0 and at most 100", "mức {0}% phải lớn hơn 0 và không quá 100"),
    (
        r"year (\d+) must be within the simulated years (\d+)-(\d+)",
        "năm {0} phải nằm trong giai đoạn mô phỏng {1}–{2}",
    ),
    (r"the same target as row (\d+)", "trùng với chỉ tiêu ở dòng {0}"),
    (r"no target: fill in at least one row", "chưa có chỉ tiêu nào: hãy điền ít nhất một dòng"),
    (r"the file is empty \(no scenario in it\)", "tệp trống (không có kịch bản)"),
    (
        r"a scenario must be a mapping of keys to values",
        "kịch bản phải là một bảng khóa: giá trị (mapping)",
    ),
    (r"no such setting in the scenario", "không có thiết lập này trong kịch bản"),
    (r"this setting has no sub-settings", "thiết lập này không có mục con"),
    (r"Field required", "thiếu mục bắt buộc"),
    (r"Extra inputs are not permitted", "mục không có trong mẫu kịch bản"),
    (r"Input should be a valid number.*", "phải là một số"),
    (r"Input should be a valid integer.*", "phải là số nguyên"),
    (r"Input should be a valid boolean.*", "phải là true hoặc false"),
    (r"Input should be a valid date.*", "phải là ngày dạng YYYY-MM-DD"),
    (r"Input should be greater than or equal to (.*)", "phải lớn hơn hoặc bằng {0}"),
    (r"Input should be greater than (.*)", "phải lớn hơn {0}"),
    (r"Input should be less than or equal to (.*)", "phải nhỏ hơn hoặc bằng {0}"),
    (r"Input should be less than (.*)", "phải nhỏ hơn {0}"),
    (r"Input should be (.*)", "phải là {0}"),
    (r"Value error, (.*)", "{0*}"),
    (
        r"(?:YAML syntax error: )?(found unexpected end of stream|"
        r"mapping values are not allowed here|could not find expected ':'|"
        r"found character '\\t' that cannot start any token|.*expected .*,? but (?:found|got) .*)",
        "lỗi cú pháp YAML (kiểm tra thụt lề, dấu hai chấm, dấu ngoặc)",
    ),
)


def problem_text(message: str, lang: int) -> str:
    """A loader's problem message in language ``lang``: English as written; Vietnamese by
    the patterns of :data:`_PROBLEMS_VI`, a message they do not cover kept in English and
    marked so ("(tiếng Anh)")."""
    if lang == 1:
        return message
    text = message.strip()
    # A location first ("file:3:5 policy.x: message", "file:3: message"): kept as it is.
    located = re.fullmatch(r"(\S+?:\d+(?::\d+)?)((?: \S+)?): (.*)", text, flags=re.DOTALL)
    if located is not None:
        where, path, rest = located.groups()
        return f"{where}{path}: {problem_text(rest, 0)}"
    for pattern, template in _PROBLEMS_VI:
        found = re.fullmatch(pattern, text, flags=re.DOTALL)
        if found is None:
            continue
        groups = [g or "" for g in found.groups()]

        def fill(m: re.Match[str], groups: list[str] = groups) -> str:
            k = int(m.group(1))
            return problem_text(groups[k], 0) if m.group(2) else groups[k]

        return re.sub(r"\{(\d+)(\*?)\}", fill, template)
    # A file or setting, then a message: "people.csv: ...", "policy.x: ..."
    where, sep, rest = text.partition(": ")
    if sep and rest and " " not in where.strip():
        return f"{where}: {problem_text(rest, 0)}"
    return f"{text} (tiếng Anh)"


def problems_of(exc: BaseException) -> list[str]:
    """The problems an exception of the loaders carries, one message each (a roster's list,
    a scenario's issues, else the exception's text split by lines)."""
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list) and problems:
        head = getattr(exc, "file", "")
        return [f"{head}: {p}" if head else str(p) for p in problems]
    issues = getattr(exc, "issues", None)
    if isinstance(issues, list) and issues:
        return [str(i) for i in issues]
    return [line.strip() for line in str(exc).splitlines() if line.strip()]
