"""scripts/example_study.py --quick: the page has both sections and a well-formed chart;
scripts/explore_study.py writes part (c), which the other keeps."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "example_study.py"


@pytest.mark.slow
def test_quick_study_writes_both_sections_and_the_chart(tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    out = tmp_path / "STUDY.md"
    # Part (c), written by scripts/explore_study.py, survives a rewrite of the page.
    part = "<!-- explore:start -->\n## (c) kept\n<!-- explore:end -->"
    out.write_text("old page\n\n" + part + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--workers", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "(b) " in proc.stderr and proc.stdout == ""  # progress on stderr only
    text = out.read_text(encoding="utf-8")
    assert "## (a) Which levers most affect Hà Giang's 2030 target for women?" in text
    assert "## (b) The appointment share each province needs for an 80% chance" in text
    assert f"`python scripts/example_study.py --quick --workers 1 --out {out}`" in text
    assert "--quick run" in text and "cadresim " in text and "Seed 2021" in text
    # Every bundled target of question (b) in the quick set has its two rows.
    for target in ("CB-Y-25", "QB-W-PC-25", "QB-Y-PC-25"):
        assert len(re.findall(rf"^\| [^|]+ \| {target} \|", text, flags=re.M)) == 2
    # The chart the page links to exists, next to it, and is well-formed SVG with a row a lever.
    (link,) = re.findall(r"!\[[^\]]*\]\(([^)]+\.svg)\)", text)
    chart = out.parent / link
    assert chart == tmp_path / "img" / "study_sobol_ha_giang.svg"
    root = ET.fromstring(chart.read_text(encoding="utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    levers = [g.get("data-parameter") for g in root.iter() if g.get("class") == "row"]
    assert len(levers) == 4 and "policy.appointment_share.women" in levers
    assert not list(tmp_path.glob("**/*.tmp"))
    assert text.count(part) == 1 and "old page" not in text


@pytest.mark.slow
def test_the_exploratory_study_writes_its_part_and_replaces_it(tmp_path: Path) -> None:
    pytest.importorskip("ema_workbench")
    page = tmp_path / "STUDY.md"
    page.write_text("# the page\n\nits parts (a) and (b)\n", encoding="utf-8")
    args = [sys.executable, str(ROOT / "scripts" / "explore_study.py"), "--reps", "2"]
    args += ["--n-states", "2", "--workers", "1", "--out", str(tmp_path / "x")]
    args += ["--page", str(page)]
    for _ in range(2):  # the second call resumes from the stored replications
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# the page\n\nits parts (a) and (b)\n")
    assert text.count("<!-- explore:start -->") == 1 and text.count("## (c) ") == 1
    assert "### HG-W1-30" in text and "12 points (6 lever settings x 2 states" in text
    assert "| reading | women's share |" in text
