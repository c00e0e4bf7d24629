"""A REAL client session held twice and let in from the browser console (Playwright,
Debian's chromium): 李四's PC broke, the new PC's login is held as a second login and the
chief examiner approves it by its request number; then the face check on the new PC
fails, the proctor of the room sees 人脸核验未通过 with the check's frames beside the
base photo and approves entry with a reason; the session learns it from its heartbeat,
opens the paper and answers, and the tile shows it. Real server on 127.0.0.1, real HTTP,
real SQLCipher store (tests/support/exam_sessions.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from console_helpers import candidate_login
from exam_sessions import exam_session, open_paper
from face_photos import face_jpeg
from test_console_browser import CHROMIUM, _log_in, _shot, browser  # noqa: F401 (fixture)

from client.camera.identity_check import IdentityResult, Outcome
from client.errors import UserFacingError
from client.session.exam_session import Phase, SessionEvents
from client.session.identity_hold import HoldDecision
from server.base_photos import put_base_photo
from server.demo import DEMO_CANDIDATES
from server.testing import LiveServer

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="needs Debian's chromium (.ci/run installs it)")
ZHANG, LI, CHEN = DEMO_CANDIDATES


def _wait(predicate, *, timeout_s: float, what: str) -> None:
    import time
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.05)


def test_a_held_client_session_is_let_in_from_the_browser_and_reaches_the_exam(
        browser, srv: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    decisions: list[HoldDecision] = []
    assert candidate_login(srv, LI, client_id="pc-02").status_code == 200  # the broken PC
    srv.clock.advance(ms=700_000)  # the exam runs; the old PC has been silent for minutes
    session = exam_session(srv, tmp_path / "pc-17",
                           SessionEvents(on_identity_decision=decisions.append))
    try:
        with pytest.raises(UserFacingError):
            session.login(username=LI.student_no, password=LI.password)
        assert session.phase is Phase.AUTHORIZING
        assert session.authorization is not None
        request_id = session.authorization.request_id
        li_id = int(session.authorization.candidate_id)
        put_base_photo(srv.db, srv.context.keys, candidate_id=li_id, jpeg=face_jpeg(),
                       now_ms=srv.clock.now_ms(), uploaded_by="test")

        # 1. The second login: the chief examiner approves it by the number the PC shows.
        chief, chief_errors = _log_in(browser, srv, "zhukao")
        chief.wait_for_selector('.tile[data-seat="2"][data-state="held"]', timeout=6000)
        assert f"#{request_id}" in chief.inner_text('.tile[data-seat="2"]')
        chief.click('.tile[data-seat="2"]')
        chief.click('[data-action="approve_login"]')
        chief.fill("#reason", "原电脑蓝屏，已核对身份证")
        chief.click("#confirm")
        chief.wait_for_selector("#dialog .ok")
        session.retry_login()
        assert session.phase is Phase.WAITING

        # 2. The face check on the new PC fails as often as allowed: held, the paper shut.
        failed = IdentityResult(outcome=Outcome.NOT_MATCHED, message="与底照比对未通过",
                                reason="match.below_threshold", threshold=0.363, score=0.22,
                                captures=(face_jpeg(0), face_jpeg(1)), attempt=3,
                                failures_before=2)
        hold_id = session.request_identity_hold(failed, event_id="evt-new-pc-check-3")
        with pytest.raises(UserFacingError) as held:
            open_paper(session)
        assert held.value.code == "identity.held"

        proctor, proctor_errors = _log_in(browser, srv, "jiankao")
        badge = '.tile[data-seat="2"] .badge.face-pending'
        proctor.wait_for_selector(badge, timeout=6000)
        assert f"#{hold_id}" in proctor.inner_text(badge)
        proctor.click('.tile[data-seat="2"]')
        proctor.wait_for_selector("#face-hold[data-status=pending]")
        section = proctor.inner_text("#face-hold")
        assert "人脸核验未通过" in section and "与底照比对未通过" in section
        assert "0.220" in section and "0.363" in section
        # The frames and the base photo are loaded pictures, side by side.
        proctor.wait_for_function(
            "() => [...document.querySelectorAll('#face-hold img')]"
            ".every((img) => img.complete && img.naturalWidth > 0)", timeout=6000)
        assert proctor.locator("#face-hold img").count() == 3
        _shot(proctor, "console-12-face-hold.png")

        proctor.click('[data-action="approve_face"]')
        proctor.click("#confirm")  # no reason: refused, nothing decided
        proctor.wait_for_selector("#dialog .error")
        assert "请填写原因" in proctor.inner_text("#dialog")
        proctor.fill("#reason", "已到座位核对身份证，系本人，室内光线暗")
        proctor.click("#confirm")
        proctor.wait_for_selector("#dialog .ok")
        proctor.wait_for_selector("#face-hold[data-status=approved]", timeout=6000)
        assert "已批准入场" in proctor.inner_text("#face-hold")

        # 3. The PC hears it on its next heartbeat, opens the paper and answers.
        _wait(lambda: bool(decisions), timeout_s=10, what="the approval by heartbeat")
        assert decisions[0].approved and decisions[0].hold_id == hold_id
        open_paper(session)
        assert session.phase is Phase.RUNNING
        first = next(iter(session.paper.items()))
        session.save_answer(first.id, first.option_ids[0])
        proctor.wait_for_selector('.tile[data-seat="2"][data-state="answering"]', timeout=8000)
        _wait(lambda: "已答 1" in proctor.inner_text('.tile[data-seat="2"]'), timeout_s=10,
              what="the answer on the tile")
        assert "监考已审批入场" in proctor.inner_text('.tile[data-seat="2"]')
        proctor.evaluate("document.getElementById('detail').scrollTop = 0")
        _shot(proctor, "console-13-face-approved.png")

        chief.click("#audit-link")
        chief.wait_for_selector("#audit")
        audit = chief.inner_text("#audit")
        assert "人脸核验未通过，批准入场" in audit and "批准再次登录" in audit
        assert "已到座位核对身份证，系本人，室内光线暗" in audit
        assert not proctor_errors and not chief_errors, proctor_errors + chief_errors
    finally:
        session.close()
