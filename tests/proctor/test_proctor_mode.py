from __future__ import annotations

import pytest
from proctor_samples import FakeMonotonic

from client.errors import UserFacingError
from client.proctor.proctor_log import ProctorAction
from client.proctor.proctor_mode import ProctorMode, ProctorState


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def mode(verifiers, proctor_log, clock) -> ProctorMode:
    return ProctorMode(verifiers=verifiers, log=proctor_log, idle_timeout_s=60,
                       max_failures=3, lockout_s=30, monotonic=clock)


def test_starts_locked_and_actions_are_refused(mode):
    assert mode.state is ProctorState.LOCKED and mode.proctor is None
    with pytest.raises(UserFacingError) as err:
        mode.authorize(ProctorAction.EXPORTED)
    assert err.value.code == "proctor.locked"


def test_unlock_authorize_record_end(mode, sink):
    identity = mode.unlock(name="王老师", password="Kq7-m2Lx9")
    assert mode.state is ProctorState.UNLOCKED and mode.proctor == identity
    assert mode.authorize(ProctorAction.RELOGIN_AUTHORIZED) == identity
    mode.record(ProctorAction.RELOGIN_AUTHORIZED, candidate="2024000001")
    mode.end()
    assert mode.state is ProctorState.ENDED
    assert sink.kinds() == ["proctor.unlocked", "proctor.relogin_authorized", "proctor.ended"]
    _kind, payload = sink.events[1]
    assert payload == {"proctor_id": "p1", "wall_time_ms": 4_000, "server_time_ms": 5_000,
                       "detail": {"candidate": "2024000001"}}
    with pytest.raises(UserFacingError) as err:
        mode.unlock(name="王老师", password="Kq7-m2Lx9")
    assert err.value.code == "proctor.ended"


def test_wrong_password_is_logged_without_the_password(mode, sink):
    with pytest.raises(UserFacingError) as err:
        mode.unlock(name="王老师", password="guess-1")
    assert err.value.code == "proctor.wrong_credentials"
    assert mode.state is ProctorState.LOCKED
    assert sink.events == [("proctor.unlock_failed", {
        "proctor_id": None, "wall_time_ms": 4_000, "server_time_ms": 5_000,
        "detail": {"name": "王老师", "failures": 1}})]


def test_auto_lock_after_inactivity(mode, clock, sink):
    mode.unlock(name="王老师", password="Kq7-m2Lx9")
    clock.now += 59
    mode.touch()                 # activity pushes the deadline back
    clock.now += 59
    assert mode.state is ProctorState.UNLOCKED
    clock.now += 1
    assert mode.state is ProctorState.LOCKED
    with pytest.raises(UserFacingError):
        mode.authorize(ProctorAction.EXPORTED)
    assert ("proctor.locked", {"proctor_id": "p1", "wall_time_ms": 4_000,
                               "server_time_ms": 5_000, "detail": {"reason": "inactivity"}}) \
        in sink.events


def test_check_idle_reports_the_lock_once(mode, clock):
    mode.unlock(name="王老师", password="Kq7-m2Lx9")
    clock.now += 61
    assert mode.check_idle() is True
    assert mode.check_idle() is False


def test_manual_lock_then_unlock_by_another_proctor(mode, sink):
    mode.unlock(name="王老师", password="Kq7-m2Lx9")
    mode.lock()
    assert mode.state is ProctorState.LOCKED
    assert mode.unlock(name="Li Ming", password="second-pw").proctor_id == "p2"
    assert sink.kinds() == ["proctor.unlocked", "proctor.locked", "proctor.unlocked"]


def test_repeated_failures_lock_unlocking_out_with_growing_delay(mode, clock):
    for _ in range(3):
        with pytest.raises(UserFacingError):
            mode.unlock(name="王老师", password="nope")
    with pytest.raises(UserFacingError) as err:
        mode.unlock(name="王老师", password="Kq7-m2Lx9")  # even the right one must wait
    assert err.value.code == "proctor.too_many_attempts"
    assert mode.seconds_until_unlock_allowed() == pytest.approx(30)
    clock.now += 30
    for _ in range(3):
        with pytest.raises(UserFacingError):
            mode.unlock(name="王老师", password="nope")
    assert mode.seconds_until_unlock_allowed() == pytest.approx(60)
    clock.now += 60
    assert mode.unlock(name="王老师", password="Kq7-m2Lx9").proctor_id == "p1"
