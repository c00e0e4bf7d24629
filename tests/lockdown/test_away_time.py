"""The proctor's count of focus losses and time away, read from the exam's own store: the
review records a real FocusLog queues through the real outbox into a real SQLCipher file,
kept across a restart of the client, each loss counted once."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from client.i18n import set_language
from client.lockdown.away_time import AwayTotals, away_totals, duration_text, episode_id
from client.lockdown.focus import FocusLog, LockdownEvent
from client.review.outbox import all_items
from client.review.services import ReviewServices
from client.review.transport import HttpTransport
from client.store import AnswerStore, StoreWriter

KEY = os.urandom(32)


def open_writer(path: Path) -> StoreWriter:
    writer = StoreWriter(lambda: AnswerStore.open(path, key=KEY, snapshot_policy=None))
    writer.ready().result(timeout=10)
    return writer


def services_on(writer: StoreWriter) -> ReviewServices:
    """Queues into the store; never started, so nothing is uploaded (no server here)."""
    return ReviewServices(run_on_store=writer.call,
                          transport=HttpTransport(base_url="http://127.0.0.1:9",
                                                  token=lambda: None, timeout_s=1),
                          client_id="pc-01", server_now_ms=lambda: None)


def record(services: ReviewServices, event: LockdownEvent) -> None:
    """What the exam window's lockdown guard does with each event (attach_lockdown)."""
    services.lockdown(event.finding(), event_id=event.event_id,
                      ended=event.ended_ms is not None, at_ms=event.started_ms)


def recorded(writer: StoreWriter) -> list[tuple[str, dict[str, object]]]:
    """As ProctorServices.candidate_status reads them."""
    return writer.call(lambda store: [(item.event_id, item.record) for item in all_items(store)
                                      if item.kind == "integrity"]).result()


def wait_queued(writer: StoreWriter, count: int) -> None:
    for _ in range(500):
        if len(recorded(writer)) >= count:
            return
        writer.call(lambda store: None).result()
    raise AssertionError("outbox items not written")


def test_losses_and_time_away_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "answers.db"
    clock = itertools.count(10_000, 1_000)  # every call 1 s later
    log = FocusLog(now_ms=lambda: next(clock))
    writer = open_writer(path)
    try:
        services = services_on(writer)
        for _ in range(2):  # away 1 s, then back
            lost = log.lost(taken_by="qq.exe")
            assert lost is not None
            record(services, lost)
            back = log.regained()
            assert back is not None
            record(services, back)
        display = log.displays(1) or log.displays(2)  # not a focus loss: not counted
        assert display is not None
        record(services, display)
        crashed = log.lost()  # the client stops while the candidate is away
        assert crashed is not None
        record(services, crashed)
        wait_queued(writer, 6)
        live = [(episode_id(event.event_id), {"finding": event.finding()})
                for event in log.events]
        # The running window's own list and the store's copies: each loss once.
        assert away_totals([*recorded(writer), *live]) == AwayTotals(
            losses=3, away_ms=2_000, unknown_returns=1)
    finally:
        writer.close()
    reopened = open_writer(path)  # the next start of the client, same exam
    try:
        totals = away_totals(recorded(reopened))
    finally:
        reopened.close()
    assert totals == AwayTotals(losses=3, away_ms=2_000, unknown_returns=1)
    assert totals.proctor_text() == (
        "离开考试窗口 3 次，共 2 秒（其中 1 次未记录返回时间，程序曾中断）")


def test_no_loss_and_other_findings() -> None:
    other = ("integrity-1", {"finding": {"code": "vm_detected", "kind": "vm"}})
    assert away_totals([other]) == AwayTotals(0, 0, 0)
    assert away_totals([other]).proctor_text() == "未离开考试窗口"


@pytest.mark.parametrize(("ms", "text"), [(0, "0 秒"), (12_400, "12 秒"), (185_000, "3 分 05 秒"),
                                          (3_725_000, "1 小时 02 分")])
def test_duration_text(ms: int, text: str) -> None:
    assert duration_text(ms) == text


def test_proctor_text_in_english() -> None:
    set_language("en")
    try:
        text = AwayTotals(losses=2, away_ms=65_000, unknown_returns=0).proctor_text()
    finally:
        set_language("zh_CN")
    assert text == "Left the exam window: 2 (away 1 min 05 s in total)"
