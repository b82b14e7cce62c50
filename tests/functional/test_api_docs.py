"""docs/API.md stays true: its code runs, and its signatures, its table of levers and its
links to its own sections match the code and the page.

Every fenced block of docs/API.md whose info string starts with ``python`` is handled by the
word after it:

- ``python``: run. The blocks run in the order of the page, in one shared namespace (later
  blocks use names defined by earlier ones), with the repository root as working directory.
- ``python dask``: run like the others, but only when ``distributed`` imports: it starts a
  Dask LocalCluster, and Dask is an optional extra (``research``); when it is missing the
  block is left out with a warning, and the later blocks must not depend on it.
- ``python no-run``: never run. Such a block needs what a test cannot have (a running remote
  Dask scheduler); it is still compiled, so that it stays valid Python.
- ``python signature``: not run; each line ``module.name(params) -> annotation`` is compared
  with ``inspect.signature`` of the object (parameter names and defaults, and the return
  annotation as written in the source).
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "API.md"
TAGS = {"", "dask", "no-run", "signature"}


@dataclass(frozen=True)
class Block:
    tag: str  # the word after "python" in the fence, "" if none
    line: int  # 1-based line of the first line of code
    code: str


def python_blocks(text: str) -> list[Block]:
    """The fenced ``python`` blocks of a Markdown page, in order."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\S*)\s*(.*)$", lines[i])
        if fence is None:
            i += 1
            continue
        lang, tag = fence.group(1), fence.group(2).strip()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"docs/API.md:{i + 1}: unclosed code fence"
        if lang == "python":
            blocks.append(Block(tag, i + 2, "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return blocks


BLOCKS = python_blocks(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_blocks_of_each_kind() -> None:
    tags = [b.tag for b in BLOCKS]
    assert set(tags) <= TAGS, f"unknown fence tags: {set(tags) - TAGS}"
    assert tags.count("") >= 10 and "signature" in tags and "dask" in tags


def _dask_imports() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def test_code_blocks_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {"__name__": "docs_api"}
    skipped = []
    for block in BLOCKS:
        if block.tag == "signature":
            continue
        # Padded so that a traceback names the line of the page itself.
        code = compile("\n" * (block.line - 1) + block.code, "docs/API.md", "exec")
        if block.tag == "no-run":
            continue  # compiled only: it needs a remote Dask scheduler
        if block.tag == "dask" and not _dask_imports():
            skipped.append(block.line)  # the research extras (dask.distributed) are missing
            continue
        exec(code, namespace)
    if skipped:
        warnings.warn(
            f"docs/API.md: Dask blocks at lines {skipped} not run: distributed does not import",
            stacklevel=1,
        )


def _resolve(dotted: str) -> Any:
    """The object named by a dotted path: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _render(name: str, obj: Any) -> str:
    """``name(a, b=1, *, c=None) -> Ret`` from the object's signature (no annotations)."""
    sig = inspect.signature(obj)
    params = []
    star = False
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            star = True
            continue
        if p.kind is p.VAR_KEYWORD:
            params.append(f"**{p.name}")
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    text = f"{name}({', '.join(params)})"
    ret = sig.return_annotation
    if not inspect.isclass(obj) and ret is not sig.empty:
        text += f" -> {ret if isinstance(ret, str) else inspect.formatannotation(ret)}"
    return text


SIGNATURES = [
    (block.line + k, line.strip())
    for block in BLOCKS
    if block.tag == "signature"
    for k, line in enumerate(block.code.splitlines())
    if line.strip()
]


@pytest.mark.parametrize(("line", "documented"), SIGNATURES, ids=[s for _, s in SIGNATURES])
def test_signature_matches_the_code(line: int, documented: str) -> None:
    name = documented.split("(", 1)[0]
    actual = _render(name, _resolve(name))

    def squash(s: str) -> str:
        return re.sub(r"\s+", "", s)

    assert squash(documented) == squash(actual), f"docs/API.md:{line}: the code says {actual}"


def test_links_to_sections_resolve() -> None:
    """Every ``](#anchor)`` link names a heading (GitHub's rule for heading anchors)."""
    text = re.sub(r"^```.*?^```", "", PAGE.read_text(encoding="utf-8"), flags=re.M | re.S)
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links and links <= anchors, f"broken links: {sorted(links - anchors)}"


def test_levers_table_matches_the_code() -> None:
    from sim.api import LEVERS

    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("\n## Levers") : text.index("\n## Paired comparisons")]
    rows = re.findall(r"^\| `(\w+)` \| `([\w.]+)` \| (\w+) \|(.*)\|$", section, re.M)
    documented = [(name, path, kind) for name, path, kind, _ in rows]
    assert documented == [(lv.name, lv.path, lv.kind) for lv in LEVERS]
    for (_, _, kind, cell), lv in zip(rows, LEVERS, strict=True):
        rng = cell.strip()
        if kind == "choice":
            assert rng == ", ".join(lv.choices)
        elif kind in ("share", "number"):
            assert rng == f"{lv.low:g} to {lv.high:g}, step {lv.step:g}"
        else:
            assert rng == ""
