"""The server-wide queue of page runs: a bounded number at once, first come first served,
a dead holder's turn reclaimed, a long wait gives the turn back."""

from __future__ import annotations

import threading
import time

from ui.app.work_queue import Turns


def _hold(turns: Turns, started: list, go: threading.Event, name: str, places=None):
    def run():
        turns.acquire((lambda p: places.append((name, p))) if places is not None else None)
        started.append(name)
        go.wait(10)
        turns.release()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def _until(cond, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_no_more_than_the_slots_hold_a_turn_and_the_rest_go_in_order():
    turns, started, places = Turns(2, poll_s=0.01), [], []
    go = [threading.Event() for _ in range(5)]
    threads = [_hold(turns, started, go[0], "a"), _hold(turns, started, go[1], "b")]
    assert _until(lambda: len(started) == 2)
    for i, name in enumerate("cde", start=2):
        threads.append(_hold(turns, started, go[i], name, places))
        assert _until(lambda n=i - 1: turns.waiting() == n)
    assert len(started) == 2  # full: c, d and e wait
    assert ("c", 1) in places and ("d", 2) in places and ("e", 3) in places
    go[0].set()
    assert _until(lambda: len(started) == 3)
    assert started[2] == "c" and len(started) == 3  # one turn freed, one started
    go[1].set()
    assert _until(lambda: len(started) == 4)
    assert started[3] == "d" and ("e", 1) in places  # e moved up as the queue moved
    for g in go:
        g.set()
    for t in threads:
        t.join(5)
    assert started == list("abcde") and turns.waiting() == 0


def test_a_thread_that_ended_without_giving_its_turn_back_loses_it():
    turns = Turns(1, poll_s=0.01)
    thread = threading.Thread(target=turns.acquire)  # takes the only turn and ends
    thread.start()
    thread.join()
    assert turns.acquire(timeout_s=2.0)
    turns.release()


def test_asking_again_while_holding_keeps_the_turn_and_a_timeout_holds_none():
    turns = Turns(1, poll_s=0.01)
    assert turns.acquire() and turns.acquire(timeout_s=0.0) and turns.holds()
    other: list[bool] = []
    thread = threading.Thread(target=lambda: other.append(turns.acquire(timeout_s=0.1)))
    thread.start()
    thread.join()
    assert other == [False] and turns.waiting() == 0  # gave up, and left the queue
    turns.release()
    assert not turns.holds()


def test_released_gives_the_turn_to_a_waiter_for_a_long_wait_and_takes_it_back():
    turns, started = Turns(1, poll_s=0.01), []
    assert turns.acquire()
    go = threading.Event()
    waiter = _hold(turns, started, go, "waiter")
    with turns.released(after_s=0.05):
        assert _until(lambda: started == ["waiter"])  # it ran while this one waited
        done = threading.Event()
        done.set()
        late = _hold(turns, started, done, "late")  # queued behind this one
        assert _until(lambda: turns.waiting() == 1)
        go.set()
    assert turns.holds()  # taken back first once the waiter was done, before "late"
    assert started == ["waiter"]
    turns.release()
    assert _until(lambda: started == ["waiter", "late"])
    waiter.join(5)
    late.join(5)


def test_a_short_wait_keeps_the_turn():
    turns = Turns(1, poll_s=0.01)
    assert turns.acquire()
    with turns.released(after_s=5.0):
        pass
    assert turns.holds()
    turns.release()


def test_a_waiter_whose_callback_raises_leaves_the_queue():
    turns = Turns(1, poll_s=0.01)
    assert turns.acquire()

    def boom(place):
        raise RuntimeError("rerun")

    errors: list[str] = []

    def run():
        try:
            turns.acquire(boom)
        except RuntimeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    assert errors == ["rerun"] and turns.waiting() == 0
    turns.release()


def test_a_full_server_asks_the_visitor_to_retry_and_the_retry_opens_the_page(
    monkeypatch,
):
    from tests.apptest import page_test
    from ui.app import page

    turns = Turns(1, poll_s=0.01)
    monkeypatch.setattr(page, "TURNS", turns)
    monkeypatch.setattr(page, "WAIT_LIMIT_S", 0.5)
    held, go = threading.Event(), threading.Event()

    def hold():
        turns.acquire()
        held.set()
        go.wait(60)
        turns.release()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(5)
    at = page_test("concept")
    at.run()
    assert not at.exception
    assert any("too busy right now" in w.value for w in at.warning)
    assert not at.title  # the page stopped before its content
    go.set()
    holder.join(5)
    at.button(key="queue_retry").click().run()
    assert not at.exception and not at.warning
    assert at.title[0].value == "Self-attention: the concept"
