"""Screens of the attempt's life (docs/lifecycle.md) into docs/screenshots/:

    python scripts/lifecycle_screenshots.py     # starts Xvfb itself when there is no DISPLAY

13 time-up result page, 14 待审核, 15 已在其他电脑登录 (the old PC after a take-over; the
交卷 confirmation it had open is closed), 15b its proctor panel after exporting its answers,
16 proctor panel saying whether this PC's file will be importable, 17 proctor mode on the
login page of a held PC. Real client, real server (demo exam), screen grabs under Xvfb.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from screenshots import HEIGHT, OUT, WIDTH, ensure_display  # noqa: E402


def main() -> int:
    ensure_display()
    sys.path.insert(0, str(ROOT))
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from client.config import load_settings
    from client.export.removable_drives import ExportLocation
    from client.session.exam_session import Phase
    from client.session.factory import create_session
    from client.session.preload import preload_exam
    from client.sync.api import ExamApi
    from client.sync.clock import ServerClock
    from client.ui.app import GuiOptions, build_window, ensure_application
    from client.ui.main_window import ExamWindow
    from server.api_admin import authorize_login
    from server.testing import live_server

    app = ensure_application()
    OUT.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("screen did not appear in time")
            pump(0.05)

    def shot(name: str) -> None:
        pump(0.5)
        image = QGuiApplication.primaryScreen().grabWindow(0).toImage()
        path = OUT / f"{name}.png"
        image.save(str(path))
        print(f"screenshot {path.relative_to(ROOT)} {image.width()}x{image.height()}")

    def click(widget: QWidget) -> None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        pump(0.1)

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        with live_server(tmp / "server", demo=True, start_in_s=2, duration_s=5400) as server:
            demo = server.demo
            assert demo is not None
            settings = load_settings([]).with_overrides({
                "server/url": server.url, "server/center_id": demo.center_id,
                "server/timeout_seconds": 15})

            def window_on(pc: str, index: int) -> ExamWindow:
                shown = build_window(
                    create_session(settings.with_overrides({"data/directory": tmp / pc})),
                    GuiOptions(server_url=server.url))
                shown.setGeometry(0, 0, WIDTH, HEIGHT)
                shown.show()
                shown.move(QPoint(0, 0))
                who = demo.candidates[index]
                shown.login_page.username.setText(who.student_no)
                shown.login_page.password.setText(who.password)
                click(shown.login_page.login_button)
                return shown

            def unlock_proctor(window: ExamWindow) -> None:
                window.open_proctor_panel()
                panel = window.proctor_panel
                panel.name_edit.setText(demo.proctor_name)
                panel.password_edit.setText(demo.proctor_password)
                click(panel.unlock_button)
                wait_until(panel.is_unlocked)
                panel.move(QPoint(260, 30))

            def close(window: ExamWindow) -> None:
                if window.proctor_panel is not None:
                    window.proctor_panel.close()
                window.shutdown()
                window.hide()
                pump(0.3)

            # 16: the proctor panel during the exam says the file will be importable.
            first = window_on("pc-1", 0)
            wait_until(lambda: first.current_page == "exam")
            unlock_proctor(first)
            wait_until(lambda: "导入" in first.proctor_panel.status_labels["sync"].text())
            shot("16-proctor-file-importable")
            first.proctor_panel.end_proctor_mode()

            # 13: the end time arrives while the candidate answers.
            server.clock.set_now(demo.end_ms - 2_000)  # type: ignore[attr-defined]
            first.session.api.server_time_ms()
            wait_until(lambda: first.current_page == "result")
            shot("13-result-time-up")
            close(first)

            # 14: 待审核 with what to do.
            server.clock.set_now(demo.start_ms + 60_000)  # type: ignore[attr-defined]
            second = window_on("pc-2", 1)
            wait_until(lambda: second.current_page == "exam")
            candidate = server.db.find_candidate(student_no=demo.candidates[1].student_no)
            attempt = server.db.find_attempt(exam_id=demo.exam_id, candidate_id=candidate.id)
            server.db.set_review(attempt.id, pending=True, reason="identity")
            second._submit()
            wait_until(lambda: second.result_page.detail.text() == "待审核")
            shot("14-result-pending-review")
            close(second)

            # 15: the old PC after the candidate moved to another PC (take-over).
            old = window_on("pc-3-old", 2)
            wait_until(lambda: old.current_page == "exam")
            page = old.exam_page
            assert page is not None
            click(page.panes[0].editor.button(page.panes[0].item.option_ids[2]))
            click(page.submit_button)  # the 交卷 confirmation is open at the take-over ...
            who = demo.candidates[2]
            held = requests.post(server.api("/login"), timeout=15, json={
                "username": who.student_no, "password": who.password, "client_id": "pc-3-new"})
            assert held.status_code == 409
            authorize_login(server.db, exam_id=demo.exam_id, who=who.student_no,
                            approved_by="chief", now_ms=server.clock.now_ms())
            taken = requests.post(server.api("/login"), timeout=15, json={
                "username": who.student_no, "password": who.password, "client_id": "pc-3-new"})
            assert taken.status_code == 200
            wait_until(lambda: old.session.phase is Phase.REVOKED)  # the next heartbeat
            wait_until(lambda: old.current_page == "result")
            assert old.submit_dialog is None  # ... and closed with it
            shot("15-old-pc-revoked")
            # 15b: the proctor exports the old PC's answers from its revoked window.
            unlock_proctor(old)
            usb = tmp / "usb"
            usb.mkdir()
            panel = old.proctor_panel
            panel.location_list.setCurrentItem(panel._add_location(
                ExportLocation(path=usb, label="E: EXAM-USB [可移动磁盘]", removable=True)))
            click(panel.export_button)
            wait_until(lambda: panel.last_export is not None)
            shot("15b-old-pc-revoked-proctor-export")
            close(old)

            # 17: proctor mode on the login page of a PC held for a second login.
            preload_exam(api=ExamApi(server.url, clock=ServerClock(), timeout_s=15),
                         data_dir=tmp / "pc-4", exam_id=demo.exam_id,
                         admin_username=demo.admin_username,
                         admin_password=demo.admin_password)
            held_pc = window_on("pc-4", 2)
            wait_until(lambda: held_pc.session.phase is Phase.AUTHORIZING)
            unlock_proctor(held_pc)
            click(held_pc.proctor_panel.relogin_button)
            shot("17-held-pc-proctor-mode")
            close(held_pc)
    QApplication.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
