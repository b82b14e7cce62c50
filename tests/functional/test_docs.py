"""The generated reference documents are current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sim.scenario import json_schema, schema_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_json_schema_file_is_current() -> None:
    on_disk = json.loads((DOCS / "scenario.schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema(), "regenerate: cadresim schema -o docs/scenario.schema.json"


def test_reference_page_is_current() -> None:
    on_disk = (DOCS / "SCENARIO.md").read_text(encoding="utf-8")
    assert on_disk.strip() == schema_markdown().strip(), (
        "regenerate: cadresim schema --markdown -o docs/SCENARIO.md"
    )


def _check_script(name: str) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/NAME --check`` (a README table's completeness check)."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, str(root / "scripts" / name), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_readme_lists_every_target_of_every_bundled_scenario() -> None:
    """The README's table (written by scripts/targets_table.py) covers every target id."""
    proc = _check_script("targets_table.py")
    assert proc.returncode == 0, proc.stderr


def test_readme_tables_the_merged_provinces_with_and_without_the_merger() -> None:
    """The README's merger table (written by scripts/merger_table.py) covers every target of
    every merged scenario."""
    proc = _check_script("merger_table.py")
    assert proc.returncode == 0, proc.stderr
