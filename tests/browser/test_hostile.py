"""Hostile input in a real browser: markup typed into every text box, garbage in URLs."""

from __future__ import annotations

import pytest

from tests.browser.harness import wait_idle
from tests.browser.test_pages import PAGES, assert_clean

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<b id=probe>bold</b> text",
    '<img src=x id=probe onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script><div id=probe></div>",
]
BOXES = "[data-testid='stTextInput'] input, [data-testid='stTextArea'] textarea"


def assert_not_injected(page) -> None:
    assert page.locator("#probe").count() == 0, "markup from a text box became an element"
    assert page.evaluate("window.__pwned === undefined"), "a typed script ran"


@pytest.mark.parametrize("name", list(PAGES.values()))
def test_markup_typed_into_every_text_box_stays_text(server, page, name):
    page.goto(f"{server.url}/{name}")
    wait_idle(page)
    boxes = page.locator(BOXES)
    count = boxes.count()
    for i in range(count):
        for payload in PAYLOADS:
            box = page.locator(BOXES).nth(i)
            if not box.is_visible() or not box.is_editable():
                continue
            box.fill(payload)
            box.press("Control+Enter" if box.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")
            page.wait_for_timeout(300)
            wait_idle(page)
            assert_clean(page)
            assert_not_injected(page)


GARBAGE = (
    "?text=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E&layer=-7&head=banana&pinned=99,x,%00"
    "&view=%3Cimg%20src%3Dx%20onerror%3Dwindow.__pwned%3D1%3E&sentence=%F0%9F%92%A5%00%1F&n=1e309"
)


@pytest.mark.parametrize("name", ["", *PAGES])
def test_garbage_query_params_never_break_a_page(server, page, name):
    page.goto(f"{server.url}/{name}{GARBAGE}")
    wait_idle(page)
    assert_clean(page)
    assert_not_injected(page)
