"""Real rosters: import with row-by-row validation, and the synthetic roster writer."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BUNDLED
from test_cli import invoke

from sim.invariants import check_invariants
from sim.model import Model
from sim.population import build_layout
from sim.roster import RosterError, columns_markdown, load_roster, roster_frame
from sim.scenario import Scenario, load_scenario


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


@pytest.fixture(scope="module")
def synthetic(qb: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "qb.csv"
    roster_frame(Model(qb, 2021, 0)).to_csv(path, index=False)
    return path


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def test_synthetic_roster_round_trips(qb: Scenario, synthetic: Path) -> None:
    """Writing the synthetic population and reading it back gives the same people."""
    model = Model(qb, 2021, 0)
    roster = load_roster(synthetic, qb, model.layout)
    from_roster = Model(qb, 2021, 0, roster=roster)
    n = model.n
    assert from_roster.n == n
    assert np.array_equal(from_roster.female[:n], model.female[:n])
    assert np.array_equal(from_roster.rank[:n], model.rank[:n])
    assert np.array_equal(from_roster.post_holder, model.post_holder)
    # Birth months survive (the roster keeps months).
    assert np.array_equal(np.floor(from_roster.birth[:n]), np.floor(model.birth[:n]))
    for name in ("theory", "it", "language_b1", "degree", "local"):
        assert np.array_equal(getattr(from_roster.qual, name)[:n], getattr(model.qual, name)[:n])
    res = Model(qb, 7, 1, keep_log=True, roster=roster).run()
    assert check_invariants(res, model.layout.post_rank) == []


def test_every_bad_row_is_reported_and_nothing_imported(
    qb: Scenario, synthetic: Path, tmp_path: Path
) -> None:
    rows = rows_of(synthetic)
    rows[16][5] = "1890-01"  # spreadsheet row 17
    rows[20][4] = "X"
    rows[30][2] = "nosuch"
    rows[50][0] = rows[49][0]
    rows[60][6] = "2024-02"
    rows[70][7] = "expert"
    rows[80][3] = "99"
    rows[90][5] = "1970-13"
    bad = write(tmp_path / "bad.csv", rows)
    with pytest.raises(RosterError) as info:
        load_roster(bad, qb, build_layout(qb))
    problems = info.value.problems
    expected = [
        "row 17: birth month 1890-01 is before 1940",
        "row 21: sex 'x' is not F or M",
        "row 31: block 'nosuch' is not a block of scenario quang_binh",
        "row 51: person_id P00049 already used in row 50",
        "row 61: in_post_since 2024-02 is after the start date 2021-01-01",
        "row 71: theory 'expert' is not none, intermediate or advanced",
        "row 81: unit 99 is not in block dept_economic, which has 10 units",
        "row 91: birth_month: '1970-13' has no month 13",
    ]
    assert problems == expected
    assert str(bad) in str(info.value)


def test_too_many_people_for_a_unit(qb: Scenario, synthetic: Path, tmp_path: Path) -> None:
    rows = rows_of(synthetic)
    extra = list(rows[1])
    extra[0] = "EXTRA"
    rows.insert(2, extra)  # a second head for unit 1 of the first block
    with pytest.raises(RosterError) as info:
        load_roster(write(tmp_path / "two.csv", rows), qb, build_layout(qb))
    assert info.value.problems == [
        "row 3: block party_advisory unit 1 has 1 l1_head post(s), all taken by earlier rows"
    ]


def test_missing_people_leave_posts_vacant_at_the_start(
    qb: Scenario, synthetic: Path, tmp_path: Path
) -> None:
    rows = rows_of(synthetic)
    gone = [r[1] for r in rows[1:11]]  # the ranks of the first ten people
    del rows[1:11]
    roster = load_roster(write(tmp_path / "gaps.csv", rows), qb, build_layout(qb))
    model = Model(qb, 3, 0, roster=roster, keep_log=True)
    vacant = np.flatnonzero(model.post_holder < 0)
    assert len(vacant) == 10 and len(model.vacant_since) == 10
    names = {3: "l1_deputy", 4: "l1_head"}
    assert sorted(names[int(r)] for r in model.layout.post_rank[vacant]) == sorted(gone)
    res = model.run()
    assert check_invariants(res, model.layout.post_rank) == []
    appts = res.log["appointments"]
    filled_from_start = set(appts["post"][appts["opened"] == qb.start_month].tolist())
    assert set(vacant.tolist()) <= filled_from_start  # (terms ending on the start day too)


def test_excel_rosters(qb: Scenario, synthetic: Path, tmp_path: Path) -> None:
    xlsx = tmp_path / "qb.xlsx"
    pd.read_csv(synthetic, dtype=str, keep_default_na=False).to_excel(xlsx, index=False)
    a = load_roster(synthetic, qb, build_layout(qb))
    b = load_roster(xlsx, qb, build_layout(qb))
    assert a.ids == b.ids
    assert np.array_equal(a.people.birth, b.people.birth)


def test_an_excel_entity_bomb_is_refused_not_expanded(
    qb: Scenario, synthetic: Path, tmp_path: Path
) -> None:
    """An uploaded workbook whose XML defines entities (a "billion laughs" bomb) is refused:
    openpyxl parses with defusedxml, which the project installs."""
    import zipfile

    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML
    good = tmp_path / "good.xlsx"
    pd.read_csv(synthetic, dtype=str, keep_default_na=False).to_excel(good, index=False)
    bomb = tmp_path / "bomb.xlsx"
    expand = [f"&l{k - 1};" * 10 if k else "lol" for k in range(10)]
    laughs = "".join(f'<!ENTITY l{k} "{text}">' for k, text in enumerate(expand))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                head, rest = text.split("?>", 1) if text.startswith("<?xml") else ("", text)
                data = (
                    (head + "?>" if head else "")
                    + f"<!DOCTYPE worksheet [{laughs}]>"
                    + rest.replace("<sheetData>", "<sheetData><!-- &l9; -->", 1)
                ).encode("utf-8")
            dst.writestr(item, data)
    with pytest.raises(RosterError, match="not a readable Excel file"):
        load_roster(bomb, qb, build_layout(qb))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("a,b\n1,2\n", "missing column(s): person_id, rank, sex, birth_month, in_post_since"),
        ("person_id,rank,sex,birth_month,in_post_since\n", "the roster has no rows"),
    ],
)
def test_bad_files(qb: Scenario, tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError) as info:
        load_roster(path, qb, build_layout(qb))
    assert words in str(info.value)


def test_cli_roster_commands(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "written.xlsx"
    r = invoke(["roster", "quang_binh", "--out", str(out)])
    assert r.exit_code == 0 and out.is_file()
    r = invoke(["roster", "quang_binh", "--check", str(synthetic)])
    assert r.exit_code == 0
    assert "1152 of 1152 posts held" in r.stdout
    r = invoke(["run", "quang_binh", "--roster", str(synthetic), "--reps", "3", "-w", "1"])
    assert r.exit_code == 0
    assert "roster" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,rank,sex,birth_month,in_post_since\nA,boss,F,1970-01,2020-01\n")
    r = invoke(["run", "quang_binh", "--roster", str(bad), "--reps", "3", "-w", "1"])
    assert r.exit_code == 2
    assert "row 2: rank 'boss'" in r.stderr


def test_roster_docs_are_current() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "ROSTER.md").read_text(encoding="utf-8")
    assert columns_markdown() in doc


def test_template_roster_is_valid(qb: Scenario) -> None:
    template = Path(__file__).parents[2] / "templates" / "roster_template.csv"
    roster = load_roster(template, qb, build_layout(qb))
    assert len(roster.ids) >= 3
