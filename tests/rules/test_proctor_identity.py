"""Proctors by real name: name, ID number and photo on the server; masked ID number and the
face reference in the signed package; a 1:1 face match on unlock when the exam asks for it
(real SFace inference on real photos); the admin page lists them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from rules_support import make_session, rebuild_package

from client.camera.sources import MemorySequenceSource
from client.errors import UserFacingError
from client.proctor.identity import identities_from_extra, mask_id_number
from client.proctor.proctor_log import ProctorAction
from client.proctor.proctor_mode import ProctorState
from client.proctor.services import ProctorServices
from client.proctor.store_sink import read_events
from client.review.services import transport_for
from server import cli as server_cli
from server.proctors import add_proctor, proctor_photo, proctor_records, set_face_match
from server.testing import LiveServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "camera"))
from camera_sequences import (
    astronaut_frame,
    astronaut_portrait,
    cameraman_closeup,
    encode,
)

sys.path.pop(0)

ID_NUMBER = "110101198002023456"
PASSWORD = "Kq7pW3xZa9"


def add_real_proctor(server: LiveServer, *, face_match: bool) -> str:
    assert server.demo is not None
    ctx = server.context
    proctor_id, _password = add_proctor(
        server.db, exam_id=server.demo.exam_id, name="王监考", now_ms=server.clock.now_ms(),
        password=PASSWORD, id_number=ID_NUMBER, photo=encode(astronaut_portrait()),
        keys=ctx.keys)
    set_face_match(server.db, exam_id=server.demo.exam_id, required=face_match)
    rebuild_package(server)
    return proctor_id


def services_with_camera(server: LiveServer, tmp_path: Path,
                         frames: list[Any] | None) -> tuple[Any, ProctorServices]:
    assert server.demo is not None
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    session.preload()
    factory = None if frames is None else (lambda: MemorySequenceSource(frames))
    services = ProctorServices(session=session, post_json=transport_for(session).post_json,
                               face_source_factory=factory)
    return session, services


def test_real_name_data_is_kept_sealed_and_shipped_masked(server: LiveServer,
                                                          tmp_path: Path) -> None:
    assert server.demo is not None
    proctor_id = add_real_proctor(server, face_match=False)
    [record] = [r for r in proctor_records(server.db, server.demo.exam_id)
                if r.proctor_id == proctor_id]
    assert (record.name, record.id_number, record.has_photo) == ("王监考", ID_NUMBER, True)
    assert proctor_photo(server.db, server.context.keys, exam_id=server.demo.exam_id,
                         proctor_id=proctor_id) == encode(astronaut_portrait())
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    cards, face_match = identities_from_extra(header.extra)
    assert not face_match
    card = cards[proctor_id]
    assert card.id_number_masked == "110101********3456" == mask_id_number(ID_NUMBER)
    assert ID_NUMBER not in str(header.extra)  # the header is readable by anyone
    assert card.face is not None and card.face.shape == (128,)
    session.close()


def test_unlock_needs_the_proctors_face_when_the_exam_asks(server: LiveServer,
                                                           tmp_path: Path) -> None:
    add_real_proctor(server, face_match=True)
    session, services = services_with_camera(server, tmp_path, [astronaut_frame()] * 24)
    identity = services.mode.unlock(name="王监考", password=PASSWORD)
    assert services.mode.state is ProctorState.UNLOCKED and identity.name == "王监考"
    assert services.face_check is not None
    result = services.face_check.last_result  # type: ignore[attr-defined]
    assert result is not None and result.matched and result.score > 0.8
    session.close()


def test_someone_else_at_the_camera_cannot_unlock(server: LiveServer, tmp_path: Path) -> None:
    proctor_id = add_real_proctor(server, face_match=True)
    session, services = services_with_camera(server, tmp_path, [cameraman_closeup()] * 24)
    with pytest.raises(UserFacingError) as refused:
        services.mode.unlock(name="王监考", password=PASSWORD)
    assert refused.value.code == "proctor.face_mismatch"
    assert "监考教师人脸比对未通过" in refused.value.message
    assert services.mode.state is ProctorState.LOCKED
    assert services.face_check is not None
    assert services.face_check.last_result.score < 0.363  # type: ignore[attr-defined]
    # The failed unlock is in the proctor log with the proctor it claimed to be.
    events = session.run_on_store(read_events).result()
    logged = [e for e in events if e.kind == ProctorAction.UNLOCK_FAILED]
    assert logged and logged[-1].proctor_id == proctor_id
    assert logged[-1].detail["reason"] == "proctor.face_mismatch"
    session.close()


def test_no_camera_or_no_face_refuses_and_no_rule_needs_neither(server: LiveServer,
                                                                tmp_path: Path) -> None:
    add_real_proctor(server, face_match=True)
    session, services = services_with_camera(server, tmp_path, None)
    with pytest.raises(UserFacingError) as no_camera:
        services.mode.unlock(name="王监考", password=PASSWORD)
    assert no_camera.value.code == "proctor.face_no_camera"
    session.close()
    blank = astronaut_frame() * 0
    session, services = services_with_camera(server, tmp_path / "2", [blank] * 24)
    with pytest.raises(UserFacingError) as unseen:
        services.mode.unlock(name="王监考", password=PASSWORD)
    assert unseen.value.code == "proctor.face_not_seen"
    session.close()
    set_face_match(server.db, exam_id=server.demo.exam_id, required=False)  # type: ignore[union-attr]
    rebuild_package(server)
    session, services = services_with_camera(server, tmp_path / "3", None)
    services.mode.unlock(name="王监考", password=PASSWORD)
    assert services.mode.state is ProctorState.UNLOCKED
    session.close()


def test_cli_and_admin_page(server: LiveServer, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    from admin_web import admin_session

    assert server.demo is not None
    photo = tmp_path / "wang.jpg"
    photo.write_bytes(encode(astronaut_portrait()))
    data = ["--data", str(server.data_dir)]
    assert server_cli.main(["add-proctor", *data, server.demo.exam_id, "李监考",
                            "--id-number", "bad id!", "--photo", str(photo)]) == 1
    assert "身份证号格式不正确" in capsys.readouterr().out
    assert server_cli.main(["add-proctor", *data, server.demo.exam_id, "李监考",
                            "--id-number", ID_NUMBER, "--photo", str(photo)]) == 0
    assert server_cli.main(["set-proctor-face-match", *data, server.demo.exam_id, "on"]) == 0
    browser = admin_session(server)
    page = browser.get(f"{server.url}/admin/seats", timeout=10).text
    assert "解锁监考模式需要监考教师人脸比对" in page
    assert "李监考" in page and "110101********3456" in page and ID_NUMBER not in page
    [src] = [part.split('"')[0] for part in page.split('src="')[1:]
             if part.startswith("/admin/seats/proctor-photo/")]
    image = browser.get(f"{server.url}{src}", timeout=10)
    assert image.status_code == 200 and image.content == photo.read_bytes()


def test_held_login_proctor_mode_asks_for_the_face_too(server: LiveServer,
                                                       tmp_path: Path) -> None:
    """Letting a held second login in is a proctor mode too: the exam's face match applies."""
    from client.proctor.services import HeldLoginProctor

    assert server.demo is not None
    add_real_proctor(server, face_match=True)
    session = make_session(server, tmp_path / "pc")
    session.login(username=server.demo.username, password=server.demo.password)
    header = session.preload()
    session.close()

    def held(frames: list[Any] | None) -> HeldLoginProctor:
        return HeldLoginProctor(
            header=header, student_no=server.demo.username, exam_id=server.demo.exam_id,
            server_time_ms=server.clock.now_ms,
            face_source_factory=None if frames is None else (
                lambda: MemorySequenceSource(frames)))

    stranger = held([cameraman_closeup()] * 24)
    with pytest.raises(UserFacingError) as refused:
        stranger.open_mode().unlock(name="王监考", password=PASSWORD)
    assert refused.value.code == "proctor.face_mismatch"
    assert stranger.mode.state is ProctorState.LOCKED
    with pytest.raises(UserFacingError) as no_camera:
        held(None).open_mode().unlock(name="王监考", password=PASSWORD)
    assert no_camera.value.code == "proctor.face_no_camera"
    proctor = held([astronaut_frame()] * 24)
    assert proctor.open_mode().unlock(name="王监考", password=PASSWORD).name == "王监考"
    assert proctor.cards  # the panel shows the proctor's name and masked ID number


def test_a_proctor_without_photo_cannot_unlock_and_staff_are_warned_beforehand(
        server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from admin_web import admin_session

    from server.demo import DEMO_PROCTOR_NAME, DEMO_PROCTOR_PASSWORD

    assert server.demo is not None
    data = ["--data", str(server.data_dir)]
    # The demo proctor has no photo: turning the face match on says so at once...
    assert server_cli.main(["set-proctor-face-match", *data, server.demo.exam_id, "on"]) == 0
    out = capsys.readouterr().out
    assert "警告" in out and f"监考教师 {DEMO_PROCTOR_NAME} 没有照片" in out
    assert "无法进入监考模式" in out and "--photo" in out
    browser = admin_session(server)
    page = browser.get(f"{server.url}/admin/seats", timeout=10).text
    [warning] = [p.split("</p>")[0] for p in page.split('id="face-warning">')[1:]]
    assert f"监考教师 {DEMO_PROCTOR_NAME} 没有照片" in warning
    # ... because on the exam PC that proctor cannot unlock, even with a camera.
    rebuild_package(server)
    session, services = services_with_camera(server, tmp_path, [astronaut_frame()] * 24)
    with pytest.raises(UserFacingError) as refused:
        services.mode.unlock(name=DEMO_PROCTOR_NAME, password=DEMO_PROCTOR_PASSWORD)
    assert refused.value.code == "proctor.no_face_reference"
    assert f"没有监考教师 {DEMO_PROCTOR_NAME} 的照片" in refused.value.message
    assert services.mode.state is ProctorState.LOCKED
    session.close()
    # With the photo added (same password kept) the warning is gone everywhere.
    photo = tmp_path / "proctor.jpg"
    photo.write_bytes(encode(astronaut_portrait()))
    assert server_cli.main(["add-proctor", *data, server.demo.exam_id, DEMO_PROCTOR_NAME,
                            "--password", DEMO_PROCTOR_PASSWORD, "--photo", str(photo)]) == 0
    assert server_cli.main(["set-proctor-face-match", *data, server.demo.exam_id, "on"]) == 0
    assert "警告" not in capsys.readouterr().out
    assert 'id="face-warning"' not in browser.get(f"{server.url}/admin/seats", timeout=10).text
    # Without the face match a proctor without photo is fine: no warning either.
    set_face_match(server.db, exam_id=server.demo.exam_id, required=False)
    add_proctor(server.db, exam_id=server.demo.exam_id, name="赵监考",
                now_ms=server.clock.now_ms())
    assert 'id="face-warning"' not in browser.get(f"{server.url}/admin/seats", timeout=10).text
