"""Issue 22 in the invigilation console: staff by real name (name, masked ID number,
photo) and emergency materials uploaded from a console browser, over real HTTP against a
real demo server; the browser half is in test_console_materials_browser.py."""

from __future__ import annotations

import cv2
import pytest
import requests
from admin_web import admin_session
from console_helpers import ConsoleClient, console_login
from skimage import data as skdata

from client.camera.analyzer import decode_image
from client.proctor.materials import room_photo
from client.timefmt import beijing_datetime
from server import cli as server_cli
from server.admin_web.materials_routes import upload_watermark
from server.center_address import center_label
from server.console.demo_room import DEMO_CHIEF_USERNAME, DEMO_PROCTOR_USERNAME, DEMO_ROOM
from server.console.identity import real_name
from server.console.seating import SeatRow, assign
from server.demo import DEMO_CANDIDATES, demo_proctor_photo
from server.materials import list_materials
from server.testing import LiveServer

ZHANG, LI, CHEN = DEMO_CANDIDATES
OTHER_ROOM = "第2考场"


def room_jpeg() -> bytes:
    """A real photograph standing in for the room (skimage's coffee, JPEG)."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(skdata.coffee(), cv2.COLOR_RGB2BGR))
    assert ok
    return encoded.tobytes()


def materials_page(client: ConsoleClient) -> str:
    response = client.http.get(f"{client.srv.url}/console/materials", timeout=10)
    assert response.status_code == 200
    return response.text


def upload(client: ConsoleClient, *, place: str, candidates: list[str],
           csrf: str | None = None, reason: str = "考场网络中断，人脸识别无法完成",
           photo: bytes | None = None) -> requests.Response:
    assert client.srv.demo is not None
    return client.http.post(f"{client.srv.url}/console/materials", timeout=60, data={
        "csrf": client.csrf if csrf is None else csrf, "exam": client.srv.demo.exam_id,
        "place": place, "reason": reason, "candidates": candidates},
        files=[("photos", ("room.jpg", photo or room_jpeg(), "image/jpeg"))])


def test_console_header_shows_the_account_by_real_name(
        srv: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert srv.demo is not None
    data = ["--data", str(srv.data_dir)]
    portrait = demo_proctor_photo()
    account = ["add-console-account", *data, "zhao", "--role", "proctor", "--center",
               srv.demo.center_id, "--room", DEMO_ROOM, "--name", "赵老师", "--password",
               "Zhao-2026-pass"]
    # A malformed ID number is refused before the account exists.
    assert server_cli.main([*account, "--id-number", "11-01"]) == 1
    assert "身份证号格式不正确" in capsys.readouterr().out
    assert requests.post(f"{srv.url}/console/login", timeout=10, data={
        "username": "zhao", "password": "Zhao-2026-pass"}).status_code == 401
    assert server_cli.main([*account, "--id-number", "110101198503034321",
                            "--photo", str(portrait)]) == 0
    zhao = console_login(srv, "zhao", "Zhao-2026-pass")
    page = zhao.http.get(f"{srv.url}/console", timeout=10).text
    assert "赵老师（监考教师）" in page
    assert '<span id="id-number">身份证号 110101********4321</span>' in page
    assert "110101198503034321" not in page  # the page never gets the full number
    assert 'id="who-photo"' in page
    own = zhao.http.get(f"{srv.url}/console/materials/me/photo", timeout=10)
    assert own.status_code == 200 and own.content == portrait.read_bytes()
    assert requests.get(f"{srv.url}/console/materials/me/photo",
                        timeout=10).status_code == 404  # no session, no photo
    # An account registered without an ID number says so instead of showing nothing.
    chief = console_login(srv, DEMO_CHIEF_USERNAME)
    chief_page = chief.http.get(f"{srv.url}/console/audit", timeout=10).text
    assert "未登记身份证号" in chief_page and 'id="who-photo"' not in chief_page
    assert chief.http.get(f"{srv.url}/console/materials/me/photo",
                          timeout=10).status_code == 404
    assert real_name(srv.db, DEMO_PROCTOR_USERNAME) is None


def test_proctor_uploads_materials_for_their_room_signed_by_real_name(srv: LiveServer) -> None:
    assert srv.demo is not None
    assign(srv.db, exam_id=srv.demo.exam_id,
           rows=[SeatRow(candidate=CHEN.student_no, room=OTHER_ROOM, seat="1")])
    proctor = console_login(srv, DEMO_PROCTOR_USERNAME)
    page = materials_page(proctor)
    assert 'id="upload"' in page and "提交截止时间" in page
    # The proctor's room only, and its candidates by real name; 陈 sits in another room.
    assert page.count(f'<option value="{srv.demo.center_id}|') == 1
    assert f"<b>{ZHANG.name}</b>" in page and f"<b>{LI.name}</b>" in page
    assert CHEN.name not in page and CHEN.student_no not in page
    assert f"提交人（写入水印）：王老师（监考教师，{DEMO_PROCTOR_USERNAME}）" in page

    own_room = f"{srv.demo.center_id}|{DEMO_ROOM}"
    photo = room_jpeg()
    sent = upload(proctor, place=own_room, candidates=[ZHANG.student_no], photo=photo)
    assert sent.status_code == 200, sent.text[:500]
    assert "已提交（1 张照片）" in sent.text
    [material] = list_materials(srv.db, exam_id=srv.demo.exam_id, center_id=None)
    who = f"王老师（监考教师，{DEMO_PROCTOR_USERNAME}）"
    assert (material.source, material.submitted_by) == ("console", who)
    assert (material.center_id, material.room) == (srv.demo.center_id, DEMO_ROOM)
    assert material.candidates == (ZHANG.student_no,)
    # Listed with the marked candidate by student number and real name.
    assert f"{ZHANG.student_no} {ZHANG.name}" in sent.text and who in sent.text
    # The photo: watermarked by the server with the exam, the center as registered, the
    # room and the uploader's real name, byte for byte.
    image = proctor.http.get(f"{srv.url}/console/materials/photo/{material.photos[0].id}",
                             timeout=10)
    assert image.status_code == 200
    exam = srv.db.get_exam(srv.demo.exam_id)
    assert exam is not None and material.taken_at_ms is not None
    expected = upload_watermark(exam=exam, center=center_label(srv.db, srv.demo.center_id),
                                room=DEMO_ROOM, who=who, now_ms=material.taken_at_ms)
    assert expected.lines()[-1].startswith(f"监考 {who}  拍摄 ")
    source = decode_image(photo)
    assert source is not None and image.content == room_photo(source, expected)

    # The chief sees it; nobody outside a session does.
    chief = console_login(srv, DEMO_CHIEF_USERNAME)
    assert f'id="material-{material.id}"' in materials_page(chief)
    assert requests.get(f"{srv.url}/console/materials/photo/{material.photos[0].id}",
                        timeout=10).status_code == 404
    # The center's review page lists it with the exam's materials, signed by real name.
    review = admin_session(srv).get(f"{srv.url}/admin/review", timeout=10).text
    listed = review[review.index('id="materials"'):]
    assert f'id="material-{material.id}"' in listed and who in listed
    assert f"{ZHANG.student_no} {ZHANG.name}" in listed

    # Refusals, each leaving nothing behind: another room (forged form), a candidate of
    # another room, a missing CSRF token.
    forged = upload(proctor, place=f"{srv.demo.center_id}|{OTHER_ROOM}",
                    candidates=[CHEN.student_no])
    assert forged.status_code == 422 and "请选择您负责的考场" in forged.text
    elsewhere = upload(proctor, place=own_room, candidates=[LI.student_no, CHEN.student_no])
    assert elsewhere.status_code == 422
    assert f"这些考生不在所选考场 {DEMO_ROOM}：{CHEN.student_no}" in elsewhere.text
    assert upload(proctor, place=own_room, candidates=[], csrf="0" * 64).status_code == 403
    assert len(list_materials(srv.db, exam_id=srv.demo.exam_id, center_id=None)) == 1

    # After the exam's time unit: no form, and an upload is refused naming the deadline.
    srv.clock.advance(ms=exam.end_ms - srv.clock.now_ms() + 1000)  # type: ignore[attr-defined]
    deadline = f"应急材料提交已截止（截止时间 {beijing_datetime(exam.end_ms)}）"
    closed = materials_page(proctor)
    assert deadline in closed and 'id="upload"' not in closed
    late = upload(proctor, place=own_room, candidates=[ZHANG.student_no])
    assert late.status_code == 403 and deadline in late.text
    assert len(list_materials(srv.db, exam_id=srv.demo.exam_id, center_id=None)) == 1
