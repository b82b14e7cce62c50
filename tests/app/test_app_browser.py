"""End to end: serve the app on localhost and drive it in headless Chromium (Playwright).

Needs Debian's ``chromium`` (``./dev test`` and ``.ci/run`` install it where they can). On a
machine without it the test is skipped, except under CI, where it fails. Set
``CADRESIM_SCREENSHOT=path.png`` to keep the screenshot of the results page.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

APP = Path(__file__).resolve().parents[2] / "app.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the app did not start")
            time.sleep(0.5)
        yield url
    finally:
        # Stop the server; on a loaded machine it may not stop in time: kill it after a grace
        # period (the test has passed or failed by now, the teardown must not decide it).
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@contextlib.contextmanager
def page_with_reps(server: str, reps: int) -> Iterator[Any]:
    """A headless Chromium page on the app, with the replications set to ``reps``."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI needs Debian's chromium for the browser test (apt-get install chromium)"
            )
        pytest.skip("no chromium on this machine")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(server, wait_until="domcontentloaded")
            title = "Mô phỏng quy hoạch cán bộ lãnh đạo, quản lý"
            page.get_by_text(title).wait_for(timeout=60_000)
            field = page.get_by_label("Số lần mô phỏng")
            field.fill(str(reps))
            field.press("Enter")
            page.wait_for_timeout(1500)
            yield page
        finally:
            browser.close()


def test_run_the_default_scenario_in_a_browser(server: str, tmp_path: Path) -> None:
    with page_with_reps(server, 20) as page:
        page.get_by_role("button", name="Chạy mô phỏng").click()
        page.get_by_text("Chỉ tiêu và khả năng đạt").wait_for(timeout=180_000)
        table = page.locator("table").first
        table.wait_for(timeout=60_000)
        text = table.inner_text()
        for target in ("QB-W-PC-25", "QB-AW", "QB-AY", "QB-65H", "QB-30W"):
            assert target in text
        assert "%" in text
        assert "Traceback" not in page.content()
        shot = Path(os.environ.get("CADRESIM_SCREENSHOT", tmp_path / "results.png"))
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        # The language switch reaches every label.
        page.get_by_text("English").click()
        page.get_by_text("Succession planning simulator").wait_for(timeout=60_000)


def test_stop_a_long_run_and_keep_what_is_done(server: str) -> None:
    with page_with_reps(server, 3000) as page:  # far more than can finish before Stop
        page.get_by_role("button", name="Chạy mô phỏng").click()
        page.get_by_role("button", name="Dừng").wait_for(timeout=60_000)
        # Stop once some replications are done (the progress bar counts them) and the
        # provisional estimate of the targets is on the page.
        page.get_by_text(re.compile(r"Đang mô phỏng… [1-9]\d*/3000")).wait_for(timeout=120_000)
        provisional = page.get_by_text(re.compile(r"Ước tính tạm thời từ [1-9]\d*/3000"))
        provisional.wait_for(timeout=60_000)
        assert "QB-AW" in page.locator("table").first.inner_text()
        page.get_by_role("button", name="Dừng").click()
        note = page.get_by_text("Đã dừng sau")
        note.wait_for(timeout=60_000)
        done = int(note.inner_text().split("sau ")[1].split("/")[0])
        assert 0 < done < 3000
        assert "QB-AW" in page.locator("table").first.inner_text()
