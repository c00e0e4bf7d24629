"""Emergency materials: accepted until the end of the exam's time unit, refused after with
the deadline; from an exam PC (proctor mode) and from a browser; sealed at rest; shown in
review beside the candidates they concern."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from rules_support import make_session
from skimage import data as skdata

from client.camera.analyzer import decode_image
from client.camera.evidence import capture_evidence_photo
from client.camera.sources import MemorySequenceSource
from client.proctor.materials import (
    MaterialsOutbox,
    MaterialsWatermarkInfo,
    Submission,
    parse_candidates,
    room_photo,
)
from client.review.services import transport_for
from client.timefmt import beijing_datetime
from server.admin_web.materials_routes import upload_watermark
from server.center_address import CenterLabel, center_label, set_center_address
from server.demo import (
    DEMO_ADMIN_NAME,
    DEMO_ADMIN_USERNAME,
    DEMO_CENTER_ADDRESS,
    DEMO_CENTER_NAME,
)
from server.materials import deadline_ms, list_materials, material_photos, set_time_unit_end
from server.proctors import verifiers_for
from server.testing import LiveServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))
from review_helpers import login as candidate_login

sys.path.pop(0)


def room_image() -> Any:
    return np.ascontiguousarray(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))


def info(**changes: str) -> MaterialsWatermarkInfo:
    values = {"exam_time": "2026-06-01 09:00-11:00", "center_id": "demo-center",
              "center_name": "北京市第一中学考点", "room": "第03考场",
              "candidate_id": "EMERGENCY", "taken_at": "2026-06-01 09:31",
              "proctor": "王老师", "center_address": "海淀区学院路 1 号"}
    values.update(changes)
    return MaterialsWatermarkInfo(**values)


def photo() -> bytes:
    return room_photo(room_image(), info())


def pc_outbox(server: LiveServer, tmp_path: Path) -> tuple[Any, MaterialsOutbox, str]:
    assert server.demo is not None
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    proctor = verifiers_for(server.db, server.demo.exam_id)[0]
    return session, MaterialsOutbox(run_on_store=session.run_on_store,
                                    post_json=transport_for(session).post_json), proctor.proctor_id


def submission(proctor_id: str, *candidates: str) -> Submission:
    return Submission(proctor_id=proctor_id, room="第03考场",
                      reason="3 名考生人脸识别未通过，已人工核验身份证",
                      candidates=candidates, photos=(photo(),), taken_at_ms=None)


def test_watermark_carries_exam_time_center_and_proctor() -> None:
    lines = info().lines()
    assert lines[0].startswith("考试时间 2026-06-01 09:00-11:00")
    assert "北京市第一中学考点" in lines[1] and lines[2] == "地址 海淀区学院路 1 号"
    assert "第03考场" in lines[1] and "监考 王老师" in lines[3]
    assert len(info(center_address="").lines()) == 3  # no address, no empty line
    plain = room_image()
    marked = decode_image(photo())
    assert marked is not None and marked.shape == plain.shape
    band = np.abs(marked[-60:].astype(int) - plain[-60:].astype(int)).mean()
    middle = np.abs(marked[200:260].astype(int) - plain[200:260].astype(int)).mean()
    assert band > 20 > middle  # a readable band at the bottom, the room still visible
    # The webcam path: the same watermark on a captured frame.
    captured = capture_evidence_photo(MemorySequenceSource([plain] * 3), info(), warmup_frames=2)
    assert captured.jpeg.startswith(b"\xff\xd8\xff") and captured.cjk_rendered


def test_a_long_address_is_shrunk_to_fit_not_cut_off() -> None:
    from client.camera.watermark import _draw_band_pillow, find_cjk_font

    font = find_cjk_font()
    assert font is not None
    black = np.zeros((480, 640, 3), np.uint8)
    long_address = ("北京市海淀区学院路街道学院路 1 号北京市第一中学东校区实验楼三层西侧"
                    "（自东门进入，沿主路向北第二栋）")
    lines = info(center_address=long_address).lines()
    marked = _draw_band_pillow(black, lines, font)
    assert marked is not None
    band = marked[-140:]
    assert band.max() > 200  # the text is there ...
    margin = 640 // 36 // 2
    assert band[:, -margin:].max() == 0  # ... and ends before the right edge


def test_pc_materials_accepted_before_and_refused_after_the_time_unit(
        server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    session, outbox, proctor_id = pc_outbox(server, tmp_path)
    second = server.demo.candidates[1].student_no
    outcome = outbox.submit(submission(proctor_id, server.demo.username, second))
    assert (outcome.sent, outcome.pending, outcome.closed_message) == (1, 0, None)
    [stored] = list_materials(server.db, exam_id=server.demo.exam_id, center_id=None)
    assert stored.candidates == tuple(sorted([server.demo.username, second]))
    assert stored.submitted_by.startswith(f"proctor:{proctor_id} ")
    assert stored.source == "pc" and len(stored.photos) == 1
    # The time unit ends with the exam: one minute after the end, nothing is taken.
    exam = server.db.get_exam(server.demo.exam_id)
    assert exam is not None and deadline_ms(server.db, exam) == exam.end_ms
    server.clock.advance(ms=exam.end_ms - server.clock.now_ms() + 60_000)  # type: ignore[attr-defined]
    late = outbox.submit(submission(proctor_id, server.demo.username))
    assert late.sent == 0 and late.pending == 0
    assert late.closed_message is not None and "已截止" in late.closed_message
    assert f"截止时间 {beijing_datetime(exam.end_ms)}，北京时间" in late.closed_message
    raw = requests.post(server.api("/materials"), json=submission(proctor_id).to_body(),
                        headers={"Authorization": f"Bearer {session.api.token}"}, timeout=10)
    assert raw.status_code in (401, 403)  # token expired or closed: never stored
    assert len(list_materials(server.db, exam_id=server.demo.exam_id, center_id=None)) == 1
    session.close()


def test_time_unit_end_after_the_exam_keeps_submission_open(server: LiveServer,
                                                            tmp_path: Path) -> None:
    assert server.demo is not None
    session, outbox, proctor_id = pc_outbox(server, tmp_path)
    exam = server.db.get_exam(server.demo.exam_id)
    assert exam is not None
    set_time_unit_end(server.db, exam_id=exam.id, unit_end_ms=exam.end_ms + 30 * 60_000)
    token = session.api.token
    server.clock.advance(ms=exam.end_ms - server.clock.now_ms() - 1000)  # type: ignore[attr-defined]
    assert outbox.submit(submission(proctor_id)).sent == 1
    body = submission(proctor_id).to_body()
    server.clock.advance(ms=40 * 60_000)  # type: ignore[attr-defined]
    late = requests.post(server.api("/materials"), json=body,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert late.status_code in (401, 403)
    session.close()


def test_unsent_materials_wait_in_the_store_and_a_resend_is_not_a_duplicate(
        server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    session, online, proctor_id = pc_outbox(server, tmp_path)

    def no_network(path: str, body: object, /) -> object:
        raise requests.ConnectionError("switch off")

    offline = MaterialsOutbox(run_on_store=session.run_on_store, post_json=no_network)
    outcome = offline.submit(submission(proctor_id))
    assert (outcome.sent, outcome.pending) == (0, 1)
    assert list_materials(server.db, exam_id=server.demo.exam_id, center_id=None) == []
    assert online.send_pending().sent == 1
    assert online.pending() == 0
    again = submission(proctor_id)
    online.submit(again)
    body = again.to_body()
    resend = requests.post(server.api("/materials"), json=body, timeout=10,
                           headers={"Authorization": f"Bearer {session.api.token}"})
    assert resend.status_code == 200
    assert len(list_materials(server.db, exam_id=server.demo.exam_id, center_id=None)) == 2
    session.close()


def test_refusals_not_a_proctor_no_reason_unknown_candidate(server: LiveServer,
                                                           tmp_path: Path) -> None:
    assert server.demo is not None
    session, _outbox, proctor_id = pc_outbox(server, tmp_path)
    headers = {"Authorization": f"Bearer {session.api.token}"}

    def post(body: dict[str, Any]) -> requests.Response:
        return requests.post(server.api("/materials"), json=body, headers=headers, timeout=10)

    good = submission(proctor_id).to_body()
    assert post({**good, "proctor_id": "p-forged"}).json()["error"] == "materials_not_a_proctor"
    assert post({**good, "reason": "  "}).json()["error"] == "materials_reason"
    assert post({**good, "candidates": ["1999"]}).json() == {
        "error": "materials_unknown_candidates", "detail": {"candidates": ["1999"]}}
    assert post({**good, "photos": ["aGVsbG8="]}).json()["error"] == "materials_not_jpeg"
    assert parse_candidates("2024000001，2024000002\n2024000001 x1") == (
        "2024000001", "2024000002", "X1")
    session.close()


def test_photos_are_sealed_at_rest(server: LiveServer, tmp_path: Path) -> None:
    assert server.demo is not None
    session, outbox, proctor_id = pc_outbox(server, tmp_path)
    outbox.submit(submission(proctor_id))
    with server.db.read() as conn:
        [sealed] = conn.execute(material_photos.select()).all()
    assert b"\xff\xd8\xff" not in sealed.jpeg_sealed and b"JFIF" not in sealed.jpeg_sealed
    session.close()


def test_browser_upload_then_review_shows_materials_beside_the_candidate(
        server: LiveServer) -> None:
    from admin_web import admin_session, csrf_of

    from client.review.outbox import identity_item

    assert server.demo is not None
    alice = candidate_login(server)  # held for review: identity failed, proctor let her in
    item = identity_item(passed=False, reason="match.not_matched", score=0.2, threshold=0.363,
                         record={}, at_ms=server.clock.now_ms(), approved_by_proctor=True,
                         proctor_id="p-07", captures=[photo()], evidence=None)
    alice.post("/attempt/identity", item.request_entry()).raise_for_status()
    browser = admin_session(server)
    page = browser.get(f"{server.url}/admin/materials", timeout=10).text
    assert 'id="upload"' in page and "提交截止时间" in page
    # Signed by the real name of the admin's account (add-admin --name), not a typed field.
    signature = f"{DEMO_ADMIN_NAME}（考点管理员，{DEMO_ADMIN_USERNAME}）"
    assert f"提交人（写入水印）：{signature}" in page and 'id="no-real-name"' not in page
    assert f'<span id="admin-name">{DEMO_ADMIN_NAME}</span>' in page  # every page's header
    upload = browser.post(f"{server.url}/admin/materials", data={
        "csrf": csrf_of(page), "exam": server.demo.exam_id, "room": "第03考场",
        "reason": "考场网络中断，人脸识别无法完成",
        "candidates": [server.demo.username]},
        files=[("photos", ("room.jpg", photo(), "image/jpeg"))], timeout=30)
    assert upload.status_code == 200 and "已提交（1 张照片）" in upload.text
    [material] = list_materials(server.db, exam_id=server.demo.exam_id, center_id=None)
    assert (material.source, material.submitted_by) == ("web", signature)
    review = browser.get(f"{server.url}/admin/review", timeout=10).text
    row = review[review.index(f'data-student="{server.demo.username}"'):]
    row = row[:row.index("</tr>")]
    assert f'id="material-{material.id}"' in row and "考场网络中断" in row
    assert signature in row  # review names the uploader by real name
    image = browser.get(f"{server.url}/admin/materials/photo/{material.photos[0].id}",
                        timeout=10)
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8\xff")
    # The server's watermark names the admin's center as registered (name and address).
    exam = server.db.get_exam(server.demo.exam_id)
    assert exam is not None and material.taken_at_ms is not None
    label = center_label(server.db, server.demo.center_id)
    expected = upload_watermark(exam=exam, center=label, room="第03考场",
                                who=material.submitted_by, now_ms=material.taken_at_ms)
    assert expected.lines()[1] == (f"考点 {DEMO_CENTER_NAME}（{server.demo.center_id}）"
                                   " 考场 第03考场")
    assert expected.lines()[2] == f"地址 {DEMO_CENTER_ADDRESS}"
    source = decode_image(photo())
    assert source is not None and image.content == room_photo(source, expected)
    assert requests.get(f"{server.url}/admin/materials/photo/{material.photos[0].id}",
                        timeout=10).status_code == 401
    # After the time unit: the page says so and an upload is refused with the deadline.
    server.clock.advance(ms=exam.end_ms - server.clock.now_ms() + 1000)  # type: ignore[attr-defined]
    closed_page = browser.get(f"{server.url}/admin/materials", timeout=10).text
    deadline = beijing_datetime(exam.end_ms)
    assert f"应急材料提交已截止（截止时间 {deadline}）" in closed_page
    assert 'id="upload"' not in closed_page
    late = browser.post(f"{server.url}/admin/materials", data={
        "csrf": csrf_of(page), "exam": server.demo.exam_id, "reason": "迟交"},
        files=[("photos", ("room.jpg", photo(), "image/jpeg"))], timeout=30)
    assert late.status_code == 403
    assert f"应急材料提交已截止（截止时间 {deadline}）" in late.text


def test_the_centers_registered_name_and_address_reach_the_exam_pc(
        server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from server import cli as server_cli

    assert server.demo is not None
    session = make_session(server, tmp_path / "pc")
    login = session.login(username=server.demo.username, password=server.demo.password)
    assert (login.center_name, login.center_address) == (DEMO_CENTER_NAME, DEMO_CENTER_ADDRESS)
    session.close()
    # The platform changes it with add-center --address; a run without --address keeps it.
    data = ["--data", str(server.data_dir)]
    assert server_cli.main(["add-center", *data, server.demo.center_id, "北京市第一中学考点",
                            "--address", "海淀区  学院路 1 号"]) == 0
    assert server_cli.main(["add-center", *data, server.demo.center_id,
                            "北京市第一中学考点"]) == 0
    assert "已保存" in capsys.readouterr().out
    assert center_label(server.db, server.demo.center_id) == CenterLabel(
        id=server.demo.center_id, name="北京市第一中学考点", address="海淀区 学院路 1 号")
    second = server.demo.candidates[1]  # another candidate of the center, another PC
    session = make_session(server, tmp_path / "pc2")
    login = session.login(username=second.student_no, password=second.password)
    assert (login.center_name, login.center_address) == ("北京市第一中学考点",
                                                         "海淀区 学院路 1 号")
    session.close()
    # A center without an address: the name alone; no center at all: nothing.
    set_center_address(server.db, center_id=server.demo.center_id, address="")
    assert center_label(server.db, server.demo.center_id).address == ""  # type: ignore[union-attr]
    assert center_label(server.db, None) is None
    assert center_label(server.db, "no-such-center") is None


@pytest.fixture
def server(tmp_path: Path) -> Any:
    from server.testing import live_server

    # Started: materials are taken 30 minutes after the start (the test does not wait).
    with live_server(tmp_path / "server", demo=True, start_in_s=-1800,
                     duration_s=3600) as srv:
        yield srv


def test_an_admin_without_a_registered_real_name_is_told_and_signs_as_such(
        server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    """An admin account from before real names (schema 3) keeps working on exam day: the
    page says the name is missing and how to register it, the upload is signed 未登记实名
    with the account; after add-admin --name the same account signs with the name."""
    from admin_web import admin_session, csrf_of

    from server import cli as server_cli
    from server.passwords import hash_admin_password

    assert server.demo is not None
    data = ["--data", str(server.data_dir)]
    # A new admin must be registered by real name.
    assert server_cli.main(["add-admin", *data, "north-admin", "--center",
                            server.demo.center_id, "--password", "north-pw-1"]) == 1
    assert "staff.real_name_required" in capsys.readouterr().err
    assert server.db.get_admin("north-admin") is None
    server.db.upsert_admin(username="north-admin", center_id=server.demo.center_id,
                           password_hash=hash_admin_password("north-pw-1"))  # as before
    north = admin_session(server, username="north-admin", password="north-pw-1")
    page = north.get(f"{server.url}/admin/materials", timeout=10).text
    assert 'id="no-real-name"' in page and "add-admin north-admin --name" in page
    assert '<span id="admin-name">未登记实名</span>' in page

    def send(page: str) -> str:
        sent = north.post(f"{server.url}/admin/materials", data={
            "csrf": csrf_of(page), "exam": server.demo.exam_id, "room": "第03考场",
            "reason": "人脸识别无法完成"},
            files=[("photos", ("room.jpg", photo(), "image/jpeg"))], timeout=30)
        assert sent.status_code == 200 and "已提交（1 张照片）" in sent.text, sent.text[-500:]
        return list_materials(server.db, exam_id=server.demo.exam_id,
                              center_id=None)[-1].submitted_by

    assert send(page) == "未登记实名（考点管理员，north-admin）"
    # Updating an existing admin without --name keeps the account and warns once.
    assert server_cli.main(["add-admin", *data, "north-admin", "--center",
                            server.demo.center_id, "--password", "north-pw-1"]) == 0
    assert "尚未登记真实姓名" in capsys.readouterr().out
    assert server_cli.main(["add-admin", *data, "north-admin", "--center",
                            server.demo.center_id, "--name", " 钱立 ",
                            "--password", "north-pw-1"]) == 0
    north = admin_session(server, username="north-admin", password="north-pw-1")
    page = north.get(f"{server.url}/admin/materials", timeout=10).text
    assert 'id="no-real-name"' not in page
    assert send(page) == "钱立（考点管理员，north-admin）"
    # A later update without --name keeps the registered name.
    assert server_cli.main(["add-admin", *data, "north-admin", "--center",
                            server.demo.center_id, "--password", "north-pw-2"]) == 0
    admin = server.db.get_admin("north-admin")
    assert admin is not None and admin.real_name == "钱立"
