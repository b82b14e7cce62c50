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
    """A headless Chromium page on the app, with the replications set to ``reps``.

    Set by the page's address, not by typing: a number typed into the box reaches the app only
    with the next message, and a Run clicked in between (a loaded machine) ran the old value.
    The box is checked to show ``reps`` before the page is handed over."""
    with page_at(server, f"reps={reps}", "Mô phỏng quy hoạch cán bộ lãnh đạo, quản lý") as page:
        field = page.get_by_role("spinbutton", name="Số lần mô phỏng")
        assert field.input_value() == str(reps), shown(page)
        yield page


def shown(page: Any, chars: int = 1500) -> str:
    """What the page shows now (its main area, shortened): said when a wait fails, so that a
    failure on a CI machine tells what the page did instead."""
    try:
        text = page.locator("[data-testid='stMain']").first.inner_text(timeout=5_000)
    except Exception as exc:  # the page itself is gone: say so
        return f"(the page could not be read: {exc})"
    text = re.sub(r"\n\s*\n+", "\n", text)
    return "the page showed:\n" + (text if len(text) <= chars else text[:chars] + " …")


def wait_text(page: Any, pattern: str | re.Pattern[str], timeout: float) -> Any:
    """Wait for ``pattern`` on the page; on a timeout, fail with what the page showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    found = page.get_by_text(pattern).first
    try:
        found.wait_for(timeout=timeout)
    except PlaywrightTimeout:
        pytest.fail(f"{pattern!r} did not show within {timeout / 1000:.0f} s; {shown(page)}")
    return found


def test_run_the_default_scenario_in_a_browser(server: str, tmp_path: Path) -> None:
    with page_with_reps(server, 20) as page:
        page.get_by_role("button", name="Chạy mô phỏng").click()
        wait_text(page, "Chỉ tiêu và khả năng đạt", 180_000)
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
        wait_text(page, "Succession planning simulator", 60_000)


def test_stop_a_long_run_and_keep_what_is_done(server: str) -> None:
    with page_with_reps(server, 3000) as page:  # far more than can finish before Stop
        page.get_by_role("button", name="Chạy mô phỏng").click()
        page.get_by_role("button", name="Dừng").wait_for(timeout=150_000)  # a loaded machine
        # Stop once some replications are done (the progress bar counts them) and the
        # provisional estimate of the targets is on the page.
        wait_text(page, re.compile(r"Đang mô phỏng… [1-9]\d*/3000"), 120_000)
        wait_text(page, re.compile(r"Ước tính tạm thời từ [1-9]\d*/3000"), 60_000)
        assert "QB-AW" in page.locator("table").first.inner_text()
        page.get_by_role("button", name="Dừng").click()
        note = wait_text(page, "Đã dừng sau", 60_000)
        done = int(note.inner_text().split("sau ")[1].split("/")[0])
        assert 0 < done < 3000
        assert "QB-AW" in page.locator("table").first.inner_text()


@contextlib.contextmanager
def page_at(server: str, query: str, wait_for: str) -> Iterator[Any]:
    """A headless Chromium page opened at ``server/?query``, once ``wait_for`` shows."""
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
            page.goto(f"{server}/?{query}", wait_until="domcontentloaded")
            wait_text(page, wait_for, 60_000)
            page.wait_for_timeout(1000)
            yield page
        finally:
            browser.close()


def test_run_in_english(server: str) -> None:
    with page_at(server, "lang=en&reps=12", "Quảng Bình, as planned") as page:
        page.get_by_role("button", name="Run", exact=True).click()
        wait_text(page, "Based on 12 replications", 180_000)
        text = page.locator("table").first.inner_text()
        assert "QB-AW" in text and "P(met)" in text
        assert "Khả năng đạt" not in page.inner_text("body")


def test_pin_a_baseline_and_see_the_next_run_beside_it(server: str) -> None:
    with page_at(server, "reps=12", "Quảng Bình, theo kế hoạch") as page:
        page.get_by_role("button", name="Chạy mô phỏng").click()
        wait_text(page, "Dựa trên 12 lần mô phỏng", 180_000)
        page.get_by_role("button", name="Ghim làm phương án gốc").click()
        wait_text(page, "đang được ghim", 60_000)
        slider = page.get_by_role("slider").first  # the share of appointments to women
        slider.focus()
        for _ in range(10):
            slider.press("ArrowRight")
        wait_text(page, "Quảng Bình, theo kế hoạch, nữ 25%", 60_000)
        page.get_by_role("button", name="Chạy mô phỏng").click()
        wait_text(page, "So với phương án gốc", 180_000)
        table = page.locator("table").first.inner_text()
        assert "QB-AW" in table and "điểm %" in table
        assert page.get_by_text("cùng các số ngẫu nhiên").count() >= 1
        # The address now reproduces this view.
        assert "women_share=0.25" in page.url


def test_broken_and_oversize_rosters_are_refused_on_the_page(server: str, tmp_path: Path) -> None:
    broken = tmp_path / "people.csv"
    broken.write_text(
        "person_id,rank,sex,birth_month,in_post_since\n"
        "A,boss,F,1970-01,2020-01\nB,l1_head,X,1970-13,2020-01\n",
        encoding="utf-8",
    )
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"#" * (11 * 2**20 + 500_000))
    with page_at(server, "", "Quảng Bình, theo kế hoạch") as page:
        uploads = page.locator("[data-testid='stFileUploaderDropzoneInput']")
        uploads.nth(1).set_input_files(str(broken))
        box = page.get_by_text("Chưa nhập được danh sách «people.csv»").first
        box.wait_for(timeout=60_000)
        # Nothing runs on data the user did not mean: the Run button goes with the page.
        run = page.get_by_role("button", name="Chạy mô phỏng")
        run.wait_for(state="detached", timeout=60_000)
        body = page.inner_text("body")
        assert "dòng 2: chức vụ (rank) 'boss'" in body and "row 2" not in body
        uploads.nth(1).set_input_files(str(huge))
        wait_text(page, "vượt giới hạn 10 MB", 60_000)
        page.wait_for_timeout(2000)
        assert run.count() == 0


def test_a_link_reproduces_a_view(server: str) -> None:
    query = "scenario=ha_giang&variant=qb_shares&lang=en&women_share=0.25&reps=12"
    want = "Hà Giang, what-if: Quảng Bình's appointment shares, women 25%"
    with page_at(server, query, want) as page:
        assert page.get_by_role("spinbutton", name="Replications").input_value() == "12"


def test_the_presenter_view(server: str) -> None:
    with page_at(server, "view=present", "Bước 1/3") as page:
        page.get_by_role("button", name="Bước tiếp →").click()
        wait_text(page, "Bước 2/3", 60_000)
        assert page.get_by_text("không vượt").count() >= 1
        page.get_by_role("button", name="← Thoát chế độ trình chiếu").click()
        wait_text(page, "Mô phỏng quy hoạch cán bộ lãnh đạo, quản lý", 60_000)
