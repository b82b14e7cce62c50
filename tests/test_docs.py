"""The generated reference documents are current."""

from __future__ import annotations

import json
from pathlib import Path

from sim.scenario import json_schema, schema_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_json_schema_file_is_current() -> None:
    on_disk = json.loads((DOCS / "scenario.schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema(), "regenerate: cadresim schema -o docs/scenario.schema.json"


def test_reference_page_is_current() -> None:
    on_disk = (DOCS / "SCENARIO.md").read_text(encoding="utf-8")
    assert on_disk.strip() == schema_markdown().strip(), (
        "regenerate: cadresim schema --markdown -o docs/SCENARIO.md"
    )
