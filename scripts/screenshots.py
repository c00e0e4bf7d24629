"""Regenerate docs/screenshots/: every screen, as the X server shows it under Xvfb.

    python scripts/screenshots.py            # starts Xvfb itself when there is no DISPLAY
    python scripts/screenshots.py --only screens   # just the page matrix (docs/screenshots/
                                             # screen/): every page at 1366x768, full
                                             # screen, in Chinese, English and high contrast
    python scripts/screenshots.py --only exit      # 1024x768: four notices, the proctor's
                                                   # exit confirmation (screen/zh-19, 20)
    python scripts/screenshots.py --only more      # the readiness check, the pledge, the
                                                   # proctor panel locked and unlocked, a
                                                   # recorded screen lock and a monitor
                                                   # plugged in, in zh, en and both
                                                   # high-contrast (screen/*-21..26)

Drives the real client against the real reference server (demo exam) and grabs the
screen (QScreen.grabWindow of the root window: what a person would see, not a widget
render) after each step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1366, 768  # the typical lab monitor
SCREEN_OUT = OUT / "screen"


def ensure_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("SCREENSHOTS_UNDER_XVFB"):
        return
    if shutil.which("xvfb-run") is None:
        sys.exit("xvfb-run not found: apt-get install xvfb")
    env = dict(os.environ, SCREENSHOTS_UNDER_XVFB="1", QT_QPA_PLATFORM="xcb")
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {WIDTH}x{HEIGHT}x24",
               sys.executable, *sys.argv]
    sys.exit(subprocess.call(command, env=env))


def write_fixture_snapshot(target: Path, fixture: str) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "integrity"))
    from integrity_fixtures import load_case

    target.write_text(load_case(fixture).snapshot.dumps(), encoding="utf-8")
    return target


def write_candidate_photo(target: Path) -> None:
    """scikit-image's astronaut portrait (public domain) as a stand-in camera picture."""
    import cv2
    from skimage import data

    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    canvas = cv2.resize(image[0:400, 60:460], (480, 480))
    frame = cv2.copyMakeBorder(canvas, 0, 0, 80, 80, cv2.BORDER_REPLICATE)
    cv2.imwrite(str(target), frame)


def page_matrix(*, pump: Callable[[float], None], shot: Callable[[str], None],
                scratch: Path) -> None:
    """Every page of the exam window, presented as in an exam room (frameless, full screen
    on the primary screen), in Chinese, in English and in the high-contrast theme. No
    server: the pages carry representative content, as tests/ui/screen_support.py does."""
    from PySide6.QtWidgets import QLabel, QMessageBox

    from client.config import load_settings
    from client.paper.source import PaperSource
    from client.resources import resource_path
    from client.session.factory import create_session
    from client.ui.answer_editors import EssayEditor, FillBlankEditor
    from client.ui.app import GuiOptions, build_window, install_language
    from client.ui.exam_page import ExamPage
    from client.ui.input_simulation import type_text
    from client.ui.lockdown_guard import present_full_screen
    from client.ui.submit_dialog import SubmitDialog

    paper = PaperSource.from_path(resource_path("demo", "paper")).load()
    variants = [("zh", "zh_CN", False), ("en", "en", False), ("zh-high-contrast", "zh_CN", True)]
    for label, language, high_contrast in variants:
        settings = load_settings([]).with_overrides({
            "server/url": "http://127.0.0.1:9", "data/directory": scratch / label})
        window = build_window(create_session(settings), GuiOptions(
            server_url="http://127.0.0.1:9", language=language, high_contrast=high_contrast,
            demo_hint="演示考生：用户名 2024000001，密码 011234" if language == "zh_CN"
            else None))
        present_full_screen(window)
        pump(0.5)
        shot(f"screen/{label}-01-login")
        window.waiting_page.set_exam(title=paper.title.get(language), candidate="张三",
                                     student_no="2024000001", start_ms=1_780_000_000_000,
                                     end_ms=1_780_005_400_000)
        window.waiting_page.set_countdown(754_000)
        window.waiting_page.set_preloaded(window.tr("试卷已下载并校验完毕，等待考试开始"))
        window._show("waiting")
        shot(f"screen/{label}-02-waiting")
        page = ExamPage(paper=paper, candidate=window.tr("{name}（{student_no}）").format(
            name="张三", student_no="2024000001"), language=language, answers={}, plays={})
        window.exam_page = page
        window.pages.addWidget(page)
        window._show("exam")
        page.panes[0].editor.focus_first()
        shot(f"screen/{label}-03-exam-single")
        page.show_question(6)
        fill_in = page.panes[6].editor
        assert isinstance(fill_in, FillBlankEditor)
        for field, text in zip(fill_in.fields, ["Beijing", ""], strict=True):
            type_text(field, text)
        shot(f"screen/{label}-04-exam-fill-in-one-blank")
        page.show_question(7)
        essay = page.panes[7].editor
        assert isinstance(essay, EssayEditor)
        type_text(essay.text, "网络中断时，答案先保存在本机，恢复后自动上传。" * 14)
        page.toggle_flag()
        shot(f"screen/{label}-05-exam-essay-at-limit-flagged")
        notice = QLabel(window.tr("检测到离开考试窗口（第 {n} 次），已记录并会告知监考教师。"
                                  "请留在考试窗口内答题。").format(n=1))
        notice.setObjectName("notice")
        notice.setWordWrap(True)
        page.insert_notice(notice)
        page.show_message(window.tr(
            "无法播放音频：请检查耳机或音箱是否连接，并告知监考教师（本次播放不计次数）"))
        page.show_question(0)
        page.zoom(+3)
        shot(f"screen/{label}-06-exam-zoomed-with-notice")
        page.zoom(-3)
        dialog = SubmitDialog(unanswered=page.unanswered_numbers(),
                              flagged=page.flagged_numbers(), total=len(page.items),
                              parent=window)
        dialog.open()
        shot(f"screen/{label}-07-submit-dialog")
        dialog.reject()
        box = QMessageBox(QMessageBox.Icon.Question, window.tr("退出考试"),
                          window.tr("考试正在进行中，答案已保存在本机。确定要退出吗？"
                                    "重新登录需监考教师授权。"),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          window)
        box.open()
        shot(f"screen/{label}-08-qt-message-box")
        box.reject()
        window.result_page.show_score(score=38.0, max_score=50.0, pending_review=False)
        window._show("result")
        shot(f"screen/{label}-09-result")
        window.shutdown()
        window.hide()
        window.deleteLater()
        pump(0.3)
    install_language("zh_CN")


def more_screens(*, pump: Callable[[float], None], shot: Callable[[str], None],
                 scratch: Path) -> None:
    """The exam window's other pages with the representative content the layout and
    accessibility tests use (tests/ui/screen_support.py), full screen at 1366x768."""
    sys.path.insert(0, str(ROOT / "tests" / "ui"))
    from screen_support import proctor_panel, show_page

    from client.config import load_settings
    from client.lockdown.session_change import SessionChange
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, build_window, install_language
    from client.ui.lockdown_guard import present_full_screen

    variants = [("zh", "zh_CN", False), ("en", "en", False),
                ("zh-high-contrast", "zh_CN", True), ("en-high-contrast", "en", True)]
    for label, language, high_contrast in variants:
        settings = load_settings([]).with_overrides({
            "server/url": "http://127.0.0.1:9", "data/directory": scratch / label})
        window = build_window(create_session(settings), GuiOptions(
            server_url="http://127.0.0.1:9", language=language, high_contrast=high_contrast))
        present_full_screen(window)
        pump(0.5)
        show_page(window, "readiness")
        shot(f"screen/{label}-21-readiness")
        show_page(window, "pledge")
        shot(f"screen/{label}-22-pledge")
        show_page(window, "exam")
        guard = window.lockdown
        guard.session_changed(SessionChange.LOCKED)
        pump(0.2)
        guard.session_changed(SessionChange.UNLOCKED)
        shot(f"screen/{label}-23-exam-screen-lock-recorded")
        monitor_plugged_in(pump=pump, shot=shot, name=f"screen/{label}-26-exam-monitor-added")
        for unlocked, number in ((False, 24), (True, 25)):
            panel = proctor_panel(window, unlocked=unlocked)
            panel.show()
            panel.fit_to_screen(window.screen().availableGeometry())
            pump(0.3)
            state = "unlocked" if unlocked else "locked"
            shot(f"screen/{label}-{number}-proctor-{state}")
            panel.close()
        show_page(window, "result")
        window.shutdown()
        window.hide()
        window.deleteLater()
        pump(0.3)
    install_language("zh_CN")


def monitor_plugged_in(*, pump: Callable[[float], None],
                       shot: Callable[[str], None], name: str) -> None:
    """A projector plugged in mid-exam, as the X server announces it (a RandR 1.5
    monitor, tests/ui/xrandr_monitors.py): the exam stays on the primary, the notice says
    so. Skipped where the X server has no RandR 1.5."""
    from PySide6.QtGui import QGuiApplication
    from xrandr_monitors import XDisplay

    display = XDisplay()
    try:
        if display.randr_version() < (1, 5):
            print("no RandR 1.5 monitors: the monitor screenshot is skipped")
            return
        display.mark_first_output_primary()
        count = len(QGuiApplication.screens())
        with display.monitor_plugged_in("PROJECTOR", x=WIDTH, y=0, width=1024, height=768):
            deadline = time.monotonic() + 10
            while len(QGuiApplication.screens()) == count and time.monotonic() < deadline:
                pump(0.1)
            pump(0.3)
            shot(name)
        deadline = time.monotonic() + 10
        while len(QGuiApplication.screens()) != count and time.monotonic() < deadline:
            pump(0.1)
        pump(0.2)
    finally:
        display.close()


def resume_screens(*, pump: Callable[[float], None], shot: Callable[[str], None],
                   wait_until: Callable[..., None], click: Callable[[Any], None],
                   scratch: Path) -> None:
    """18: back in the exam after a crash (--resume), no password typed; 18b: the same on a
    PC whose credential store lost the resume secret (login page, answers kept)."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from client.config import load_settings
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, build_window
    from server.testing import live_server

    store = PlaintextKeyring()  # this PC's credential store, in one file
    store.file_path = str(scratch / "credential-store" / "keyring_pass.cfg")
    keyring.set_keyring(store)
    with live_server(scratch / "server", demo=True, start_in_s=3, duration_s=5400) as server:
        demo = server.demo
        assert demo is not None
        settings = load_settings([]).with_overrides({
            "server/url": server.url, "server/center_id": demo.center_id,
            "data/directory": scratch / "client", "sync/interval_seconds": 0.5})

        def window_on_this_pc() -> Any:
            shown = build_window(create_session(settings), GuiOptions(server_url=server.url))
            shown.setGeometry(0, 0, WIDTH, HEIGHT)
            shown.show()
            return shown

        first = window_on_this_pc()
        first.login_page.username.setText(demo.username)
        first.login_page.password.setText(demo.password)
        click(first.login_page.login_button)
        wait_until(lambda: first.current_page == "exam", timeout=40)
        page = first.exam_page
        pane = page.panes[0]
        click(pane.editor.button(pane.item.option_ids[1]))
        page.show_question(len(page.panes) - 1)
        wait_until(lambda: "已同步" in page.save_state.text())
        first.shutdown()  # the process dies: no logout, the ticket stays
        first.hide()

        resumed = window_on_this_pc()
        resumed.resume_exam()
        wait_until(lambda: resumed.current_page == "exam", timeout=40)
        pump(1.0)
        shot("18-resume-back-in-the-exam")
        resumed.shutdown()
        resumed.hide()

        Path(store.file_path).unlink()  # restore software wiped the credential store
        wiped = window_on_this_pc()
        wiped.resume_exam()
        wait_until(lambda: wiped.login_page.error.isVisible(), timeout=20)
        shot("18b-resume-refused-wiped-credential-store")
        wiped.shutdown()
        wiped.hide()


def exit_screens(*, pump: Callable[[float], None], wait_until: Callable[..., None],
                 click: Callable[[Any], None], scratch: Path) -> None:
    """A running exam on a 1024x768 screen (the smallest lab monitor): 19, four notices
    at once in the notice slot; 20, the proctor's 退出考试客户端 confirmation."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QLabel

    from client.camera.proctor_monitor import Condition
    from client.camera.proctor_monitor import notice_text as camera_text
    from client.config import load_settings
    from client.lockdown.focus import LockdownEvent
    from client.lockdown.focus import notice_text as lockdown_text
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, build_window
    from client.ui.camera_notice import ProctorNoticeBar
    from server.testing import live_server

    small = (1024, 768)

    def shot_small(name: str) -> None:
        pump(0.6)
        screen = QGuiApplication.primaryScreen()
        image = screen.grabWindow(0, 0, 0, *small).toImage()
        path = OUT / f"{name}.png"
        image.save(str(path))
        print(f"screenshot {path.relative_to(ROOT)} {image.width()}x{image.height()}")

    with live_server(scratch / "server", demo=True, start_in_s=2, duration_s=5400) as server:
        demo = server.demo
        assert demo is not None
        settings = load_settings([]).with_overrides({
            "server/url": server.url, "server/center_id": demo.center_id,
            "data/directory": scratch / "client"})
        window = build_window(create_session(settings), GuiOptions(server_url=server.url))
        window.setGeometry(0, 0, *small)
        window.show()
        window.login_page.username.setText(demo.username)
        window.login_page.password.setText(demo.password)
        click(window.login_page.login_button)
        wait_until(lambda: window.current_page == "exam", timeout=40)
        page = window.exam_page
        page.show_message(window.tr(
            "无法播放音频：请检查耳机或音箱是否连接，并告知监考教师（本次播放不计次数）"))
        if window.store_notice is None:  # a data directory off the system drive
            store = QLabel(window.tr(
                "数据目录 {path} 位于系统盘。若本机装有还原软件，重启后答案可能丢失；"
                "请在 user.ini 中把数据目录设到其他磁盘（如 D 盘）。").format(
                    path="C:\\ExamClient\\data"), page)
            store.setObjectName("storeNotice")
            store.setWordWrap(True)
            page.insert_notice(store)
        camera = ProctorNoticeBar(page)
        camera.label.setText(camera_text(Condition.CAMERA_UNAVAILABLE))
        camera.setVisible(True)
        page.insert_notice(camera)
        away = QLabel(lockdown_text(LockdownEvent(kind="focus_lost", number=2, started_ms=0)))
        away.setObjectName("notice")
        away.setWordWrap(True)
        page.insert_notice(away)
        shot_small("screen/zh-19-exam-four-notices-1024x768")

        window.open_proctor_panel()
        panel = window.proctor_panel
        panel.name_edit.setText(demo.proctor_name)
        panel.password_edit.setText(demo.proctor_password)
        click(panel.unlock_button)
        wait_until(panel.is_unlocked)
        click(panel.exit_button)
        wait_until(lambda: panel.exit_dialog is not None and panel.exit_dialog.isVisible())
        shot_small("screen/zh-20-proctor-exit-confirm")
        confirm = next(button for button in panel.exit_dialog.buttons()
                       if button.objectName() == "exitConfirmButton")
        click(confirm)
        wait_until(lambda: not window.isVisible(), timeout=10)


def main() -> int:
    only_screens = "--only" in sys.argv and "screens" in sys.argv
    ensure_display()
    sys.path.insert(0, str(ROOT))
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QWidget

    from client.config import load_settings
    from client.paper.model import QuestionType
    from client.session.factory import create_session
    from client.store.paths import store_paths
    from client.ui.answer_editors import ChoiceEditor
    from client.ui.app import GuiOptions, build_window, ensure_application
    from client.ui.checks import (
        IntegrityChecks,
        camera_checks_from,
        replayed_integrity_checks,
    )
    from client.ui.input_simulation import type_text
    from client.ui.main_window import ExamWindow
    from server.demo import DemoCandidate
    from server.testing import live_server

    app = ensure_application()
    OUT.mkdir(parents=True, exist_ok=True)

    def pump(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("screen did not appear in time")
            pump(0.05)

    def shot(name: str) -> None:
        pump(0.4)
        screen = QGuiApplication.primaryScreen()
        image = screen.grabWindow(0).toImage()
        path = OUT / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(path))
        print(f"screenshot {path.relative_to(ROOT)} {image.width()}x{image.height()}")

    def click(widget: QWidget) -> None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        pump(0.1)

    if only_screens:
        with tempfile.TemporaryDirectory() as scratch:
            page_matrix(pump=pump, shot=shot, scratch=Path(scratch))
        QApplication.quit()
        return 0

    if "--only" in sys.argv and "more" in sys.argv:
        with tempfile.TemporaryDirectory() as scratch:
            more_screens(pump=pump, shot=shot, scratch=Path(scratch))
        QApplication.quit()
        return 0

    if "--only" in sys.argv and "exit" in sys.argv:
        with tempfile.TemporaryDirectory() as scratch:
            exit_screens(pump=pump, wait_until=wait_until, click=click,
                         scratch=Path(scratch))
        QApplication.quit()
        return 0

    if "--only" in sys.argv and "resume" in sys.argv:
        with tempfile.TemporaryDirectory() as scratch:
            resume_screens(pump=pump, shot=shot, wait_until=wait_until, click=click,
                           scratch=Path(scratch))
        QApplication.quit()
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        with live_server(tmp / "server", demo=True, start_in_s=12, duration_s=5400) as server:
            demo = server.demo
            assert demo is not None
            settings = load_settings([]).with_overrides({
                "server/url": server.url, "server/center_id": demo.center_id,
                "data/directory": tmp / "client"})
            session = create_session(settings)
            hint = (f"演示考生：用户名 {demo.username}，密码 {demo.password}\n"
                    "演示考试将在启动约 12 秒后开始")
            snapshot = write_fixture_snapshot(tmp / "snapshot.json", "tool_todesk")
            integrity = replayed_integrity_checks(snapshot)
            integrity.process_interval_s, integrity.device_interval_s = 0.5, 1.0
            still = tmp / "candidate.png"
            write_candidate_photo(still)
            camera = camera_checks_from(settings.with_overrides({"camera/source": still}),
                                        enforce=False, low_end=False)
            window = build_window(session, GuiOptions(server_url=server.url, demo_hint=hint,
                                                      integrity=integrity, camera=camera))
            window.setGeometry(0, 0, WIDTH, HEIGHT)
            window.show()
            window.move(QPoint(0, 0))
            shot("01-login")

            window.login_page.username.setText(demo.username)
            window.login_page.password.setText("123123")
            click(window.login_page.login_button)
            wait_until(lambda: window.login_page.error.isVisible())
            shot("02-login-wrong-password")

            window.login_page.password.setText(demo.password)
            click(window.login_page.login_button)
            wait_until(lambda: window.current_page == "waiting")
            wait_until(lambda: window.waiting_page.progress.value() == 100)
            wait_until(lambda: window.integrity_panel is not None
                       and bool(window.integrity_panel.findings))
            pump(2.0)
            shot("03-waiting-room-todesk-found")
            write_fixture_snapshot(snapshot, "fp_clean_lab_pc")
            window.integrity_panel.recheck()
            wait_until(lambda: window.integrity_panel.allowed)
            shot("03b-waiting-room-checks-passed")

            wait_until(lambda: window.current_page == "exam", timeout=40)
            page = window.exam_page
            assert page is not None
            shots_by_type: dict[QuestionType, str] = {}
            for index, pane in enumerate(page.panes):
                page.show_question(index)
                editor = pane.editor
                kind = pane.item.type
                if kind is QuestionType.SINGLE:
                    click(editor.button(pane.item.option_ids[0]))
                elif kind is QuestionType.MULTIPLE:
                    for option_id in pane.item.option_ids[:2]:
                        click(editor.button(option_id))
                elif kind is QuestionType.TRUE_FALSE:
                    click(editor.true_button)
                elif kind is QuestionType.FILL_BLANK:
                    for field, text in zip(editor.findChildren(QLineEdit), ["北京", "1949"],
                                           strict=False):
                        type_text(field, text)
                elif kind is QuestionType.ESSAY:
                    type_text(editor.findChild(QPlainTextEdit),
                              "网络中断时，答案先保存在本机，恢复后自动上传。")
                name = kind.value
                if pane.item.audio is not None:
                    name = "listening"
                elif "<img" in pane.item.stem.source:
                    name = "image"
                if name not in shots_by_type.values():
                    pump(0.6)
                    shot(f"04-exam-{index + 1:02d}-{name}")
                    shots_by_type[kind] = name
            write_fixture_snapshot(snapshot, "tool_anydesk")
            wait_until(lambda: window.integrity_overlay.isVisible())
            shot("04z-exam-paused-anydesk-started")
            write_fixture_snapshot(snapshot, "fp_clean_lab_pc")
            wait_until(lambda: not window.integrity_overlay.isVisible())
            window.open_proctor_panel()
            panel = window.proctor_panel
            panel.name_edit.setText(demo.proctor_name)
            panel.password_edit.setText(demo.proctor_password)
            click(panel.unlock_button)
            wait_until(panel.is_unlocked)
            panel.move(QPoint(260, 30))
            pump(1.0)
            shot("09-proctor-mode")
            panel.close()
            pump(0.3)
            page.show_question(len(page.panes) - 1)
            page.toggle_flag()
            page.zoom(+3)
            wait_until(lambda: "已同步" in page.save_state.text())
            shot("05-exam-zoomed-flagged-synced")
            page.zoom(-3)

            click(page.submit_button)
            pump(0.5)
            shot("06-submit-confirmation")
            click(window.submit_dialog.confirm_button)
            wait_until(lambda: window.current_page == "result")
            shot("07-result-computing")
            wait_until(lambda: "/" in window.result_page.score.text())
            shot("08-result-scored")
            window.shutdown()
            window.hide()

            def log_in_on_pc(data_dir: Path, candidate: DemoCandidate, *,
                             integrity: IntegrityChecks | None = None) -> ExamWindow:
                """A fresh client on another PC (its own data directory) logs *candidate* in."""
                shown = build_window(
                    create_session(settings.with_overrides({"data/directory": data_dir})),
                    GuiOptions(server_url=server.url, integrity=integrity))
                shown.setGeometry(0, 0, WIDTH, HEIGHT)
                shown.show()
                shown.login_page.username.setText(candidate.student_no)
                shown.login_page.password.setText(candidate.password)
                click(shown.login_page.login_button)
                return shown

            # 李四 already sits the exam on another PC: this PC needs the proctor's code.
            other = demo.candidates[1]
            first_pc = create_session(settings.with_overrides(
                {"data/directory": tmp / "first-pc"}))
            first_pc.login(username=other.student_no, password=other.password)
            first_pc.close()
            second = log_in_on_pc(tmp / "second-pc", other)
            wait_until(lambda: second.login_page.code_box.isVisible())
            shot("10-second-login-needs-proctor-code")
            second.shutdown()
            second.hide()

            # The third candidate's store is torn by a power cut after the first answer:
            # logging in again recovers it, and the exam page says so to the proctor.
            third = demo.candidates[2]
            clean = replayed_integrity_checks(snapshot)

            def third_logs_in() -> ExamWindow:
                shown = log_in_on_pc(tmp / "torn-pc", third, integrity=clean)
                wait_until(lambda: shown.current_page == "exam", timeout=40)
                return shown

            before = third_logs_in()
            torn_page = before.exam_page
            assert torn_page is not None
            first = torn_page.panes[0]
            assert isinstance(first.editor, ChoiceEditor)  # the demo paper opens with one
            click(first.editor.button(first.item.option_ids[0]))
            wait_until(lambda: "已同步" in torn_page.save_state.text())
            login = before.session.attempt.login
            torn = store_paths(tmp / "torn-pc", exam_id=login.exam.id,
                               candidate_id=login.candidate_id).db
            before.shutdown()
            before.hide()
            with torn.open("r+b") as damaged:
                damaged.write(b"\xa5" * 4096)
            after = third_logs_in()
            pump(1.0)
            shot("12-exam-store-recovered")
            after.shutdown()
            after.hide()

            from client.readiness.runner import ReadinessContext
            from client.ui.readiness_screen import ReadinessScreen

            readiness = ReadinessScreen(ReadinessContext.from_settings(settings), upload=False)
            readiness.setGeometry(0, 0, WIDTH, HEIGHT)
            readiness.show()
            readiness.start()
            pump(25.0)  # every check line (camera, GPU probe, network) has reported by then
            shot("11-readiness-check")
            readiness.close()
            pump(0.3)
    QApplication.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
