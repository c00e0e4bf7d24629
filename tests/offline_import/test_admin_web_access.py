"""Who may use the admin area: admins only (per center), never a candidate's token."""

from __future__ import annotations

import asyncio

import requests
from offline_helpers import admin_session, csrf_of, db_state, rev, sit, upload
from starlette.requests import Request

from server.admin_web.upload_form import read_upload_form
from server.offline_import import MAX_FILE_BYTES
from server.passwords import hash_password


def test_login_page_and_wrong_password(srv):
    assert srv.demo is not None
    page = requests.get(f"{srv.url}/admin/login", timeout=10)
    assert page.status_code == 200 and 'name="password"' in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    wrong = requests.post(f"{srv.url}/admin/login", timeout=10, allow_redirects=False,
                          data={"username": srv.demo.admin_username, "password": "nope"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert "exam_admin" not in wrong.cookies


def test_unauthenticated_is_sent_to_login(srv):
    response = requests.get(f"{srv.url}/admin/offline", timeout=10, allow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"


def test_candidate_token_gets_nothing(srv):
    alice = sit(srv)
    name, data = alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())])
    before = db_state(srv)
    for kwargs in ({"headers": alice.headers()}, {"cookies": {"exam_admin": alice.token}}):
        page = requests.get(f"{srv.url}/admin/offline", timeout=10, allow_redirects=False,
                            **kwargs)
        assert page.status_code == 303
        post = requests.post(f"{srv.url}/admin/offline", timeout=10, allow_redirects=False,
                             files=[("files", (name, data))], data={"csrf": "x"}, **kwargs)
        assert post.status_code == 401
    assert db_state(srv) == before


def test_upload_needs_the_csrf_token(srv):
    alice = sit(srv)
    name, data = alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())])
    admin = admin_session(srv)
    before = db_state(srv)
    response = admin.post(f"{srv.url}/admin/offline", data={"csrf": "forged"},
                          files=[("files", (name, data))], timeout=10)
    assert response.status_code == 403
    assert db_state(srv) == before


def test_center_admin_only_touches_their_center(srv):
    srv.db.upsert_center(center_id="north", name="北区考点", allowed_ips=[])
    srv.db.upsert_admin(username="north-admin", password_hash=hash_password("north-pw-1"),
                        center_id="north")
    alice = sit(srv)  # a candidate of demo-center
    name, data = alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())])
    north = admin_session(srv, username="north-admin", password="north-pw-1")
    before = db_state(srv)
    html = upload(north, srv, [(name, data)])
    assert 'data-code="offline.other_center"' in html and "north-admin" in html
    assert db_state(srv) == before
    html = upload(admin_session(srv), srv, [(name, data)])
    assert 'data-code="offline.merged"' in html


def test_logout_revokes_the_session(srv):
    admin = admin_session(srv)
    page = admin.get(f"{srv.url}/admin/offline", timeout=10)
    token = admin.cookies.get("exam_admin")
    admin.post(f"{srv.url}/admin/logout", data={"csrf": csrf_of(page.text)}, timeout=10)
    again = requests.get(f"{srv.url}/admin/offline", cookies={"exam_admin": token},
                         timeout=10, allow_redirects=False)
    assert again.status_code == 303


def test_every_value_in_the_page_is_escaped(srv):
    alice = sit(srv)
    name, data = alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())])
    html = upload(admin_session(srv), srv, [("<img src=x onerror=alert(1)>.examans", data)])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'data-code="offline.renamed"' in html
    del name


def test_center_admin_sees_only_their_centers_exams(srv):
    srv.db.upsert_center(center_id="north", name="北区考点", allowed_ips=[])
    srv.db.upsert_admin(username="north-admin", password_hash=hash_password("north-pw-1"),
                        center_id="north")
    north = admin_session(srv, username="north-admin", password="north-pw-1")
    assert 'value="demo-exam"' not in north.get(f"{srv.url}/admin/offline", timeout=10).text
    demo = admin_session(srv)
    assert 'value="demo-exam"' in demo.get(f"{srv.url}/admin/offline", timeout=10).text


def test_an_oversized_file_is_cut_off_while_streaming_and_the_rest_still_merges(srv):
    alice = sit(srv)
    name, data = alice.build_file([rev("q1", 1, "B", srv.clock.now_ms())])
    admin = admin_session(srv)
    huge = b"\0" * (MAX_FILE_BYTES + 3 * 1024 * 1024)
    page = upload(admin, srv, [("huge.examans", huge), (name, data)])
    assert 'id="job-0" data-state="failed"' in page
    assert 'id="job-1" data-state="done"' in page
    assert 'id="result-0" data-code="offline.too_large"' in page
    assert 'id="result-1" data-code="offline.merged"' in page
    attempt = srv.db.find_attempt(exam_id=alice.exam_id, candidate_id=int(alice.candidate_id))
    assert srv.db.current_answers(attempt.id) == {"q1": "B"}
    assert not any((srv.data_dir / "imports").rglob("*.examans"))  # nothing left behind


def test_the_upload_form_stores_at_most_one_byte_over_the_limit_per_file():
    boundary = "b0undary"
    chunk = 1024 * 1024
    huge_chunks = (MAX_FILE_BYTES // chunk) + 5
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nx\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"huge.examans\"\r\n\r\n").encode()
    small = (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
             f"filename=\"small.examans\"\r\n\r\nsmall\r\n--{boundary}--\r\n").encode()
    parts = [head, *([b"\0" * chunk] * huge_chunks), small]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
                for i, p in enumerate(parts)]

    async def receive():
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/admin/offline", "headers": [
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}

    async def parse():
        form = await read_upload_form(Request(scope, receive), max_files=10)
        try:
            files = form.getlist("files")
            return [(f.filename, f.size) for f in files], form.get("csrf")
        finally:
            await form.close()

    stored, csrf = asyncio.run(parse())
    # The oversized file is cut at one byte over the limit (marking it too large) while
    # the body streams; the file after it arrives whole.
    assert stored == [("huge.examans", MAX_FILE_BYTES + 1), ("small.examans", 5)]
    assert csrf == "x"
