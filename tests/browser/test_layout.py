"""Every page at a phone's width and in the dark theme: no exception, nothing wider than the
screen. Screenshots go to $TMP/attention-portal-screenshots/layout for a human look."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SHOTS
from tests.browser.harness import Server, wait_idle
from tests.browser.test_pages import PAGES, assert_clean

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 2400}  # tall: the screenshot shows more of the page
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def dark_server():
    s = Server(args=["--theme.base", "dark"])
    yield s
    s.stop()


def shoot(page, name: str) -> None:
    (SHOTS / "layout").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "layout" / f"{name}.png"))


@pytest.mark.parametrize("path", ["", *PAGES.values()])
def test_every_page_fits_a_phone(server, browser, path):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    try:
        page.goto(f"{server.url}/{path}")
        wait_idle(page)
        page.wait_for_timeout(500)  # charts lay out after the script
        assert_clean(page)
        assert page.evaluate(OVERFLOW) <= 0, "the page is wider than the phone"
        shoot(page, f"phone-{path or 'home'}")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["", *PAGES.values()])
def test_every_page_in_the_dark_theme(dark_server, page, path):
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(f"{dark_server.url}/{path}")
    wait_idle(page)
    page.wait_for_timeout(500)
    assert_clean(page)
    assert page.evaluate(OVERFLOW) <= 0
    # no chart paints a light box on the dark page
    light = page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot .main-svg')].filter(s => {
            const c = getComputedStyle(s).backgroundColor.match(/\\d+(\\.\\d+)?/g) || [];
            const [r, g, b, a] = c.map(Number);
            return (a === undefined || a > 0) && r + g + b > 600;
        }).length"""
    )
    assert light == 0, "a chart has a light background in the dark theme"
    shoot(page, f"dark-{path or 'home'}")
