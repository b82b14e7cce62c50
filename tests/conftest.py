"""Shared fixtures: the bundled scenario and a helper that writes edited copies of it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "quang_binh.yaml"

# Helpers shared across folders (test_cli's ``invoke``): importable whichever folder's tests
# are collected first, or alone.
if str(ROOT / "tests" / "functional") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "functional"))

#: The test modules of the fast subset (``./dev test --fast``, about 2 minutes on 2 cores):
#: the rules, the scenario and roster loaders, and the mechanisms' unit and functional tests,
#: without their slow (Monte Carlo) tests. Everything else (validation, the store and its
#: faults, the CLI, the app, the soak over every bundled scenario) runs in the whole suite.
FAST_MODULES = frozenset(
    {
        "test_rules",
        "test_kernels",
        "test_scenario",
        "test_yamlpos",
        "test_roster",
        "test_qualifications",
        "test_targets",
        "test_expected",
        "test_restructuring",
        "test_rotation",
        "test_training",
        "test_succession",
        "test_docs",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the fast subset: the tests of :data:`FAST_MODULES` that are not slow."""
    for item in items:
        if item.path.stem in FAST_MODULES and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)


@pytest.fixture(autouse=True)
def _pools_start_by_default() -> Iterator[None]:
    """Running the app's page (AppTest, or its module loaded for its helpers) chooses the
    fork server for every later pool of the process (``sim.runner.use_start_method``): after
    each test the default is back, so that no test runs on another's choice (a module-scoped
    fixture that loads the app would otherwise leak it to the modules after it)."""
    from sim import runner

    yield
    runner.use_start_method(None)


@dataclass(frozen=True)
class Edited:
    """An edited copy of the bundled scenario written to disk."""

    path: Path
    text: str
    #: 1-based line of ``mark`` (the offending text) in the edited file.
    line: int
    #: 1-based column of ``mark`` in its line.
    column: int


def edit_text(base: str, old: str, new: str, mark: str | None = None) -> tuple[str, int, int]:
    """Replace the one occurrence of ``old`` by ``new``; locate ``mark`` (default: ``new``).

    ``mark`` is searched inside the replacement, so the line is computed from the edited
    text rather than written into the test by hand.
    """
    assert base.count(old) == 1, f"{old!r} occurs {base.count(old)} times in the scenario"
    start = base.index(old)
    text = base[:start] + new + base[start + len(old) :]
    mark = new if mark is None else mark
    assert mark in new, f"{mark!r} is not part of the replacement {new!r}"
    at = start + new.index(mark)
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return text, line, column


@pytest.fixture(scope="session")
def bundled_path() -> Path:
    return BUNDLED


@pytest.fixture(scope="session")
def bundled_text() -> str:
    return BUNDLED.read_text(encoding="utf-8")


@pytest.fixture
def edited(tmp_path: Path, bundled_text: str) -> Callable[..., Edited]:
    """``edited(old, new, mark=None, name="bad.yaml")``: an edited copy of the scenario."""

    def make(old: str, new: str, mark: str | None = None, name: str = "bad.yaml") -> Edited:
        text, line, column = edit_text(bundled_text, old, new, mark)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return Edited(path, text, line, column)

    return make
