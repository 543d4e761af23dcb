"""The technicians' console in a real browser: Debian's chromium driven by Playwright (never a
downloaded browser). A technician logs in, sees their pôle's litigieuse with its document,
decides it, and sees its status change; a technician of another organism sees none of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from fseflow_tools.replay.driver import Replay
from fseflow_tools.replay.scenario import parse
from fseflow_tools.scenarios import pole as pole_scenarios
from tests.conftest import RunningStack

pytestmark = pytest.mark.e2e

PASSWORD = "console-pass-1"  # a test technician's password


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def _add_technician(running: RunningStack, technician: str, organism: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["FSEFLOW_HOME"] = running.state.home
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fseflow_tools.cli.main",
            "pointage",
            "technician",
            "add",
            technician,
            "--organism",
            organism,
            "--password",
            PASSWORD,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = _chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _log_in(browser: Browser, base: str, technician: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{base}/console/login")
    await page.fill("#technician", technician)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await page.wait_for_url(f"{base}/console*")
    return page


async def test_a_technician_decides_a_litigieuse_in_the_browser(
    running: RunningStack, browser: Browser
) -> None:
    results: dict[str, Any] = await Replay(parse(pole_scenarios.console()), running.endpoints).run()
    world = results["world"]
    assert results["fse"]["k-litig"]["status"] == "pending_review"
    _add_technician(running, "t-33-09", "01-331")
    _add_technician(running, "t-40-09", "01-401")
    base = running.state.pointage_url

    page = await _log_in(browser, base, "t-33-09")
    await page.goto(f"{base}/console?world={world}")
    assert (await page.text_content("#technician")) == "t-33-09"
    row = page.locator("#queue tr[data-fse='k-litig']")
    assert await row.count() == 1
    text = await row.inner_text()
    assert "PRESCRIBER_UNKNOWN" in text and "AMI 2" in text
    assert await page.locator("#queue tr[data-fse='k-landes']").count() == 0  # 01-401's, not ours

    # The prescription, read from Scor with the technician's own certificate.
    link = row.locator("a", has_text="d-k")
    response = await page.request.get(f"{base}{await link.get_attribute('href')}")
    assert response.status == 200 and (await response.body()).startswith(b"%PDF")

    # The day's accords, validated in one action.
    assert (await page.text_content("#to-validate")) == "1"
    await page.click("#validate-all")
    await expect(page.locator("#message")).to_contain_text("1 accord(s) validé(s) le 2026-05-20")
    assert (await page.text_content("#to-validate")) == "0"

    row = page.locator("#queue tr[data-fse='k-litig']")
    await row.locator("button.accord").click()
    await expect(page.locator("#message")).to_contain_text("k-litig : validated le 2026-05-20")
    assert await page.locator("#queue tr[data-fse='k-litig']").count() == 0
    decided = page.locator("#decided tr[data-fse='k-litig'] .state")
    assert (await decided.inner_text()) == "validated"

    # The pôle's API agrees (with a token the technician asks for with their password), and the
    # decision is dated on the world's open day (Wednesday 20).
    async with aiohttp.ClientSession() as http:
        login = {"technician": "t-33-09", "password": PASSWORD}
        async with http.post(f"{base}/api/v1/tokens", json=login) as issued:
            token = (await issued.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{base}/api/v1/fse/{world}/k-litig", headers=headers) as answer:
            state = await answer.json()
    assert (state["state"], state["decided_by"], state["decided_on"]) == (
        "validated",
        "t-33-09",
        "2026-05-20",
    )
    assert state["pay_on"] == "2026-05-26"  # 20 + 4 = Sunday 24, then Whit Monday

    # Another organism's technician: none of it, not even the document.
    other = await _log_in(browser, base, "t-40-09")
    await other.goto(f"{base}/console?world={world}")
    assert await other.locator("#queue tr[data-fse='k-litig']").count() == 0
    assert await other.locator("#queue tr[data-fse='k-landes']").count() == 1
    refused = await other.request.get(f"{base}/console/documents/{world}/d-k")
    assert refused.status == 404

    # Logging out ends the session: the console asks for a login again.
    await page.click("#logout")
    await page.wait_for_url(f"{base}/console/login")
    await page.goto(f"{base}/console?world={world}")
    assert page.url.endswith("/console/login")


async def test_the_console_refuses_a_wrong_password_and_anonymous_visitors(
    running: RunningStack, browser: Browser
) -> None:
    _add_technician(running, "t-33-10", "01-331")
    base = running.state.pointage_url
    page = await browser.new_page()
    await page.goto(f"{base}/console")
    assert page.url.endswith("/console/login")
    await page.fill("#technician", "t-33-10")
    await page.fill("#password", "not-the-password")
    await page.click("#login")
    assert "incorrect" in (await page.text_content("[role=alert]") or "")
