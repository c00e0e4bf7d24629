"""Base photos: add-photos with real face checks, delivery to the right candidate only,
and the client keeping its copy encrypted for an offline restart."""

from __future__ import annotations

import argparse
import re

import cv2
import pytest
import requests
from review_helpers import (
    admin_session,
    astronaut,
    closed_port_url,
    jpeg,
    login,
    store_writer,
)
from sqlalchemy import select

from client.camera.errors import CameraError
from client.review.base_photo import BLOB_NAME, BasePhotoProvider
from client.review.transport import HttpTransport
from server import base_photos
from server.keys import load_keys
from server.passwords import hash_password


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="exam-server")
    base_photos.register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder as a center hands it over: good, dim PNG, broken, a stranger's, a note."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "2024000001.jpg").write_bytes(jpeg(quality=92))
    dim = cv2.convertScaleAbs(astronaut(), alpha=0.3)   # usable for matching, but too dark
    ok, png = cv2.imencode(".png", dim)
    assert ok
    (folder / "2024000002.png").write_bytes(png.tobytes())
    (folder / "2024000003.jpg").write_bytes(b"\xff\xd8\xff broken upload")
    (folder / "1999999999.jpg").write_bytes(jpeg(quality=92))       # nobody has this number
    (folder / "readme.txt").write_text("not a photo", encoding="utf-8")
    return folder


def report_lines(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        match = re.match(r"^\[[^]]+\] ([^\s：]+)", line)
        if match:
            found[match.group(1)] = line
    return found


def test_add_photos_reports_each_file_and_one_bad_file_stops_nothing(srv, photos, capsys):
    code = run_cli(["add-photos", str(photos), "--data", str(srv.data_dir),
                    "--exam", srv.demo.exam_id])
    out = capsys.readouterr().out
    assert code == 1  # a photo was refused
    lines = report_lines(out)
    assert set(lines) == {"2024000001.jpg", "2024000002.png", "2024000003.jpg",
                          "1999999999.jpg"}
    assert lines["2024000001.jpg"].startswith("[已保存]") and "photos.stored）" in lines[
        "2024000001.jpg"]
    assert "photos.stored_with_warnings" in lines["2024000002.png"]
    assert "脸部太暗" in lines["2024000002.png"]
    assert "photos.rejected" in lines["2024000003.jpg"]
    assert "不是可读取的图片" in lines["2024000003.jpg"]
    assert "photos.unknown_candidate" in lines["1999999999.jpg"]
    assert "共 4 张照片：保存 2 张（其中建议更换 1 张），无变化 0 张，拒绝 2 张" in out

    keys = load_keys(srv.data_dir)
    first = srv.db.find_candidate(student_no="2024000001")
    second = srv.db.find_candidate(student_no="2024000002")
    third = srv.db.find_candidate(student_no="2024000003")
    stored = base_photos.get_base_photo(srv.db, keys, first.id)
    assert stored.jpeg == (photos / "2024000001.jpg").read_bytes()  # JPEG kept as it was
    converted = base_photos.get_base_photo(srv.db, keys, second.id)
    assert converted.jpeg.startswith(b"\xff\xd8\xff")              # PNG stored as JPEG
    assert "too_dark" in converted.problems
    assert base_photos.get_base_photo(srv.db, keys, third.id) is None
    with srv.db.read() as conn:
        sealed = conn.execute(select(base_photos.base_photos.c.jpeg_sealed)
                              .where(base_photos.base_photos.c.candidate_id == first.id)
                              ).scalar_one()
    assert stored.jpeg[:200] not in bytes(sealed)                      # sealed at rest

    # Again: nothing changes, and the report says so; --strict refuses the dim one.
    run_cli(["add-photos", str(photos), "--data", str(srv.data_dir)])
    assert "photos.unchanged" in report_lines(capsys.readouterr().out)["2024000001.jpg"]
    base_photos.delete_base_photo(srv.db, second.id)
    run_cli(["add-photos", str(photos), "--data", str(srv.data_dir), "--strict"])
    assert "photos.rejected" in report_lines(capsys.readouterr().out)["2024000002.png"]
    assert base_photos.get_base_photo(srv.db, keys, second.id) is None


def test_each_candidate_gets_only_their_own_photo(srv):
    keys = load_keys(srv.data_dir)
    alice, bob, carol = login(srv, 0), login(srv, 1), login(srv, 2)
    photo_a, photo_b = jpeg(width=300), jpeg(width=280)
    base_photos.put_base_photo(srv.db, keys, candidate_id=alice.candidate_id, jpeg=photo_a,
                               now_ms=1, uploaded_by="test")
    base_photos.put_base_photo(srv.db, keys, candidate_id=bob.candidate_id, jpeg=photo_b,
                               now_ms=1, uploaded_by="test")
    response = alice.get("/attempt/base-photo")
    assert response.status_code == 200 and response.content == photo_a
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert bob.get("/attempt/base-photo").content == photo_b
    # No way to name someone else: query strings are ignored, the admin path needs an admin.
    assert requests.get(srv.api(f"/attempt/base-photo?candidate={bob.candidate_id}"),
                        headers=alice.headers(), timeout=10).content == photo_a
    other = requests.get(srv.api(f"/admin/base-photos/{bob.student_no}"),
                         headers=alice.headers(), timeout=10)
    assert other.status_code == 401 and photo_b not in other.content
    assert requests.get(srv.api("/attempt/base-photo"), timeout=10).status_code == 401
    missing = carol.get("/attempt/base-photo")
    assert missing.status_code == 404 and missing.json()["error"] == "no_base_photo"
    kinds = [e.kind for e in srv.db.events(attempt_id=carol.attempt().id)]
    assert "base_photo_missing" in kinds


def admin_token(srv, username: str, password: str) -> str:
    response = requests.post(srv.api("/admin/login"),
                             json={"username": username, "password": password}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def test_admins_see_only_their_centers_photos(srv):
    keys = load_keys(srv.data_dir)
    alice = login(srv)
    base_photos.put_base_photo(srv.db, keys, candidate_id=alice.candidate_id,
                               jpeg=jpeg(width=300), now_ms=1, uploaded_by="test")
    srv.db.upsert_center(center_id="north", name="北区考点", allowed_ips=[])
    srv.db.upsert_admin(username="north-admin", password_hash=hash_password("north-pw-1"),
                        center_id="north")
    path = srv.api(f"/admin/base-photos/{alice.student_no}")
    own = admin_token(srv, srv.demo.admin_username, srv.demo.admin_password)
    north = admin_token(srv, "north-admin", "north-pw-1")
    assert requests.get(path, headers={"Authorization": f"Bearer {own}"},
                        timeout=10).status_code == 200
    response = requests.get(path, headers={"Authorization": f"Bearer {north}"}, timeout=10)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_client_keeps_the_photo_encrypted_for_an_offline_restart(srv, tmp_path):
    keys = load_keys(srv.data_dir)
    alice = login(srv)
    photo = jpeg(width=320)
    base_photos.put_base_photo(srv.db, keys, candidate_id=alice.candidate_id, jpeg=photo,
                               now_ms=1, uploaded_by="test")
    store = tmp_path / "answers.db"
    with store_writer(store) as writer:
        provider = BasePhotoProvider(get_bytes=alice.transport().get_bytes,
                                     run_on_store=writer.call)
        assert provider.fetch() == photo
        key = writer.call(lambda s: s._key).result()
    assert photo[:200] not in store.read_bytes()  # SQLCipher: not in the file in clear

    # Restart with the server unreachable: the stored copy is used.
    down = HttpTransport(base_url=closed_port_url(), token=lambda: alice.token, timeout_s=2)
    from client.store import AnswerStore, StoreWriter

    writer = StoreWriter(lambda: AnswerStore.open(store, key=key, snapshot_policy=None))
    try:
        provider = BasePhotoProvider(get_bytes=down.get_bytes, run_on_store=writer.call)
        assert provider.fetch() == photo

        # The admin removes the photo: the server is authoritative, the copy goes too.
        base_photos.delete_base_photo(srv.db, alice.candidate_id)
        provider = BasePhotoProvider(get_bytes=alice.transport().get_bytes,
                                     run_on_store=writer.call)
        with pytest.raises(CameraError) as error:
            provider.fetch()
        assert error.value.code == "camera.no_base_photo"
        assert "请举手联系监考老师" in error.value.message
        assert "考点管理员" in str(error.value.detail["admin_message"])
        assert writer.call(lambda s: s.get_blob(BLOB_NAME)).result() is None
    finally:
        writer.close()


def test_offline_without_a_stored_photo_is_a_clear_error(tmp_path):
    down = HttpTransport(base_url=closed_port_url(), token=lambda: "t", timeout_s=2)
    with store_writer(tmp_path / "answers.db") as writer:
        provider = BasePhotoProvider(get_bytes=down.get_bytes, run_on_store=writer.call)
        with pytest.raises(CameraError) as error:
            provider.fetch()
    assert error.value.code == "camera.base_photo_unavailable"


def test_admin_page_lists_candidates_without_a_photo(srv):
    keys = load_keys(srv.data_dir)
    alice = login(srv)
    base_photos.put_base_photo(srv.db, keys, candidate_id=alice.candidate_id,
                               jpeg=jpeg(width=300), now_ms=1, uploaded_by="test")
    html = admin_session(srv).get(f"{srv.url}/admin/review", timeout=10).text
    missing = html[html.index('id="no-photo"'):]
    assert "2024000002" in missing and "2024000003" in missing
    assert "2024000001" not in missing
