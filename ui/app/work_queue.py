"""One server-wide queue for page runs: at most a few sessions compute at once, first come
first served, so that a class of visitors does not hold a class of transients at once (each
run of a long sentence builds tens of MB of maps and figures for a moment).

A page run of Concept, Math or Multi-head takes its turn in `page_setup` and holds it until
its script thread ends (Streamlit runs a session's reruns on one thread and ends it when
idle), also when the script stopped early (an error, `st.stop`). A visitor waiting sees
their place in the queue; nothing they typed is lost, since their widgets' state is kept
while they wait. A long wait inside a run that holds a turn can lend it (`released`).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SLOTS_ENV = "ATTN_PAGE_SLOTS"
SLOTS = 2  # two cores: measured with 24 visitors, 3 at once peaked 67 MB higher, and no faster
WAIT_LIMIT_S = 300.0  # past this a visitor is told to retry, rather than wait on


class Turns:
    """At most `slots` threads hold a turn at once, served in the order they asked.

    A holder that has ended without giving its turn back loses it (its thread is checked
    whenever someone waits). A thread that asks again while it holds a turn keeps it."""

    def __init__(self, slots: int, poll_s: float = 0.1):
        self.slots = max(1, int(slots))
        self._poll_s = poll_s
        self._cond = threading.Condition()
        self._holders: dict[int, threading.Thread] = {}
        self._waiting: deque[int] = deque()
        self._tickets = itertools.count()

    def _reclaim(self) -> None:
        for ident, thread in list(self._holders.items()):
            if not thread.is_alive():
                del self._holders[ident]

    def holds(self) -> bool:
        """Whether the calling thread holds a turn."""
        with self._cond:
            return threading.get_ident() in self._holders

    def waiting(self) -> int:
        """How many threads are waiting for a turn now."""
        with self._cond:
            return len(self._waiting)

    def acquire(
        self,
        on_wait: Callable[[int], None] | None = None,
        timeout_s: float | None = None,
        front: bool = False,
    ) -> bool:
        """Wait for a turn; `on_wait(place)` is told each new place (1 = next) while waiting,
        outside the lock. False when `timeout_s` passed first (then no turn is held). `front`
        queues first (a run taking back the turn it lent)."""
        me = threading.current_thread()
        ticket = next(self._tickets)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        shown = 0
        with self._cond:
            if me.ident in self._holders:
                return True
            if front:
                self._waiting.appendleft(ticket)
            else:
                self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    self._reclaim()
                    ahead = self._waiting.index(ticket)
                    if ahead == 0 and len(self._holders) < self.slots:
                        self._waiting.popleft()
                        self._holders[me.ident] = me
                        return True
                    if deadline is not None and time.monotonic() >= deadline:
                        return False
                    place = ahead + 1
                    if place == shown or on_wait is None:
                        self._cond.wait(self._poll_s)
                        continue
                shown = place
                on_wait(place)
        finally:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._cond.notify_all()

    def release(self) -> None:
        """Give the calling thread's turn back (nothing if it holds none)."""
        with self._cond:
            if self._holders.pop(threading.get_ident(), None) is not None:
                self._cond.notify_all()

    @contextmanager
    def released(self, after_s: float = 0.5) -> Iterator[None]:
        """For a wait that may be long (a worker process, a lock held by another run): if it
        lasts past `after_s`, the turn goes to the next in the queue meanwhile, and is taken
        back first in the queue afterwards. A short wait (a cache hit) keeps it."""
        me = threading.get_ident()
        if not self.holds():
            yield
            return
        state = {"done": False}

        def lend() -> None:
            with self._cond:
                if not state["done"] and self._holders.pop(me, None) is not None:
                    self._cond.notify_all()

        timer = threading.Timer(after_s, lend)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._cond:
                state["done"] = True
                lent = me not in self._holders
            if lent:
                self.acquire(front=True)


TURNS = Turns(int(os.environ.get(SLOTS_ENV) or SLOTS))
