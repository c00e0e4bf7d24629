from __future__ import annotations

from client.sync.clock import ServerClock


class FakeTime:
    """The PC's two clocks, movable independently (as a candidate can move the wall clock)."""

    def __init__(self) -> None:
        self.mono_ns = 5_000_000_000
        self.wall_ms = 1_700_000_000_000

    def monotonic_ns(self) -> int:
        return self.mono_ns

    def wall(self) -> int:
        return self.wall_ms

    def advance(self, ms: int) -> None:
        self.mono_ns += ms * 1_000_000
        self.wall_ms += ms


def test_no_estimate_before_first_contact() -> None:
    t = FakeTime()
    clock = ServerClock(monotonic_ns=t.monotonic_ns, wall_ms=t.wall)
    assert clock.now_ms() is None and clock.reading() is None


def test_server_time_follows_monotonic_not_wall_clock() -> None:
    t = FakeTime()
    clock = ServerClock(monotonic_ns=t.monotonic_ns, wall_ms=t.wall)
    server_now = t.wall_ms + 3_600_000  # server is an hour ahead of this PC
    sent = t.mono_ns
    t.advance(20)
    clock.observe(server_ms=server_now + 10, sent_mono_ns=sent, received_mono_ns=t.mono_ns)
    assert clock.now_ms() == server_now + 20
    t.advance(60_000)
    assert clock.now_ms() == server_now + 60_020
    # The candidate moves the PC clock back a day: exam time does not move.
    t.wall_ms -= 86_400_000
    assert clock.now_ms() == server_now + 60_020


def test_pc_offset_is_reported() -> None:
    t = FakeTime()
    clock = ServerClock(monotonic_ns=t.monotonic_ns, wall_ms=t.wall)
    clock.observe(server_ms=t.wall_ms - 90_000, sent_mono_ns=t.mono_ns,
                  received_mono_ns=t.mono_ns)
    reading = clock.reading()
    assert reading is not None
    assert reading.pc_offset_ms == 90_000 and reading.pc_clock_wrong
    clock.observe(server_ms=t.wall_ms - 30_000, sent_mono_ns=t.mono_ns,
                  received_mono_ns=t.mono_ns)
    reading = clock.reading()
    assert reading is not None and not reading.pc_clock_wrong
