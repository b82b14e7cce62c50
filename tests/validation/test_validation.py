"""scripts/validate.py writes docs/VALIDATION.md from fresh runs; a smoke run at tiny sizes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_validation_script_runs_and_writes_its_sections(tmp_path: Path) -> None:
    out = tmp_path / "VALIDATION.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "validate.py"),
            "--quick",
            "--workers",
            "1",
            "--sections",
            "2678",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "## 2. Flow and stock" in text
    assert "## 6. Convergence of P(met)" in text
    assert "## 7. The quota readings" in text
    assert "## 8. The congress as it happens" in text
    assert "floors_enforced" in text and "QB-Y-PC-25" in text and "NA-Y-PC-30" in text
    assert "python scripts/validate.py --quick" in text  # the page says how it was made
    # The closed form and the expected-value model agree to the printed precision.
    rows = [line for line in text.splitlines() if line.startswith("| 15 |")]
    assert rows and rows[0].split("|")[2].strip() == rows[0].split("|")[3].strip()


def test_the_published_page_is_generated_and_complete() -> None:
    text = (ROOT / "docs" / "VALIDATION.md").read_text(encoding="utf-8")
    assert text.startswith("# Validation")
    assert "python scripts/validate.py" in text
    for n, title in enumerate(
        (
            "The expected-value model",
            "Flow and stock",
            "Back-cast",
            "The 2020 provincial congress",
            "Martell, Lane & Emrich",
            "Convergence",
            "The quota readings",
            "The congress as it happens",
        ),
        start=1,
    ):
        assert f"## {n}. {title}" in text, title
    assert "--quick" not in text.split("\n", 5)[4]  # not a smoke run


def test_backcast_section_separates_fitted_and_held_out_facts(tmp_path: Path) -> None:
    """Section 3 at tiny size: it names what was fitted (with values and intervals from the
    calibration record) apart from the held-out shares, and says whether each is met."""
    out = tmp_path / "VALIDATION.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "validate.py"),
            "--quick",
            "--workers",
            "1",
            "--sections",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    fitted = text.split("### 3.1")[1].split("### 3.2")[0]
    held = text.split("### 3.3")[1].split("## 4.")[0]
    assert "`dynamics.exit_hazard.l1`" in fitted and "95% interval" in fitted
    for fact in ("245", "45 of the 338", "8 of the 338"):
        assert fact in fitted
    # The held-out shares appear only as predictions, each with a verdict.
    assert "10.7%" in held and "8.2%" in held
    assert held.count("inside") + held.count("**missed**") >= 2
    assert "10.7%" not in fitted and "8.2%" not in fitted
    assert "## 4. The 2020 provincial congress" in text
