"""Interaction latency in a real browser, as a ratio to Streamlit's own floor.

    python -m tests.latency [--samples 3] [--only concept,math]      (or `make bench-ui`)

Starts the app and, beside it, a one-widget Streamlit app (the framework's floor: one text box
and one line of output), drives headless Chromium against both warm servers and prints, per
interaction, the median and p95 time from the input (the Enter key or the pointer going down)
to the page's last change, next to the floor measured in the same run with alternating
samples.

"The last change" = the last DOM mutation (a MutationObserver on the whole document:
elements, attributes, text) before the page stays quiet for QUIET_MS with the script idle
(data-test-script-state not "running"): what a visitor sees settle, charts drawn included,
not the script's state alone.

"Script done" is when the script's last run ended, as the browser saw it (the app's
data-test-script-state leaving "running"): the time after it, up to the last change, is the
browser drawing what the script sent. The two servers' tabs have a browser context each, and
Chromium runs without background throttling (harness.UNTHROTTLED): the tab not in front must
not be slowed down in a long run.

Goals (ratio to the floor), per row: <= 2x for a change inside one section, <= 4x for a new
sentence, <= 5x for opening a page. Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.harness import APP_IDLE, UNTHROTTLED, Server, launch_browser, wait_idle

FLOOR_APP = """
import streamlit as st
x = st.text_input("x")
st.write(x)
"""

QUIET_MS = 700  # the page counts as settled after this long without a DOM change
# Records the input's time (keydown / pointerdown, capture phase) and the time of every DOM
# change after it; SETTLED_JS returns the last change once the page has been quiet.
SETTLE_JS = """
() => {
  if (window.__lat) return;
  const lat = (window.__lat = {t0: null, runs: 0, last: null, script: null, seen: []});
  const mark = () => {
    lat.t0 = performance.now(); lat.runs = 0; lat.last = null; lat.script = null;
  };
  // what changed last (for a page that never settles): the nearest test id, and how
  const where = n => {
    const el = n.nodeType === 1 ? n : n.parentElement;
    const t = el && el.closest("[data-testid]");
    return t ? t.getAttribute("data-testid") : (el ? el.tagName : "?");
  };
  const keys = e => {
    if (e.key === "Enter" || e.key === "Backspace" || e.key.startsWith("Arrow")) mark();
  };
  document.addEventListener("keydown", keys, true);
  document.addEventListener("pointerdown", mark, true);
  new MutationObserver(records => {
    if (lat.t0 === null) return;
    lat.last = performance.now();
    for (const m of records.slice(0, 3))
      lat.seen.push(`${Math.round(lat.last - lat.t0)} ms ${where(m.target)} ${m.type}` +
                    (m.attributeName ? ` ${m.attributeName}` : ""));
    lat.seen = lat.seen.slice(-12);
    // a run that started and ended between two callbacks still leaves its records
    for (const m of records)
      if (m.attributeName === "data-test-script-state") {
        const now = m.target.getAttribute(m.attributeName);
        if (m.oldValue === "running" || now === "running") lat.runs += 1;
        if (now !== "running") lat.script = lat.last;  // the script's last run ended here
      }
  }).observe(document.documentElement, {attributes: true, attributeOldValue: true,
                                        childList: true, characterData: true, subtree: true});
}
"""
SETTLED_JS = """
quiet => {
  const lat = window.__lat, now = performance.now();
  const app = document.querySelector("[data-testid='stApp']");
  const idle = app && app.getAttribute("data-test-script-state") !== "running";
  // (a run so short that the page never drew "running" still changes the page: lat.last)
  if (lat.t0 === null || !idle || lat.last === null) return null;
  if (now - lat.last < quiet) return null;
  // [the last change, the end of the script's last run (the last change when none was seen)]
  return [lat.last - lat.t0, (lat.script ?? lat.last) - lat.t0];
}
"""


@dataclass
class Interaction:
    name: str
    kind: str  # "section", "sentence" or "page": which goal applies
    path: str  # the page (and query) it starts from
    act: Callable  # act(page, i): the i-th input (alternate between two values)


GOALS = {"section": 2.0, "sentence": 4.0, "page": 5.0}
SENTENCES = [
    "The trophy didn't fit in the suitcase because it was too big.",
    "The animal didn't cross the street because it was too tired.",
]


def measure(page, act, i: int, timeout_s: float = 60.0) -> tuple[float, float]:
    """Milliseconds from the input of act(page, i) to the page settling, and to the end of the
    script's last run (what is left between the two is the browser drawing)."""
    page.bring_to_front()  # a page in the background gets no animation frames
    page.evaluate(SETTLE_JS)
    page.evaluate("() => Object.assign(window.__lat, {t0: null, runs: 0, seen: []})")
    act(page, i)
    deadline = timeout_s * 1000
    waited = 0
    while waited < deadline:
        ms = page.evaluate(SETTLED_JS, QUIET_MS)
        if ms is not None:
            return float(ms[0]), float(ms[1])
        page.wait_for_timeout(20)
        waited += 20
    seen = page.evaluate("() => window.__lat.seen.join('; ')")
    state = page.evaluate(
        "() => document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-script-state')"
    )
    raise TimeoutError(f"the page did not settle (script {state}; last changes: {seen})")


def type_sentence(label: str) -> Callable:
    def act(page, i):
        box = page.get_by_label(label, exact=True)
        box.fill(SENTENCES[i % 2])
        box.press("Enter")

    return act


def choose(label: str, options: tuple[str, str]) -> Callable:
    """Pick option i % 2 of a selectbox by typing its label and pressing Enter."""

    def act(page, i):
        page.get_by_label(label, exact=True).first.click()
        page.keyboard.type(options[i % 2])
        page.keyboard.press("Enter")

    return act


def nudge(label: str) -> Callable:
    """Move a slider one step (down when it is at its maximum, else up)."""

    def act(page, i):
        thumb = page.locator(f"input[type='range'][aria-label='{label}']").first
        at_max = thumb.get_attribute("value") == thumb.get_attribute("max")
        thumb.focus()
        thumb.press("ArrowLeft" if at_max else "ArrowRight")

    return act


def open_from_sidebar(name: str) -> Callable:
    """Click the page's sidebar link (then, not measured, go back Home the same way)."""

    def act(page, i):
        page.locator("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']").filter(
            has_text=name
        ).first.click()

    return act


def go_home(page) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']").filter(
        has_text="Home"
    ).first.click()
    wait_idle(page)


def pick_model(key: str, labels: tuple[str, str]) -> Callable:
    """Click option labels[i % 2] of the radio with widget key `key` (alternating)."""

    def act(page, i):
        page.locator(f".st-key-{key} label").filter(has_text=labels[i % 2]).first.click()

    return act


def pin_and_unpin(label: str, head: str) -> Callable:
    """Add `head` to a multiselect (typing its label, Enter), then take it off (Backspace)."""

    def act(page, i):
        page.get_by_label(label, exact=True).first.click()
        if i % 2 == 0:
            page.keyboard.type(head)
            page.keyboard.press("Enter")
        else:
            page.keyboard.press("Backspace")

    return act


INTERACTIONS = [
    *[
        Interaction(f"Open {name} from the sidebar", "page", "", open_from_sidebar(name))
        for name in ("Concept", "Math", "Multi-head", "Complexity")
    ],
    Interaction("Concept: new sentence", "sentence", "concept", type_sentence("Sentence")),
    Interaction(
        "Concept: another query token",
        "section",
        "concept",
        choose("Query token (who is looking)", ("was", "it")),
    ),
    Interaction("Concept: another head", "section", "concept?mode=pick", nudge("Layer")),
    Interaction("Math: another layer", "section", "math", choose("Layer", ("2", "4"))),
    Interaction("Math: query i", "section", "math", choose("Query i", ("was", "it"))),
    Interaction("Math: d_k", "section", "math?source=random", nudge("d_k")),
    Interaction("Multi-head: new sentence", "sentence", "multihead", type_sentence("Sentence")),
    Interaction(
        "Multi-head: pin a head", "section", "multihead", pin_and_unpin("Pinned heads", "L3 H4")
    ),
    Interaction(
        "Multi-head: switch model",
        "section",
        "multihead",
        pick_model("mh_source", ("Decoder (GPT", "Encoder")),
    ),
]


def samples_for(page, url: str, item: Interaction, floor_page, n: int):
    """n alternating samples: one of the floor, then one of the interaction."""
    page.goto(f"{url}/{item.path}")
    wait_idle(page)
    floor, times, script = [], [], []
    for i in range(n + 1):  # the first pair warms both up and is dropped
        f, _ = measure(floor_page, type_sentence("x"), i)
        t, s = measure(page, item.act, i)
        if item.kind == "page":
            go_home(page)
        if i:
            floor.append(f)
            times.append(t)
            script.append(s)
    return floor, times, script


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated page names to keep")
    args = ap.parse_args(argv)
    chosen = [
        it
        for it in INTERACTIONS
        if not args.only or any(k.lower() in it.name.lower() for k in args.only.split(","))
    ]
    floor_dir = Path(tempfile.mkdtemp(prefix="latency-floor-"))
    (floor_dir / "app.py").write_text(FLOOR_APP)
    app, floor = Server(), Server(app=floor_dir / "app.py")
    rows = []
    try:
        with sync_playwright() as p:
            browser = launch_browser(p, UNTHROTTLED)
            # one context each: the app's tab and the floor's share no renderer or storage
            ctx, floor_ctx = (
                browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)
            )
            page, floor_page = ctx.new_page(), floor_ctx.new_page()
            floor_page.goto(floor.url)
            floor_page.locator(APP_IDLE).wait_for()
            for item in chosen:
                try:
                    f, t, s = samples_for(page, app.url, item, floor_page, args.samples)
                except Exception as exc:  # a control that this build of a page lacks
                    print(f"{item.name}: not measured ({exc})"[:300], file=sys.stderr)
                    continue
                rows.append((item, f, t, s))
                ratio = statistics.median(t) / statistics.median(f)
                print(
                    f"  {item.name}: {statistics.median(t):.0f} ms ({ratio:.1f}x)", file=sys.stderr
                )
            browser.close()
    finally:
        app.stop()
        floor.stop()
    print_table(rows)
    return 0


def print_table(rows) -> None:
    print(
        "| interaction | median ms | p95 ms | script done ms | floor median ms | ratio | goal "
        "| met |\n|---|---|---|---|---|---|---|---|"
    )
    for item, f, t, s in rows:
        ratio = statistics.median(t) / statistics.median(f)
        goal = GOALS[item.kind]
        print(
            f"| {item.name} | {statistics.median(t):.0f} | {p95(t):.0f} | "
            f"{statistics.median(s):.0f} | "
            f"{statistics.median(f):.0f} | {ratio:.1f}x | ≤ {goal:.0f}x | "
            f"{'yes' if ratio <= goal else 'no'} |"
        )


if __name__ == "__main__":
    sys.exit(main())
