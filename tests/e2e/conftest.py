"""A real headless Chromium (Debian's ``chromium`` package) driven by Playwright against a live server.

Playwright downloads no browser here: it launches the system's Chromium. Without one these tests are
skipped, saying why, unless ``LAMP_REQUIRE_BROWSER=1`` (set by CI) turns that into a failure.
Screenshots go to ``LAMP_SCREENSHOTS_DIR`` (default ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

DEFAULT_SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SCREENSHOTS = Path(os.environ.get("LAMP_SCREENSHOTS_DIR", DEFAULT_SCREENSHOTS))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        message = "no Chromium on PATH: install Debian's chromium package to run the browser tests"
        if os.environ.get("LAMP_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    # Playwright's sync API runs an event loop in this thread; Django refuses database calls from a thread
    # with a running loop unless told this is deliberate (the test's own queries, not the server's).
    # Set for these tests only: other tests start subprocesses (the deployment checks refuse the variable).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(chromium, live_server):  # noqa: ANN001, ANN201 - Playwright's and pytest-django's objects
    """A function returning a fresh browser page (its own cookies) logged in as the given user."""
    contexts = []

    def open_as(username: str, password: str) -> object:
        context = chromium.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("main button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
