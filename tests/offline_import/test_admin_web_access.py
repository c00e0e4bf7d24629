"""Who may use the admin area: admins only (per center), never a candidate's token."""

from __future__ import annotations

import requests
from offline_helpers import admin_session, csrf_of, db_state, rev, sit, upload

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
