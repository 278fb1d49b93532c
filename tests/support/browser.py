"""A real headless browser for tests: Debian's chromium driven by Playwright.

``chromium_page(tmp_path)`` yields a Playwright page whose console errors, page errors and failed requests
are collected in ``BrowserLog``; ``skip_dagster_dialog(page)`` dismisses the "Join the Dagster community"
dialog the Dagster UI shows on a first visit. The browser comes from ``tools/ensure-browser.sh`` (run by
``make test``); Playwright never downloads one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = os.environ.get("TRANSCRIPTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class BrowserLog:
    """What went wrong in the page: console errors, uncaught exceptions, requests that failed or got >= 400."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed_requests]


@contextlib.contextmanager
def chromium_page(
    viewport: tuple[int, int] = (1400, 900),
) -> Iterator[tuple[Page, BrowserLog]]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found: run `bash tools/ensure-browser.sh` (make test does)")
    log = BrowserLog()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: log.page_errors.append(str(e)))
            page.on("requestfailed", lambda r: log.failed_requests.append(f"{r.url}: {r.failure}"))
            page.on(
                "response",
                lambda r: (
                    log.failed_requests.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None
                ),
            )
            yield page, log
        finally:
            browser.close()


def skip_dagster_dialog(page: Page, timeout_ms: int = 5_000) -> None:
    """Click Skip on the "Join the Dagster community" dialog when it shows (first visit only)."""
    button = page.get_by_role("button", name="Skip")
    with contextlib.suppress(Exception):
        button.wait_for(state="visible", timeout=timeout_ms)
        button.click()


def click_past_dialog(page: Page, locator: Locator, timeout_ms: int = 60_000) -> None:
    """Click ``locator``; when the community dialog (it may open seconds after the page on a busy machine)
    covers it, Skip the dialog and try again, until ``timeout_ms``."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            locator.click(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
            skip_dagster_dialog(page, timeout_ms=1_000)
