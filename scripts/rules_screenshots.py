"""Regenerate docs/screenshots/rules-*.png: the exam-day rule screens (issue 22).

- rules-pledge.png          the pledge page before the waiting room (Qt, under Xvfb)
- rules-materials-pc.png    proctor mode's 应急材料 dialog with a watermarked room photo
- rules-materials-web.png   /admin/materials in headless Chromium (a phone or laptop)
- rules-photo-report.png    /admin/photos: advice per candidate, no-photo list, history
- rules-seats.png           /admin/seats: client versions, pledge, proctors by real name

    python scripts/rules_screenshots.py      # starts Xvfb itself when there is no DISPLAY
    python scripts/rules_screenshots.py --qt-only   # only rules-pledge and rules-materials-pc
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "rules"), str(ROOT / "tests" / "support")]
PLEDGE = ("本人自愿参加本次考试，郑重承诺：\n"
          "一、已认真阅读考试规则和考场纪律，严格遵守；\n"
          "二、独立完成考试，不请人代考，不替他人考试；\n"
          "三、考试期间不使用手机等通讯工具，不打开与考试无关的软件；\n"
          "四、不拍摄、传播试题；\n"
          "如有违反，自愿接受取消考试成绩等处理。")
PLEDGE_EN = "I take this exam of my own will and pledge to keep the exam rules."


def ensure_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("SCREENSHOTS_UNDER_XVFB"):
        return
    if shutil.which("xvfb-run") is None:
        sys.exit("xvfb-run not found: apt-get install xvfb")
    env = dict(os.environ, SCREENSHOTS_UNDER_XVFB="1", QT_QPA_PLATFORM="xcb")
    sys.exit(subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1366x768x24",
                              sys.executable, *sys.argv], env=env))


def admin_login(page: Any, server: Any) -> None:
    """Log the browser page in as the demo admin."""
    page.goto(f"{server.url}/admin/login")
    page.fill("#username", server.demo.admin_username)
    page.fill("#password", server.demo.admin_password)
    with page.expect_navigation():  # the session cookie is set before the next goto
        page.click("#login")
    if "/admin/login" in page.url:
        raise RuntimeError(f"admin login failed: {page.url}")


def pump(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def qt_screens(server: Any, scratch: Path) -> None:
    from photo_synth import permitted_samples
    from PySide6.QtWidgets import QApplication
    from rules_support import rebuild_package

    from client.config import load_settings
    from client.paper.exam_rules import Pledge
    from client.session.factory import create_session
    from client.ui.app import GuiOptions, build_window
    from client.ui.materials_dialog import MaterialsDialog
    from server.pledges import set_pledge
    from server.proctors import verifiers_for

    app = QApplication.instance() or QApplication([])
    set_pledge(server.db, exam_id=server.demo.exam_id,
               pledge=Pledge(text_zh=PLEDGE, text_en=PLEDGE_EN), now_ms=server.clock.now_ms())
    rebuild_package(server)
    settings = load_settings([]).with_overrides({
        "server/url": server.url, "server/center_id": server.demo.center_id,
        "data/directory": scratch / "pc"})
    session = create_session(settings)
    window = build_window(session, GuiOptions(server_url=server.url))
    window.resize(1366, 768)
    window.show()
    window.login_page.username.setText(server.demo.username)
    window.login_page.password.setText(server.demo.password)
    window.login_page.login_button.click()
    deadline = time.monotonic() + 60
    while window.current_page != "pledge" and time.monotonic() < deadline:
        pump(app, 0.2)
    assert window.current_page == "pledge", window.current_page
    window.pledge_flow.page.confirm.setChecked(True)
    pump(app, 0.5)
    window.grab().save(str(OUT / "rules-pledge.png"))
    window.pledge_flow.page.agree_button.click()
    while window.current_page == "pledge" and time.monotonic() < deadline + 30:
        pump(app, 0.2)

    from client.camera.analyzer import FaceAnalyzer
    from client.proctor.materials import MaterialsOutbox, MaterialsWatermarkInfo, room_photo
    from client.review.services import transport_for

    with FaceAnalyzer(video_mode=False) as analyzer:
        sample = permitted_samples(analyzer, count=1)[0]
    proctor = verifiers_for(server.db, server.demo.exam_id)[0]
    # The center's name and address come from the login answer (the demo center's record),
    # not typed by the proctor.
    login = session.attempt.login

    def info(center: str, address: str, room: str) -> MaterialsWatermarkInfo:
        return MaterialsWatermarkInfo(
            exam_time="2026-06-01 09:00-11:00", center_id=server.demo.center_id,
            center_name=center, center_address=address, room=room,
            candidate_id="EMERGENCY", taken_at="2026-06-01 09:31:05", proctor=proctor.name)

    dialog = MaterialsDialog(
        proctor_id=proctor.proctor_id, proctor_name=proctor.name,
        outbox=MaterialsOutbox(run_on_store=session.run_on_store,
                               post_json=transport_for(session).post_json),
        capture=lambda mark: room_photo(sample.image, mark),
        watermark_info=info, now_ms=session.clock.now_ms,
        deadline_text="提交截止：考试时间单元结束（2026-06-01 11:00 或之后由考点设定的时间）",
        center_name=login.center_name, center_address=login.center_address, parent=window)
    dialog.room_edit.setText("第03考场")
    dialog.candidates_edit.setPlainText(f"{server.demo.username}\n"
                                        f"{server.demo.candidates[1].student_no}")
    dialog.reason_edit.setPlainText("本考场 2 名考生人脸识别未通过，已人工核验身份证件")
    dialog.add_photo(room_photo(sample.image, info(dialog.center_edit.text(),
                                                   dialog.center_address_edit.text(),
                                                   dialog.room_edit.text())))
    dialog.resize(760, 640)
    dialog.show()
    pump(app, 0.5)
    dialog.grab().save(str(OUT / "rules-materials-pc.png"))
    dialog.close()
    window.close()
    session.close()


def web_screens(server: Any) -> None:
    import cv2
    from photo_synth import VIOLATIONS, permitted_samples
    from playwright.sync_api import sync_playwright

    from client.camera.analyzer import FaceAnalyzer
    from server.base_photos import put_base_photo
    from server.proctors import add_proctor, set_face_match

    with FaceAnalyzer(video_mode=False) as analyzer:
        samples = permitted_samples(analyzer, count=2)
    keys = server.context.keys
    first = server.db.find_candidate(student_no=server.demo.candidates[0].student_no)
    second = server.db.find_candidate(student_no=server.demo.candidates[1].student_no)
    now = server.clock.now_ms()

    def jpeg(image: Any) -> bytes:
        return bytes(cv2.imencode(".jpg", image)[1].tobytes())

    put_base_photo(server.db, keys, candidate_id=first.id,
                   jpeg=jpeg(VIOLATIONS["head_covering"](samples[0])), now_ms=now - 86_400_000,
                   uploaded_by="cli")  # base photos come only through check-photos/add-photos
    put_base_photo(server.db, keys, candidate_id=first.id, jpeg=jpeg(samples[0].image),
                   now_ms=now, uploaded_by="cli")
    put_base_photo(server.db, keys, candidate_id=second.id,
                   jpeg=jpeg(VIOLATIONS["tinted_glasses"](samples[1])), now_ms=now,
                   uploaded_by="cli")
    add_proctor(server.db, exam_id=server.demo.exam_id, name="王监考", now_ms=now,
                id_number="110101198002023456", photo=jpeg(samples[1].image), keys=keys)
    set_face_match(server.db, exam_id=server.demo.exam_id, required=True)
    photo_file = Path(tempfile.mkdtemp()) / "room.jpg"
    photo_file.write_bytes(jpeg(samples[0].image))
    with sync_playwright() as p:
        # Debian's chromium, as the browser tests use (.ci/run installs it).
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
        admin_login(page, server)
        page.goto(f"{server.url}/admin/materials")
        page.fill("#room", "第03考场")
        page.fill("#reason", "考场网络中断，2 名考生人脸识别无法完成，已人工核验身份证件")
        page.check(f'input[value="{server.demo.username}"]')
        page.set_input_files("#photos", str(photo_file))
        page.click("#submit")
        page.wait_for_selector("#message")
        page.screenshot(path=str(OUT / "rules-materials-web.png"), full_page=True)
        page.goto(f"{server.url}/admin/photos")
        page.wait_for_selector("#photos")
        page.screenshot(path=str(OUT / "rules-photo-report.png"), full_page=True)
        browser.close()


def seats_screen(server: Any) -> None:
    """After the candidate accepted the pledge on the PC (qt_screens)."""
    from playwright.sync_api import sync_playwright

    from client import __version__
    from client.paper.exam_rules import VersionFloor
    from server.version_floor import set_floor

    set_floor(server.db, exam_id=server.demo.exam_id,
              floor=VersionFloor(min_version=__version__,
                                 download_hint="https://exam.example.edu.cn/client"),
              now_ms=server.clock.now_ms())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1100, "height": 700}, locale="zh-CN")
        admin_login(page, server)
        page.goto(f"{server.url}/admin/seats")
        page.screenshot(path=str(OUT / "rules-seats.png"), full_page=True)
        browser.close()


def main() -> int:
    qt_only = "--qt-only" in sys.argv[1:]  # the two Qt screens, without Chromium
    ensure_display()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from server.testing import live_server

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, \
            live_server(Path(scratch) / "server", start_in_s=-1800, duration_s=7200) as server:
        if not qt_only:
            web_screens(server)
        qt_screens(server, Path(scratch))
        if not qt_only:
            seats_screen(server)
    names = ("pledge", "materials-pc") if qt_only else (
        "pledge", "materials-pc", "materials-web", "photo-report", "seats")
    for name in names:
        print(OUT / f"rules-{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
