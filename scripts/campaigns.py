"""Property-based campaigns at scale: random valid scenarios run with every invariant checked,
random malformed scenarios and rosters that must be refused with a clear message.

    .venv/bin/python scripts/campaigns.py                  # 2,000 / 3,000 / 2,000 examples
    .venv/bin/python scripts/campaigns.py --valid 200 --malformed 300 --rosters 200 --cli 20
    .venv/bin/python scripts/campaigns.py --json campaigns.json --seed 7

The strategies and the checks are those of the test suite (``tests/strategies.py``, imported by
path), so a campaign and ``tests/functional/test_campaigns.py`` judge an example the same way. Every
example is counted as it is checked: tried, distinct (different inputs among the tried),
passed, failed, and how many raised a Python warning along the way. Malformed inputs are also
counted by kind of damage. The exit code is 1 if any example failed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _load_strategies() -> Any:
    """``tests/strategies.py`` as a module (the tests folder is not a package)."""
    path = ROOT / "tests" / "strategies.py"
    spec = importlib.util.spec_from_file_location("cadresim_campaign_strategies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is loading
    spec.loader.exec_module(module)
    return module


S = _load_strategies()


@dataclass
class Tally:
    """The outcome of one campaign."""

    name: str
    tried: int = 0
    passed: int = 0
    failed: int = 0
    warned: int = 0
    seconds: float = 0.0
    inputs: set[str] = field(default_factory=set)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [tried, passed]
    warnings: dict[str, int] = field(default_factory=dict)  # warning -> examples with it
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tried": self.tried,
            "distinct": len(self.inputs),
            "passed": self.passed,
            "failed": self.failed,
            "warned": self.warned,
            "seconds": round(self.seconds, 1),
            "by_kind": {k: {"tried": t, "passed": p} for k, (t, p) in sorted(self.by_kind.items())},
            "warnings": self.warnings,
            "failures": self.failures,
        }


def run_campaign(
    name: str,
    strategy: Any,
    check: Callable[[Any], list[str]],
    describe: Callable[[Any], tuple[str, str, bytes]],
    examples: int,
    seed: int,
    keep: int,
) -> Tally:
    """Check ``examples`` examples drawn from ``strategy`` and count what happens.

    ``describe(example)`` gives ``(kind, text shown for a failure, bytes identifying it)``.
    Nothing is shrunk: a failure is counted and the campaign goes on.
    """
    tally = Tally(name)
    started = time.perf_counter()
    step = max(1, examples // 10)

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def campaign(example: Any) -> None:
        kind, text, ident = describe(example)
        tally.tried += 1
        tally.inputs.add(hashlib.sha256(ident).hexdigest())
        counts = tally.by_kind.setdefault(kind, [0, 0])
        counts[0] += 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                problems = check(example)
            except Exception as exc:  # the checks catch everything; this is a safety net
                problems = [f"the check itself raised {type(exc).__name__}: {exc}"]
        tally.warned += bool(caught)
        for w in {
            f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})"
            for w in caught
        }:
            tally.warnings[w] = tally.warnings.get(w, 0) + 1
        if problems:
            tally.failed += 1
            if len(tally.failures) < keep:
                tally.failures.append(
                    {"kind": kind, "problems": [p[:3000] for p in problems[:5]], "example": text}
                )
        else:
            tally.passed += 1
            counts[1] += 1
        if tally.tried % step == 0:
            print(
                f"  {name}: {tally.tried}/{examples} ({tally.failed} failed) "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    campaign()
    tally.seconds = time.perf_counter() - started
    return tally


def _short(text: str, limit: int = 6000) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text)} characters)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--valid", type=int, default=2000, help="valid scenarios to run")
    parser.add_argument("--malformed", type=int, default=3000, help="malformed scenarios")
    parser.add_argument("--rosters", type=int, default=2000, help="malformed rosters")
    parser.add_argument(
        "--cli",
        type=int,
        default=100,
        help="malformed scenarios and rosters, each, run through the command line (in process)",
    )
    parser.add_argument(
        "--valid-rosters", type=int, default=100, help="valid rosters loaded and run"
    )
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (reproducible)")
    parser.add_argument("--json", type=Path, default=None, help="also write the tallies here")
    parser.add_argument("--keep", type=int, default=20, help="failures kept per campaign")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cadresim-campaigns-"))

    def valid(case: Any) -> tuple[str, str, bytes]:
        return case.base, _short(case.describe()), f"{case.seed}\n{case.text}".encode()

    def malformed(case: Any) -> tuple[str, str, bytes]:
        return case.kind, _short(case.describe()), case.suffix.encode() + case.content()

    def valid_roster(example: Any) -> tuple[str, str, bytes]:
        (columns, rows), seed = example
        text = S.roster_csv(columns, rows)
        return "valid roster", _short(f"seed {seed}\n{text}"), f"{seed}\n{text}".encode()

    def cli_scenario(case: Any) -> list[str]:
        path = S.write_case(case, work, "cli_scenario")
        return S.check_cli_rejects(S.cli_scenario_args(path), str(path))

    def cli_roster(case: Any) -> list[str]:
        path = S.write_case(case, work, "cli_roster")
        return S.check_cli_rejects(S.cli_roster_args(path), str(path))

    plan = [
        (
            "valid scenarios: run, invariants, results",
            S.valid_scenarios(),
            S.check_valid_case,
            valid,
            args.valid,
        ),
        (
            "malformed scenarios: refused by the loader",
            S.malformed_scenario_texts(),
            lambda case: S.check_rejected_scenario(case, work),
            malformed,
            args.malformed,
        ),
        (
            "malformed rosters: refused by the loader",
            S.malformed_rosters(),
            lambda case: S.check_rejected_roster(case, work),
            malformed,
            args.rosters,
        ),
        (
            "malformed scenarios: cadresim run, exit 2",
            S.malformed_scenario_texts(),
            cli_scenario,
            malformed,
            args.cli,
        ),
        (
            "malformed rosters: cadresim run --roster, exit 2",
            S.malformed_rosters(),
            cli_roster,
            malformed,
            args.cli,
        ),
        (
            "valid rosters: load, run, invariants",
            st.tuples(S.valid_rosters(), st.integers(0, 2**32 - 1)),
            lambda ex: S.check_valid_roster(ex[0][0], ex[0][1], ex[1], work),
            valid_roster,
            args.valid_rosters,
        ),
    ]
    started = time.perf_counter()
    tallies = []
    for k, (name, strategy, check, describe, n) in enumerate(plan):
        if n <= 0:
            continue
        print(f"{name}: {n} examples", file=sys.stderr, flush=True)
        tallies.append(run_campaign(name, strategy, check, describe, n, args.seed + k, args.keep))
    elapsed = time.perf_counter() - started

    width = max(len(t.name) for t in tallies)
    header = f"{'campaign':<{width}}  {'tried':>6} {'distinct':>8} {'passed':>6} {'failed':>6}"
    header += f" {'warned':>6} {'time':>8}"
    print(header)
    print("-" * len(header))
    for t in tallies:
        print(
            f"{t.name:<{width}}  {t.tried:>6} {len(t.inputs):>8} {t.passed:>6} {t.failed:>6} "
            f"{t.warned:>6} {t.seconds:>6.1f} s"
        )
    print("-" * len(header))
    total_tried = sum(t.tried for t in tallies)
    total_failed = sum(t.failed for t in tallies)
    print(f"{total_tried} examples, {total_failed} failed, in {elapsed:.1f} s (seed {args.seed})")
    for t in tallies:
        if len(t.by_kind) > 1:
            print(f"\n{t.name}, by kind (passed/tried):")
            cells = [f"{k} {p}/{n}" for k, (n, p) in sorted(t.by_kind.items())]
            for i in range(0, len(cells), 4):
                print("  " + "   ".join(f"{c:<32}" for c in cells[i : i + 4]).rstrip())
    for t in tallies:
        for w, n in sorted(t.warnings.items(), key=lambda item: -item[1])[:5]:
            print(f"\nwarning in {n} example(s) of {t.name}: {w}")
    for t in tallies:
        for f in t.failures[:5]:
            print(f"\nFAILED in {t.name} [{f['kind']}]:\n  " + "\n  ".join(f["problems"]))
            print(_short(f["example"], 2000))
    if args.json is not None:
        payload = {
            "seed": args.seed,
            "elapsed_seconds": round(elapsed, 1),
            "examples": total_tried,
            "failed": total_failed,
            "campaigns": [t.as_json() for t in tallies],
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\ntallies written to {args.json}")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
